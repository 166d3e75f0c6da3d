// Media types, descriptors and platforms: the image spec's small value types.
// Quirks: every descriptor field we do not interpret (annotations, platform,
// urls, artifactType, data…) is kept verbatim in `extra` so it round-trips; a
// size must be a JSON integer (1.0 and -1 are refused), and only sha256
// digests are accepted.
// Spec: https://github.com/opencontainers/image-spec/blob/main/descriptor.md
#include <string>

#include "slimage/image/image.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

namespace slimage {

namespace media_type {

bool is_index(std::string_view mt) { return mt == kOciIndex || mt == kDockerManifestList; }

bool is_manifest(std::string_view mt) { return mt == kOciManifest || mt == kDockerManifest; }

bool is_layer(std::string_view mt) {
  // Covers plain/gzip/zstd and the non-distributable ("foreign") variants.
  return mt.starts_with("application/vnd.oci.image.layer.") ||
         mt.starts_with("application/vnd.docker.image.rootfs.");
}

}  // namespace media_type

nlohmann::json Descriptor::to_json() const {
  nlohmann::json j = extra.is_object() ? extra : nlohmann::json::object();
  j["mediaType"] = media_type;
  j["digest"] = digest;
  j["size"] = size;
  return j;
}

Descriptor Descriptor::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) fail(where + ": descriptor is not a JSON object");
  Descriptor d;
  auto mt = j.find("mediaType");
  if (mt == j.end() || !mt->is_string()) fail(where + ": descriptor has no string mediaType");
  d.media_type = mt->get<std::string>();
  auto digest = j.find("digest");
  if (digest == j.end() || !digest->is_string()) fail(where + ": descriptor has no string digest");
  d.digest = digest->get<std::string>();
  if (!is_valid_digest(d.digest))
    fail(where + ": invalid digest \"" + d.digest.substr(0, 80) + "\" (want sha256:<64 hex>)");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer())
    fail(where + ": descriptor " + short_digest(d.digest) + " has no integer size");
  if (size->is_number_unsigned()) {
    auto u = size->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) fail(where + ": descriptor size out of range");
    d.size = static_cast<int64_t>(u);
  } else {
    d.size = size->get<int64_t>();
  }
  if (d.size < 0) fail(where + ": descriptor " + short_digest(d.digest) + " has a negative size");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "mediaType" && it.key() != "digest" && it.key() != "size")
      d.extra[it.key()] = it.value();
  return d;
}

std::string Platform::to_string() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

Platform Platform::parse(std::string_view s) {
  Platform p;
  std::string_view rest = s;
  std::string* fields[] = {&p.os, &p.architecture, &p.variant};
  size_t n = 0;
  while (n < 3) {
    auto slash = rest.find('/');
    *fields[n++] = std::string(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
    if (n == 3) fail("platform \"" + std::string(s) + "\": too many parts (want OS/ARCH[/VARIANT])");
  }
  if (p.os.empty() || p.architecture.empty() || (n == 3 && p.variant.empty()))
    fail("platform \"" + std::string(s) + "\": want OS/ARCH[/VARIANT], e.g. linux/arm64/v8");
  return p;
}

bool Platform::matches(const Platform& want) const {
  if (!want.os.empty() && want.os != os) return false;
  if (!want.architecture.empty() && want.architecture != architecture) return false;
  if (want.variant.empty()) return true;
  // arm64 images rarely state their variant; v8 is what an empty one means.
  std::string have = variant;
  if (have.empty() && architecture == "arm64") have = "v8";
  return have == want.variant;
}

std::optional<Platform> descriptor_platform(const Descriptor& d, const std::string& where) {
  auto it = d.extra.find("platform");
  if (it == d.extra.end()) return std::nullopt;
  if (!it->is_object()) fail(where + ": platform of " + short_digest(d.digest) + " is not an object");
  Platform p;
  auto field = [&](const char* key, std::string& out, bool required) {
    auto f = it->find(key);
    if (f == it->end()) {
      if (required) fail(where + ": platform of " + short_digest(d.digest) + " has no " + key);
      return;
    }
    if (!f->is_string())
      fail(where + ": platform of " + short_digest(d.digest) + ": " + key + " is not a string");
    out = f->get<std::string>();
  };
  field("os", p.os, true);
  field("architecture", p.architecture, true);
  field("variant", p.variant, false);
  return p;
}

bool is_attestation(const Descriptor& d) {
  if (auto a = d.extra.find("annotations"); a != d.extra.end() && a->is_object()) {
    auto t = a->find("vnd.docker.reference.type");
    if (t != a->end() && t->is_string() && *t == "attestation-manifest") return true;
  }
  if (auto p = d.extra.find("platform"); p != d.extra.end() && p->is_object()) {
    auto os = p->find("os"), arch = p->find("architecture");
    if (os != p->end() && arch != p->end() && *os == "unknown" && *arch == "unknown") return true;
  }
  return false;
}

}  // namespace slimage
