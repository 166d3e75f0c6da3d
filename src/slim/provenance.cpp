// Provenance annotations and history line (see include/slimage/slim/provenance.h).
#include "slimage/slim/provenance.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include <nlohmann/json.hpp>

#include "slimage/report/report.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

// "1 file", "3 duplicate files".
std::string files(uint64_t n, const std::string& adjective = "") {
  return std::to_string(n) + " " + adjective + (n == 1 ? "file" : "files");
}

// Single-quoted where the shell would otherwise read it differently.
std::string quoted(const std::string& s) {
  bool plain = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/._-=,:+@").find(c) != std::string_view::npos;
  });
  if (plain) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void add(std::string& out, const std::string& flag, const std::string& value = {}) {
  if (!out.empty()) out += ' ';
  out += flag;
  if (!value.empty()) out += ' ' + quoted(value);
}

}  // namespace

std::string output_options(const SlimOptions& o) {
  std::string out;
  const PlanSettings& p = o.plan;
  if (o.layers != "keep") add(out, "--layers", o.layers);
  if (!o.compression.empty()) add(out, "--compression", o.compression);
  if (o.level >= 0) add(out, "--level", std::to_string(o.level));
  if (!p.strip.empty()) add(out, "--strip", p.strip);
  for (auto& g : p.keep) add(out, "--keep", g);
  for (auto& g : p.drop) add(out, "--drop", g);
  for (auto& e : p.entrypoints) add(out, "--entrypoint", e);
  if (p.no_dedupe) add(out, "--no-dedupe");
  if (!p.cuda_arch.empty()) add(out, "--cuda-arch", p.cuda_arch);
  if (!p.cuda_ptx.empty()) add(out, "--cuda-ptx", p.cuda_ptx);
  if (o.force) add(out, "--force");
  return out;
}

Provenance describe_slim(const ImageManifest& input, const ImageRef& source, const Plan& plan,
                         const SlimOptions& options) {
  Summary s = summarize(plan);
  Provenance out;
  auto& a = out.annotations;
  a["org.opencontainers.image.base.digest"] = input.descriptor.digest;
  // The repository, without the tag: one image under several tags slims to one
  // digest (registries and nodes store it once); base.digest pins the version.
  if (source.transport == Transport::Docker) a["org.opencontainers.image.base.name"] = source.path;
  a["io.slimage.version"] = SLIMAGE_VERSION;
  a["io.slimage.profile"] = plan.profile.name;
  std::string opts = output_options(options);
  if (!opts.empty()) a["io.slimage.options"] = opts;

  // Reasons, largest first.
  std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>> reasons(
      s.removed_by_reason.begin(), s.removed_by_reason.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](auto& x, auto& y) { return x.second.second > y.second.second; });
  nlohmann::json removed = nlohmann::json::object();
  uint64_t removed_bytes = 0;
  std::string what;
  for (auto& [kind, fb] : reasons) {
    removed[kind] = {{"files", fb.first}, {"bytes", fb.second}};
    removed_bytes += fb.second;
    if (fb.first == 0) continue;  // directories only (empty-dir): nothing a reader weighs
    what += (what.empty() ? "" : ", ") + kind + " " + files(fb.first) + " (" + human_bytes(fb.second) + ")";
  }
  a["io.slimage.removed"] = removed.dump();

  std::string line = "slimage: removed " + human_bytes(removed_bytes);
  if (!what.empty()) line += ": " + what;
  if (s.stripped_files)
    line += "; stripped " + files(s.stripped_files) + " (-" + human_bytes(s.strip_saved_bytes) + ")";
  if (s.deduped_files)
    line += "; linked " + files(s.deduped_files, "duplicate ") + " (-" + human_bytes(s.dedupe_saved_bytes) + ")";
  line += "; profile " + plan.profile.name;
  if (!opts.empty()) line += " " + opts;
  out.created_by = line;
  return out;
}

}  // namespace slimage
