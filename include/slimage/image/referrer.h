// OCI 1.1 referrers: an artifact manifest that points at another manifest
// through its `subject` (an SBOM about an image, say), and the index the
// referrers tag schema keeps for registries without the referrers API.
// Specs: https://github.com/opencontainers/image-spec/blob/v1.1.0/manifest.md
// (artifactType, the empty descriptor, subject) and
// https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md
// ("Pushing Manifests with Subject", "Referrers Tag Schema").
#pragma once
#include <string>
#include <string_view>

#include "slimage/image/image.h"

namespace slimage {

// The empty descriptor: config of an artifact that has none, the blob `{}`.
inline constexpr std::string_view kEmptyJsonMediaType = "application/vnd.oci.empty.v1+json";
inline constexpr std::string_view kEmptyJsonBlob = "{}";
Descriptor empty_json_descriptor();  // with "data": "e30=" (the blob, inline)

// An artifact manifest: artifactType `artifact_type`, the empty config, one
// layer `blob`, `subject`, and `annotations` (a JSON object). Deterministic:
// the same values give the same bytes. Its descriptor (`artifactType` and the
// annotations in `extra`) is what an index lists: Referrer::descriptor.
struct Referrer {
  Descriptor descriptor;
  std::string bytes;
};
Referrer make_referrer(const std::string& artifact_type, const Descriptor& blob, const Descriptor& subject,
                       const nlohmann::json& annotations);

// The tag the referrers tag schema keeps `subject_digest`'s referrers under:
// "sha256:<hex>" -> "sha256-<hex>".
std::string referrers_tag(const std::string& subject_digest);

// The referrers index `existing` (its bytes, "" for none yet) with `referrer`
// listed once (an entry of the same digest is replaced); other entries and
// fields kept in order. Throws Error("<where>: …") if `existing` is not an index.
std::string add_to_referrers_index(const std::string& existing, const Descriptor& referrer,
                                   const std::string& where);

// A Sink that can publish referrers (oci:, oci-archive:, docker://):
// put_referrer lists `manifest` (its blobs put) as a referrer of
// `subject_digest` with the root at commit(): an OCI layout in index.json with
// no ref name; a registry by digest, before the tag moves, and in the
// referrers tag schema's index where it lacks the referrers API.
class ReferrerSink {
 public:
  virtual ~ReferrerSink() = default;
  virtual void put_referrer(const Descriptor& manifest, const std::string& bytes,
                            const std::string& subject_digest) = 0;
};
// `sink` as a ReferrerSink; throws Error("<sink>: cannot hold an OCI referrer …") if it is not one.
ReferrerSink& referrer_sink(Sink& sink);

// A Source read from an OCI layout (oci:, oci-archive:): its index.json as
// read, which lists the signature tags and referrers beside the image.
class LayoutSource {
 public:
  virtual ~LayoutSource() = default;
  virtual std::string layout_index() const = 0;
};
// The layout's index.json, "" for a source that is no layout.
std::string layout_index_of(const Source& source);

}  // namespace slimage
