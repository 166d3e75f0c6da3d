// Shared command plumbing (see src/cli/session.h).
#include "session.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "slimage/elf/elf.h"
#include "slimage/plan/profile.h"
#include "slimage/util/disk_space.h"
#include "slimage/util/progress.h"
#include "slimage/util/thread_pool.h"

namespace slimage {

Progress::~Progress() { stop_ticker(); }

void Progress::begin(const std::string& stage, uint64_t total_bytes) {
  stop_ticker();
  stage_ = stage;
  total_ = total_bytes;
  start_ = std::chrono::steady_clock::now();
  progress_reset();
  if (quiet_ || total_ == 0) return;
  bool tty = ::isatty(2);
  stopping_ = false;
  ticker_ = std::thread([this, tty] {
    auto period = tty ? std::chrono::milliseconds(250) : std::chrono::milliseconds(5000);
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, period, [this] { return stopping_; })) tick(tty);
  });
}

void Progress::tick(bool tty) {
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  uint64_t done = std::min(progress_done(), total_);
  double rate = s > 0 ? done / s : 0;
  char eta[32] = "";
  if (rate > 0 && done < total_) std::snprintf(eta, sizeof eta, "  ETA %.0f s", (total_ - done) / rate);
  std::fprintf(stderr, "%sslimage: %s%-8s %s / %s  %s/s%s%s", tty ? "\r\033[K" : "", prefix_.c_str(),
               stage_.c_str(), human_bytes(done).c_str(), human_bytes(total_).c_str(),
               human_bytes(static_cast<uint64_t>(rate)).c_str(), eta, tty ? "" : "\n");
}

void Progress::stop_ticker() {
  if (!ticker_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  ticker_.join();
  if (::isatty(2)) std::fprintf(stderr, "\r\033[K");
}

void Progress::end(const std::string& detail) {
  stop_ticker();
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  record(stage_, s, detail);
}

void Progress::record(const std::string& stage, double seconds, const std::string& detail) {
  timings_[stage] = timings_.value(stage, 0.0) + seconds;
  if (quiet_) return;
  std::lock_guard lock(mu_);  // not in the middle of the ticker's line
  std::fprintf(stderr, "%sslimage: %s%-8s %7.2f s%s%s\n", ::isatty(2) ? "\r\033[K" : "",
               prefix_.c_str(), stage.c_str(), seconds, detail.empty() ? "" : "  ", detail.c_str());
}

void Progress::note(const std::string& line) {
  if (!quiet_) std::fprintf(stderr, "slimage: %s%s\n", prefix_.c_str(), line.c_str());
}

std::optional<Platform> platform_option(const CommonOptions& c) {
  if (c.platform.empty()) return std::nullopt;
  return Platform::parse(c.platform);
}

std::unique_ptr<LoadedImage> load_fs(Source& source, const ImageManifest& image, unsigned jobs,
                                     Progress& progress, const SpillFunction& spill) {
  auto loaded = std::make_unique<LoadedImage>();
  loaded->image = image;
  loaded->scratch = std::make_unique<TempDir>(scratch_parent(), "slimage-");
  uint64_t compressed = 0;
  for (auto& d : image.layers) compressed += static_cast<uint64_t>(std::max<int64_t>(d.size, 0));
  // Decoded layers are rarely smaller than their compressed blobs: less free
  // space than that can only end in "No space left on device", so say so now.
  require_free_space(scratch_parent(), compressed, "scratch",
                     "the layers' compressed size; decoded they are larger");
  progress.begin("decode", compressed);
  std::vector<std::unique_ptr<SpilledLayer>> layers(image.layers.size());
  uint64_t bytes = 0;
  parallel_for(layers.size(), jobs, [&](size_t i) {
    layers[i] = spill ? spill(source, image.layers[i], image.diff_ids[i], loaded->scratch->path(), i)
                      : spill_layer(source, image.layers[i], image.diff_ids[i], loaded->scratch->path(), i);
  });
  for (auto& l : layers) bytes += l->tar_size;
  progress.end(std::to_string(layers.size()) + " layers, " + human_bytes(bytes) + " of tar");
  progress.begin("merge");
  loaded->fs = std::make_unique<MergedFs>(std::move(layers), loaded->diagnostics);
  progress.end();
  return loaded;
}

static std::vector<std::string> string_list(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

ImageRuntime runtime_of(const ImageManifest& image) {
  ImageRuntime rt;
  const nlohmann::json& c = image.config.contains("config") ? image.config["config"] : nlohmann::json();
  if (!c.is_object()) return rt;
  if (c.contains("Entrypoint")) rt.entrypoint = string_list(c["Entrypoint"]);
  if (c.contains("Cmd")) rt.cmd = string_list(c["Cmd"]);
  if (c.contains("Env")) rt.env = string_list(c["Env"]);
  if (c.contains("WorkingDir") && c["WorkingDir"].is_string())
    rt.working_dir = c["WorkingDir"].get<std::string>();
  return rt;
}

Plan make_plan(const FsView& fs, const ImageRuntime& runtime, const PlanSettings& settings,
               Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts) {
  PlanOptions options;
  options.facts = std::move(facts);
  if (settings.profile == "none") {
    // Nothing dropped or stripped but what the command line asks for.
    options.profile.name = "none";
    options.profile.description = "changes nothing but the layer encoding";
    options.profile.strip = StripMode::None;
    options.profile.drop_unreachable_cuda = false;
    options.profile.drop_tests = false;
    options.profile.dedupe = false;
  } else {
    options.profile = load_profile(settings.profile);
  }
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

std::vector<Root> closure_roots(const FsView& fs, const ImageRuntime& runtime,
                                Diagnostics& diagnostics) {
  auto is_elf_file = [&](const Node& n) {
    if (n.type != FileType::Regular) return false;
    bool elf = is_elf(fs.content(n));
    fs.release(n);
    return elf;
  };
  return find_roots(fs, runtime, {}, is_elf_file, [](const std::string&) { return false; },
                    diagnostics);
}

Graph closure_of(const FsView& fs, const ImageRuntime& runtime, const Profile* profile,
                 Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts) {
  return closure_from(fs, closure_roots(fs, runtime, diagnostics), runtime, profile, diagnostics,
                      std::move(facts));
}

Graph closure_from(const FsView& fs, const std::vector<Root>& roots, const ImageRuntime& runtime,
                   const Profile* profile, Diagnostics& diagnostics,
                   std::shared_ptr<ElfFacts> facts) {
  ResolveOptions options = resolve_options_for(runtime);
  if (profile) {
    options.dlopen_families = profile->dlopen;
    options.host_provided = profile->host_provided;
    options.string_heuristic = profile->string_heuristic;
  } else {
    Profile def = load_profile("default");
    options.dlopen_families = def.dlopen;
    options.host_provided = def.host_provided;
  }
  options.facts = std::move(facts);
  return resolve_graph(fs, roots, options, diagnostics);
}

void print_diagnostics(const Diagnostics& d, bool quiet) {
  auto items = d.items();
  size_t shown = 0;
  for (auto& item : items) {
    if (quiet && item.level == Diagnostic::Level::Warning) continue;
    if (++shown > 50) {
      std::fprintf(stderr, "slimage: … %zu more diagnostics (see --report)\n", items.size() - 50);
      break;
    }
    std::fprintf(stderr, "slimage: %s: %s\n",
                 item.level == Diagnostic::Level::Error ? "error" : "warning",
                 item.to_string().c_str());
  }
}

}  // namespace slimage
