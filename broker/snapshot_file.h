// The snapshot file: one framed record (see journal.h) holding a durable::Snapshot, replaced
// atomically (temp file, fsync, rename, directory fsync) so a crash leaves the old or the new one.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "durable_state.pb.h"

namespace channelstream::broker {

constexpr uint32_t kSnapshotFormatVersion = 1;

// Returns the bytes written.
absl::StatusOr<uint64_t> WriteSnapshotFile(const std::string& path,
                                           const durable::Snapshot& snapshot);
// NotFound when the file does not exist; DataLoss naming the file when it is damaged.
absl::StatusOr<durable::Snapshot> ReadSnapshotFile(const std::string& path);

}  // namespace channelstream::broker
