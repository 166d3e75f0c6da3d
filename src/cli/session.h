// What every command shares: progress lines on stderr (the pipeline's
// events), the platform option, printing diagnostics.
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "slimage/cli/options.h"
#include "slimage/slim/pipeline.h"
#include "slimage/slim/stages.h"
#include "slimage/util/progress.h"

namespace slimage {

// One line per stage on stderr with its time ("slimage: merge 1.2 s").
// A stage begun with a byte total also shows a live line — bytes done/total,
// rate, ETA of this run's own bytes (util/progress.h) — redrawn in place on
// a terminal (each Progress its own line: a batch's images one below the
// other), printed every 5 s otherwise; only when bytes moved since it was
// last shown. $SLIMAGE_PROGRESS=tty|plain overrides the terminal check and
// $SLIMAGE_PROGRESS_INTERVAL_MS the period (tests). --quiet silences both.
// Libraries a slimmed image would miss are always shown; diagnostics as
// print_diagnostics() says. Construct, use and destroy it on the thread
// that runs the pipeline: that thread counts into it.
class Progress : public SlimEvents {
 public:
  explicit Progress(bool quiet, std::string prefix = "") : quiet_(quiet), prefix_(std::move(prefix)) {}
  ~Progress() override;
  void stage_begin(const std::string& stage, uint64_t total_bytes) override;
  void stage_end(const std::string& stage, double seconds, const std::string& detail) override;
  void missing(const std::vector<Missing>& missing) override;
  void diagnostics(const std::vector<Diagnostic>& items) override;

 private:
  void stop_ticker();
  void tick();
  bool quiet_;
  std::string prefix_;
  ByteCounter counter_;
  ProgressScope scope_{&counter_};
  std::string stage_;
  std::optional<ProgressMeter> meter_;
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

std::optional<Platform> platform_option(const CommonOptions& c);

// `slimage diff A B` for each platform (src/cli/diff.cpp): the JSON object
// `diff --json` prints and the text `diff` prints. `slim --diff` runs it on
// its own input and output.
struct ImagePairDiff {
  std::string platform;  // A's
  nlohmann::json json;
  std::string text;
};
std::vector<ImagePairDiff> diff_images(const std::string& a_ref, const TransportOptions& a_transport,
                                       const std::string& b_ref, const TransportOptions& b_transport,
                                       const std::optional<Platform>& platform, unsigned jobs,
                                       Stages& stages);
// The pipeline's context from the common options (no shared caches).
SlimContext slim_context(const CommonOptions& common);
// Prints why slim wrote nothing; returns the exit code.
int print_refusal(const Refusal& refusal, bool quiet);
// Why slim wrote nothing, on one line (a batch row's cause).
std::string refusal_cause(const Refusal& refusal);
// `text` on one line (newlines as spaces), cut to `max` bytes with "…" at a
// character boundary.
std::string shorten_line(std::string text, size_t max);
// Text for stderr (whole lines), printed above the live progress lines.
void print_stderr(const std::string& text);
// Up to 50; warnings not with --quiet.
void print_diagnostics(const std::vector<Diagnostic>& items, bool quiet);

}  // namespace slimage
