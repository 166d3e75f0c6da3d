// The main job as a library: slim one image (every selected platform) from
// a source to a destination — open, decode+merge, plan, verify, test, write,
// publish, commit, report (src/slim/pipeline.cpp reads top to bottom). It
// prints nothing: stages and diagnostics go to SlimEvents, a refusal comes
// back as a value, a bad image or I/O failure is an Error (nothing written).
// `slimage slim` runs it once; `slimage batch` runs many at once, sharing
// decoded layers (SpillCache) and rewritten layers (LayerCache) through the
// context.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slimage/image/image.h"
#include "slimage/report/gate.h"
#include "slimage/report/report.h"
#include "slimage/report/sbom.h"
#include "slimage/rewrite/layer_writer.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/slim/options.h"
#include "slimage/slim/smoke.h"
#include "slimage/slim/stages.h"

namespace slimage {

// Decodes one layer into `dir`; the default is spill_layer().
using SpillFunction = std::function<std::unique_ptr<SpilledLayer>(
    Source&, const Descriptor&, const std::string& diff_id, const std::string& dir, size_t index)>;

struct SlimContext {
  TransportOptions transport;              // the source's registry options
  TransportOptions destination_transport;  // the destination's (--dest-* flags)
  std::optional<Platform> platform;  // none: every platform
  unsigned jobs = 0;                 // 0 = cores
  SpillFunction spill;               // batch: one decode per layer digest
  LayerCache* cache = nullptr;       // batch: rewritten layers by fingerprint
};

// One platform's gate (--check): the rules, what they measured, the verdicts.
struct GateReport {
  std::string platform;
  GateRules rules;
  GateMetrics metrics;
  GateResult result;
};

// Why a run stopped before writing anything.
struct Refusal {
  enum class Kind {
    TestFailsOnOriginal,  // --test guards nothing
    TestFailsOnSlimmed,   // passes on the original, fails on the slimmed root
    Missing,              // the slimmed closure would miss libraries
    GateFailed,           // --check: the output fails a rule
  };
  Kind kind = Kind::Missing;
  SmokeResult test;                      // the Test* kinds
  std::vector<Missing> missing;          // Kind::Missing
  std::vector<Diagnostic> diagnostics;   // Kind::Missing: the image's, shown before the verdict
  std::vector<GateReport> gates;         // Kind::GateFailed: each platform checked, the failing one last
};

struct SlimResult {
  std::optional<Refusal> refusal;   // set: nothing was written
  nlohmann::json report;            // what --report writes
  std::vector<Summary> summaries;   // one per platform
  std::string root_digest;          // of the committed root ("" if nothing written)
  SbomDocument sbom;                // its values, collected when --sbom is given
  std::vector<GateReport> gates;    // --check: one per platform, all passed
};

// Throws Error on a bad image or I/O failure (nothing written).
SlimResult slim(const SlimOptions& options, const SlimContext& context, SlimEvents& events);

// The stages other commands share (inspect, plan, why, verify).

struct LoadedImage {
  ImageManifest image;
  std::unique_ptr<MergedFs> fs;  // its layers' decoded tars: unnamed scratch files
  Diagnostics diagnostics;
};

// decode + merge: every layer of `image` decoded (in parallel) into an
// unnamed scratch file under scratch_parent(), then merged. `mode` (slim):
// low-disk mode's sparse spill, and the free space it requires;
// `summarize` (low-disk mode): low_disk_summarizer's.
std::unique_ptr<LoadedImage> load_fs(Source& source, const ImageManifest& image, unsigned jobs,
                                     Stages& stages, const SpillFunction& spill = {},
                                     const ScratchMode* mode = nullptr, const ElfSummarizer& summarize = {});

// What low-disk mode's pass 1 keeps of a big ELF file for a plan with these
// settings (plan/plan.h summarize_elf, in their strip mode); none (every ELF
// file spilled as it comes) when GPU code may be pruned (--cuda-arch,
// --cuda-ptx or the profile's cuda_archs).
ElfSummarizer low_disk_summarizer(const PlanSettings& settings);

// The plan for the settings ("none" plans nothing: every file kept as is).
Plan make_plan(const FsView& fs, const ImageRuntime& runtime, const PlanSettings& settings,
               Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts = nullptr);
StripMode effective_strip(const Plan& plan, const PlanSettings& settings);

}  // namespace slimage
