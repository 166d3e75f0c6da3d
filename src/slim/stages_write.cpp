// The writing stages of the pipeline: write (layers into unnamed scratch files),
// publish (blobs, config, manifest into the sink), report, commit.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>

#include "slim_stages.h"
#include "slimage/util/disk_space.h"
#include "slimage/util/scratch_meter.h"
#include "slimage/report/html.h"

namespace slimage {

namespace {

WriteOptions write_options(const SlimOptions& o, const SlimContext& context, StripMode strip) {
  WriteOptions w;
  w.layers = o.layers == "squash" ? LayerMode::Squash : LayerMode::Keep;
  w.encoder.compression = o.compression.empty() ? Compression::Gzip : parse_compression(o.compression);
  w.encoder.level = o.level;
  w.recompress_other_encodings = !o.compression.empty();
  w.encoder.jobs = context.jobs;
  w.strip = strip;
  w.source_date_epoch = source_date_epoch_from_env();
  w.cache = context.cache;
  return w;
}

// A sink on the same filesystem links a staged blob into place: its bytes
// are the destination's now, out of scratch.
void left_scratch(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && st.st_nlink > 0) scratch_forget(path);
}

// Low-disk mode's pass 2, layer by layer: as the writer comes to a layer it
// rewrites, the kept content it reads that was not spilled is written into
// its holes from the source's blobs (downloaded again for docker://), and
// punched again once the layer is staged. A reused layer reads none.
struct Refill {
  uint64_t bytes = 0, peak = 0;  // all refilled; the most one layer needed
  unsigned layers = 0;          // output layers that needed some
  double seconds = 0;
  uint64_t streamed = 0;        // kept content streamed to the encoder instead (no scratch)
};

void refill_per_layer(WriteOptions& w, const LoadedImage& loaded, const SlimContext& context, const Endpoints& io,
                      Refill& refill) {
  bool sparse = false;
  for (auto& l : loaded.fs->layers()) sparse = sparse || (l->holes && !l->holes->by_offset.empty());
  if (!sparse) return;
  const MergedFs& fs = *loaded.fs;
  Source& source = *io.source;
  const unsigned jobs = context.jobs;
  w.content.stream = [&fs, &source, &refill](const std::vector<const Node*>& nodes,
                                             const std::function<bool(const Node&)>& plain) {
    auto stream = std::make_unique<HoleStream>(source, fs, nodes, plain);
    refill.streamed += stream->bytes();
    return stream;
  };
  w.content.before = [&fs, &source, jobs, &refill](const std::vector<const Node*>& nodes) {
    auto start = std::chrono::steady_clock::now();
    // Refused at once, with the numbers, when the layer's kept content clearly cannot fit.
    auto room = [&](uint64_t need) {
      if (need == 0) return;
      require_free_space(scratch_parent(), need, "scratch", "low-disk mode: the kept content to refill for a layer");
      refill.layers++;
      refill.peak = std::max(refill.peak, need);
    };
    refill.bytes += refill_nodes(source, fs, nodes, jobs, room);
    refill.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  w.content.after = [&fs](const std::vector<const Node*>& nodes) { release_refilled(fs, &nodes); };
}

}  // namespace

void require_scratch_budget(const LoadedImage& loaded, const Planned& planned, const SlimOptions& o,
                            const SlimContext& context, const ScratchMode& mode, bool staged_in_scratch) {
  if (!mode.low_disk || mode.budget == 0) return;
  const MergedFs& fs = *loaded.fs;
  const auto& layers = fs.layers();
  // What stays: the decoded layers as spilled (measured), less every byte of
  // dropped content they hold (freed beside the write; counting all of it
  // keeps this a floor).
  std::set<std::pair<size_t, uint64_t>> dropped;
  uint64_t freed = 0;
  fs.for_each([&](const Node& n) {
    if (!n.is_file() || n.size == 0 || n.data_layer >= layers.size() || fs.unspilled_digest(n)) return;
    if (const Action* a = planned.plan.find(n.path); a && a->fate == Fate::Drop)
      if (dropped.insert({n.data_layer, n.data_offset}).second) freed += n.size;
  });
  const uint64_t in_use = scratch_in_use(), stays = in_use - std::min(in_use, freed);
  // The one layer whose refill needs most, written with the decoded layers in scratch.
  uint64_t most = 0;
  std::string where;
  auto plain = [&planned](const Node& n) { return copied_plain(planned.plan, n); };
  for (const LayerReads& r : layer_reads(fs, planned.plan, write_options(o, context, planned.strip))) {
    if (r.reused) continue;
    std::vector<bool> streamed = streamed_reads(fs, r.content, plain);  // as the writer will
    std::vector<const Node*> refilled;
    for (size_t i = 0; i < r.content.size(); i++)
      if (!streamed[i]) refilled.push_back(r.content[i]);
    uint64_t bytes = unfilled_bytes(fs, refilled);
    if (bytes > most) most = bytes, where = layers[r.source_index]->where();
  }
  const uint64_t need = stays + most;
  if (need <= mode.budget) return;
  fail("--scratch-budget " + human_bytes(mode.budget) + " cannot hold this run: " + human_bytes(stays) +
       " of decoded layers stay in scratch (tar headers and the content the analysis reads, less what the plan "
       "drops)" + (most ? " and " + where + " needs " + human_bytes(most) + " of kept content refilled to be written" : "") +
       ": at least " + human_bytes(need) + " (" + std::to_string(need) + " bytes)" +
       (staged_in_scratch ? " before any staged layer" : "") + "; " +
       "nothing was written. Give a larger --scratch-budget (0: low-disk mode with no limit)");
}

ScratchMode scratch_mode(const ImageManifest& image, const SlimOptions& o, const SlimContext& context) {
  if (context.spill || o.test) return choose_scratch_mode(image, std::nullopt, UINT64_MAX);  // normal
  return choose_scratch_mode(image, o.scratch_budget, o.scratch_budget ? 0 : free_bytes(scratch_parent()));
}

Written write_image(const LoadedImage& loaded, const Planned& planned, const SlimOptions& o,
                    const SlimContext& context, const Endpoints& io, const ScratchMode& mode, Stages& stages) {
  loaded.fs->trim();
  uint64_t to_write = 0;
  for (auto& [path, a] : planned.plan.actions) to_write += a.fate == Fate::Drop ? 0 : a.bytes_after;
  stages.begin("write", to_write);
  Written w;
  w.low_disk = mode.low_disk;
  w.provenance = describe_slim(loaded.image, io.source_ref, planned.plan, o);
  w.options = write_options(o, context, planned.strip);
  // An OCI layout holds OCI manifests (skopeo looks for no other); Docker's
  // schema 2 stays only where the destination speaks it.
  Transport to = io.destination_ref.transport;
  bool oci_layout = to == Transport::Oci || to == Transport::OciArchive;
  w.options.docker_media_types =
      !oci_layout && use_docker_media_types(loaded.image, w.options.encoder.compression);
  Refill refill;
  refill_per_layer(w.options, loaded, context, io, refill);
  std::string staging = scratch_parent();
  if (mode.low_disk && !io.sink->staging_dir().empty()) {
    // A local destination (oci:, oci-archive:, docker-archive:) stages each
    // rewritten layer in its own staging dir, out of scratch, and takes it
    // (a link) before the next layer is written. It shows nothing before
    // commit: a run that fails or is refused later still leaves nothing. A
    // registry has no staging dir: there the blobs wait for the verdict in
    // scratch, as in a normal run, since it would keep what it was sent.
    staging = io.sink->staging_dir();
    w.options.staging_at_destination = true;
    Sink& sink = *io.sink;
    w.options.staged = [&sink](LayerOutput& out) {
      sink.put_blob_file(out.descriptor, out.staged_path);
      out.staged_file.reset();
      out.staged_path.clear();
    };
  }
  w.layers = write_layers(*loaded.fs, planned.plan, w.options, staging);
  w.options.content = {};  // they refer to this frame
  w.options.staged = {};
  std::string refilled;
  if (refill.streamed)
    refilled = human_bytes(refill.streamed) +
               " of kept content streamed from its re-decoded layers to the encoder (within the write)";
  if (refill.layers)
    refilled += (refilled.empty() ? "" : "; ") + human_bytes(refill.bytes) +
                " of kept content re-decoded into scratch for " + std::to_string(refill.layers) + " layer(s), " +
                human_bytes(refill.peak) + " at most at once";
  if (!refilled.empty()) stages.record("refill", refill.seconds, refilled);
  w.refill_bytes = refill.bytes;
  w.refill_peak_bytes = refill.peak;
  w.streamed_bytes = refill.streamed;
  return w;
}

Published publish_image(const ImageManifest& image, const Written& written, Endpoints& io,
                        Stages& stages) {
  const std::vector<LayerOutput>& layers = written.layers;
  Published p;
  p.out = rewrite_image(image, layers, written.options, written.provenance.created_by,
                        written.provenance.annotations);
  uint64_t reused = 0;
  for (auto& d : image.layers) p.compressed_before += static_cast<uint64_t>(d.size);
  for (size_t i = 0; i < layers.size(); i++) {
    p.compressed_after += static_cast<uint64_t>(p.out.layers[i].size);
    // Put already: the same blob twice, or handed over as it was written (low-disk mode).
    if (io.sink->has_blob(p.out.layers[i].digest) || (!layers[i].reused && !layers[i].staged_file)) continue;
    if (layers[i].reused) {
      reused++;
      std::string local = io.source->blob_path(image.layers[layers[i].source_index]);
      if (!local.empty() && written.low_disk) {
        // Straight into the sink: a reused layer costs no scratch at all.
        FileReader in(local);
        io.sink->put_blob_stream(p.out.layers[i], in);
      } else if (!local.empty()) {
        // Copy (never move) the source's own file: the input stays untouched.
        ScratchFile copy(scratch_parent());
        scratch_charge(copy.path(), std::filesystem::file_size(local));  // first: a budget may refuse it
        std::filesystem::copy_file(local, copy.path(), std::filesystem::copy_options::overwrite_existing);
        io.sink->put_blob_file(p.out.layers[i], copy.path());
        left_scratch(copy.path());
      } else {
        auto in = io.source->open_blob(image.layers[layers[i].source_index]);
        io.sink->put_blob_stream(p.out.layers[i], *in);
      }
    } else {
      io.sink->put_blob_file(p.out.layers[i], layers[i].staged_path);
      left_scratch(layers[i].staged_path);
    }
  }
  io.sink->put_blob_bytes(p.out.config, p.out.config_bytes);
  io.sink->put_blob_bytes(p.out.manifest, p.out.manifest_bytes);
  stages.end(std::to_string(layers.size()) + " layers (" + std::to_string(reused) + " reused), " +
             human_bytes(p.compressed_after) + " compressed");
  p.image = image;
  p.image.manifest_bytes = p.out.manifest_bytes;
  p.manifest = p.out.manifest;
  return p;
}

namespace {

// The report's "layer_sizes" (the HTML report's layer tables): each layer's
// blob (compressed) and tar (uncompressed) size, before and after.
nlohmann::json layer_sizes_json(const LoadedImage& loaded, const Written& written) {
  nlohmann::json before = nlohmann::json::array(), after = nlohmann::json::array();
  for (auto& l : loaded.fs->layers())
    before.push_back({{"digest", l->descriptor.digest}, {"diff_id", l->diff_id},
                      {"size", l->descriptor.size}, {"uncompressed_size", l->tar_size}});
  for (auto& l : written.layers)
    after.push_back({{"digest", l.descriptor.digest}, {"diff_id", l.diff_id}, {"size", l.descriptor.size},
                     {"uncompressed_size", l.uncompressed_size}, {"reused", l.reused}});
  return {{"before", before}, {"after", after}};
}

}  // namespace

void report_image(const LoadedImage& loaded, const Planned& planned, const Written& written,
                  const Published& published, const Endpoints& io, const VerifyResult& verified,
                  SlimResult& result, Stages& stages) {
  uint64_t layers_reused = 0, layers_from_cache = 0, layers_rewritten = 0;
  for (auto& l : written.layers)
    (l.reused ? layers_reused : l.from_cache ? layers_from_cache : layers_rewritten)++;
  Summary summary = summarize(planned.plan);
  summary.before.compressed_bytes = published.compressed_before;
  summary.after.compressed_bytes = published.compressed_after;
  summary.before.layers = loaded.image.layers.size();
  summary.after.layers = written.layers.size();
  nlohmann::json extra = {{"source", io.source->name()},
                          {"destination", io.sink->name()},
                          {"platform", loaded.image.platform.to_string()},
                          {"manifest_digest", published.manifest.digest}};
  nlohmann::json diags = nlohmann::json::array();
  std::vector<Diagnostic> items = loaded.diagnostics.items();
  for (auto& d : items)
    diags.push_back({{"level", d.level == Diagnostic::Level::Error ? "error" : "warning"},
                     {"where", d.where}, {"message", d.message}});
  extra["diagnostics"] = diags;
  extra["removed_signatures"] = io.signatures;  // not carried over (--remove-signatures)
  // rewritten: encoded by this run; from_cache: the same bytes, found in the LayerCache.
  extra["layers"] = {{"rewritten", layers_rewritten}, {"reused", layers_reused},
                     {"from_cache", layers_from_cache}};
  extra["verify"] = {{"missing_before", verified.before.missing.size()},
                     {"missing_after", verified.after.missing.size()}};
  // What the HTML report draws, so `slimage report R.json --html` needs no image.
  extra["layer_sizes"] = layer_sizes_json(loaded, written);
  extra["tree"] = report_tree_json(planned.plan);
  extra["largest_kept"] = largest_kept_json(planned.plan, *loaded.fs);
  if (!result.report.is_array()) result.report = nlohmann::json::array();
  result.report.push_back(report_json(summary, planned.plan, extra));
  result.summaries.push_back(summary);
  stages.events().diagnostics(items);
}

std::string commit_root(Endpoints& io, const RootManifest& root, Stages& stages) {
  stages.begin("commit");
  io.sink->commit(root);
  stages.end(io.sink->name() + " " + root.digest);
  return root.digest;
}

// One image's report as is, several under "images"; then the stage times.
void finish_report(SlimResult& result, const Stages& stages, const ScratchMode& mode, const RefillTotals& refill) {
  nlohmann::json reports = std::move(result.report);
  if (!reports.is_array()) reports = nlohmann::json::array();
  result.report = reports.size() == 1 ? reports[0] : nlohmann::json{{"images", reports}};
  result.report["timings"] = stages.timings();
  // Process-wide: a batch's images share one scratch dir and one process.
  result.report["scratch"] = {{"peak_bytes", scratch_peak()}, {"mode", mode.name()}};
  if (mode.low_disk) {
    result.report["scratch"]["mode_reason"] = mode.reason;
    if (mode.budget) result.report["scratch"]["budget_bytes"] = mode.budget;
    // Pass 2, layer by layer: all it re-decoded into scratch, the most one
    // layer held at once, and what went from the re-decode to the encoder.
    result.report["scratch"]["refill_bytes"] = refill.bytes;
    result.report["scratch"]["refill_peak_bytes"] = refill.peak_bytes;
    result.report["scratch"]["streamed_bytes"] = refill.streamed_bytes;
    // Pass 1: content left out of scratch, and the big ELF files among it
    // whose facts it kept (those it spilled whole beside them).
    const SparseHoles& u = refill.unspilled;
    result.report["scratch"]["unspilled_bytes"] = u.bytes;
    result.report["scratch"]["elf_summarized"] = {{"files", u.summarized_files}, {"bytes", u.summarized_bytes}};
    result.report["scratch"]["elf_spilled_whole"] = {{"files", u.declined_files}, {"bytes", u.declined_bytes}};
    result.report["scratch"]["elf_refetched"] = {{"files", u.refetch_files}, {"bytes", u.refetch_bytes}};
  }
  result.report["peak_rss"] = {{"bytes", stages.peak_rss_bytes()},
                               {"stage", stages.peak_rss_stage()},
                               {"by_stage", stages.peak_rss()},
                               {"note", "VmHWM at each stage's end: the peak so far, not the stage's own"}};
  for (Summary& s : result.summaries) {
    s.scratch_peak_bytes = scratch_peak();
    s.scratch_mode = mode.low_disk ? "low-disk mode: " + mode.reason : "";
    s.peak_rss_bytes = stages.peak_rss_bytes();
    s.peak_rss_stage = stages.peak_rss_stage();
  }
  result.report["root_digest"] = result.root_digest;
}

}  // namespace slimage
