// How the pipeline tells its caller what it is doing without printing:
// every stage's start and end (with its time and a one-line detail), the
// libraries a slimmed image would miss, and each image's diagnostics go to
// a SlimEvents the caller implements (src/cli prints them on stderr).
// Stages times the stages and keeps their totals for the report.
#pragma once
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimage/deps/graph.h"
#include "slimage/util/error.h"

namespace slimage {

class SlimEvents {
 public:
  virtual ~SlimEvents() = default;
  // A stage starts; `total_bytes` > 0 when its work is counted in bytes
  // (util/progress.h), so a live line can show bytes done.
  virtual void stage_begin(const std::string& stage, uint64_t total_bytes) {}
  // A stage ended, or one that ran on another thread beside the current one.
  virtual void stage_end(const std::string& stage, double seconds, const std::string& detail) {}
  // Libraries the slimmed image would miss (a refusal follows unless --force).
  virtual void missing(const std::vector<Missing>& missing) {}
  // One image's diagnostics, when its run ends.
  virtual void diagnostics(const std::vector<Diagnostic>& items) {}
};

// Not thread-safe: one thread begins and ends stages; a stage that ran on
// another thread is recorded by the thread that waits for it.
class Stages {
 public:
  explicit Stages(SlimEvents& events) : events_(events) {}
  void begin(const std::string& stage, uint64_t total_bytes = 0);
  void end(const std::string& detail = "");
  void record(const std::string& stage, double seconds, const std::string& detail = "");
  const nlohmann::json& timings() const { return timings_; }  // seconds per stage
  // Peak RSS (VmHWM) read as each stage ends. VmHWM never decreases, so a
  // stage's figure is the peak so far, not its own; the stage that raised
  // it last is the one that peaked (a stage run beside another is charged
  // when its end is recorded).
  const nlohmann::json& peak_rss() const { return peak_rss_; }  // bytes per stage
  const std::string& peak_rss_stage() const { return peak_rss_stage_; }
  uint64_t peak_rss_bytes() const { return peak_rss_bytes_; }
  SlimEvents& events() { return events_; }

 private:
  SlimEvents& events_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
  nlohmann::json timings_ = nlohmann::json::object();
  nlohmann::json peak_rss_ = nlohmann::json::object();
  std::string peak_rss_stage_;
  uint64_t peak_rss_bytes_ = 0;
};

}  // namespace slimage
