// The new root after a rewrite: a copy of the source index whose selected
// entries point at the new manifests, or the one new manifest.
// Quirks: entries of a nested index are lifted into the top-level index (the
// nested index's own digest would change too); attestation manifests are
// dropped because their `subject` names the old manifest; every kept entry
// keeps its annotations and platform, only mediaType/digest/size change.
// Spec: https://github.com/opencontainers/image-spec/blob/main/image-index.md
#include <map>
#include <string>

#include "slimage/image/image.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

namespace slimage {

using nlohmann::json;

static void replace_fields(json& entry, const Descriptor& d) {
  entry["mediaType"] = d.media_type;
  entry["digest"] = d.digest;
  entry["size"] = d.size;
}

RootManifest make_root(const RootManifest& source_root,
                       const std::vector<std::pair<ImageManifest, Descriptor>>& rewritten) {
  if (rewritten.empty()) fail("make_root: no rewritten images");
  json j = parse_json_object(source_root.bytes, "root " + short_digest(source_root.digest));
  bool index = media_type::is_index(source_root.media_type) ||
               (source_root.media_type.empty() && j.contains("manifests"));
  if (!index) {
    if (rewritten.size() != 1) fail("make_root: a manifest root has exactly one image");
    auto& [image, d] = rewritten[0];
    if (sha256_digest(image.manifest_bytes) != d.digest)
      fail("make_root: manifest_bytes do not hash to " + short_digest(d.digest));
    return {image.manifest_bytes, d.media_type, d.digest};
  }

  std::map<std::string, const Descriptor*> new_by_old;
  for (auto& [image, d] : rewritten) new_by_old[image.descriptor.digest] = &d;
  json manifests = json::array();
  auto consider = [&](const json& entry) {
    auto digest = entry.find("digest");
    if (digest == entry.end() || !digest->is_string()) return;
    auto it = new_by_old.find(digest->get<std::string>());
    if (it == new_by_old.end()) return;
    json kept = entry;
    replace_fields(kept, *it->second);
    manifests.push_back(std::move(kept));
    new_by_old.erase(it);  // an image listed twice is kept once
  };
  // An image reached through a nested index is not a top-level entry; its
  // own index entry (annotations, platform) came with its descriptor.
  for (auto& entry : j["manifests"]) consider(entry);
  for (auto& [image, d] : rewritten) {
    if (!new_by_old.count(image.descriptor.digest)) continue;
    json kept = image.descriptor.to_json();
    replace_fields(kept, d);
    manifests.push_back(std::move(kept));
    new_by_old.erase(image.descriptor.digest);
  }
  j["manifests"] = std::move(manifests);
  std::string bytes = j.dump();
  std::string mt = source_root.media_type.empty() ? std::string(media_type::kOciIndex)
                                                   : source_root.media_type;
  return {bytes, mt, sha256_digest(bytes)};
}

}  // namespace slimage
