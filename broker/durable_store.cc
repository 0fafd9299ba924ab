#include "broker/durable_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "broker/command_replay.h"
#include "broker/legacy_journal_fields.h"
#include "broker/snapshot_file.h"
#include "common/log.h"

namespace channelstream::broker {
namespace {

constexpr const char* kJournalPrefix = "journal-";
constexpr const char* kJournalSuffix = ".log";
// Replay failures logged one by one; beyond that only counted.
constexpr uint64_t kMaxReplayWarnings = 10;

// Journal numbers present in `dir`, by number.
std::map<uint64_t, std::string> ListJournals(const std::string& dir) {
  std::map<uint64_t, std::string> journals;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kJournalPrefix, 0) != 0 ||
        name.size() <= strlen(kJournalPrefix) + strlen(kJournalSuffix) ||
        name.substr(name.size() - strlen(kJournalSuffix)) != kJournalSuffix)
      continue;
    uint64_t number = 0;
    const std::string digits = name.substr(
        strlen(kJournalPrefix), name.size() - strlen(kJournalPrefix) - strlen(kJournalSuffix));
    if (absl::SimpleAtoi(digits, &number)) journals[number] = entry.path().string();
  }
  return journals;
}

}  // namespace

absl::StatusOr<std::unique_ptr<DurableStore>> DurableStore::Open(const DurableStoreOptions& options,
                                                                 BrokerState* state, absl::Time now,
                                                                 LoadStats* stats) {
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error)
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: cannot create ", options.data_dir, ": ", error.message()));
  // Two brokers on one directory would interleave their journals: the second one refuses.
  const std::string lock_path = options.data_dir + "/lock";
  const int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0)
    return absl::FailedPreconditionError(
        absl::StrCat("data_dir: cannot open ", lock_path, ": ", std::strerror(errno)));
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    return absl::FailedPreconditionError(absl::StrCat("data_dir: ", options.data_dir,
                                                      " is in use by another broker (", lock_path,
                                                      " is locked)"));
  }
  std::unique_ptr<DurableStore> store(new DurableStore(options, lock_fd));
  uint64_t next_journal = 1;
  if (absl::Status loaded = store->Load(state, stats, &next_journal); !loaded.ok()) return loaded;
  if (absl::Status started = store->StartJournal(next_journal); !started.ok()) return started;
  store->last_snapshot_nanos_ = absl::ToUnixNanos(now);
  return store;
}

DurableStore::~DurableStore() {
  journal_.reset();
  ::close(lock_fd_);  // releases the flock
}

std::string DurableStore::JournalPath(uint64_t number) const {
  return absl::StrFormat("%s/%s%020u%s", options_.data_dir, kJournalPrefix, number, kJournalSuffix);
}

std::string DurableStore::SnapshotPath() const { return options_.data_dir + "/snapshot.pb"; }

absl::Status DurableStore::Load(BrokerState* state, LoadStats* stats, uint64_t* next_journal) {
  absl::StatusOr<durable::Snapshot> snapshot = ReadSnapshotFile(SnapshotPath());
  std::map<uint64_t, std::string> journals = ListJournals(options_.data_dir);
  uint64_t first = journals.empty() ? 1 : journals.begin()->first;
  if (snapshot.ok()) {
    stats->had_snapshot = true;
    if (absl::Status s = state->LoadFrom(snapshot->state()); !s.ok())
      return absl::DataLossError(absl::StrCat(SnapshotPath(), ": ", s.message()));
    first = snapshot->first_journal();
  } else if (!absl::IsNotFound(snapshot.status())) {
    return snapshot.status();
  } else if (first != 1) {
    // Journal 1 is the only one ever written before a first snapshot.
    return absl::DataLossError(absl::StrCat("data_dir: ", SnapshotPath(), " is missing but ",
                                            journals.begin()->second, " needs it"));
  }
  // Journals older than the snapshot were covered by it (a cleanup cut short): remove them.
  for (auto it = journals.begin(); it != journals.end() && it->first < first;) {
    std::filesystem::remove(it->second);
    it = journals.erase(it);
  }
  uint64_t expected = first;
  durable::JournalRecord record;
  for (const auto& [number, path] : journals) {
    if (number != expected)
      return absl::DataLossError(absl::StrCat("data_dir: journal ", JournalPath(expected),
                                              " is missing (found ", path, ")"));
    ++expected;
    absl::StatusOr<JournalReadResult> read =
        ReadJournal(path, [&](std::string_view payload, uint64_t offset) -> absl::Status {
          if (!record.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
            return absl::DataLossError(absl::StrCat("journal ", path, " is damaged at byte offset ",
                                                    offset, ": not a journal record"));
          ++stats->journal_records;
          broker::UpgradeLegacyJournalFields(&record);
          absl::Status replayed = ReplayCommand(record, state);
          if (!replayed.ok() && ++stats->replay_failures <= kMaxReplayWarnings)
            LOG_WARNING("data_dir: journal ", path, " record at byte offset ", offset,
                        " did not replay as it ran live (", replayed.message(),
                        "); was the configuration changed?");
          return absl::OkStatus();
        });
    if (!read.ok()) return read.status();
    if (read->torn) {
      LOG_WARNING("data_dir: journal ", path, " ends in a torn record at byte offset ",
                  read->valid_bytes, " (the broker stopped while writing it; that call was never",
                  " answered): ignored");
      if (absl::Status cut = TruncateFile(path, read->valid_bytes); !cut.ok()) return cut;
    }
  }
  *next_journal = expected;
  return absl::OkStatus();
}

absl::Status DurableStore::StartJournal(uint64_t number) {
  absl::StatusOr<std::unique_ptr<JournalWriter>> created =
      JournalWriter::Create(JournalPath(number), options_.journal_fsync);
  if (!created.ok()) return created.status();
  journal_ = *std::move(created);
  journal_number_ = number;
  journal_bytes_ = 0;
  return absl::OkStatus();
}

absl::Status DurableStore::Append(const durable::JournalRecord& record) {
  record_buffer_.clear();
  if (!record.AppendToString(&record_buffer_))
    return absl::InternalError("cannot serialize a journal record");
  absl::Status status = journal_->Append(record_buffer_);
  journal_bytes_ = journal_->bytes();
  return status;
}

bool DurableStore::SnapshotDue(absl::Time now) const {
  return journal_bytes_ >= options_.journal_max_bytes ||
         (journal_bytes_ > 0 &&
          now - absl::FromUnixNanos(last_snapshot_nanos_) >= options_.snapshot_interval);
}

absl::StatusOr<durable::Snapshot> DurableStore::BeginSnapshot(const BrokerState& state,
                                                              absl::Time now) {
  if (absl::Status started = StartJournal(journal_number_ + 1); !started.ok()) return started;
  durable::Snapshot snapshot;
  snapshot.set_format_version(kSnapshotFormatVersion);
  snapshot.set_first_journal(journal_number_);
  snapshot.set_written_unix_nanos(absl::ToUnixNanos(now));
  state.SaveTo(snapshot.mutable_state());
  last_snapshot_nanos_ = absl::ToUnixNanos(now);
  return snapshot;
}

absl::StatusOr<uint64_t> DurableStore::FinishSnapshot(const durable::Snapshot& snapshot) {
  absl::StatusOr<uint64_t> written = WriteSnapshotFile(SnapshotPath(), snapshot);
  if (!written.ok()) return written;
  for (const auto& [number, path] : ListJournals(options_.data_dir)) {
    if (number < snapshot.first_journal()) std::filesystem::remove(path);
  }
  return written;
}

}  // namespace channelstream::broker
