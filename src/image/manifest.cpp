// Parsing and validation of index, manifest and config JSON, and the walk from
// a source's root to each platform's image (load_images) and back (make_root).
// Quirks: mediaType is optional inside a manifest/index blob (image-spec says
// SHOULD), but when present it must agree with the descriptor; Docker's
// manifest list / v2 schema 2 types are accepted wherever OCI's are; BuildKit
// attestation manifests (unknown/unknown) sit in the index beside the images
// and are never selected.
// Specs: https://github.com/opencontainers/image-spec/blob/main/manifest.md,
// image-index.md, config.md
#include <map>
#include <string>

#include "slimage/image/image.h"
#include "slimage/util/budget.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

namespace slimage {

using nlohmann::json;

static constexpr int kMaxJsonDepth = 64;

// Deep nesting would make later recursive walks (dump, destruction) costly.
static void check_depth(std::string_view bytes, const std::string& where) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : bytes) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > kMaxJsonDepth) fail(where + ": JSON nested deeper than 64 levels");
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
}

json parse_json_object(std::string_view bytes, const std::string& where) {
  check_depth(bytes, where);
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(where + ": not valid JSON");
  if (!j.is_object()) fail(where + ": not a JSON object");
  return j;
}

static void check_media_type(const json& j, const std::string& where, bool (*ok)(std::string_view),
                             const char* what) {
  auto mt = j.find("mediaType");
  if (mt == j.end()) return;
  if (!mt->is_string()) fail(where + ": mediaType is not a string");
  if (!ok(mt->get<std::string>()))
    fail(where + ": wrong media type \"" + mt->get<std::string>() + "\" for " + what);
  auto sv = j.find("schemaVersion");
  if (sv != j.end() && !(sv->is_number_integer() && *sv == 2))
    fail(where + ": schemaVersion is not 2");
}

ParsedIndex parse_index_json(std::string_view bytes, const std::string& where) {
  ParsedIndex out;
  out.json = parse_json_object(bytes, where);
  check_media_type(out.json, where, media_type::is_index, "an index");
  auto m = out.json.find("manifests");
  if (m == out.json.end() || !m->is_array()) fail(where + ": index has no manifests array");
  for (size_t i = 0; i < m->size(); ++i)
    out.manifests.push_back(
        Descriptor::from_json((*m)[i], where + ": manifests[" + std::to_string(i) + "]"));
  return out;
}

ParsedManifest parse_manifest_json(std::string_view bytes, const std::string& where) {
  ParsedManifest out;
  out.json = parse_json_object(bytes, where);
  check_media_type(out.json, where, media_type::is_manifest, "an image manifest");
  auto c = out.json.find("config");
  if (c == out.json.end()) fail(where + ": manifest has no config");
  out.config = Descriptor::from_json(*c, where + ": config");
  auto l = out.json.find("layers");
  if (l == out.json.end() || !l->is_array()) fail(where + ": manifest has no layers array");
  check_budget(Budget::Layers, where, l->size());
  for (size_t i = 0; i < l->size(); ++i) {
    std::string at = where + ": layers[" + std::to_string(i) + "]";
    out.layers.push_back(Descriptor::from_json((*l)[i], at));
    if (!media_type::is_layer(out.layers.back().media_type))
      fail(at + ": media type \"" + out.layers.back().media_type + "\" is not a layer");
  }
  return out;
}

ParsedConfig parse_config_json(std::string_view bytes, const std::string& where) {
  ParsedConfig out;
  out.json = parse_json_object(bytes, where);
  auto string_field = [&](const char* key, std::string& dst) {
    auto f = out.json.find(key);
    if (f == out.json.end()) return;
    if (!f->is_string()) fail(where + ": " + key + " is not a string");
    dst = f->get<std::string>();
  };
  string_field("os", out.platform.os);
  string_field("architecture", out.platform.architecture);
  string_field("variant", out.platform.variant);
  auto rootfs = out.json.find("rootfs");
  if (rootfs == out.json.end() || !rootfs->is_object()) fail(where + ": config has no rootfs");
  auto type = rootfs->find("type");
  if (type == rootfs->end() || !type->is_string() || *type != "layers")
    fail(where + ": rootfs.type is not \"layers\"");
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array()) fail(where + ": rootfs.diff_ids is not an array");
  for (size_t i = 0; i < ids->size(); ++i) {
    const json& id = (*ids)[i];
    if (!id.is_string() || !is_valid_digest(id.get<std::string>()))
      fail(where + ": rootfs.diff_ids[" + std::to_string(i) + "] is not a sha256 digest");
    out.diff_ids.push_back(id.get<std::string>());
  }
  return out;
}

std::string Source::read_blob(const Descriptor& d) {
  std::string what = name() + ": blob " + short_digest(d.digest);
  if (d.size < 0 || static_cast<uint64_t>(d.size) > kMaxJsonDocumentBytes)
    fail(what + ": " + std::to_string(d.size) + " bytes is too large for a manifest or config");
  auto in = open_blob(d);
  // The verifying reader's errors are located; the bytes' own (a read
  // error, the size limit) get the blob's place.
  return with_location(what, [&] { return read_all(*in, kMaxJsonDocumentBytes); });
}

void Sink::put_blob_bytes(const Descriptor& d, std::string_view bytes) {
  MemoryReader in(bytes);
  put_blob_stream(d, in);
}

static ImageManifest load_image(Source& source, const Descriptor& d) {
  std::string where = source.name() + ": manifest " + short_digest(d.digest);
  ImageManifest image;
  image.descriptor = d;
  image.manifest_bytes = source.read_blob(d);
  ParsedManifest m = parse_manifest_json(image.manifest_bytes, where);
  if (auto mt = m.json.find("mediaType"); mt != m.json.end() && *mt != d.media_type)
    fail(where + ": mediaType \"" + mt->get<std::string>() + "\" disagrees with its descriptor's \"" +
         d.media_type + "\"");
  image.manifest = std::move(m.json);
  image.config_descriptor = m.config;
  image.layers = std::move(m.layers);
  std::string cfg_where = source.name() + ": config " + short_digest(m.config.digest);
  if (m.config.media_type != media_type::kOciConfig &&
      m.config.media_type != media_type::kDockerConfig)
    fail(cfg_where + ": wrong media type \"" + m.config.media_type + "\" for an image config");
  ParsedConfig c = parse_config_json(source.read_blob(m.config), cfg_where);
  if (c.diff_ids.size() != image.layers.size())
    fail(cfg_where + ": rootfs.diff_ids has " + std::to_string(c.diff_ids.size()) +
         " entries but the manifest has " + std::to_string(image.layers.size()) + " layers");
  image.config = std::move(c.json);
  image.diff_ids = std::move(c.diff_ids);
  image.platform = c.platform;
  if (auto p = descriptor_platform(d, where)) image.platform = *p;
  return image;
}

static std::string root_media_type(const RootManifest& root, const json& j, const std::string& where) {
  std::string mt = root.media_type;
  if (auto f = j.find("mediaType"); f != j.end() && f->is_string()) {
    if (!mt.empty() && *f != mt)
      fail(where + ": mediaType \"" + f->get<std::string>() + "\" disagrees with its descriptor's \"" +
           mt + "\"");
    mt = f->get<std::string>();
  }
  if (mt.empty()) mt = j.contains("manifests") ? media_type::kOciIndex : media_type::kOciManifest;
  if (!media_type::is_index(mt) && !media_type::is_manifest(mt))
    fail(where + ": wrong media type \"" + mt + "\": not an image index or manifest");
  return mt;
}

// What reading an index found, besides its images.
struct IndexWalk {
  std::map<std::string, uint64_t> nested_seen;  // digest -> entries it lists
  uint64_t listed = 0;
  uint64_t too_deep = 0;  // indexes nested two or more levels deep: not followed
};

// The image entries of an index, nested indexes expanded one level. A nested
// index listed again is read once; the entries are bounded by SLIMAGE_MAX_MANIFESTS.
static void index_images(Source& source, const std::string& index_bytes, const std::string& where,
                         int depth, IndexWalk& walk, std::vector<Descriptor>* out) {
  for (auto& d : parse_index_json(index_bytes, where).manifests) {
    if (is_attestation(d)) continue;
    check_budget(Budget::Manifests, where, ++walk.listed);
    if (media_type::is_manifest(d.media_type)) {
      out->push_back(d);
    } else if (media_type::is_index(d.media_type) && depth > 0) {
      ++walk.too_deep;
    } else if (media_type::is_index(d.media_type)) {
      // Listed again: its entries count again, but it is read and expanded once.
      if (auto it = walk.nested_seen.find(d.digest); it != walk.nested_seen.end()) {
        walk.listed += it->second;
        check_budget(Budget::Manifests, where, walk.listed);
        continue;
      }
      std::string nested_where = source.name() + ": index " + short_digest(d.digest);
      uint64_t before = walk.listed;
      index_images(source, source.read_blob(d), nested_where, 1, walk, out);
      walk.nested_seen[d.digest] = walk.listed - before;
    }
    // Other entries (artifacts) are not images: skipped.
  }
}

static std::vector<Descriptor> index_images(Source& source, const std::string& index_bytes,
                                            const std::string& where, IndexWalk& walk) {
  std::vector<Descriptor> out;
  index_images(source, index_bytes, where, 0, walk, &out);
  return out;
}

std::vector<ImageManifest> load_images(Source& source, const std::optional<Platform>& platform) {
  RootManifest root = source.root();
  std::string where = source.name();
  json j = parse_json_object(root.bytes, where);
  std::string mt = root_media_type(root, j, where);
  std::vector<ImageManifest> images;
  if (media_type::is_manifest(mt)) {
    Descriptor d{mt, root.digest, static_cast<int64_t>(root.bytes.size())};
    ImageManifest image = load_image(source, d);
    if (platform && !image.platform.matches(*platform))
      fail(where + ": image is for " + image.platform.to_string() + ", not " + platform->to_string());
    images.push_back(std::move(image));
    return images;
  }
  std::vector<std::string> available;
  IndexWalk walk;
  for (auto& d : index_images(source, root.bytes, where + ": index", walk)) {
    auto p = descriptor_platform(d, where + ": index");
    if (platform && p && !p->matches(*platform)) {
      available.push_back(p->to_string());
      continue;
    }
    ImageManifest image = load_image(source, d);
    if (platform && !image.platform.matches(*platform)) {
      available.push_back(image.platform.to_string());
      continue;
    }
    images.push_back(std::move(image));
  }
  if (images.empty()) {
    std::string list;
    for (auto& a : available) list += (list.empty() ? "" : ", ") + a;
    fail(where + ": index has no manifest for platform " +
         (platform ? platform->to_string() : std::string("any")) +
         " (available: " + (list.empty() ? "none" : list) + ")" +
         (walk.too_deep ? "; " + std::to_string(walk.too_deep) + " image index" +
                              (walk.too_deep == 1 ? "" : "es") +
                              " nested two or more levels deep not followed (one level is)"
                        : std::string()));
  }
  return images;
}

}  // namespace slimage
