// Stage timing for the pipeline (include/slimage/slim/stages.h).
#include "slimage/slim/stages.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace slimage {

namespace {

// VmHWM from /proc/self/status, in bytes; 0 where it cannot be read.
uint64_t vm_hwm_bytes() {
  std::FILE* f = std::fopen("/proc/self/status", "re");
  if (!f) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0 && std::sscanf(line + 6, "%llu", &kib) == 1) break;
  std::fclose(f);
  return uint64_t(kib) << 10;
}

}  // namespace

void Stages::begin(const std::string& stage, uint64_t total_bytes) {
  stage_ = stage;
  start_ = std::chrono::steady_clock::now();
  events_.stage_begin(stage, total_bytes);
}

void Stages::end(const std::string& detail) {
  record(stage_, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(),
         detail);
}

void Stages::record(const std::string& stage, double seconds, const std::string& detail) {
  timings_[stage] = timings_.value(stage, 0.0) + seconds;
  const uint64_t hwm = vm_hwm_bytes();
  // The kernel's RSS counters are per-CPU and approximate until pages are
  // unmapped, so VmHWM can creep up by a few pages after the stage that made
  // the peak: a stage is named only for raising it by more than 1 MiB.
  constexpr uint64_t kSlack = 1 << 20;
  if (peak_rss_stage_.empty() || hwm > peak_rss_bytes_ + kSlack) peak_rss_stage_ = stage;
  peak_rss_bytes_ = std::max(peak_rss_bytes_, hwm);
  // The peak so far, never less than an earlier stage's (approximate reads wobble).
  peak_rss_[stage] = std::max(peak_rss_.value(stage, uint64_t{0}), peak_rss_bytes_);
  events_.stage_end(stage, seconds, detail);
}

}  // namespace slimage
