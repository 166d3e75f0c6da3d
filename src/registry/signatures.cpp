// Finding the signatures and attestations of an input (see
// include/slimage/registry/signatures.h). cosign names a signature after the
// digest it signs: tag "sha256-<hex>.sig" in the same repository.
#include "slimage/registry/signatures.h"

#include <fstream>
#include <set>
#include <sstream>

#include "slimage/registry/tags.h"
#include "slimage/util/error.h"

namespace slimage {

namespace {

// Every ref name in an OCI layout's index.json.
std::vector<std::string> layout_ref_names(const std::string& dir) {
  std::ifstream in(dir + "/index.json", std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json j = parse_json_object(ss.str(), dir + "/index.json");
  std::vector<std::string> names;
  if (!j.contains("manifests") || !j["manifests"].is_array()) return names;
  for (auto& m : j["manifests"]) {
    if (!m.is_object() || !m.contains("annotations") || !m["annotations"].is_object()) continue;
    auto n = m["annotations"].find(std::string(kRefNameAnnotation));
    if (n != m["annotations"].end() && n->is_string()) names.push_back(n->get<std::string>());
  }
  return names;
}

std::vector<std::string> sibling_tags(const ImageRef& ref, const TransportOptions& options) {
  switch (ref.transport) {
    case Transport::Oci: return layout_ref_names(ref.path);
    case Transport::Docker:
      try {
        return registry::list_tags(ref, options);
      } catch (const Error&) {
        return {};  // listing denied: nothing to see
      }
    default: return {};  // archives hold one image and no signature tags
  }
}

}  // namespace

std::vector<std::string> find_signatures(const ImageRef& ref, const RootManifest& root,
                                         const std::vector<ImageManifest>& images,
                                         const TransportOptions& options) {
  std::set<std::string> signed_digests = {root.digest};
  for (auto& image : images) signed_digests.insert(image.descriptor.digest);
  std::set<std::string> tags;
  for (auto& t : sibling_tags(ref, options)) tags.insert(t);
  std::vector<std::string> found;
  for (auto& digest : signed_digests) {
    if (digest.rfind("sha256:", 0) != 0) continue;
    std::string base = "sha256-" + digest.substr(7);
    if (tags.count(base + ".sig")) found.push_back("cosign signature tag " + base + ".sig");
    if (tags.count(base + ".att")) found.push_back("cosign attestation tag " + base + ".att");
  }
  nlohmann::json j = nlohmann::json::parse(root.bytes, nullptr, false);
  if (j.is_object() && j.contains("manifests") && j["manifests"].is_array()) {
    for (auto& entry : j["manifests"]) {
      if (!entry.is_object()) continue;
      Descriptor d;
      try {
        d = Descriptor::from_json(entry, "root index");
      } catch (const Error&) {
        continue;  // load_images reports a bad entry
      }
      if (!is_attestation(d)) continue;
      std::string line = "attestation manifest " + d.digest;
      if (auto a = entry.find("annotations"); a != entry.end() && a->is_object()) {
        auto subject = a->find("vnd.docker.reference.digest");
        if (subject != a->end() && subject->is_string()) line += " for " + subject->get<std::string>();
      }
      found.push_back(line);
    }
  }
  return found;
}

void refuse_signed(const std::string& source_name, const std::vector<std::string>& found) {
  if (found.empty()) return;
  std::string list;
  for (auto& f : found) list += (list.empty() ? "" : ", ") + f;
  fail(source_name + ": " + list + ": a rewrite invalidates " + (found.size() == 1 ? "it" : "them") +
       "; pass --remove-signatures to write the image without " +
       (found.size() == 1 ? "it" : "them"));
}

}  // namespace slimage
