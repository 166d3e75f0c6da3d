// parallel_for (see include/slimage/util/thread_pool.h).
#include "slimage/util/thread_pool.h"

#include "slimage/util/progress.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace slimage {

ByteGate::Hold::Hold(ByteGate& gate, uint64_t n) : gate_(gate), n_(n) {
  std::unique_lock lock(gate_.mutex_);
  gate_.freed_.wait(lock, [&] { return gate_.holders_ == 0 || gate_.held_ + n_ <= gate_.cap_; });
  gate_.held_ += n_;
  gate_.holders_++;
}

ByteGate::Hold::~Hold() {
  {
    std::lock_guard lock(gate_.mutex_);
    gate_.held_ -= n_;
    gate_.holders_--;
  }
  gate_.freed_.notify_all();
}

uint64_t ByteGate::held() const {
  std::lock_guard lock(mutex_);
  return held_;
}

unsigned default_jobs() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& fn) {
  if (jobs == 0) jobs = default_jobs();
  size_t workers = std::min<size_t>(jobs, n);
  if (workers <= 1) {
    for (size_t i = 0; i < n; i++) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first;
  std::mutex mu;
  // The workers count progress into the caller's counter (util/progress.h).
  ByteCounter* progress = &current_progress();
  auto work = [&] {
    ProgressScope scope(progress);
    for (;;) {
      size_t i = next++;
      if (i >= n || stop) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!first) first = std::current_exception();
        stop = true;
      }
    }
  };
  std::vector<std::thread> threads;
  for (size_t t = 1; t < workers; t++) threads.emplace_back(work);
  work();
  for (auto& t : threads) t.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace slimage
