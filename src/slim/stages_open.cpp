// The reading stages of the pipeline: open (source, sink, the platforms'
// manifests), decode + merge (load_fs), plan.
#include <algorithm>
#include <atomic>
#include <filesystem>

#include "slim_stages.h"
#include "slimage/plan/profile.h"
#include "slimage/registry/registry.h"
#include "slimage/registry/signatures.h"
#include "slimage/util/disk_space.h"
#include "slimage/util/thread_pool.h"

namespace slimage {

namespace {

bool same_location(const ImageRef& a, const ImageRef& b) {
  if (a.transport == Transport::Docker || b.transport == Transport::Docker)
    return a.transport == b.transport && a.path == b.path && a.ref == b.ref;
  std::error_code ec;
  if (std::filesystem::equivalent(a.path, b.path, ec)) return true;
  return std::filesystem::weakly_canonical(a.path, ec) == std::filesystem::weakly_canonical(b.path, ec);
}

}  // namespace

Endpoints open_endpoints(const SlimOptions& o, const SlimContext& context, Stages& stages) {
  Endpoints io;
  io.source_ref = parse_image_ref(o.source);
  io.destination_ref = parse_image_ref(o.destination);
  if (same_location(io.source_ref, io.destination_ref))
    fail(io.destination_ref.to_string() + ": destination is the source; slimage never modifies its input");
  if (!o.compression.empty()) parse_compression(o.compression);

  stages.begin("open");
  io.source = open_source(io.source_ref, context.transport);
  io.images = load_images(*io.source, context.platform);
  io.source_root = io.source->root();
  // A rewrite invalidates signatures and attestations (registry/signatures.h).
  io.signatures = find_signatures(io.source_ref, *io.source, io.source_root, io.images, context.transport);
  if (!o.remove_signatures) refuse_signed(io.source->name(), io.signatures);
  stages.end(io.source->name() + ", " + std::to_string(io.images.size()) + " image(s)");
  io.sink = open_sink(io.destination_ref, context.destination_transport);
  registry::enable_cross_repo_mount(*io.sink, io.source_ref);
  return io;
}

std::unique_ptr<LoadedImage> load_fs(Source& source, const ImageManifest& image, unsigned jobs,
                                     Stages& stages, const SpillFunction& spill, const ScratchMode* mode,
                                     const ElfSummarizer& summarize) {
  auto loaded = std::make_unique<LoadedImage>();
  loaded->image = image;
  uint64_t compressed = 0;
  for (auto& d : image.layers) compressed += static_cast<uint64_t>(std::max<int64_t>(d.size, 0));
  // Decoded layers are rarely smaller than their compressed blobs: less free
  // space than that can only end in "No space left on device", so say so now.
  if (mode) require_free_space(scratch_parent(), mode->need, "scratch", mode->need_why);
  else require_free_space(scratch_parent(), compressed, "scratch",
                          "the layers' compressed size; decoded they are larger");
  stages.begin("decode", compressed);
  std::vector<std::unique_ptr<SpilledLayer>> layers(image.layers.size());
  uint64_t bytes = 0;
  SpillLimits limits;
  limits.sparse = mode && mode->low_disk;
  if (limits.sparse) limits.summarize = summarize;
  std::atomic<uint64_t> entries{0};  // every layer's: SLIMAGE_MAX_ENTRIES is the image's
  limits.entries = &entries;
  parallel_for(layers.size(), jobs, [&](size_t i) {
    layers[i] = spill ? spill(source, image.layers[i], image.diff_ids[i], scratch_parent(), i)
                      : spill_layer(source, image.layers[i], image.diff_ids[i], scratch_parent(), i, limits);
  });
  SparseHoles all;  // the counts
  for (auto& l : layers) {
    bytes += l->tar_size;
    if (l->holes) all.count(*l->holes);
  }
  std::string low_disk;
  if (limits.sparse) {
    low_disk = "; low-disk mode (" + mode->reason + "): " + human_bytes(all.bytes) + " not spilled";
    if (all.summarized_files || all.declined_files || all.refetch_files)
      low_disk += ", big ELF files summarized " + std::to_string(all.summarized_files) + " (" +
                  human_bytes(all.summarized_bytes) + "), spilled whole " + std::to_string(all.declined_files) +
                  " (" + human_bytes(all.declined_bytes) + ")";
    if (all.refetch_files)
      low_disk += ", re-decoded whole " + std::to_string(all.refetch_files) + " (" + human_bytes(all.refetch_bytes) + ")";
  }
  stages.end(std::to_string(layers.size()) + " layers, " + human_bytes(bytes) + " of tar" + low_disk);
  stages.begin("merge");
  loaded->fs = std::make_unique<MergedFs>(std::move(layers), loaded->diagnostics);
  stages.end();
  if (all.refetch_files) {
    // Declined big ELF files whose copy lacked its fat binaries: the plan reads them whole.
    stages.begin("refetch");
    uint64_t written = refetch_holes(source, *loaded->fs, jobs);
    stages.end(human_bytes(written) + " of big ELF files re-decoded whole (declined by the summarizer, as strip "
               "rewrites them, and copied without their fat binaries)");
  }
  return loaded;
}

ElfSummarizer low_disk_summarizer(const PlanSettings& settings) {
  const Profile profile = load_profile(settings.profile);
  const StripMode strip = settings.strip.empty() ? profile.strip : parse_strip_mode(settings.strip);
  // A superset of the plan's GpuSelection::active(): its pass reads every ELF file's
  // fat binaries, so none is summarized (nor sent through a scratch file of its own).
  if (!settings.cuda_arch.empty() || !settings.cuda_ptx.empty() || !profile.cuda_archs.empty()) return {};
  return [strip](std::span<const uint8_t> bytes, std::span<const FileRange> zeroed) {
    return summarize_elf(bytes, zeroed, strip, false);
  };
}

Plan make_plan(const FsView& fs, const ImageRuntime& runtime, const PlanSettings& settings,
               Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts) {
  PlanOptions options;
  options.facts = std::move(facts);
  options.profile = load_profile(settings.profile);
  options.keep = settings.keep;
  options.drop = settings.drop;
  options.entrypoints = settings.entrypoints;
  if (!settings.strip.empty()) options.strip = parse_strip_mode(settings.strip);
  options.no_dedupe = settings.no_dedupe;
  if (!settings.cuda_arch.empty() || !settings.cuda_ptx.empty()) {
    GpuSelection gpu;
    for (auto& a : settings.cuda_arch.empty() ? options.profile.cuda_archs
                                              : std::vector<std::string>{settings.cuda_arch})
      for (auto& t : parse_cuda_archs(a)) gpu.targets.push_back(t);
    gpu.ptx = parse_cuda_ptx(settings.cuda_ptx.empty() ? options.profile.cuda_ptx : settings.cuda_ptx);
    options.gpu = gpu;
  }
  return build_plan(fs, runtime, options, diagnostics);
}

StripMode effective_strip(const Plan& plan, const PlanSettings& settings) {
  return settings.strip.empty() ? plan.profile.strip : parse_strip_mode(settings.strip);
}

std::unique_ptr<Planned> plan_image(LoadedImage& loaded, const PlanSettings& settings,
                                    Stages& stages) {
  auto p = std::make_unique<Planned>();
  p->runtime = runtime_of(loaded.image);
  stages.begin("plan");
  p->facts = make_elf_facts();
  p->plan = make_plan(*loaded.fs, p->runtime, settings, loaded.diagnostics, p->facts);
  p->strip = effective_strip(p->plan, settings);
  stages.end("profile " + p->plan.profile.name);
  loaded.fs->trim();
  p->profile = settings.profile == "none" ? nullptr : &p->plan.profile;
  p->after.emplace(slimmed_view(*loaded.fs, p->plan));
  return p;
}

// The output's size, estimated from the plan: the kept files' bytes at the
// input layers' compression ratio (1 for --compression none). Half of it is
// what "clearly cannot hold" means: a better codec or level can beat the
// input's ratio, rarely by half. An archive stages its blobs beside FILE and
// then writes the tar, so it holds the output twice.
void require_destination_space(const LoadedImage& loaded, const Planned& planned,
                               const SlimOptions& o, const Endpoints& io) {
  const ImageRef& to = io.destination_ref;
  if (to.transport == Transport::Docker) return;  // a registry's disk is not ours to see
  uint64_t compressed = 0, tar = 0;
  for (auto& d : loaded.image.layers) compressed += static_cast<uint64_t>(std::max<int64_t>(d.size, 0));
  for (auto& l : loaded.fs->layers()) tar += l->tar_size;
  const uint64_t kept = summarize(planned.plan).after.bytes;
  const bool uncompressed = !o.compression.empty() && parse_compression(o.compression) == Compression::None;
  const double ratio = uncompressed || tar == 0 ? 1.0 : double(compressed) / double(tar);
  const uint64_t estimate = static_cast<uint64_t>(double(kept) * std::min(ratio, 1.0));
  const bool archive = to.transport != Transport::Oci;
  std::string dir = to.transport == Transport::Oci && is_directory(to.path) ? to.path : parent_dir(to.path);
  require_free_space(dir, (archive ? estimate : estimate / 2), "destination",
                     std::string(archive ? "the output estimate, staged and then archived: " : "half the output estimate: ") +
                         human_bytes(kept) + " of kept files at the input's compression ratio");
}

}  // namespace slimage
