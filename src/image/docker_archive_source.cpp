// `docker save` archives ("docker-archive:FILE[:REF]"), read in place.
// Quirks: manifest.json ([{Config, RepoTags, Layers}]) is written by every
// Docker version, so it is what we read even when Docker 25+ also wrote an OCI
// index.json. Layer members are plain tars before Docker 25 and may be
// compressed after, and their digests are not recorded anywhere: each is hashed
// once at open time, and a Docker v2 schema 2 manifest is synthesized as root.
// Spec: https://github.com/moby/moby/blob/master/image/spec/v1.2.md (save format)
#include <map>
#include <string>

#include "archive_files.h"
#include "slimage/image/image.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

namespace slimage {

namespace {


// "demo:v1", "demo" and "docker.io/library/demo:v1" name one image; skopeo
// writes the long form, docker the short one.
std::string full_tag(const std::string& tag) {
  try {
    ImageRef r = parse_image_ref("docker://" + tag);
    return r.path + (r.ref.starts_with("@") ? r.ref : ":" + r.ref);
  } catch (const Error&) {
    return tag;
  }
}

bool same_tag(const std::string& a, const std::string& b) { return a == b || full_tag(a) == full_tag(b); }

class DockerArchiveSource : public Source {
 public:
  DockerArchiveSource(std::string name, const std::string& file, const std::string& ref)
      : name_(std::move(name)), index_(file) {
    const TarIndex::Member* m = index_.find("manifest.json");
    if (!m) fail("no manifest.json (not a docker save archive)");
    auto in = index_.open(*m);
    std::string bytes = read_all(*in, kMaxJsonDocumentBytes);
    auto j = nlohmann::json::parse(bytes, nullptr, false);
    if (j.is_discarded() || !j.is_array()) fail("manifest.json is not a JSON array");
    synthesize(select(j, ref));
  }

  std::string name() const override { return name_; }
  RootManifest root() override { return root_; }

  std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
    std::string what = name_ + ": blob " + short_digest(d.digest);
    std::unique_ptr<Reader> in;
    if (d.digest == root_.digest) {
      in = std::make_unique<MemoryReader>(root_.bytes);
    } else if (auto it = blobs_.find(d.digest); it != blobs_.end()) {
      in = index_.open(it->second);
    } else {
      fail(what + ": missing");
    }
    return std::make_unique<VerifyingReader>(std::move(in), what, d.digest, d.size);
  }

 private:
  const nlohmann::json& select(const nlohmann::json& images, const std::string& ref) {
    std::vector<std::string> tags;
    for (size_t i = 0; i < images.size(); ++i) {
      const auto& image = images[i];
      if (!image.is_object()) fail("manifest.json[" + std::to_string(i) + "] is not an object");
      auto repo_tags = image.find("RepoTags");
      if (repo_tags == image.end() || !repo_tags->is_array()) continue;
      for (auto& t : *repo_tags) {
        if (!t.is_string()) continue;
        if (!ref.empty() && same_tag(t.get<std::string>(), ref)) return image;
        tags.push_back(t.get<std::string>());
      }
    }
    if (ref.starts_with("@")) {
      std::string n = ref.substr(1);
      if (!n.empty() && n.size() < 6 && n.find_first_not_of("0123456789") == std::string::npos &&
          std::stoul(n) < images.size())
        return images[std::stoul(n)];
      fail("no image " + ref + " (the archive holds " + std::to_string(images.size()) + ")");
    }
    if (ref.empty() && images.size() == 1) return images[0];
    std::string list;
    for (auto& t : tags) list += (list.empty() ? "" : ", ") + t;
    if (images.empty()) fail("manifest.json lists no images");
    fail((ref.empty() ? "the archive holds " + std::to_string(images.size()) +
                            " images; name one with :REPO:TAG or :@N"
                      : "no image tagged \"" + ref + "\"") +
         " (available: " + (list.empty() ? "none" : list) + ")");
  }

  // Hashes a member once; layers listed twice share the result.
  Descriptor describe(const std::string& path, const std::string& where) {
    const TarIndex::Member* m = index_.find(path);
    if (!m) fail(where + ": member \"" + path.substr(0, 200) + "\" missing from the archive");
    if (auto it = described_.find(normalize_member_path(path)); it != described_.end())
      return it->second;
    auto in = index_.open(*m);
    HashingWriter hash;
    char magic[4] = {};
    size_t have = 0;
    char buf[65536];
    while (size_t n = in->read(buf, sizeof buf)) {
      for (size_t i = 0; have < 4 && i < n; ++i) magic[have++] = buf[i];
      hash.write(buf, n);
    }
    if (hash.bytes() != m->size) fail(where + ": member \"" + path + "\" is truncated");
    Descriptor d;
    d.digest = hash.digest();
    d.size = static_cast<int64_t>(m->size);
    d.media_type = media_type::kDockerLayer;
    if (have >= 2 && uint8_t(magic[0]) == 0x1f && uint8_t(magic[1]) == 0x8b)
      d.media_type = media_type::kDockerLayerGzip;
    else if (have == 4 && uint8_t(magic[0]) == 0x28 && uint8_t(magic[1]) == 0xb5 &&
             uint8_t(magic[2]) == 0x2f && uint8_t(magic[3]) == 0xfd)
      d.media_type = media_type::kOciLayerZstd;  // Docker has no zstd type of its own
    blobs_[d.digest] = *m;
    described_[normalize_member_path(path)] = d;
    return d;
  }

  void synthesize(const nlohmann::json& image) {
    std::string where = "manifest.json";
    auto config = image.find("Config");
    if (config == image.end() || !config->is_string()) fail(where + ": Config is not a string");
    auto layers = image.find("Layers");
    if (layers == image.end() || !layers->is_array()) fail(where + ": Layers is not an array");
    nlohmann::json manifest;
    manifest["schemaVersion"] = 2;
    manifest["mediaType"] = media_type::kDockerManifest;
    Descriptor cfg = describe(config->get<std::string>(), where);
    cfg.media_type = media_type::kDockerConfig;
    manifest["config"] = cfg.to_json();
    manifest["layers"] = nlohmann::json::array();
    for (size_t i = 0; i < layers->size(); ++i) {
      const auto& layer = (*layers)[i];
      if (!layer.is_string()) fail(where + ": Layers[" + std::to_string(i) + "] is not a string");
      manifest["layers"].push_back(describe(layer.get<std::string>(), where).to_json());
    }
    root_.bytes = manifest.dump();
    root_.media_type = media_type::kDockerManifest;
    root_.digest = sha256_digest(root_.bytes);
  }

  std::string name_;
  TarIndex index_;
  RootManifest root_;
  std::map<std::string, TarIndex::Member> blobs_;
  std::map<std::string, Descriptor> described_;
};

}  // namespace

std::unique_ptr<Source> open_docker_archive_source(const std::string& file, const std::string& ref) {
  std::string name = "docker-archive:" + file + (ref.empty() ? "" : ":" + ref);
  // Opening reads manifest.json and hashes every member it names; the
  // archive's errors say where inside it, the name goes first.
  return with_location(name, [&]() -> std::unique_ptr<Source> {
    return std::make_unique<DockerArchiveSource>(name, file, ref);
  });
}

}  // namespace slimage
