// The broker's data_dir: a snapshot of the whole state plus numbered journal files with every
// mutating call applied since. Loading = the snapshot, then each journal replayed in order.
//
//   data_dir/snapshot.pb                 the state when journal <first_journal> was started
//   data_dir/journal-<20 digits>.log     commands, oldest file first
//   data_dir/lock                        flock'ed while a broker owns the directory
//
// Not thread-safe: the broker calls Append and BeginSnapshot under its state lock, and one
// snapshot at a time (BeginSnapshot ... FinishSnapshot) under its snapshot lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "broker/broker_state.h"
#include "broker/journal.h"
#include "durable_state.pb.h"

namespace channelstream::broker {

struct DurableStoreOptions {
  std::string data_dir;
  bool journal_fsync = false;
  absl::Duration snapshot_interval = absl::Minutes(5);
  uint64_t journal_max_bytes = 64u << 20;
};

struct LoadStats {
  bool had_snapshot = false;
  uint64_t journal_records = 0;
  uint64_t replay_failures = 0;  // records that did not apply as they did live (logged)
};

class DurableStore {
 public:
  // Takes the directory (creating it), loads its snapshot into `state` and replays its journals.
  // Errors (damaged files, a directory in use) name the file and, for journals, the offset.
  static absl::StatusOr<std::unique_ptr<DurableStore>> Open(const DurableStoreOptions& options,
                                                            BrokerState* state, absl::Time now,
                                                            LoadStats* stats);
  ~DurableStore();

  // Writes one record (the call it describes has been applied; it is answered after this).
  absl::Status Append(const durable::JournalRecord& record);

  // True when a periodic snapshot is due (snapshot_interval passed or the journal is too big).
  bool SnapshotDue(absl::Time now) const;
  // Under the state lock: copies the state into a snapshot message and starts a new journal, so
  // the snapshot plus the journals from the new one on hold everything.
  absl::StatusOr<durable::Snapshot> BeginSnapshot(const BrokerState& state, absl::Time now);
  // Without the state lock: writes the snapshot, then deletes the journals it covers.
  absl::StatusOr<uint64_t> FinishSnapshot(const durable::Snapshot& snapshot);

  const std::string& dir() const { return options_.data_dir; }

 private:
  DurableStore(DurableStoreOptions options, int lock_fd)
      : options_(std::move(options)), lock_fd_(lock_fd) {}
  std::string JournalPath(uint64_t number) const;
  std::string SnapshotPath() const;
  absl::Status StartJournal(uint64_t number);
  absl::Status Load(BrokerState* state, LoadStats* stats, uint64_t* next_journal);

  const DurableStoreOptions options_;
  const int lock_fd_;
  std::unique_ptr<JournalWriter> journal_;
  uint64_t journal_number_ = 0;
  std::atomic<uint64_t> journal_bytes_{0};
  std::atomic<int64_t> last_snapshot_nanos_{0};
  std::string record_buffer_;  // reused: one allocation for every Append
};

}  // namespace channelstream::broker
