// The stages of slim() (src/slim/pipeline.cpp), as values in and values out.
#pragma once
#include <future>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "slimage/rewrite/image_writer.h"
#include "slimage/rootfs/filtered_fs.h"
#include "slimage/slim/pipeline.h"
#include "slimage/slim/provenance.h"
#include "slimage/slim/verify.h"

namespace slimage {

// open (stages_open.cpp)
struct Endpoints {
  ImageRef source_ref, destination_ref;
  std::unique_ptr<Source> source;
  std::unique_ptr<Sink> sink;
  RootManifest source_root;
  std::vector<ImageManifest> images;  // the selected platforms
  std::vector<std::string> signatures;  // left behind (--remove-signatures)
};
Endpoints open_endpoints(const SlimOptions& options, const SlimContext& context, Stages& stages);

// plan (stages_open.cpp). Not movable: the slimmed view refers to the plan.
struct Planned {
  ImageRuntime runtime;
  std::shared_ptr<ElfFacts> facts;  // the plan's walk and both closures parse each ELF once
  Plan plan;
  StripMode strip = StripMode::None;
  const Profile* profile = nullptr;  // null for --profile none
  std::optional<FilteredFs> after;   // the output's view: the input less what the plan drops
  Planned() = default;
  Planned(const Planned&) = delete;
};
std::unique_ptr<Planned> plan_image(LoadedImage& loaded, const PlanSettings& settings,
                                    Stages& stages);

// room (stages_open.cpp): before anything is written, refuses (an Error with
// the numbers) if the destination's filesystem clearly cannot hold the output.
void require_destination_space(const LoadedImage& loaded, const Planned& planned,
                               const SlimOptions& options, const Endpoints& io);

// verify (stages_verify.cpp): beside the write (start(beside=true), then
// verdict() once the layers are staged), or before the test.
class VerifyStage {
 public:
  VerifyStage(LoadedImage& loaded, const Planned& planned, const SlimOptions& options,
              bool shared_layers)
      : loaded_(loaded), planned_(planned), options_(options), shared_layers_(shared_layers) {}
  void start(Stages& stages, bool beside);
  // A refusal if the slimmed image would miss libraries (and no --force).
  std::optional<Refusal> verdict(Stages& stages, bool force);
  // Frees the dropped files' scratch blocks on a thread beside the write.
  void discard_dropped_beside();
  const VerifyResult& result() const { return result_; }

 private:
  void run();
  void discard_dropped();
  std::string detail() const;
  LoadedImage& loaded_;
  const Planned& planned_;
  const SlimOptions& options_;
  bool shared_layers_;  // a batch's decoded layers serve other images: theirs stay
  bool beside_ = false;
  VerifyResult result_;
  std::future<void> done_;
  std::jthread thread_;  // last: joined before the rest goes
};

// test (stages_verify.cpp): a refusal if --test fails.
std::optional<Refusal> test_image(const LoadedImage& loaded, const Planned& planned,
                                  const SlimOptions& options, Stages& stages);

// write (stages_write.cpp): begins the "write" stage, which publish ends.
struct Written {
  Provenance provenance;  // the new manifest's annotations and history line
  WriteOptions options;
  std::vector<LayerOutput> layers;
  // Low-disk mode: kept content re-decoded into scratch for the layers
  // rewritten, and the most of it one layer needed at once; kept content
  // streamed from the re-decoded layers straight to the encoder.
  uint64_t refill_bytes = 0, refill_peak_bytes = 0, streamed_bytes = 0;
  bool low_disk = false;  // publish streams reused blobs into the sink, not through scratch
};
Written write_image(const LoadedImage& loaded, const Planned& planned, const SlimOptions& options,
                    const SlimContext& context, const Endpoints& io, const ScratchMode& mode, Stages& stages);

// check (stages_verify.cpp): --check's rules on the image about to be
// written (its layers staged, the sink untouched); a refusal if one fails.
// Passing, the report goes to result.gates.
std::optional<Refusal> check_gate(const LoadedImage& loaded, const Planned& planned, const Written& written,
                                  const SlimOptions& options, Stages& stages, SlimResult& result);

// publish (stages_write.cpp)
struct Published {
  RewrittenImage out;
  ImageManifest image;  // the source's, with the new manifest bytes
  Descriptor manifest;
  uint64_t compressed_before = 0, compressed_after = 0;
};
Published publish_image(const ImageManifest& image, const Written& written, Endpoints& io,
                        Stages& stages);

// report (stages_write.cpp)
void report_image(const LoadedImage& loaded, const Planned& planned, const Written& written,
                  const Published& published, const Endpoints& io, const VerifyResult& verified,
                  SlimResult& result, Stages& stages);
// Low-disk mode's two passes, over the run's images: what pass 1 left out
// (the counts; no holes), and pass 2's refill.
struct RefillTotals {
  SparseHoles unspilled;
  uint64_t bytes = 0, peak_bytes = 0, streamed_bytes = 0;
};
void finish_report(SlimResult& result, const Stages& stages, const ScratchMode& mode, const RefillTotals& refill);

// The scratch mode of one image's run (rootfs/sparse_spill.h): --scratch-budget,
// or automatic when the scratch filesystem is short; batch (shared decodes)
// and --test (its original root needs every file) stay normal.
ScratchMode scratch_mode(const ImageManifest& image, const SlimOptions& o, const SlimContext& context);

// budget (stages_write.cpp): with --scratch-budget SIZE, refuses (an Error
// with the numbers) before anything is written when the run clearly cannot
// fit: the decoded layers as spilled, less all dropped content, plus the
// largest one layer's refill — a floor where the staged output comes on top
// (a registry destination: `staged_in_scratch`; a local one stages it at the
// destination). Past that, the scratch meter enforces SIZE on every write.
void require_scratch_budget(const LoadedImage& loaded, const Planned& planned, const SlimOptions& o,
                            const SlimContext& context, const ScratchMode& mode, bool staged_in_scratch);

// sbom (stages_sbom.cpp): the slimmed image's packages, removed and changed
// files and os-release, added to result.sbom for the CLI's --sbom.
void sbom_image(const LoadedImage& loaded, const Planned& planned, const Published& published,
                const Endpoints& io, SlimResult& result);
void finish_sbom(SlimResult& result, const std::string& root_digest);
// attach (stages_sbom.cpp): --sbom-attach puts each image's SBOM into the
// sink as an OCI 1.1 referrer of its new manifest, published at commit.
// Returns what the report lists as "sbom_referrers": per image the referrer
// manifest's digest, its subject's and the SBOM blob's.
nlohmann::json attach_sbom(const SlimOptions& o, const SbomDocument& sbom,
                           const std::vector<std::pair<ImageManifest, Descriptor>>& images, Endpoints& io,
                           Stages& stages);

// commit (stages_write.cpp): returns the root's digest.
std::string commit_root(Endpoints& io, const RootManifest& root, Stages& stages);

}  // namespace slimage
