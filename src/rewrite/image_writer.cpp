// Config and manifest rewriting (see include/slimage/rewrite/image_writer.h).
// Spec: image-spec config.md ("history": one non-empty entry per layer, in order).
#include "slimage/rewrite/image_writer.h"

#include <ctime>

#include "slimage/util/hash.h"

namespace slimage {

namespace {

// The same bytes under the other family's media type.
std::string layer_type_for(const std::string& source_type, bool docker) {
  using namespace media_type;
  Compression c = compression_from_media_type(source_type);
  if (docker) return std::string(c == Compression::Gzip ? kDockerLayerGzip : kDockerLayer);
  switch (c) {
    case Compression::Gzip: return std::string(kOciLayerGzip);
    case Compression::Zstd: return std::string(kOciLayerZstd);
    default: return std::string(kOciLayer);
  }
}

nlohmann::json rewrite_history(const nlohmann::json& config, const std::vector<LayerOutput>& layers,
                               const WriteOptions& o, const std::string& created,
                               const std::string& created_by) {
  nlohmann::json history = config.contains("history") && config["history"].is_array()
                               ? config["history"]
                               : nlohmann::json::array();
  std::vector<bool> kept_source;
  for (auto& l : layers) {
    if (kept_source.size() <= l.source_index) kept_source.resize(l.source_index + 1);
    kept_source[l.source_index] = true;
  }
  size_t layer_index = 0;
  for (auto& h : history) {
    if (!h.is_object()) continue;
    if (h.value("empty_layer", false)) continue;
    bool keep = o.layers == LayerMode::Keep && layer_index < kept_source.size() &&
                kept_source[layer_index];
    if (!keep) h["empty_layer"] = true;
    layer_index++;
  }
  nlohmann::json entry = {{"created", created}, {"created_by", created_by},
                          {"comment", "slimmed by slimage " SLIMAGE_VERSION}};
  if (o.layers == LayerMode::Keep) entry["empty_layer"] = true;
  history.push_back(entry);
  return history;
}

}  // namespace

std::string rfc3339(int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool use_docker_media_types(const ImageManifest& image, Compression compression) {
  return image.descriptor.media_type == media_type::kDockerManifest &&
         compression != Compression::Zstd;
}

RewrittenImage rewrite_image(const ImageManifest& image, const std::vector<LayerOutput>& layers,
                             const WriteOptions& o, const std::string& created_by,
                             const std::map<std::string, std::string>& annotations) {
  bool docker = o.docker_media_types;
  RewrittenImage out;
  nlohmann::json config = image.config;
  std::string created = o.source_date_epoch ? rfc3339(*o.source_date_epoch)
                        : config.contains("created") && config["created"].is_string()
                            ? config["created"].get<std::string>()
                            : rfc3339(0);
  nlohmann::json diff_ids = nlohmann::json::array();
  for (auto& l : layers) {
    diff_ids.push_back(l.diff_id);
    Descriptor d = l.descriptor;
    if (l.reused) d.media_type = layer_type_for(d.media_type, docker);
    out.layers.push_back(d);
  }
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
  config["history"] = rewrite_history(image.config, layers, o, created, created_by);
  out.config_bytes = config.dump();
  out.config.media_type = docker ? media_type::kDockerConfig : media_type::kOciConfig;
  out.config.digest = sha256_digest(out.config_bytes);
  out.config.size = static_cast<int64_t>(out.config_bytes.size());

  nlohmann::json manifest = image.manifest;
  manifest["schemaVersion"] = 2;
  manifest["mediaType"] = docker ? media_type::kDockerManifest : media_type::kOciManifest;
  nlohmann::json config_desc = image.config_descriptor.to_json();
  config_desc["mediaType"] = out.config.media_type;
  config_desc["digest"] = out.config.digest;
  config_desc["size"] = out.config.size;
  manifest["config"] = config_desc;
  manifest["layers"] = nlohmann::json::array();
  for (auto& d : out.layers) manifest["layers"].push_back(d.to_json());
  if (!annotations.empty()) {
    if (!manifest.contains("annotations") || !manifest["annotations"].is_object())
      manifest["annotations"] = nlohmann::json::object();
    for (auto& [k, v] : annotations) manifest["annotations"][k] = v;
  }
  out.manifest_bytes = manifest.dump(3);
  out.manifest.media_type = manifest["mediaType"].get<std::string>();
  out.manifest.digest = sha256_digest(out.manifest_bytes);
  out.manifest.size = static_cast<int64_t>(out.manifest_bytes.size());
  out.manifest.extra = image.descriptor.extra;
  return out;
}

}  // namespace slimage
