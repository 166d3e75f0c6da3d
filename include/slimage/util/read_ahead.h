// Read-ahead on a second thread: a stream's producer (e.g. digest check +
// inflate of a layer blob) runs while the consumer (diff_id hash, scratch
// write, tar parse) works on the previous chunk. Memory is bounded by
// chunk * depth. An error in the producer is rethrown by read() after the
// bytes that came before it.
#pragma once
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "slimage/util/io.h"

namespace slimage {

std::unique_ptr<Reader> read_ahead(std::unique_ptr<Reader> in, size_t chunk = 4 << 20,
                                   size_t depth = 4);

// The queue behind read_ahead, and behind the registry's blob download (curl
// pushes what it receives): one producer thread pushes chunks, one consumer
// reads them in order. push() blocks while `limit` bytes or more are queued.
class ByteQueue {
 public:
  explicit ByteQueue(size_t limit) : limit_(limit) {}
  // False once the consumer has cancelled: the producer should stop.
  bool push(std::string chunk);
  // No more chunks; read() rethrows `error` (if any) after the queued bytes.
  void close(std::exception_ptr error = nullptr);
  // The consumer is gone: wakes a blocked push(), which returns false.
  void cancel();
  // Consumer side: up to n bytes; 0 at the end.
  size_t read(void* buf, size_t n);
  // Consumer side: up to n bytes handed to `out` (null: dropped) in place.
  size_t pass(Writer* out, size_t n);
  // Producer side: a chunk the consumer is done with (its bytes are stale;
  // reusing it spares an allocation and its page faults), or an empty string.
  std::string spare();

 private:
  const size_t limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> chunks_;
  size_t queued_ = 0;
  bool closed_ = false, cancelled_ = false;
  std::exception_ptr error_;
  std::vector<std::string> spares_;
  std::string current_;  // consumer's chunk, read outside the lock
  size_t pos_ = 0;

  bool next_chunk();  // consumer: current_ exhausted -> the next one; false at the end
};

}  // namespace slimage
