// OCI 1.1 referrers (include/slimage/image/referrer.h): the artifact
// manifest's exact bytes, its index entry, and the referrers tag schema's
// index kept for registries without the referrers API.
#include <doctest/doctest.h>

#include <string>

#include "slimage/image/referrer.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

using namespace slimage;

namespace {

const std::string kSubject = "sha256:" + std::string(64, 'a');
const std::string kBlob = "sha256:" + std::string(64, 'b');

Referrer sbom_referrer() {
  Descriptor subject{std::string(media_type::kOciManifest), kSubject, 100};
  subject.extra = {{"platform", {{"os", "linux"}, {"architecture", "amd64"}}}};  // not carried into `subject`
  Descriptor blob{"application/spdx+json", kBlob, 5};
  blob.extra = {{"annotations", {{"org.opencontainers.image.title", "sbom.spdx.json"}}}};
  return make_referrer("application/spdx+json", blob, subject,
                       {{"org.opencontainers.image.created", "2024-01-02T03:04:05Z"}});
}

}  // namespace

TEST_CASE("image: the empty descriptor is the blob {} with its data inline") {
  Descriptor d = empty_json_descriptor();
  CHECK(d.to_json().dump() ==
        R"({"data":"e30=","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
        R"("mediaType":"application/vnd.oci.empty.v1+json","size":2})");
  CHECK(sha256_digest(kEmptyJsonBlob) == d.digest);
}

TEST_CASE("image: an SBOM referrer is an artifact manifest with the empty config and the image as subject") {
  Referrer r = sbom_referrer();
  CHECK(r.bytes ==
        R"({"annotations":{"org.opencontainers.image.created":"2024-01-02T03:04:05Z"},)"
        R"("artifactType":"application/spdx+json",)"
        R"("config":{"data":"e30=","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",)"
        R"("mediaType":"application/vnd.oci.empty.v1+json","size":2},)"
        R"("layers":[{"annotations":{"org.opencontainers.image.title":"sbom.spdx.json"},)"
        R"("digest":"sha256:)" + std::string(64, 'b') + R"(","mediaType":"application/spdx+json","size":5}],)"
        R"("mediaType":"application/vnd.oci.image.manifest.v1+json","schemaVersion":2,)"
        R"("subject":{"digest":"sha256:)" + std::string(64, 'a') +
        R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","size":100}})");
  CHECK(r.descriptor.digest == sha256_digest(r.bytes));
  CHECK(r.descriptor.size == static_cast<int64_t>(r.bytes.size()));
  CHECK(r.descriptor.to_json().dump() ==
        R"({"annotations":{"org.opencontainers.image.created":"2024-01-02T03:04:05Z"},)"
        R"("artifactType":"application/spdx+json","digest":")" + r.descriptor.digest +
        R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","size":)" + std::to_string(r.bytes.size()) + "}");
  CHECK(sbom_referrer().bytes == r.bytes);  // deterministic
}

TEST_CASE("image: the referrers tag of a digest") {
  CHECK(referrers_tag(kSubject) == "sha256-" + std::string(64, 'a'));
  CHECK_THROWS_WITH_AS(referrers_tag("nodigest"), "subject nodigest: not a digest", Error);
}

TEST_CASE("image: the referrers tag schema's index lists each referrer once, others kept") {
  Referrer r = sbom_referrer();
  std::string first = add_to_referrers_index("", r.descriptor, "where");
  CHECK(first == R"({"manifests":[)" + r.descriptor.to_json().dump() +
                     R"(],"mediaType":"application/vnd.oci.image.index.v1+json","schemaVersion":2})");
  CHECK(add_to_referrers_index(first, r.descriptor, "where") == first);  // pushed again: listed once
  std::string other = R"({"digest":"sha256:)" + std::string(64, 'c') +
                      R"(","mediaType":"application/vnd.oci.image.manifest.v1+json","size":7,)"
                      R"("artifactType":"application/vnd.cncf.notary.signature"})";
  std::string existing = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                         other + "]}";
  nlohmann::json merged = nlohmann::json::parse(add_to_referrers_index(existing, r.descriptor, "where"));
  REQUIRE(merged["manifests"].size() == 2);
  CHECK(merged["manifests"][0] == nlohmann::json::parse(other));
  CHECK(merged["manifests"][1] == r.descriptor.to_json());
  CHECK_THROWS_WITH_AS(add_to_referrers_index("[]", r.descriptor, "reg: referrers tag t"),
                       doctest::Contains("reg: referrers tag t: "), Error);
}
