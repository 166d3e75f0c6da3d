// What every command shares: progress lines on stderr, opening an image and
// merging one platform's layers in a scratch dir, the image runtime from its
// config, and a plan from the command-line settings.
#pragma once
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <functional>
#include <memory>
#include <string>

#include "slimage/cli/options.h"
#include "slimage/deps/resolver.h"
#include "slimage/image/image.h"
#include "slimage/plan/plan.h"
#include "slimage/report/report.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace slimage {

// One line per stage on stderr with its time ("slimage: merge 1.2 s").
// A stage begun with a byte total also shows a live line — bytes done/total,
// rate, ETA — redrawn in place on a terminal, printed every few seconds
// otherwise. --quiet silences both.
class Progress {
 public:
  explicit Progress(bool quiet, std::string prefix = "") : quiet_(quiet), prefix_(std::move(prefix)) {}
  ~Progress();
  void begin(const std::string& stage, uint64_t total_bytes = 0);
  void end(const std::string& detail = "");
  void note(const std::string& line);
  // A stage that ran beside the current one (on another thread): its line
  // and timing, without ending the current stage.
  void record(const std::string& stage, double seconds, const std::string& detail = "");
  bool quiet() const { return quiet_; }
  nlohmann::json timings() const { return timings_; }

 private:
  void stop_ticker();
  void tick(bool tty);
  bool quiet_;
  std::string prefix_;
  std::string stage_;
  uint64_t total_ = 0;
  std::chrono::steady_clock::time_point start_;
  nlohmann::json timings_ = nlohmann::json::object();
  std::thread ticker_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

struct LoadedImage {
  ImageManifest image;
  std::unique_ptr<TempDir> scratch;
  std::unique_ptr<MergedFs> fs;
  Diagnostics diagnostics;
};

std::optional<Platform> platform_option(const CommonOptions& c);
// Decodes (in parallel) and merges every layer of `image`.
using SpillFunction = std::function<std::unique_ptr<SpilledLayer>(
    Source&, const Descriptor&, const std::string&, const std::string&, size_t)>;
std::unique_ptr<LoadedImage> load_fs(Source& source, const ImageManifest& image, unsigned jobs,
                                     Progress& progress, const SpillFunction& spill = {});
ImageRuntime runtime_of(const ImageManifest& image);
// The plan for the settings; "none" plans nothing (every file kept as is).
Plan make_plan(const FsView& fs, const ImageRuntime& runtime, const PlanSettings& settings,
               Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts = nullptr);
StripMode effective_strip(const Plan& plan, const PlanSettings& settings);
// Closure of a view: every ELF in it is a root. Used by verify and by slim's guard.
// `facts` carries parsed ELF facts between walks over views of the same layers.
Graph closure_of(const FsView& fs, const ImageRuntime& runtime, const Profile* profile,
                 Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts = nullptr);
// The two halves of closure_of: its roots (entrypoint, every ELF, …), and the
// walk from given roots, which slim's guard runs on the input and on the
// output from the output's roots.
std::vector<Root> closure_roots(const FsView& fs, const ImageRuntime& runtime,
                                Diagnostics& diagnostics);
Graph closure_from(const FsView& fs, const std::vector<Root>& roots, const ImageRuntime& runtime,
                   const Profile* profile, Diagnostics& diagnostics,
                   std::shared_ptr<ElfFacts> facts);
void print_diagnostics(const Diagnostics& d, bool quiet);

}  // namespace slimage
