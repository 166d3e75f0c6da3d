// Finding the signatures and attestations of an input (see
// include/slimage/registry/signatures.h). cosign names a signature after the
// digest it signs: tag "sha256-<hex>.sig" in the same repository.
#include "slimage/registry/signatures.h"

#include <set>

#include "slimage/image/referrer.h"
#include "slimage/registry/client.h"
#include "slimage/registry/registry.h"
#include "slimage/registry/tags.h"
#include "slimage/util/error.h"

namespace slimage {

namespace {

// Artifact types of signatures and attestations (a referrer of another type,
// an SBOM say, goes stale too but signs nothing).
bool signature_type(const std::string& type) {
  for (std::string_view t : {"application/vnd.dev.cosign.artifact.sig", "application/vnd.cncf.notary.signature",
                             "application/vnd.dev.sigstore.bundle", "application/vnd.in-toto",
                             "application/vnd.dsse.envelope"})
    if (type.rfind(t, 0) == 0) return true;
  return false;
}

// An OCI layout's index.json (oci:, oci-archive: alike, as the source read
// it); an object with an empty "manifests" for any other source.
nlohmann::json layout_index(const Source& source) {
  std::string bytes = layout_index_of(source);
  nlohmann::json j = bytes.empty() ? nlohmann::json::object() : parse_json_object(bytes, source.name() + ": index.json");
  if (!j.contains("manifests") || !j["manifests"].is_array()) j["manifests"] = nlohmann::json::array();
  return j;
}

// OCI 1.1 referrers an OCI layout lists in index.json: manifests whose
// `subject` is one of `digests` and whose artifact type is a signature's.
// Each manifest is read through the source (verified), whether the layout is
// a directory or a tar.
std::vector<std::string> layout_signature_referrers(Source& source, const std::set<std::string>& digests) {
  std::vector<std::string> found;
  const nlohmann::json index = layout_index(source);  // outlives the loop
  for (auto& entry : index["manifests"]) {
    Descriptor d;
    try {
      d = Descriptor::from_json(entry, source.name() + ": index.json");
    } catch (const Error&) {
      continue;  // not a referrer we could read; the image's own entry is checked by load_images
    }
    if (!media_type::is_manifest(d.media_type) || d.size > (4 << 20)) continue;
    nlohmann::json m;
    try {
      m = nlohmann::json::parse(source.read_blob(d), nullptr, false);
    } catch (const Error&) {
      continue;  // a blob the layout lacks: nothing it could sign
    }
    if (!m.is_object() || !m.contains("subject") || !m["subject"].is_object()) continue;
    auto subject = m["subject"].find("digest");
    if (subject == m["subject"].end() || !subject->is_string() || !digests.count(subject->get<std::string>())) continue;
    std::string type = m.value("artifactType", std::string());
    if (type.empty() && m.contains("config") && m["config"].is_object())
      type = m["config"].value("mediaType", std::string());
    if (signature_type(type))
      found.push_back("signature referrer " + d.digest + " (" + type + ") of " + subject->get<std::string>());
  }
  return found;
}

// The signature referrers of `digest` in a registry: the referrers API, or,
// where the registry lacks it (404: docker-registry 2.8), the index the
// referrers tag schema keeps under tag `sha256-<hex>`. Entries carry their
// artifactType. A registry that will not answer shows none.
std::vector<std::string> registry_signature_referrers(const ImageRef& ref, const TransportOptions& options,
                                                      const std::string& digest, bool schema_tag) {
  try {
    registry::RegistryClient client(registry::parse_registry_ref(ref), options, /*push=*/false);
    registry::HttpRequest request("GET", client.path("referrers", digest));
    request.headers = {"Accept: application/vnd.oci.image.index.v1+json"};
    registry::HttpResponse response = client.send(request);
    if (response.status == 404 && schema_tag) {
      request.url = client.path("manifests", "sha256-" + digest.substr(7));
      response = client.send(request);
    }
    if (response.status != 200) return {};
    nlohmann::json index = nlohmann::json::parse(response.body, nullptr, false);
    if (!index.is_object() || !index.contains("manifests") || !index["manifests"].is_array()) return {};
    std::vector<std::string> found;
    for (auto& d : index["manifests"]) {
      if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string()) continue;
      std::string type = d.value("artifactType", std::string());
      if (signature_type(type))
        found.push_back("signature referrer " + d["digest"].get<std::string>() + " (" + type + ") of " + digest);
    }
    return found;
  } catch (const Error&) {
    return {};
  }
}

// Every ref name in an OCI layout's index.json.
std::vector<std::string> layout_ref_names(const Source& source) {
  std::vector<std::string> names;
  const nlohmann::json index = layout_index(source);  // outlives the loop
  for (auto& m : index["manifests"]) {
    if (!m.is_object() || !m.contains("annotations") || !m["annotations"].is_object()) continue;
    auto n = m["annotations"].find(std::string(kRefNameAnnotation));
    if (n != m["annotations"].end() && n->is_string()) names.push_back(n->get<std::string>());
  }
  return names;
}

std::vector<std::string> sibling_tags(const ImageRef& ref, const Source& source, const TransportOptions& options) {
  switch (ref.transport) {
    case Transport::Oci:
    case Transport::OciArchive: return layout_ref_names(source);
    case Transport::Docker:
      try {
        return registry::list_tags(ref, options);
      } catch (const Error&) {
        return {};  // listing denied: nothing to see
      }
    default: return {};  // a docker archive's manifest.json has no place for a signature
  }
}

}  // namespace

std::vector<std::string> find_signatures(const ImageRef& ref, Source& source, const RootManifest& root,
                                         const std::vector<ImageManifest>& images,
                                         const TransportOptions& options) {
  std::set<std::string> signed_digests = {root.digest};
  for (auto& image : images) signed_digests.insert(image.descriptor.digest);
  std::set<std::string> tags;
  for (auto& t : sibling_tags(ref, source, options)) tags.insert(t);
  std::vector<std::string> found;
  for (auto& digest : signed_digests) {
    if (digest.rfind("sha256:", 0) != 0) continue;
    std::string base = "sha256-" + digest.substr(7);
    if (tags.count(base + ".sig")) found.push_back("cosign signature tag " + base + ".sig");
    if (tags.count(base + ".att")) found.push_back("cosign attestation tag " + base + ".att");
  }
  if (ref.transport == Transport::Oci || ref.transport == Transport::OciArchive)
    for (auto& f : layout_signature_referrers(source, signed_digests)) found.push_back(f);
  if (ref.transport == Transport::Docker)
    for (auto& digest : signed_digests)
      if (digest.rfind("sha256:", 0) == 0)
        for (auto& f : registry_signature_referrers(ref, options, digest, tags.count("sha256-" + digest.substr(7))))
          found.push_back(f);
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

bool is_artifact_tag(std::string_view tag) {
  constexpr std::string_view prefix = "sha256-";
  if (!tag.starts_with(prefix) || tag.size() < prefix.size() + 64) return false;
  std::string_view hex = tag.substr(prefix.size(), 64), rest = tag.substr(prefix.size() + 64);
  if (hex.find_first_not_of("0123456789abcdef") != std::string_view::npos) return false;
  return rest.empty() || rest == ".sig" || rest == ".att" || rest == ".sbom";
}

}  // namespace slimage
