// The main job, one stage per call (include/slimage/slim/pipeline.h):
// open source → decode + merge layers → plan (roots, closure, actions with
// reasons) → verify the slimmed closure → --test → write layers and digests
// → check (--check) → publish blobs, config and manifest → commit the sink atomically → report.
// Each stage takes values and returns values; the stages themselves live in
// src/slim/stages_*.cpp.
#include "slimage/slim/pipeline.h"

#include <algorithm>

#include "slim_stages.h"
#include "slimage/util/scratch_meter.h"
#include "slimage/util/strings.h"

namespace slimage {

// A run that wrote nothing: only its refusal.
static SlimResult refused(std::optional<Refusal> refusal) {
  SlimResult out;
  out.refusal = std::move(refusal);
  return out;
}

// --scratch-budget SIZE, enforced by the scratch meter while the run lives.
class BudgetGuard {
 public:
  ~BudgetGuard() {
    if (armed_) scratch_set_budget(std::nullopt);
  }
  void arm(const ScratchMode& mode) {
    if (!mode.low_disk || mode.budget == 0 || armed_) return;
    scratch_set_budget(ScratchBudget{mode.budget, "--scratch-budget " + human_bytes(mode.budget),
                                     "the run stops there: nothing is written and its scratch is freed. Give a "
                                     "larger --scratch-budget (0: low-disk mode with no limit)"});
    armed_ = true;
  }

 private:
  bool armed_ = false;
};

SlimResult slim(const SlimOptions& o, const SlimContext& context, SlimEvents& events) {
  Stages stages(events);
  BudgetGuard budget;
  RefillTotals refill;
  // open: the source's root manifest or index, the selected platforms'
  // manifests and configs (every blob checked as it streams), the sink.
  Endpoints io = open_endpoints(o, context, stages);
  SlimResult result;
  std::vector<std::pair<ImageManifest, Descriptor>> rewritten;
  ScratchMode run_mode;
  for (const ImageManifest& image : io.images) {
    // scratch mode: low-disk (content no analysis reads left unspilled) with
    // --scratch-budget, or when scratch is short of a normal run's estimate.
    ScratchMode mode = scratch_mode(image, o, context);
    if (mode.low_disk) run_mode = mode;
    budget.arm(mode);  // every scratch write from here on is charged first, and refused past SIZE
    // decode + merge: each layer inflated in parallel into a scratch tar,
    // then merged (whiteouts, opaque dirs, hardlinks) into one view. In
    // low-disk mode only what the plan reads is spilled: of a big ELF file,
    // the facts it reads, taken from a copy without its fat binaries (unless
    // strip or GPU pruning will rewrite it: then the file, decoded again
    // whole after the merge where that copy lacked bytes).
    auto loaded = load_fs(*io.source, image, context.jobs, stages, context.spill, &mode,
                          low_disk_summarizer(o.plan));
    for (auto& layer : loaded->fs->layers())
      if (layer->holes) refill.unspilled.count(*layer->holes);
    // plan: roots, the closure as the image's own loader resolves it, and an
    // action with a reason for every file.
    auto planned = plan_image(*loaded, o.plan, stages);
    // room: the destination's filesystem can hold about what the plan keeps.
    require_destination_space(*loaded, *planned, o, io);
    // budget: with --scratch-budget SIZE, the decoded layers that stay plus
    // the largest layer's refill must fit, or the run stops before writing.
    require_scratch_budget(*loaded, *planned, o, context, mode, io.sink->staging_dir().empty());
    // verify: the kept ELFs' closure in the output against the input. With
    // no --test it runs on a thread beside the write; its verdict is taken
    // before the sink commits. Dropped files' scratch is freed after it.
    VerifyStage verify(*loaded, *planned, o, /*shared_layers=*/bool(context.spill));
    verify.start(stages, /*beside=*/!o.test);
    // test: --test CMD in a chroot of the original and of the slimmed root;
    // then verify's verdict (a failing test is reported first).
    if (o.test) {
      if (auto refusal = test_image(*loaded, *planned, o, stages)) return refused(std::move(refusal));
      if (auto refusal = verify.verdict(stages, o.force)) return refused(std::move(refusal));
      verify.discard_dropped_beside();
    }
    // write: untouched layers reused byte for byte, the others rewritten
    // into unnamed scratch files with digests and diff_ids computed on the fly.
    // Low-disk mode refills each rewritten layer's kept content just before
    // writing it, and punches it again once the layer is staged (at a local
    // destination, in its staging dir, taken by the sink at once).
    Written written = write_image(*loaded, *planned, o, context, io, mode, stages);
    refill.bytes += written.refill_bytes;
    refill.peak_bytes = std::max(refill.peak_bytes, written.refill_peak_bytes);
    refill.streamed_bytes += written.streamed_bytes;
    if (!o.test)
      if (auto refusal = verify.verdict(stages, o.force)) return refused(std::move(refusal));
    // check: --check's rules (dive's and slimage's) on the image as it
    // would be written; a failing gate leaves the destination untouched.
    if (o.gate.check)
      if (auto refusal = check_gate(*loaded, *planned, written, o, stages, result)) return refused(std::move(refusal));
    // publish: layer blobs (reused ones copied from the source), config and
    // manifest into the sink; nothing is visible before commit.
    Published published = publish_image(image, written, io, stages);
    // report: before/after, bytes removed by reason, the image's diagnostics.
    report_image(*loaded, *planned, written, published, io, verify.result(), result, stages);
    // sbom: what the slimmed image holds, for --sbom (written by the CLI).
    if (!o.sbom.empty()) sbom_image(*loaded, *planned, published, io, result);
    rewritten.push_back({published.image, published.manifest});
  }
  // commit: the root manifest or index (which the SBOM names), with
  // --sbom-attach each image's SBOM as its referrer, then the sink renames
  // into place.
  RootManifest root = make_root(io.source_root, rewritten);
  if (!o.sbom.empty()) finish_sbom(result, root.digest);
  nlohmann::json referrers;
  if (o.sbom_attach) referrers = attach_sbom(o, result.sbom, rewritten, io, stages);
  result.root_digest = commit_root(io, root, stages);
  finish_report(result, stages, run_mode, refill);
  if (!referrers.is_null()) result.report["sbom_referrers"] = std::move(referrers);
  return result;
}

}  // namespace slimage
