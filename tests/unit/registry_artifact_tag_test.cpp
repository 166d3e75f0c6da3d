// Which registry tags name artifacts about other manifests (signatures,
// attestations, referrers indexes) rather than images: `batch --all-tags`
// leaves them out (include/slimage/registry/signatures.h).
#include <doctest/doctest.h>

#include <string>

#include "slimage/registry/signatures.h"

using namespace slimage;

TEST_CASE("registry: cosign and referrers tags are artifacts, image tags are not") {
  const std::string hex(64, 'a');
  CHECK(is_artifact_tag("sha256-" + hex));
  CHECK(is_artifact_tag("sha256-" + hex + ".sig"));
  CHECK(is_artifact_tag("sha256-" + hex + ".att"));
  CHECK(is_artifact_tag("sha256-" + hex + ".sbom"));
  CHECK_FALSE(is_artifact_tag("latest"));
  CHECK_FALSE(is_artifact_tag("sha256-" + hex + ".txt"));
  CHECK_FALSE(is_artifact_tag("sha256-" + hex.substr(1) + ".sig"));      // 63 hex digits
  CHECK_FALSE(is_artifact_tag("sha256-" + std::string(64, 'A') + ".sig"));  // digests are lower case
  CHECK_FALSE(is_artifact_tag("sha256-" + hex + "x"));
}
