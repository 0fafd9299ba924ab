#include "broker/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/base/internal/endian.h"
#include "absl/strings/str_cat.h"

namespace channelstream::broker {
namespace {

absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

uint32_t Crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large payloads in pieces.
  while (!data.empty()) {
    const size_t piece = std::min<size_t>(data.size(), 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(piece));
    data.remove_prefix(piece);
  }
  return static_cast<uint32_t>(crc);
}

void FillHeader(std::string_view payload, char header[kRecordHeaderBytes]) {
  absl::little_endian::Store32(header, static_cast<uint32_t>(payload.size()));
  absl::little_endian::Store32(header + 4, Crc32(payload));
}

bool AllZero(std::string_view bytes) {
  return bytes.find_first_not_of('\0') == std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JournalWriter>> JournalWriter::Create(const std::string& path,
                                                                     bool fsync) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create journal", path);
  // The new name must survive power loss before fsync'ed records in it count; without fsync the
  // snapshot that follows a rotation syncs the directory anyway (off the state lock).
  if (fsync) {
    if (absl::Status synced = SyncDirectory(path.substr(0, path.rfind('/'))); !synced.ok()) {
      ::close(fd);
      return synced;
    }
  }
  return std::unique_ptr<JournalWriter>(new JournalWriter(path, fd, fsync));
}

JournalWriter::~JournalWriter() { ::close(fd_); }

absl::Status JournalWriter::Append(std::string_view payload) {
  char header[kRecordHeaderBytes];
  FillHeader(payload, header);
  iovec parts[2] = {{header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
  size_t left = sizeof header + payload.size();
  int first = 0;
  while (left > 0) {
    const ssize_t written = ::writev(fd_, parts + first, 2 - first);
    if (written < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("cannot write journal", path_);
    }
    // A short write (disk nearly full, signals): continue where it stopped.
    size_t done = static_cast<size_t>(written);
    left -= done;
    while (first < 2 && done >= parts[first].iov_len) done -= parts[first++].iov_len;
    if (first < 2) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + done;
      parts[first].iov_len -= done;
    }
  }
  bytes_ += sizeof header + payload.size();
  if (fsync_ && ::fdatasync(fd_) != 0) return ErrnoError("cannot sync journal", path_);
  return absl::OkStatus();
}

absl::StatusOr<JournalReadResult> ReadJournal(
    const std::string& path,
    const std::function<absl::Status(std::string_view payload, uint64_t offset)>& on_record) {
  absl::StatusOr<std::string> contents = ReadWholeFile(path);
  if (!contents.ok()) return contents.status();
  const std::string_view data = *contents;
  JournalReadResult result;
  uint64_t offset = 0;
  auto damaged = [&](const std::string& what) {
    return absl::DataLossError(
        absl::StrCat("journal ", path, " is damaged at byte offset ", offset, ": ", what));
  };
  while (offset < data.size()) {
    const std::string_view rest = data.substr(offset);
    if (rest.size() < kRecordHeaderBytes) {
      result.torn = true;
      break;
    }
    const uint32_t length = absl::little_endian::Load32(rest.data());
    const uint32_t crc = absl::little_endian::Load32(rest.data() + 4);
    if (length == 0 || length > kMaxRecordBytes) {
      // A zero-filled tail is what a power loss can leave after the last record.
      if (AllZero(rest)) {
        result.torn = true;
        break;
      }
      return damaged(absl::StrCat("impossible record length ", length));
    }
    if (rest.size() - kRecordHeaderBytes < length) {
      result.torn = true;
      break;
    }
    const std::string_view payload = rest.substr(kRecordHeaderBytes, length);
    if (Crc32(payload) != crc) {
      if (rest.size() == kRecordHeaderBytes + length) {
        result.torn = true;
        break;
      }
      return damaged("CRC mismatch");
    }
    if (absl::Status status = on_record(payload, offset); !status.ok()) return status;
    offset += kRecordHeaderBytes + length;
    ++result.records;
  }
  result.valid_bytes = offset;
  return result;
}

std::string FrameRecord(std::string_view payload) {
  std::string framed(kRecordHeaderBytes, '\0');
  FillHeader(payload, framed.data());
  framed.append(payload);
  return framed;
}

absl::StatusOr<std::string> UnframeSingleRecord(const std::string& path,
                                                std::string_view contents) {
  if (contents.size() < kRecordHeaderBytes)
    return absl::DataLossError(absl::StrCat(path, " is damaged: shorter than a record header"));
  const uint32_t length = absl::little_endian::Load32(contents.data());
  const uint32_t crc = absl::little_endian::Load32(contents.data() + 4);
  if (contents.size() != kRecordHeaderBytes + length)
    return absl::DataLossError(absl::StrCat(path, " is damaged: ", contents.size(),
                                            " bytes, its header announces ",
                                            kRecordHeaderBytes + length));
  const std::string_view payload = contents.substr(kRecordHeaderBytes);
  if (Crc32(payload) != crc)
    return absl::DataLossError(absl::StrCat(path, " is damaged: CRC mismatch"));
  return std::string(payload);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("cannot open", path);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return ErrnoError("cannot read", path);
  return std::move(buffer).str();
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open directory", dir);
  const int synced = ::fsync(fd);
  ::close(fd);
  if (synced != 0) return ErrnoError("cannot sync directory", dir);
  return absl::OkStatus();
}

absl::Status TruncateFile(const std::string& path, uint64_t size) {
  if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0)
    return ErrnoError("cannot truncate", path);
  return absl::OkStatus();
}

}  // namespace channelstream::broker
