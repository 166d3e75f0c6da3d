// Per-run byte counters and the live line's meter (see
// include/slimage/util/progress.h).
#include "slimage/util/progress.h"

#include <algorithm>
#include <cstdio>

#include "slimage/util/strings.h"

namespace slimage {

namespace {
ByteCounter g_process;                    // when no ProgressScope is set
thread_local ByteCounter* t_current = nullptr;
}  // namespace

ProgressScope::ProgressScope(ByteCounter* counter) : previous_(t_current) { t_current = counter; }
ProgressScope::~ProgressScope() { t_current = previous_; }

ByteCounter& current_progress() { return t_current ? *t_current : g_process; }
void progress_add(uint64_t bytes) { current_progress().done.fetch_add(bytes, std::memory_order_relaxed); }
void progress_skip(uint64_t bytes) { current_progress().skipped.fetch_add(bytes, std::memory_order_relaxed); }

ProgressMeter::ProgressMeter(uint64_t total, double start, double window)
    : total_(total), window_(window), shown_{0, 0} {
  history_.push_back({start, 0});
}

std::optional<ProgressReading> ProgressMeter::sample(uint64_t done, uint64_t skipped, double now) {
  ProgressReading r;
  r.total = total_ - std::min(skipped, total_);
  r.done = std::min(done, r.total);
  // The rate over the samples inside the window (the newest older one if
  // none is), from the last one before bytes moved: time in which nothing
  // moved at the window's start (the stage's setup) is not counted.
  while (history_.size() > 1 &&
         (history_.front().first < now - window_ || history_[1].second == history_.front().second))
    history_.pop_front();
  auto [then, done_then] = history_.front();
  if (now > then && done >= done_then) r.rate = (done - done_then) / (now - then);
  history_.push_back({now, done});
  if (shown_.first == done && shown_.second == skipped) return std::nullopt;
  shown_ = {done, skipped};
  // An ETA only from a rate measured over a second or more: the first few
  // bytes of a stage (a magic number sniffed) say nothing about the rest.
  if (r.rate > 0 && r.done < r.total && now - then >= 1.0) r.eta = (r.total - r.done) / r.rate;
  return r;
}

std::string progress_text(const ProgressReading& r) {
  char eta[32] = "";
  if (r.eta) std::snprintf(eta, sizeof eta, "  ETA %.0f s", *r.eta);
  return human_bytes(r.done) + " / " + human_bytes(r.total) + "  " +
         human_bytes(static_cast<uint64_t>(r.rate)) + "/s" + eta;
}

}  // namespace slimage
