// The sbom stage: collects the values the SBOM generators take
// (include/slimage/report/sbom.h) from the plan — the packages that stay in
// the image's package databases after the pkgdb pass, every non-directory
// the slimming removed or changed — and from the image (etc/os-release for
// the package URLs' distro, the config's created time). With --sbom-attach,
// each image's SBOM also goes into the sink as an OCI 1.1 referrer
// (image/referrer.h) whose subject is the image's new manifest: one image,
// the very bytes of --sbom FILE; several platforms, one SBOM each (that
// image alone, named by its manifest digest).
#include "slimage/image/referrer.h"
#include "slimage/util/hash.h"
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
      files.push_back({std::string(path), a.fate == Fate::Drop, reason_kind_name(a.kind)});
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

void finish_sbom(SlimResult& result, const std::string& root_digest) {
  result.sbom.root_digest = root_digest;
  result.sbom.tool_version = SLIMAGE_VERSION;
}

nlohmann::json attach_sbom(const SlimOptions& o, const SbomDocument& sbom,
                           const std::vector<std::pair<ImageManifest, Descriptor>>& images, Endpoints& io,
                           Stages& stages) {
  stages.begin("attach");
  SbomFormat format = sbom_format_of(o.sbom_format, o.sbom);
  std::string type = sbom_media_type(format);
  ReferrerSink& referrers = referrer_sink(*io.sink);
  io.sink->put_blob_bytes(empty_json_descriptor(), kEmptyJsonBlob);
  std::string detail;
  nlohmann::json listed = nlohmann::json::array();
  for (size_t i = 0; i < images.size() && i < sbom.images.size(); ++i) {
    const Descriptor& subject = images[i].second;
    SbomDocument one = sbom;
    if (images.size() > 1) {
      one.images = {sbom.images[i]};
      one.root_digest = subject.digest;
    }
    std::string bytes = render_sbom(one, format);
    Descriptor blob{type, sha256_digest(bytes), static_cast<int64_t>(bytes.size())};
    blob.extra = {{"annotations", {{"org.opencontainers.image.title", sbom_file_name(format)}}}};
    io.sink->put_blob_bytes(blob, bytes);
    Referrer referrer = make_referrer(type, blob, subject, {{"org.opencontainers.image.created", sbom.created}});
    referrers.put_referrer(referrer.descriptor, referrer.bytes, subject.digest);
    listed.push_back({{"digest", referrer.descriptor.digest},
                      {"artifact_type", type},
                      {"subject", subject.digest},
                      {"sbom_digest", blob.digest},
                      {"sbom_bytes", blob.size}});
    detail += (detail.empty() ? "" : ", ") + short_digest(referrer.descriptor.digest) + " -> " +
              short_digest(subject.digest);
  }
  stages.end("SBOM referrer " + detail);
  return listed;
}

}  // namespace slimage
