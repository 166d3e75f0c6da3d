// OCI 1.1 referrers (include/slimage/image/referrer.h). The artifact manifest
// is an image manifest with `artifactType` set and the empty config
// (image-spec manifest.md, "Guidelines for Artifact Usage", case 2: a blob
// with no config); its index entry carries artifactType and the manifest's
// annotations, as the referrers API lists them (distribution-spec 1.1,
// "Listing Referrers").
#include "slimage/image/referrer.h"

#include "slimage/util/error.h"
#include "slimage/util/hash.h"

namespace slimage {

Descriptor empty_json_descriptor() {
  Descriptor d{std::string(kEmptyJsonMediaType), sha256_digest(kEmptyJsonBlob),
               static_cast<int64_t>(kEmptyJsonBlob.size())};
  d.extra = {{"data", "e30="}};  // base64 of "{}"
  return d;
}

Referrer make_referrer(const std::string& artifact_type, const Descriptor& blob, const Descriptor& subject,
                       const nlohmann::json& annotations) {
  nlohmann::json subject_json = {{"mediaType", subject.media_type}, {"digest", subject.digest},
                                 {"size", subject.size}};
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", media_type::kOciManifest},
                      {"artifactType", artifact_type},
                      {"config", empty_json_descriptor().to_json()},
                      {"layers", nlohmann::json::array({blob.to_json()})},
                      {"subject", subject_json}};
  if (annotations.is_object() && !annotations.empty()) m["annotations"] = annotations;
  Referrer r;
  r.bytes = m.dump();
  r.descriptor = {std::string(media_type::kOciManifest), sha256_digest(r.bytes), static_cast<int64_t>(r.bytes.size())};
  r.descriptor.extra = {{"artifactType", artifact_type}};
  if (annotations.is_object() && !annotations.empty()) r.descriptor.extra["annotations"] = annotations;
  return r;
}

std::string referrers_tag(const std::string& subject_digest) {
  auto colon = subject_digest.find(':');
  if (colon == std::string::npos) fail("subject " + subject_digest + ": not a digest");
  return subject_digest.substr(0, colon) + "-" + subject_digest.substr(colon + 1);
}

std::string add_to_referrers_index(const std::string& existing, const Descriptor& referrer,
                                   const std::string& where) {
  nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex},
                          {"manifests", nlohmann::json::array()}};
  if (!existing.empty()) index = parse_index_json(existing, where).json;
  nlohmann::json manifests = nlohmann::json::array();
  for (auto& entry : index["manifests"])
    if (!(entry.is_object() && entry.value("digest", std::string()) == referrer.digest)) manifests.push_back(entry);
  manifests.push_back(referrer.to_json());
  index["manifests"] = std::move(manifests);
  return index.dump();
}

ReferrerSink& referrer_sink(Sink& sink) {
  auto* r = dynamic_cast<ReferrerSink*>(&sink);
  if (!r) fail(sink.name() + ": cannot hold an OCI referrer (write to oci:, oci-archive: or docker://)");
  return *r;
}

std::string layout_index_of(const Source& source) {
  auto* layout = dynamic_cast<const LayoutSource*>(&source);
  return layout ? layout->layout_index() : std::string();
}

}  // namespace slimage
