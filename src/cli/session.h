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

namespace slimage {

// One line per stage on stderr with its time ("slimage: merge 1.2 s").
// A stage begun with a byte total also shows a live line — bytes done/total,
// rate, ETA — redrawn in place on a terminal, printed every few seconds
// otherwise. --quiet silences both. Libraries a slimmed image would miss
// are always shown; diagnostics as print_diagnostics() says.
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
  void tick(bool tty);
  bool quiet_;
  std::string prefix_;
  std::string stage_;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

std::optional<Platform> platform_option(const CommonOptions& c);
// The pipeline's context from the common options (no shared caches).
SlimContext slim_context(const CommonOptions& common);
// Prints why slim wrote nothing; returns the exit code.
int print_refusal(const Refusal& refusal, bool quiet);
// Up to 50; warnings not with --quiet.
void print_diagnostics(const std::vector<Diagnostic>& items, bool quiet);

}  // namespace slimage
