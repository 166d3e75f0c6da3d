// Signatures and attestations an input carries, which a rewrite invalidates
// (each names the digest of a manifest the rewrite replaces):
//  - cosign's tags `sha256-<hex>.sig` and `.att` beside the image, in the
//    registry repository or in the OCI layout's index.json (a directory or
//    an oci-archive tar);
//  - OCI 1.1 referrers of a signature or attestation type (cosign, notation,
//    sigstore bundle, in-toto, DSSE) whose subject is the image, listed in
//    the OCI layout's index.json, or in a registry's referrers API (or, where
//    it has none, the referrers tag schema: tag `sha256-<hex>`);
//  - BuildKit attestation manifests in the image index
//    (vnd.docker.reference.type=attestation-manifest).
// `slimage slim` refuses such an input unless --remove-signatures (skopeo's
// word) is given; the new index never lists the attestation manifests.
// Spec: https://github.com/sigstore/cosign/blob/main/specs/SIGNATURE_SPEC.md
//       https://docs.docker.com/build/metadata/attestations/attestation-storage/
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "slimage/image/image.h"

namespace slimage {

// One line per signature or attestation found ("cosign signature tag
// sha256-ab12….sig", "attestation manifest sha256:… for sha256:…"), in a
// stable order. `source`: `ref` opened (an OCI layout's index.json and
// blobs). `images`: the manifests selected for rewriting. A registry
// that refuses to list tags hides its signature tags: nothing is reported.
std::vector<std::string> find_signatures(const ImageRef& ref, Source& source, const RootManifest& root,
                                         const std::vector<ImageManifest>& images,
                                         const TransportOptions& options);

// Throws Error("SOURCE: cosign signature tag sha256-….sig: a rewrite
// invalidates it; pass --remove-signatures …") if `found` is not empty.
void refuse_signed(const std::string& source_name, const std::vector<std::string>& found);

// A tag that names an artifact about another manifest, not an image to slim:
// cosign's "sha256-<hex>.sig|.att|.sbom" and the OCI referrers tag schema's
// "sha256-<hex>" (distribution-spec, "Referrers Tag Schema").
bool is_artifact_tag(std::string_view tag);

}  // namespace slimage
