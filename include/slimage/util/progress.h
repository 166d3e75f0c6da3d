// Bytes moved by a running stage, and what a live progress line says about
// them. Each run (one image of a batch) counts into its own ByteCounter: the
// code that moves bytes adds to the counter current on the thread that made
// it (ProgressScope sets it; parallel_for hands it to its workers), so two
// images running at once never add to or reset each other's count.
// A stage's total is what it would move if nothing were shared; bytes it
// finds it need not move (a layer reused byte for byte, one from the layer
// cache, one another image decodes) are skipped: they leave the total
// instead of counting as moved, so the rate is of bytes actually moved.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>

namespace slimage {

struct ByteCounter {
  std::atomic<uint64_t> done{0};     // moved
  std::atomic<uint64_t> skipped{0};  // of the total, found not to need moving
  void reset() { done = 0, skipped = 0; }
};

// The calling thread's counter while it lives (the previous one after).
class ProgressScope {
 public:
  explicit ProgressScope(ByteCounter* counter);
  ~ProgressScope();
  ProgressScope(const ProgressScope&) = delete;
  ProgressScope& operator=(const ProgressScope&) = delete;

 private:
  ByteCounter* previous_;
};

// The calling thread's counter: its ProgressScope's, else a process-wide one.
ByteCounter& current_progress();
void progress_add(uint64_t bytes);
void progress_skip(uint64_t bytes);

// One reading of a live line.
struct ProgressReading {
  uint64_t done = 0, total = 0;     // total: the stage's, less what was skipped
  double rate = 0;                  // bytes/s over the last window
  std::optional<double> eta;        // seconds; none until the rate is known
};

// Turns samples of a counter into readings: the rate is bytes moved over
// the last `window` seconds (a stage's setup before its first byte does not
// drag it down once it is past), the ETA what is left at that rate. sample()
// returns nothing when no byte moved and none was skipped since the last
// reading it gave (or, at first, since the start), so a line is never drawn
// unchanged. Times are seconds on any monotonic
// clock (a fake one in tests).
class ProgressMeter {
 public:
  ProgressMeter(uint64_t total, double start, double window = 5.0);
  std::optional<ProgressReading> sample(uint64_t done, uint64_t skipped, double now);

 private:
  uint64_t total_;
  double window_;
  std::deque<std::pair<double, uint64_t>> history_;  // (time, done), oldest first
  std::pair<uint64_t, uint64_t> shown_;  // (done, skipped) last returned; none moved at first
};

// "12.0 MiB / 40.0 MiB  3.0 MiB/s  ETA 9 s" (no ETA while unknown or done).
std::string progress_text(const ProgressReading& reading);

}  // namespace slimage
