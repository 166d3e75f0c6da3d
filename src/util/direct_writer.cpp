// Writes around the page cache (see include/slimage/util/direct_writer.h).
#include "slimage/util/direct_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "slimage/util/error.h"
#include "slimage/util/scratch_meter.h"

namespace slimage {

DirectWriter::DirectWriter(const std::string& path, const std::string& name, bool all_cold, bool durable,
                           bool scratch)
    : path_(path), name_(name), durable_(durable), scratch_(scratch) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd_ < 0) fail(name_ + ": " + std::strerror(errno));
  dfd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
  for (size_t i = 0; dfd_ >= 0 && i < kInFlight + 1; i++) {
    char* p = static_cast<char*>(std::aligned_alloc(kPage, kChunk));
    if (!p) break;
    aligned_.push_back(p);
    free_.push_back(p);
  }
  if (free_.empty()) {
    disable_direct();
  } else {
    cold_buf_ = free_.back();
    free_.pop_back();
  }
  if (all_cold) cold_end_ = ~uint64_t{0} & ~(kPage - 1);
  hot_.reserve(kChunk);
  io_ = std::thread([this] { io_loop(); });
}

DirectWriter::~DirectWriter() {
  stop_io();  // after an error elsewhere: the IO thread's own error is moot
  if (fd_ >= 0) ::close(fd_);
  if (dfd_ >= 0) ::close(dfd_);
  for (char* p : aligned_) std::free(p);
}

void DirectWriter::cold(uint64_t begin, uint64_t end) {
  if (!cold_buf_ || begin < pos_) return;
  uint64_t a = (begin + kPage - 1) & ~(kPage - 1), b = end & ~(kPage - 1);
  if (b <= a || b - a < kChunk / 4) return;
  cold_begin_ = a;
  cold_end_ = b;
}

void DirectWriter::write(const void* data, size_t n) {
  auto* p = static_cast<const char*>(data);
  while (n > 0) {
    size_t k;
    if (cold_buf_ && pos_ >= cold_begin_ && pos_ < cold_end_) {
      if (cold_len_ == 0) cold_off_ = pos_;
      k = static_cast<size_t>(std::min<uint64_t>({n, cold_end_ - pos_, kChunk - cold_len_}));
      std::memcpy(cold_buf_ + cold_len_, p, k);
      cold_len_ += k;
      if (cold_len_ == kChunk || pos_ + k == cold_end_) flush_cold();
    } else {
      k = pos_ < cold_begin_ ? static_cast<size_t>(std::min<uint64_t>(n, cold_begin_ - pos_)) : n;
      if (!hot_.empty() && hot_off_ + hot_.size() != pos_) flush_hot();
      if (hot_.empty()) hot_off_ = pos_;
      hot_.append(p, k);
      if (hot_.size() >= kChunk) flush_hot();
    }
    p += k;
    n -= k;
    pos_ += k;
  }
}

void DirectWriter::finish() {
  if (cold_len_ % kPage != 0) {
    // The stream ended inside a cold run: its unaligned tail is buffered.
    size_t aligned = cold_len_ & ~(kPage - 1);
    flush_hot();
    hot_off_ = cold_off_ + aligned;
    hot_.assign(cold_buf_ + aligned, cold_len_ - aligned);
    cold_len_ = aligned;
  }
  flush_cold();
  flush_hot();
  stop_io();
  if (error_) std::rethrow_exception(error_);
  if (::ftruncate(fd_, static_cast<off_t>(pos_)) != 0) fail(name_ + ": " + std::strerror(errno));
  if (durable_ && ::fsync(fd_) != 0 && errno != EINVAL) fail(name_ + ": fsync: " + std::strerror(errno));
  if (dfd_ >= 0) ::close(dfd_);
  dfd_ = -1;
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(name_ + ": close: " + std::strerror(errno));
}

void DirectWriter::submit(Job job) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return jobs_.size() < kInFlight || error_; });
  if (error_) std::rethrow_exception(error_);
  jobs_.push_back(std::move(job));
  cv_.notify_all();
}

void DirectWriter::flush_hot() {
  if (hot_.empty()) return;
  size_t n = hot_.size();
  submit(Job{nullptr, std::move(hot_), n, hot_off_});
  std::lock_guard lock(mu_);
  if (spare_.empty()) {
    hot_ = std::string();
    hot_.reserve(kChunk);
  } else {
    hot_ = std::move(spare_.back());
    spare_.pop_back();
    hot_.clear();
  }
}

void DirectWriter::flush_cold() {
  if (cold_len_ == 0) return;
  submit(Job{cold_buf_, {}, cold_len_, cold_off_});
  cold_len_ = 0;
  cold_buf_ = take_buffer();
}

// A free aligned buffer (waits for the IO thread to return one).
char* DirectWriter::take_buffer() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty() || error_; });
  if (error_) std::rethrow_exception(error_);
  char* p = free_.back();
  free_.pop_back();
  return p;
}

void DirectWriter::io_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
    if (jobs_.empty()) return;
    Job job = std::move(jobs_.front());
    lock.unlock();
    std::exception_ptr error;
    try {
      pwrite_all(job.aligned && direct_ok_ ? dfd_ : fd_, job.aligned ? job.aligned : job.hot.data(), job.size,
                 job.off);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    jobs_.pop_front();
    if (job.aligned) free_.push_back(job.aligned);
    else if (spare_.size() < kInFlight) spare_.push_back(std::move(job.hot));
    if (error && !error_) error_ = error;
    cv_.notify_all();
  }
}

// Lets the IO thread write what is queued, then ends it.
void DirectWriter::stop_io() {
  if (!io_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  io_.join();
}

// IO thread only (direct_ok_ is read there alone once the thread runs).
void DirectWriter::pwrite_all(int fd, const char* p, size_t n, uint64_t off) {
  if (scratch_) scratch_charge(path_, n);  // first: over a --scratch-budget it throws, nothing written
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && fd == dfd_ && errno == EINVAL) {  // alignment refused: buffered from now on
      direct_ok_ = false;
      fd = fd_;
      continue;
    }
    if (w < 0) fail(name_ + ": write: " + std::strerror(errno));
    p += w;
    n -= static_cast<size_t>(w);
    off += static_cast<uint64_t>(w);
  }
}

void DirectWriter::disable_direct() {
  if (dfd_ >= 0) ::close(dfd_);
  dfd_ = -1;
  direct_ok_ = false;
}

}  // namespace slimage
