// Parallel loops over independent items (layers, files). No pool is kept:
// each parallel_for starts its threads and joins them before returning. The
// first exception thrown by any item is rethrown on the calling thread after
// all workers stop.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>

namespace slimage {

// Runs fn(i) for i in [0, n) on up to `jobs` threads (0 = hardware cores).
void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& fn);
unsigned default_jobs();

// Threads for loops whose items mostly wait on the disk (reading the heads of
// scratch files written around the page cache): more than the cores, so that
// several reads are in flight.
constexpr unsigned kIoBoundJobs = 8;

// Bounds the bytes the items of a parallel loop hold at once. A file read
// through a mapping stays resident until released, so kIoBoundJobs threads
// each scanning a 1 GB CUDA library would hold gigabytes: each item holds its
// file's size for as long as it reads it. hold(n) waits while other holds are
// out and n would take the total past the cap; an item bigger than the cap
// runs alone, so every item runs.
class ByteGate {
 public:
  explicit ByteGate(uint64_t cap) : cap_(cap) {}
  class Hold {
   public:
    Hold(ByteGate& gate, uint64_t n);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    ByteGate& gate_;
    uint64_t n_;
  };
  uint64_t held() const;  // bytes held now

 private:
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  uint64_t cap_, held_ = 0;
  size_t holders_ = 0;
};

// What the plan's parallel passes over file contents hold at once.
constexpr uint64_t kResidentContentCap = uint64_t(256) << 20;

}  // namespace slimage
