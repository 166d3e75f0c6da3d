// The sbom stage: collects the values the SBOM generators take
// (include/slimage/report/sbom.h) from the plan — the packages that stay in
// the image's package databases after the pkgdb pass, every non-directory
// the slimming removed or changed — and from the image (etc/os-release for
// the package URLs' distro, the config's created time).
#include "slim_stages.h"

namespace slimage {

namespace {

OsRelease read_os_release(const FsView& fs, const Plan& plan) {
  for (const char* path : {"etc/os-release", "usr/lib/os-release"}) {
    const Node* n = fs.resolve(path, true);
    if (!n || n->type != FileType::Regular) continue;
    if (const Action* a = plan.find(n->path); a && a->fate == Fate::Drop) continue;  // its bytes may be freed
    auto bytes = fs.content(*n);
    OsRelease os = parse_os_release(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    fs.release(*n);
    return os;
  }
  return {};
}

std::vector<SbomFile> removed_and_changed(const Plan& plan) {
  std::vector<SbomFile> files;
  for (auto& [path, a] : plan.actions) {  // by path
    if (a.type == FileType::Directory) continue;
    bool changed = a.fate == Fate::Strip || a.fate == Fate::Link || plan.gpu_prune(path) || plan.replacement(path);
    if (a.fate == Fate::Drop || changed)
      files.push_back({path, a.fate == Fate::Drop, reason_kind_name(a.kind)});
  }
  return files;
}

}  // namespace

void sbom_image(const LoadedImage& loaded, const Planned& planned, const Published& published,
                const Endpoints& io, SlimResult& result) {
  SbomImage image;
  image.name = io.sink->name();
  image.manifest_digest = published.manifest.digest;
  image.platform = loaded.image.platform.to_string();
  image.os = read_os_release(*loaded.fs, planned.plan);
  image.packages = planned.plan.packages;
  image.files = removed_and_changed(planned.plan);
  if (result.sbom.images.empty()) {
    const nlohmann::json& config = loaded.image.config;
    std::string created = config.is_object() && config.contains("created") && config["created"].is_string()
                              ? config["created"].get<std::string>()
                              : "";
    result.sbom.created = sbom_created(source_date_epoch_from_env(), created);
  }
  result.sbom.images.push_back(std::move(image));
}

void finish_sbom(SlimResult& result) {
  result.sbom.root_digest = result.root_digest;
  result.sbom.tool_version = SLIMAGE_VERSION;
}

}  // namespace slimage
