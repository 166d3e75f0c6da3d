// `slimage diff A B`: loads both images (each platform, or --platform's) and
// prints what changed between their merged root filesystems, by layer and
// in total (src/report/diff.cpp). Exit 0 whether or not they differ, as
// `dive` and `container-diff` do; a CI gate belongs to `check`.
#include <cstdio>
#include <map>

#include "session.h"
#include "slimage/report/diff.h"
#include "slimage/report/report.h"

namespace slimage {

namespace {

struct Side {
  std::unique_ptr<Source> source;
  std::vector<ImageManifest> images;
};

Side open_side(const std::string& text, const TransportOptions& transport,
               const std::optional<Platform>& platform, Stages& stages) {
  stages.begin("open");
  Side s;
  s.source = open_source(parse_image_ref(text), transport);
  s.images = load_images(*s.source, platform);
  stages.end(s.source->name());
  return s;
}

std::vector<std::string> layer_names(const ImageManifest& image) {
  std::vector<std::string> out;
  for (auto& l : image.layers) out.push_back(short_digest(l.digest));
  return out;
}

// Pairs A's images with B's by platform: one each pairs as is.
std::vector<std::pair<const ImageManifest*, const ImageManifest*>> pair_platforms(const Side& a, const Side& b) {
  std::vector<std::pair<const ImageManifest*, const ImageManifest*>> out;
  if (a.images.size() == 1 && b.images.size() == 1) return {{&a.images[0], &b.images[0]}};
  std::map<std::string, const ImageManifest*> in_b;
  for (auto& i : b.images) in_b[i.platform.to_string()] = &i;
  for (auto& i : a.images) {
    auto it = in_b.find(i.platform.to_string());
    if (it == in_b.end())
      fail(b.source->name() + ": has no " + i.platform.to_string() + " image (" + a.source->name() +
           " has one; pick one with --platform)");
    out.push_back({&i, it->second});
  }
  return out;
}

}  // namespace

std::vector<ImagePairDiff> diff_images(const std::string& a_ref, const TransportOptions& a_transport,
                                       const std::string& b_ref, const TransportOptions& b_transport,
                                       const std::optional<Platform>& platform, unsigned jobs,
                                       Stages& stages) {
  Side a = open_side(a_ref, a_transport, platform, stages);
  Side b = open_side(b_ref, b_transport, platform, stages);
  std::vector<ImagePairDiff> out;
  for (auto [image_a, image_b] : pair_platforms(a, b)) {
    auto loaded_a = load_fs(*a.source, *image_a, jobs, stages);
    auto loaded_b = load_fs(*b.source, *image_b, jobs, stages);
    stages.begin("diff");
    ImageDiff d = diff_views(*loaded_a->fs, image_a->layers.size(), *loaded_b->fs, image_b->layers.size());
    stages.end(std::to_string(d.changes.size()) + " entries differ");
    ImagePairDiff p;
    p.platform = image_a->platform.to_string();
    p.json = diff_json(d);
    p.json["a"] = {{"image", a.source->name()}, {"platform", image_a->platform.to_string()},
                   {"manifest_digest", image_a->descriptor.digest}};
    p.json["b"] = {{"image", b.source->name()}, {"platform", image_b->platform.to_string()},
                   {"manifest_digest", image_b->descriptor.digest}};
    p.text = "diff A " + a.source->name() + " (" + image_a->platform.to_string() + ")\n     B " +
             b.source->name() + " (" + image_b->platform.to_string() + ")\n" +
             diff_text(d, layer_names(*image_a), layer_names(*image_b));
    print_diagnostics(loaded_a->diagnostics.items(), false);
    print_diagnostics(loaded_b->diagnostics.items(), false);
    out.push_back(std::move(p));
  }
  return out;
}

int run_diff(const Command& cmd) {
  Progress progress(cmd.common.quiet || cmd.common.json);
  Stages stages(progress);
  auto diffs = diff_images(cmd.source, cmd.common.transport, cmd.other, cmd.common.transport,
                           platform_option(cmd.common), cmd.common.jobs, stages);
  nlohmann::json all = nlohmann::json::array();
  for (auto& d : diffs) {
    if (cmd.common.json) all.push_back(d.json);
    else std::fputs(d.text.c_str(), stdout);
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all.size() == 1 ? all[0] : all).c_str());
  return kExitOk;
}

}  // namespace slimage
