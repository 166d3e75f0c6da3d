// Stage timing for the pipeline (include/slimage/slim/stages.h).
#include "slimage/slim/stages.h"

namespace slimage {

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
  events_.stage_end(stage, seconds, detail);
}

}  // namespace slimage
