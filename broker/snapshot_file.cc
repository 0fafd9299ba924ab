#include "broker/snapshot_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "broker/journal.h"

namespace channelstream::broker {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAndSync(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t written = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) {
      absl::Status error = ErrnoError("cannot write", path);
      ::close(fd);
      return error;
    }
    done += static_cast<size_t>(written);
  }
  if (::fsync(fd) != 0) {
    absl::Status error = ErrnoError("cannot sync", path);
    ::close(fd);
    return error;
  }
  ::close(fd);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> WriteSnapshotFile(const std::string& path,
                                           const durable::Snapshot& snapshot) {
  std::string payload;
  if (!snapshot.SerializeToString(&payload))
    return absl::InternalError(absl::StrCat("cannot serialize the snapshot for ", path));
  const std::string bytes = FrameRecord(payload);
  payload.clear();
  const std::string temp = path + ".tmp";
  if (absl::Status written = WriteAndSync(temp, bytes); !written.ok()) return written;
  if (std::rename(temp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename to", path);
  if (absl::Status synced = SyncDirectory(std::filesystem::path(path).parent_path().string());
      !synced.ok())
    return synced;
  return bytes.size();
}

absl::StatusOr<durable::Snapshot> ReadSnapshotFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return absl::NotFoundError(path);
  absl::StatusOr<std::string> contents = ReadWholeFile(path);
  if (!contents.ok()) return contents.status();
  absl::StatusOr<std::string> payload = UnframeSingleRecord(path, *contents);
  if (!payload.ok()) return payload.status();
  durable::Snapshot snapshot;
  if (!snapshot.ParseFromString(*payload))
    return absl::DataLossError(absl::StrCat(path, " is damaged: not a snapshot message"));
  if (snapshot.format_version() != kSnapshotFormatVersion)
    return absl::DataLossError(absl::StrCat(path, " has format version ", snapshot.format_version(),
                                            ", this broker reads ", kSnapshotFormatVersion));
  return snapshot;
}

}  // namespace channelstream::broker
