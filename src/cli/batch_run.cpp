// The `slimage batch` runner: loads the job list (LIST or --all-tags), takes
// this worker's --shard, runs --parallel images at once through slim()
// with shared decoded layers (SpillCache) and rewritten layers (DiskLayerCache),
// records each image's outcome without stopping the others, then prints one
// row per image and writes --report. Exit 0 only if every image succeeded.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>

#include "gate_output.h"
#include "slimage/cli/batch.h"
#include "session.h"
#include "slimage/registry/signatures.h"
#include "slimage/registry/tags.h"
#include "slimage/report/html.h"
#include "slimage/report/report.h"
#include "slimage/report/sbom.h"
#include "slimage/rewrite/layer_cache.h"
#include "slimage/util/progress.h"
#include "slimage/util/thread_pool.h"
#include "slimage/rootfs/spill_cache.h"

namespace slimage {

namespace {

struct JobResult {
  BatchJob job;
  size_t index = 0;  // position in the whole list, from 0, as --shard I/N counts (I = index mod N)
  std::string status = "failed";  // ok | failed | verify-failed | test-failed | gate-failed
  std::string error;
  double seconds = 0;
  uint64_t bytes_before = 0, bytes_after = 0;  // compressed layers, every platform
  uint64_t rewritten = 0, reused = 0, from_cache = 0;
  std::atomic<uint64_t> decoded{0}, decode_shared{0};
  nlohmann::json report;
  std::string sbom;  // the file written (batch --sbom DIR)
  std::string html;  // the file written (batch --html DIR)
};

std::vector<BatchJob> load_jobs(const BatchOptions& b, const TransportOptions& transport) {
  if (b.all_tags) {
    // Signature, attestation and referrers tags describe other manifests:
    // they are carried (or not) with their image, never slimmed as images.
    auto tags = registry::list_tags(parse_image_ref(b.from), transport);
    std::erase_if(tags, [](const std::string& t) { return is_artifact_tag(t); });
    return jobs_for_tags(b.from, b.to, tags);
  }
  if (b.list.empty()) fail("batch: give a LIST file (or -), or --from/--to with --all-tags");
  if (b.list == "-") {
    std::string text(std::istreambuf_iterator<char>(std::cin), {});
    return parse_batch_list(text, "<stdin>");
  }
  return parse_batch_list(read_file(b.list), b.list);
}

// Adds up the per-platform reports slim() wrote.
void take_counts(JobResult& r) {
  const nlohmann::json& rep = r.report;
  auto add = [&](const nlohmann::json& one) {
    if (!one.is_object()) return;
    if (one.contains("before")) r.bytes_before += one["before"].value("compressed_bytes", uint64_t(0));
    if (one.contains("after")) r.bytes_after += one["after"].value("compressed_bytes", uint64_t(0));
    if (one.contains("layers")) {
      r.rewritten += one["layers"].value("rewritten", uint64_t(0));
      r.reused += one["layers"].value("reused", uint64_t(0));
      r.from_cache += one["layers"].value("from_cache", uint64_t(0));
    }
  };
  if (rep.contains("images") && rep["images"].is_array())
    for (auto& one : rep["images"]) add(one);
  else
    add(rep);
}

void run_job(JobResult& r, const Command& cmd, const CommonOptions& common, SpillCache& spills,
             LayerCache* cache, const std::string& prefix) {
  auto start = std::chrono::steady_clock::now();
  SlimOptions options = cmd.slim;
  options.source = r.job.source;
  options.destination = r.job.destination;
  options.report.clear();
  const bool cyclonedx = cmd.slim.sbom_format == "cyclonedx";
  if (!cmd.batch.sbom_dir.empty()) options.sbom = batch_sbom_file(cmd.batch.sbom_dir, r.job.destination, cyclonedx);
  SlimContext context = slim_context(common);
  context.cache = cache;
  context.spill = [&](Source& source, const Descriptor& d, const std::string& diff_id,
                      const std::string&, size_t) {
    bool shared = false;
    auto layer = spills.get(source, d, diff_id, &shared);
    (shared ? r.decode_shared : r.decoded)++;
    if (shared) progress_skip(static_cast<uint64_t>(std::max<int64_t>(d.size, 0)));  // another image decoded it
    return layer;
  };
  Progress progress(common.quiet, prefix);
  try {
    SlimResult result = slim(options, context, progress);
    r.report = result.report;
    // --check: the gate's numbers in the image's report, passed or failed (a failed
    // gate's lines are not printed: parallel images would interleave them; the row
    // and --report say it).
    const bool gate_failed = result.refusal && result.refusal->kind == Refusal::Kind::GateFailed;
    const auto& checked = gate_failed ? result.refusal->gates : result.gates;
    if (!checked.empty()) {
      nlohmann::json gates = nlohmann::json::array();
      for (auto& g : checked) gates.push_back(gate_report_json(g, r.job.destination));
      r.report["gate"] = gates.size() == 1 ? gates[0] : gates;
    }
    if (!result.refusal && !options.sbom.empty()) {
      write_file_atomic(options.sbom, render_sbom(result.sbom, cyclonedx ? SbomFormat::CycloneDx : SbomFormat::Spdx));
      r.sbom = options.sbom;
    }
    if (!result.refusal && !cmd.batch.html_dir.empty()) {
      r.html = batch_output_file(cmd.batch.html_dir, r.job.destination, ".html");
      write_file_atomic(r.html, render_html_report(r.report));
    }
    int exit_code = gate_failed     ? kExitGateFailed
                    : result.refusal ? print_refusal(*result.refusal, common.quiet)
                                     : kExitOk;
    r.status = exit_code == kExitOk               ? "ok"
               : exit_code == kExitVerifyFailed ? "verify-failed"
               : exit_code == kExitSmokeFailed  ? "test-failed"
               : exit_code == kExitGateFailed   ? "gate-failed"
                                                : "failed";
    if (result.refusal) r.error = refusal_cause(*result.refusal);
    take_counts(r);
  } catch (const std::exception& e) {
    r.status = "failed";
    r.error = e.what();
    print_stderr("slimage: " + prefix + "error: " + e.what() + "\n");
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nlohmann::json result_json(const JobResult& r) {
  nlohmann::json j = {{"index", r.index},
                      {"source", r.job.source},
                      {"destination", r.job.destination},
                      {"status", r.status},
                      {"seconds", r.seconds},
                      {"bytes_before", r.bytes_before},
                      {"bytes_after", r.bytes_after},
                      {"layers_rewritten", r.rewritten},
                      {"layers_reused", r.reused},
                      {"layers_from_cache", r.from_cache},
                      {"layers_decoded", r.decoded.load()},
                      {"layers_decode_shared", r.decode_shared.load()},
                      {"report", r.report.is_null() ? nlohmann::json::object() : r.report}};
  if (r.job.line) j["line"] = r.job.line;
  if (!r.sbom.empty()) j["sbom"] = r.sbom;
  if (!r.html.empty()) j["html"] = r.html;
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

// One row per image, numbered by its place in the list (from 0, as --shard
// counts); a failed row ends with its cause, shortened (the whole message is
// on stderr and in --report).
void print_table(const std::vector<std::unique_ptr<JobResult>>& results) {
  std::printf("%-4s %-13s %9s %10s %10s %14s  %s\n", "#", "status", "seconds", "before", "after",
              "rw/reuse/cache", "SRC -> DST");
  for (auto& result : results) {
    const JobResult& r = *result;
    std::string layers = std::to_string(r.rewritten) + "/" + std::to_string(r.reused) + "/" +
                         std::to_string(r.from_cache);
    std::string cause = r.error.empty() ? "" : ": " + shorten_line(r.error, 100);
    std::printf("%-4zu %-13s %9.1f %10s %10s %14s  %s -> %s%s\n", r.index, r.status.c_str(), r.seconds,
                human_bytes(r.bytes_before).c_str(), human_bytes(r.bytes_after).c_str(),
                layers.c_str(), r.job.source.c_str(), r.job.destination.c_str(), cause.c_str());
  }
}

}  // namespace

int run_batch(const Command& cmd) {
  const BatchOptions& b = cmd.batch;
  auto start = std::chrono::steady_clock::now();
  Shard shard = b.shard.empty() ? Shard{} : parse_shard(b.shard);
  if (b.parallel == 0) fail("--parallel: must be at least 1");
  std::vector<BatchJob> all = load_jobs(b, cmd.common.transport);
  std::vector<BatchJob> jobs = select_shard(all, shard);
  if (!b.sbom_dir.empty()) check_batch_sbom_files(b.sbom_dir, jobs, cmd.slim.sbom_format == "cyclonedx");
  if (!b.html_dir.empty()) check_batch_output_files(b.html_dir, jobs, ".html", "--html");
  std::unique_ptr<DiskLayerCache> cache;
  if (!b.no_cache) cache = std::make_unique<DiskLayerCache>(b.cache_dir.empty() ? DiskLayerCache::default_dir() : b.cache_dir);

  CommonOptions common = cmd.common;
  unsigned parallel = std::max<unsigned>(1, std::min<size_t>(b.parallel, jobs.size()));
  // The cores are shared between the images running at once.
  if (common.jobs == 0) common.jobs = std::max(1u, default_jobs() / parallel);
  if (!common.quiet)
    std::fprintf(stderr, "slimage: batch: %zu of %zu image(s) (shard %zu/%zu), %u at once, cache %s\n",
                 jobs.size(), all.size(), shard.index, shard.count, parallel,
                 cache ? cache->dir().c_str() : "off");

  // Decoded layers are unnamed scratch files (ScratchFile): nothing to sweep.
  SpillCache spills(scratch_parent());
  std::vector<std::unique_ptr<JobResult>> results;
  for (size_t k = 0; k < jobs.size(); k++) {
    results.push_back(std::make_unique<JobResult>());
    results.back()->job = jobs[k];
    results.back()->index = shard.index + k * shard.count;  // select_shard's pick
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < results.size();) {
      std::string prefix = "[#" + std::to_string(results[i]->index) + " " + results[i]->job.source + "] ";
      run_job(*results[i], cmd, common, spills, cache.get(), prefix);
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < parallel; t++) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (cache) print_diagnostics(cache->warnings(), /*quiet=*/false);  // the cache only saves work

  print_table(results);
  size_t ok = 0;
  nlohmann::json images = nlohmann::json::array();
  uint64_t before = 0, after = 0, from_cache = 0;
  for (auto& r : results) {
    ok += r->status == "ok";
    before += r->bytes_before, after += r->bytes_after, from_cache += r->from_cache;
    images.push_back(result_json(*r));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%zu image(s): %zu ok, %zu failed; %s -> %s compressed; %.1f s\n", results.size(), ok,
              results.size() - ok, human_bytes(before).c_str(), human_bytes(after).c_str(), seconds);
  if (!b.report.empty()) {
    nlohmann::json report = {
        {"shard", std::to_string(shard.index) + "/" + std::to_string(shard.count)},
        {"jobs_in_list", all.size()},
        {"parallel", parallel},
        {"cache", cache ? nlohmann::json(cache->dir()) : nlohmann::json(nullptr)},
        {"totals",
         {{"images", results.size()},
          {"ok", ok},
          {"failed", results.size() - ok},
          {"bytes_before", before},
          {"bytes_after", after},
          {"layers_decoded", spills.decoded()},
          {"layers_decode_shared", spills.reused()},
          {"layers_from_cache", from_cache},
          {"cache_stores", cache ? cache->stores() : 0},
          {"seconds", seconds}}},
        {"images", images}};
    write_file_atomic(b.report, json_text(report) + "\n");
  }
  return ok == results.size() ? kExitOk : kExitError;
}

}  // namespace slimage
