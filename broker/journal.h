// The broker's append-only journal files and the record framing they (and the snapshot file)
// share: [u32 payload length][u32 CRC-32 of the payload][payload], little-endian.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace channelstream::broker {

constexpr size_t kRecordHeaderBytes = 8;
// A record larger than this is damage, not data (snapshots of a big state stay below it).
constexpr uint32_t kMaxRecordBytes = 1u << 31;

// Appends records to one journal file with one write(2) each: a record is in the kernel before
// Append returns, so it survives the process dying; with `fsync` (journal_fsync) it is also on
// the disk (power loss).
class JournalWriter {
 public:
  // Creates the file (it must not exist); with `fsync` also syncs its directory entry.
  static absl::StatusOr<std::unique_ptr<JournalWriter>> Create(const std::string& path, bool fsync);
  ~JournalWriter();
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;

  absl::Status Append(std::string_view payload);
  uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

 private:
  JournalWriter(std::string path, int fd, bool fsync)
      : path_(std::move(path)), fd_(fd), fsync_(fsync) {}
  std::string path_;
  int fd_;
  bool fsync_;
  uint64_t bytes_ = 0;
};

struct JournalReadResult {
  uint64_t records = 0;
  uint64_t valid_bytes = 0;  // where the intact records end
  bool torn = false;         // the file ends in a record cut short (a crash mid-write)
};

// Calls `on_record(payload, offset)` for each record in order. A damaged last record (cut short,
// or failing its CRC where it ends the file) is a torn tail: reading stops there with
// torn = true. Any other damage is a DataLoss error naming the file and the byte offset; an error
// from on_record stops the read and is returned as it is.
absl::StatusOr<JournalReadResult> ReadJournal(
    const std::string& path,
    const std::function<absl::Status(std::string_view payload, uint64_t offset)>& on_record);

// Record framing for whole files (the snapshot): one record holding `payload`.
std::string FrameRecord(std::string_view payload);
// The payload of a file holding exactly one intact record; DataLoss naming the file otherwise.
absl::StatusOr<std::string> UnframeSingleRecord(const std::string& path, std::string_view contents);

// File helpers shared with the snapshot writer.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);
absl::Status SyncDirectory(const std::string& dir);
absl::Status TruncateFile(const std::string& path, uint64_t size);

}  // namespace channelstream::broker
