// `slimage slim SRC DST`: the main job, one stage per line —
// open source → merge layers → plan (roots, closure, actions with reasons)
// → verify the slimmed closure → smoke test (--test) → write layers and
// digests → config/manifest → commit the sink atomically → report.
#include <sys/stat.h>

#include <cstdio>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "session.h"
#include "slimage/cli/slim.h"
#include "slimage/cli/test_command.h"
#include "slimage/registry/registry.h"
#include "slimage/registry/signatures.h"
#include "slimage/report/provenance.h"
#include "slimage/report/report.h"
#include "slimage/rewrite/image_writer.h"
#include "slimage/rootfs/filtered_fs.h"
#include "smoke.h"
#include "verify.h"

namespace slimage {

namespace {

bool same_location(const ImageRef& a, const ImageRef& b) {
  if (a.transport == Transport::Docker || b.transport == Transport::Docker)
    return a.transport == b.transport && a.path == b.path && a.ref == b.ref;
  std::error_code ec;
  if (std::filesystem::equivalent(a.path, b.path, ec)) return true;
  return std::filesystem::weakly_canonical(a.path, ec) == std::filesystem::weakly_canonical(b.path, ec);
}

std::string runtime_user(const ImageManifest& image) {
  const auto& c = image.config.contains("config") ? image.config["config"] : nlohmann::json();
  return c.is_object() && c.contains("User") && c["User"].is_string() ? c["User"].get<std::string>() : "";
}

std::string joined(const std::vector<std::string>& argv) {
  std::string out;
  for (auto& a : argv) out += (out.empty() ? "" : " ") + a;
  return out;
}

// False if the --test outcome stops the run: a test that fails on the
// original guards nothing (an error, exit 1); one that passes there and
// fails on the slimmed image is exit 4. Either way its output is shown.
bool smoke_verdict(const SmokeResult& smoke, SlimOutcome& outcome) {
  if (smoke.before_status != 0) {
    std::fprintf(stderr, "--- original image: %s (exit %d) ---\n%s", joined(smoke.argv).c_str(),
                 smoke.before_status, clip_output(smoke.before_output).c_str());
    std::fprintf(stderr, "slimage: error: --test fails on the original image (exit %d), so it cannot "
                         "guard the slimmed one; nothing written\n", smoke.before_status);
    outcome.exit_code = kExitError;
    return false;
  }
  if (smoke.after_status != 0) {
    std::fprintf(stderr, "--- slimmed image: %s (exit %d) ---\n%s", joined(smoke.argv).c_str(),
                 smoke.after_status, clip_output(smoke.after_output).c_str());
    std::fprintf(stderr, "slimage: error: --test passes on the original and fails on the "
                         "slimmed image; nothing written\n");
    outcome.exit_code = kExitSmokeFailed;
    return false;
  }
  return true;
}

WriteOptions write_options(const SlimOptions& o, const CommonOptions& c, StripMode strip) {
  WriteOptions w;
  w.layers = o.layers == "squash" ? LayerMode::Squash : LayerMode::Keep;
  w.encoder.compression = o.compression.empty() ? Compression::Gzip : parse_compression(o.compression);
  w.encoder.level = o.level;
  w.recompress_other_encodings = !o.compression.empty();
  w.encoder.jobs = c.jobs;
  w.strip = strip;
  w.source_date_epoch = source_date_epoch_from_env();
  return w;
}

}  // namespace

SlimOutcome slim_one(const SlimOptions& o, const CommonOptions& common, const SlimHooks& hooks) {
  SlimOutcome outcome;
  Progress progress(common.quiet, hooks.log_prefix);
  ImageRef src_ref = parse_image_ref(o.source);
  ImageRef dst_ref = parse_image_ref(o.destination);
  if (same_location(src_ref, dst_ref))
    fail(dst_ref.to_string() + ": destination is the source; slimage never modifies its input");
  if (!o.compression.empty()) parse_compression(o.compression);

  progress.begin("open");
  auto source = open_source(src_ref, common.transport);
  auto images = load_images(*source, platform_option(common));
  RootManifest source_root = source->root();
  // A rewrite invalidates signatures and attestations (registry/signatures.h).
  std::vector<std::string> signatures = find_signatures(src_ref, source_root, images, common.transport);
  if (!o.remove_signatures) refuse_signed(source->name(), signatures);
  progress.end(source->name() + ", " + std::to_string(images.size()) + " image(s)");
  auto sink = open_sink(dst_ref, common.destination_transport);
  registry::enable_cross_repo_mount(*sink, src_ref);

  std::vector<std::pair<ImageManifest, Descriptor>> rewritten;
  nlohmann::json reports = nlohmann::json::array();
  std::vector<Summary> summaries;
  for (const ImageManifest& image : images) {
    auto loaded = load_fs(*source, image, common.jobs, progress, hooks.spill);
    const MergedFs& fs = *loaded->fs;
    ImageRuntime runtime = runtime_of(image);

    progress.begin("plan");
    auto facts = make_elf_facts();  // the plan's walk and both closures parse each ELF once
    Plan plan = make_plan(fs, runtime, o.plan, loaded->diagnostics, facts);
    StripMode strip = effective_strip(plan, o.plan);
    progress.end("profile " + plan.profile.name);

    fs.trim();
    auto dropped = [&](const std::string& p) {
      const Action* a = plan.find(p);
      return a && a->fate == Fate::Drop;
    };
    FilteredFs after_fs = slimmed_view(fs, plan);
    const Profile* profile = o.plan.profile == "none" ? nullptr : &plan.profile;
    VerifyResult verified_result;
    const std::vector<Missing>& broken = verified_result.broken;
    auto verify = [&] {
      verified_result = verify_slimmed(fs, after_fs, runtime, profile, loaded->diagnostics, facts);
    };
    auto verify_detail = [&] {
      return broken.empty() ? std::string("closure complete")
                            : std::to_string(broken.size()) + " libraries would be missing";
    };
    // False if the verdict stops the run (the caller returns `outcome`).
    auto verdict = [&] {
      if (broken.empty()) return true;
      for (auto& m : broken)
        std::fprintf(stderr, "slimage: missing after slimming: %s needs %s\n", m.from.c_str(),
                     m.needed.c_str());
      if (o.force) return true;
      print_diagnostics(loaded->diagnostics, common.quiet);
      std::fprintf(stderr, "slimage: error: the slimmed image would not load (%zu missing); "
                           "nothing written (use --force to write anyway)\n", broken.size());
      outcome.exit_code = kExitVerifyFailed;
      return false;
    };
    // With no --test, verify runs beside the write (its CPU is mostly one
    // core; the write's leaves room): staged layers are only output once
    // committed, and a failed verify discards them. Then, as only kept
    // content is read from there on, the dropped files' scratch blocks are
    // freed beside the rest of the write, not by the final cleanup, which
    // otherwise waits for the disk to discard them. (A batch's decoded
    // layers serve other images too: theirs stay.)
    auto discard = [&] {
      if (hooks.spill || (!broken.empty() && !o.force)) return;
      try {
        fs.discard([&](const Node& n) { return dropped(n.path); });
      } catch (const std::exception&) {  // best effort: the cleanup frees them anyway
      }
    };
    bool beside = !o.test;
    std::promise<void> verified;
    std::future<void> verified_done = verified.get_future();
    std::jthread background;
    if (beside) {
      background = std::jthread([&] {
        try {
          verify();
          verified.set_value();
        } catch (...) {
          verified.set_exception(std::current_exception());
          return;
        }
        discard();
      });
    } else {
      progress.begin("verify");
      verify();
      progress.end(verify_detail());
      progress.begin("test");
      SmokeOptions test{o.test_command, runtime, runtime_user(image), o.test_timeout};
      SmokeResult smoke = smoke_test(fs, after_fs, plan, strip, test);
      progress.end("before: exit " + std::to_string(smoke.before_status) + ", after: " +
                   (smoke.after_status < 0 ? "not run" : "exit " + std::to_string(smoke.after_status)));
      if (!smoke_verdict(smoke, outcome)) return outcome;
      if (!verdict()) return outcome;
      background = std::jthread(discard);
    }

    fs.trim();
    uint64_t to_write = 0;
    for (auto& [path, a] : plan.actions) to_write += a.fate == Fate::Drop ? 0 : a.bytes_after;
    progress.begin("write", to_write);
    WriteOptions wo = write_options(o, common, strip);
    wo.cache = hooks.cache;
    // An OCI layout holds OCI manifests (skopeo looks for no other); Docker's
    // schema 2 stays only where the destination speaks it.
    bool oci_layout = dst_ref.transport == Transport::Oci || dst_ref.transport == Transport::OciArchive;
    wo.docker_media_types = !oci_layout && use_docker_media_types(image, wo.encoder.compression);
    TempDir staging(scratch_parent(), "slimage-out-");
    auto layers = write_layers(fs, plan, wo, staging.path());
    if (beside) {  // before the sink sees a byte
      verified_done.get();
      progress.record("verify", verified_result.seconds, verify_detail() + " (beside the write)");
      if (!verdict()) return outcome;
    }
    Provenance provenance = describe_slim(image, src_ref, plan, o);  // report/provenance.h
    RewrittenImage out = rewrite_image(image, layers, wo, provenance.created_by, provenance.annotations);
    uint64_t compressed_before = 0, compressed_after = 0, reused = 0;
    uint64_t layers_reused = 0, layers_from_cache = 0, layers_rewritten = 0;
    for (auto& l : layers) (l.reused ? layers_reused : l.from_cache ? layers_from_cache : layers_rewritten)++;
    for (auto& d : image.layers) compressed_before += static_cast<uint64_t>(d.size);
    for (size_t i = 0; i < layers.size(); i++) {
      compressed_after += static_cast<uint64_t>(out.layers[i].size);
      if (sink->has_blob(out.layers[i].digest)) continue;
      if (layers[i].reused) {
        reused++;
        std::string local = source->blob_path(image.layers[layers[i].source_index]);
        if (!local.empty()) {
          // Copy (never move) the source's own file: the input stays untouched.
          std::string copy = staging.path() + "/reused-" + std::to_string(i);
          std::filesystem::copy_file(local, copy);
          sink->put_blob_file(out.layers[i], copy);
        } else {
          auto in = source->open_blob(image.layers[layers[i].source_index]);
          sink->put_blob_stream(out.layers[i], *in);
        }
      } else {
        sink->put_blob_file(out.layers[i], layers[i].staged_path);
      }
    }
    sink->put_blob_bytes(out.config, out.config_bytes);
    sink->put_blob_bytes(out.manifest, out.manifest_bytes);
    progress.end(std::to_string(layers.size()) + " layers (" + std::to_string(reused) +
                 " reused), " + human_bytes(compressed_after) + " compressed");

    Summary summary = summarize(plan);
    summary.before.compressed_bytes = compressed_before;
    summary.after.compressed_bytes = compressed_after;
    summary.before.layers = image.layers.size();
    summary.after.layers = layers.size();
    nlohmann::json extra = {{"source", source->name()},
                            {"destination", sink->name()},
                            {"platform", image.platform.to_string()},
                            {"manifest_digest", out.manifest.digest}};
    nlohmann::json diags = nlohmann::json::array();
    for (auto& d : loaded->diagnostics.items())
      diags.push_back({{"level", d.level == Diagnostic::Level::Error ? "error" : "warning"},
                       {"where", d.where}, {"message", d.message}});
    extra["diagnostics"] = diags;
    extra["removed_signatures"] = signatures;  // not carried over (--remove-signatures)
    // rewritten: encoded by this run; from_cache: the same bytes, found in the LayerCache.
    extra["layers"] = {{"rewritten", layers_rewritten}, {"reused", layers_reused},
                       {"from_cache", layers_from_cache}};
    extra["verify"] = {{"missing_before", verified_result.before.missing.size()},
                       {"missing_after", verified_result.after.missing.size()}};
    reports.push_back(report_json(summary, plan, extra));
    summaries.push_back(summary);
    print_diagnostics(loaded->diagnostics, common.quiet);
    ImageManifest done = image;
    done.manifest_bytes = out.manifest_bytes;
    rewritten.push_back({done, out.manifest});
  }

  progress.begin("commit");
  RootManifest root = make_root(source_root, rewritten);
  sink->commit(root);
  progress.end(sink->name() + " " + root.digest);

  for (auto& s : summaries) outcome.summary_text += summary_text(s);
  outcome.report = reports.size() == 1 ? reports[0] : nlohmann::json{{"images", reports}};
  outcome.report["timings"] = progress.timings();
  outcome.report["root_digest"] = root.digest;
  outcome.root_digest = root.digest;
  return outcome;
}

int run_slim(const Command& cmd) {
  SlimOutcome outcome = slim_one(cmd.slim, cmd.common, {});
  std::fputs(outcome.summary_text.c_str(), stdout);
  if (!cmd.slim.report.empty() && !outcome.root_digest.empty())
    write_file_atomic(cmd.slim.report, outcome.report.dump(2) + "\n");
  return outcome.exit_code;
}

}  // namespace slimage
