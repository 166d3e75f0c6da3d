// File and memory streams (see include/slimage/util/io.h).
#include "slimage/util/io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "slimage/util/error.h"

namespace slimage {

static std::string errno_text() { return std::strerror(errno); }

FileReader::FileReader(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path + ": " + errno_text());
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

size_t FileReader::read(void* buf, size_t n) {
  for (;;) {
    ssize_t r = ::read(fd_, buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) fail(path_ + ": read: " + errno_text());
  }
}

FileWriter::FileWriter(const std::string& path, bool durable, const std::string& name)
    : durable_(durable), path_(name.empty() ? path : name) {  // path_: for messages
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path_ + ": " + errno_text());
  buf_.reserve(1 << 20);
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void FileWriter::flush() {
  const char* p = buf_.data();
  size_t left = buf_.size();
  while (left > 0) {
    ssize_t w = ::write(fd_, p, left);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path_ + ": write: " + errno_text());
    }
    p += w;
    left -= static_cast<size_t>(w);
  }
  buf_.clear();
}

void FileWriter::write(const void* data, size_t n) {
  written_ += n;
  if (buf_.size() + n > (1 << 20)) flush();
  if (n >= (1 << 20)) {
    buf_.assign(static_cast<const char*>(data), n);
    flush();
    return;
  }
  buf_.append(static_cast<const char*>(data), n);
}

void FileWriter::finish() {
  flush();
  if (durable_ && ::fsync(fd_) != 0 && errno != EINVAL) fail(path_ + ": fsync: " + errno_text());
  if (::close(fd_) != 0) {
    fd_ = -1;
    fail(path_ + ": close: " + errno_text());
  }
  fd_ = -1;
}

size_t MemoryReader::read(void* buf, size_t n) {
  size_t k = std::min(n, bytes_.size() - pos_);
  std::memcpy(buf, bytes_.data() + pos_, k);
  pos_ += k;
  return k;
}

uint64_t copy_stream(Reader& in, Writer& out) {
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  while (size_t n = in.read(buf.data(), buf.size())) {
    out.write(buf.data(), n);
    total += n;
  }
  return total;
}

size_t Reader::pass(Writer* out, size_t n) {
  char buf[65536];
  size_t k = read(buf, std::min(n, sizeof buf));
  if (k && out) out->write(buf, k);
  return k;
}

uint64_t skip_stream(Reader& in, uint64_t n) {
  uint64_t done = 0;
  while (done < n) {
    size_t k = in.pass(nullptr, static_cast<size_t>(std::min<uint64_t>(n - done, SIZE_MAX)));
    if (k == 0) break;
    done += k;
  }
  return done;
}

std::string read_all(Reader& in, uint64_t limit) {
  std::string out;
  char buf[65536];
  while (size_t n = in.read(buf, sizeof buf)) {
    if (out.size() + n > limit) fail("larger than " + std::to_string(limit) + " bytes");
    out.append(buf, n);
  }
  return out;
}

}  // namespace slimage
