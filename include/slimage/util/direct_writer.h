// A file writer for bytes no stage reads back soon: page-aligned runs go
// around the page cache (O_DIRECT) through a second descriptor, the rest is
// buffered, and the writes run on a thread of their own (at most three
// chunks queued) so the caller's hashing and parsing go on meanwhile. On
// this kind of VM a buffered write costs about 2 s of CPU per GB in the
// kernel (page allocation and copy); a direct one a fifth of that, and it
// leaves the page cache to what is read again. Where O_DIRECT is refused
// (tmpfs), or a write's alignment is, everything is buffered. Every write is
// charged to the scratch meter first (include/slimage/util/scratch_meter.h).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "slimage/util/io.h"

namespace slimage {

// A Writer that can also leave `n` bytes unwritten (the file keeps a hole).
class SkippingWriter : public Writer {
 public:
  virtual void skip(uint64_t n) = 0;
};

class DirectWriter : public SkippingWriter {
 public:
  // `name`: what messages call it (a ScratchFile's name(), not its fd path).
  // `all_cold`: every aligned byte goes direct (an output layer); otherwise
  // only the ranges declared with cold(). `durable`: finish() fsyncs.
  // `scratch`: the file is in scratch, so its bytes are charged to the
  // meter (util/scratch_meter.h); false for a blob staged at the destination.
  DirectWriter(const std::string& path, const std::string& name, bool all_cold = false,
               bool durable = false, bool scratch = true);
  ~DirectWriter() override;
  DirectWriter(const DirectWriter&) = delete;
  DirectWriter& operator=(const DirectWriter&) = delete;

  // Stream bytes [begin, end) are cold; must not start before what was written.
  void cold(uint64_t begin, uint64_t end);
  void write(const void* data, size_t n) override;
  // n bytes left as a hole (the file is extended over it at finish).
  void skip(uint64_t n) override { pos_ += n; }
  void finish() override;
  uint64_t bytes() const { return pos_; }

 private:
  // O_DIRECT wants buffers, offsets and lengths aligned to the logical
  // block size; 4096 is a multiple of every one Linux filesystems use.
  static constexpr uint64_t kPage = 4096;
  static constexpr size_t kChunk = 4 << 20;
  static constexpr size_t kInFlight = 3;

  struct Job {
    char* aligned;    // a cold buffer, back to free_ once written; or
    std::string hot;  // buffered bytes, back to spare_ once written
    size_t size;
    uint64_t off;
  };

  void submit(Job job);
  void flush_hot();
  void flush_cold();
  char* take_buffer();
  void io_loop();
  void stop_io();
  void pwrite_all(int fd, const char* p, size_t n, uint64_t off);
  void disable_direct();

  std::string path_, name_;
  bool durable_ = false;
  bool scratch_ = true;
  int fd_ = -1, dfd_ = -1;
  bool direct_ok_ = true;
  uint64_t pos_ = 0;
  std::string hot_;
  uint64_t hot_off_ = 0;
  std::vector<char*> aligned_;  // every aligned buffer, owned
  char* cold_buf_ = nullptr;    // the one filling; null when direct is off
  size_t cold_len_ = 0;
  uint64_t cold_off_ = 0, cold_begin_ = 0, cold_end_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<char*> free_;
  std::vector<std::string> spare_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread io_;
};

}  // namespace slimage
