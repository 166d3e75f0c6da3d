// The read-only commands: inspect, plan (with the closure check slim would
// run: exit 3 where slim would refuse), why, verify, profiles — and run(),
// which dispatches every command.
#include <algorithm>
#include <cstdio>

#include "gpu_inventory.h"
#include "session.h"
#include "slimage/slim/verify.h"
#include "slimage/cli/validate.h"
#include "slimage/plan/profile.h"
#include "slimage/report/report.h"
#include "slimage/util/scratch_meter.h"

namespace slimage {

int run_slim(const Command& cmd);
int run_batch(const Command& cmd);  // batch_run.cpp
int run_diff(const Command& cmd);   // diff.cpp
int run_check(const Command& cmd);  // check.cpp
int run_report(const Command& cmd);  // report.cpp

namespace {

struct Opened {
  std::unique_ptr<Source> source;
  std::vector<ImageManifest> images;
};

Opened open_images(const Command& cmd, Stages& stages) {
  stages.begin("open");
  Opened o;
  o.source = open_source(parse_image_ref(cmd.source), cmd.common.transport);
  o.images = load_images(*o.source, platform_option(cmd.common));
  stages.end(o.source->name());
  return o;
}

// created_by of each non-empty history entry, aligned with the layers.
std::vector<std::string> layer_history(const ImageManifest& image) {
  std::vector<std::string> out;
  if (image.config.contains("history") && image.config["history"].is_array())
    for (auto& h : image.config["history"])
      if (h.is_object() && !h.value("empty_layer", false))
        out.push_back(h.contains("created_by") && h["created_by"].is_string()
                          ? h["created_by"].get<std::string>()
                          : "");
  return out;
}

nlohmann::json inspect_json(const LoadedImage& loaded) {
  const MergedFs& fs = *loaded.fs;
  auto history = layer_history(loaded.image);
  nlohmann::json layers = nlohmann::json::array();
  uint64_t wasted = 0;
  for (size_t i = 0; i < fs.layers().size(); i++) {
    const SpilledLayer& l = *fs.layers()[i];
    uint64_t files = 0, bytes = 0, hidden = 0;
    for (auto& e : l.entries) {
      if (e.type != TarType::Regular) continue;
      files++, bytes += e.size;
      // Bytes an upper layer hides: counted once, in the layer that holds them.
      if (e.kind == LayerEntry::Kind::File && !fs.entry_visible(i, e)) hidden += e.size;
    }
    wasted += hidden;
    layers.push_back({{"digest", l.descriptor.digest},
                      {"diff_id", l.diff_id},
                      {"media_type", l.descriptor.media_type},
                      {"size", l.descriptor.size},
                      {"uncompressed_size", l.tar_size},
                      {"files", files},
                      {"file_bytes", bytes},
                      {"hidden_bytes", hidden},
                      {"created_by", i < history.size() ? history[i] : ""}});
  }
  uint64_t files = 0, bytes = 0;
  std::map<std::string, uint64_t> dir_bytes;
  fs.for_each([&](const Node& n) {
    if (n.type != FileType::Regular) return;  // a hardlink's content counts once
    files++, bytes += n.size;
    for (std::string d = dirname_of(n.path); !d.empty(); d = dirname_of(d)) dir_bytes[d] += n.size;
  });
  std::vector<std::pair<uint64_t, std::string>> dirs;
  for (auto& [d, b] : dir_bytes)
    if (std::count(d.begin(), d.end(), '/') < 4) dirs.push_back({b, d});
  std::sort(dirs.rbegin(), dirs.rend());
  nlohmann::json largest = nlohmann::json::array();
  for (size_t i = 0; i < dirs.size() && i < 15; i++)
    largest.push_back({{"path", "/" + dirs[i].second}, {"bytes", dirs[i].first}});
  return {{"manifest_digest", loaded.image.descriptor.digest},
          {"platform", loaded.image.platform.to_string()},
          {"layers", layers},
          {"files", files},
          {"bytes", bytes},
          {"wasted_bytes", wasted},
          {"largest_directories", largest}};
}

void print_inspect(const nlohmann::json& j) {
  std::printf("image %s (%s)\n", j["manifest_digest"].get<std::string>().c_str(),
              j["platform"].get<std::string>().c_str());
  std::printf("%-4s %-22s %10s %10s %8s %10s  %s\n", "#", "digest", "size", "tar", "files",
              "hidden", "created_by");
  int i = 0;
  for (auto& l : j["layers"]) {
    std::string created = l["created_by"].get<std::string>();
    if (created.size() > 60) created = created.substr(0, 57) + "...";
    std::printf("%-4d %-22s %10s %10s %8llu %10s  %s\n", i++,
                short_digest(l["digest"].get<std::string>()).c_str(),
                human_bytes(l["size"].get<uint64_t>()).c_str(),
                human_bytes(l["uncompressed_size"].get<uint64_t>()).c_str(),
                static_cast<unsigned long long>(l["files"].get<uint64_t>()),
                human_bytes(l["hidden_bytes"].get<uint64_t>()).c_str(), created.c_str());
  }
  std::printf("files: %llu, bytes: %s, wasted (hidden by upper layers): %s\n",
              static_cast<unsigned long long>(j["files"].get<uint64_t>()),
              human_bytes(j["bytes"].get<uint64_t>()).c_str(),
              human_bytes(j["wasted_bytes"].get<uint64_t>()).c_str());
  std::printf("largest directories:\n");
  for (auto& d : j["largest_directories"])
    std::printf("  %10s  %s\n", human_bytes(d["bytes"].get<uint64_t>()).c_str(),
                d["path"].get<std::string>().c_str());
}

int run_inspect(const Command& cmd) {
  Progress progress(cmd.common.quiet || cmd.common.json);
  Stages stages(progress);
  Opened o = open_images(cmd, stages);
  nlohmann::json all = nlohmann::json::array();
  for (auto& image : o.images) {
    auto loaded = load_fs(*o.source, image, cmd.common.jobs, stages);
    nlohmann::json j = inspect_json(*loaded);
    j["gpu_code"] = gpu_inventory_json(*loaded->fs, cmd.common.jobs);
    if (cmd.common.json)
      all.push_back(j);
    else
      print_inspect(j), std::fputs(gpu_inventory_text(j["gpu_code"]).c_str(), stdout);
    print_diagnostics(loaded->diagnostics.items(), true);
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all.size() == 1 ? all[0] : all).c_str());
  return kExitOk;
}

nlohmann::json missing_json(const std::vector<Missing>& missing) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& m : missing) out.push_back({{"from", m.from}, {"needed", m.needed}, {"searched", m.searched}});
  return out;
}

// Nothing when slim would write the image; else each missing library and the verdict.
std::string refusal_text(const std::vector<Missing>& missing) {
  if (missing.empty()) return "";
  std::string out;
  for (auto& m : missing) out += "missing after slimming: /" + m.from + " needs " + m.needed + "\n";
  return out + "slim would refuse: " + std::to_string(missing.size()) + " libraries missing\n";
}

int run_plan(const Command& cmd) {
  Progress progress(cmd.common.quiet || cmd.common.json);
  Stages stages(progress);
  Opened o = open_images(cmd, stages);
  nlohmann::json all = nlohmann::json::array();
  size_t refused = 0;
  for (auto& image : o.images) {
    auto loaded = load_fs(*o.source, image, cmd.common.jobs, stages);
    ImageRuntime runtime = runtime_of(image);
    stages.begin("plan");
    auto facts = make_elf_facts();
    Plan plan = make_plan(*loaded->fs, runtime, cmd.slim.plan, loaded->diagnostics, facts);
    stages.end();
    // The check slim runs before writing: what it would refuse, plan says.
    stages.begin("verify");
    FilteredFs slimmed = slimmed_view(*loaded->fs, plan);
    const Profile* profile = cmd.slim.plan.profile == "none" ? nullptr : &plan.profile;
    VerifyResult v = verify_slimmed(*loaded->fs, slimmed, runtime, profile, loaded->diagnostics, facts);
    stages.end(v.broken.empty() ? "closure complete"
                                  : std::to_string(v.broken.size()) + " libraries would be missing");
    refused += v.broken.empty() ? 0 : 1;
    if (cmd.common.json) {
      nlohmann::json j = plan_json(plan);
      j["platform"] = image.platform.to_string();
      j["missing"] = missing_json(v.broken);
      // What slim's own check walks, against SLIMAGE_MAX_CLOSURE_STEPS too.
      j["verify_closure_steps"] = {{"input", v.before.closure_steps}, {"output", v.after.closure_steps}};
      // Measured by this run's own decode: slim needs that much scratch, plus its staged layers.
      j["scratch"] = {{"decode_peak_bytes", scratch_peak()}};
      // slim --scratch-budget 0 (low-disk mode): what its decode spills, and the kept rest it
      // streams or refills layer by layer (as slim writes them without --compression or --layers squash).
      std::vector<std::vector<const Node*>> written;
      for (LayerReads& r : layer_reads(*loaded->fs, plan, WriteOptions{})) written.push_back(std::move(r.content));
      LowDiskEstimate low = estimate_low_disk(*loaded->fs, written, low_disk_summarizer(cmd.slim.plan));
      j["scratch"]["low_disk"] = {{"spilled_bytes", low.spilled_bytes},
                                  {"unspilled_bytes", low.unspilled_bytes},
                                  {"refill_bytes", low.refill_bytes},
                                  {"refill_peak_bytes", low.refill_peak_bytes},
                                  {"streamed_bytes", low.streamed_bytes}};
      all.push_back(j);
    } else {
      if (o.images.size() > 1)  // one plan per platform, headed by it
        std::printf("%s%s:\n", &image == &o.images.front() ? "" : "\n", image.platform.to_string().c_str());
      std::fputs(plan_text(plan).c_str(), stdout);
      std::fputs(refusal_text(v.broken).c_str(), stdout);
    }
    print_diagnostics(loaded->diagnostics.items(), false);  // -q silences progress only
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all.size() == 1 ? all[0] : all).c_str());
  return refused ? kExitVerifyFailed : kExitOk;
}

int run_why(const Command& cmd) {
  Progress progress(cmd.common.quiet || cmd.common.json);
  Stages stages(progress);
  Opened o = open_images(cmd, stages);
  nlohmann::json all = nlohmann::json::array();
  for (auto& image : o.images) {
    auto loaded = load_fs(*o.source, image, cmd.common.jobs, stages);
    Plan plan = make_plan(*loaded->fs, runtime_of(image), cmd.slim.plan, loaded->diagnostics);
    // Parents may be symlinks (/usr/local/cuda -> cuda-13.0): explain the
    // entry itself, found as the container would find it.
    std::string path;
    if (!loaded->fs->resolve(cmd.path, /*follow_last=*/false, &path))
      fail(cmd.path + ": no such file in " + o.source->name());
    if (cmd.common.json) {
      nlohmann::json j = explain_json(plan, *loaded->fs, path);
      j["platform"] = image.platform.to_string();
      j["asked"] = normalize_path(cmd.path);
      all.push_back(j);
    } else {
      if (path != normalize_path(cmd.path))
        std::printf("/%s is /%s\n", normalize_path(cmd.path).c_str(), path.c_str());
      std::fputs(explain(plan, *loaded->fs, path).c_str(), stdout);
    }
    print_diagnostics(loaded->diagnostics.items(), false);
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all.size() == 1 ? all[0] : all).c_str());
  return kExitOk;
}

int run_verify(const Command& cmd) {
  Progress progress(cmd.common.quiet || cmd.common.json);
  Stages stages(progress);
  Opened o = open_images(cmd, stages);
  size_t missing = 0;
  nlohmann::json all = nlohmann::json::array();
  for (auto& image : o.images) {
    auto loaded = load_fs(*o.source, image, cmd.common.jobs, stages);
    stages.begin("resolve");
    Graph g = closure_of(*loaded->fs, runtime_of(image), nullptr, loaded->diagnostics);
    stages.end(std::to_string(g.needed.size()) + " files needed");
    missing += g.missing.size();
    nlohmann::json m = nlohmann::json::array();
    for (auto& x : g.missing) m.push_back({{"from", x.from}, {"needed", x.needed}, {"searched", x.searched}});
    if (cmd.common.json) {
      all.push_back({{"platform", image.platform.to_string()}, {"needed", g.needed.size()},
                     {"missing", m}, {"warnings", g.warnings}, {"closure_steps", g.closure_steps}});
    } else {
      for (auto& x : g.missing)
        std::printf("missing: /%s needs %s (searched %s)\n", x.from.c_str(), x.needed.c_str(),
                    x.searched.c_str());
      std::printf("%s: %zu files needed, %zu missing libraries\n",
                  image.platform.to_string().c_str(), g.needed.size(), g.missing.size());
    }
    print_diagnostics(loaded->diagnostics.items(), true);
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all.size() == 1 ? all[0] : all).c_str());
  return missing ? kExitVerifyFailed : kExitOk;
}

int run_profiles(const Command& cmd) {
  if (!cmd.profile_to_show.empty()) {
    std::printf("%s\n", json_text(profile_to_json(load_profile(cmd.profile_to_show))).c_str());
    return kExitOk;
  }
  nlohmann::json all = nlohmann::json::array();
  for (auto& [name, description] : builtin_profiles()) {
    if (cmd.common.json)
      all.push_back({{"name", name}, {"description", description}});
    else
      std::printf("%-14s %s\n", name.c_str(), description.c_str());
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all).c_str());
  return kExitOk;
}

}  // namespace

int run(const Command& cmd) {
  validate_command(cmd);
  if (cmd.name == "slim") return run_slim(cmd);
  if (cmd.name == "batch") return run_batch(cmd);
  if (cmd.name == "inspect") return run_inspect(cmd);
  if (cmd.name == "plan") return run_plan(cmd);
  if (cmd.name == "why") return run_why(cmd);
  if (cmd.name == "verify") return run_verify(cmd);
  if (cmd.name == "profiles") return run_profiles(cmd);
  if (cmd.name == "diff") return run_diff(cmd);
  if (cmd.name == "check") return run_check(cmd);
  if (cmd.name == "report") return run_report(cmd);
  fail("unknown command " + cmd.name);
}

}  // namespace slimage
