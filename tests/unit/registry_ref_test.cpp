// docker:// references, URL pieces and error bodies, without a network.
#include <doctest/doctest.h>

#include "slimage/registry/client.h"
#include "slimage/registry/http.h"
#include "slimage/registry/registry.h"
#include "slimage/util/error.h"

using namespace slimage;
using namespace slimage::registry;

static RegistryRef ref_of(const std::string& path, const std::string& ref) {
  return parse_registry_ref(ImageRef{Transport::Docker, path, ref});
}

TEST_CASE("registry: splits host, repository and tag") {
  auto r = ref_of("127.0.0.1:5000/team/app", "1.0");
  CHECK(r.host == "127.0.0.1:5000");
  CHECK(r.api_host() == "127.0.0.1:5000");
  CHECK(r.repository == "team/app");
  CHECK(r.tag == "1.0");
  CHECK(r.reference() == "1.0");
  CHECK(r.to_string() == "docker://127.0.0.1:5000/team/app:1.0");
}

TEST_CASE("registry: Docker Hub names") {
  auto r = ref_of("docker.io/alpine", "");
  CHECK(r.repository == "library/alpine");
  CHECK(r.tag == "latest");
  CHECK(r.api_host() == "registry-1.docker.io");
  CHECK(ref_of("alpine", "3").repository == "library/alpine");
  CHECK(ref_of("alpine", "3").host == "docker.io");
  CHECK(ref_of("localhost/x", "").host == "localhost");
}

TEST_CASE("registry: digest references") {
  std::string d = "sha256:" + std::string(64, 'a');
  auto r = ref_of("reg.example/x", "@" + d);
  CHECK(r.digest == d);
  CHECK(r.tag.empty());
  CHECK(r.reference() == d);
  CHECK(r.to_string() == "docker://reg.example/x@" + d);
  CHECK_THROWS_AS(ref_of("reg.example/x", "@sha256:abc"), Error);
}

TEST_CASE("registry: invalid names are rejected with the reference") {
  CHECK_THROWS_WITH_AS(ref_of("reg.example/Upper", "1"),
                       doctest::Contains("invalid repository name \"Upper\""), Error);
  CHECK_THROWS_WITH_AS(ref_of("reg.example/x", "bad/tag"), doctest::Contains("invalid tag"), Error);
}

TEST_CASE("registry: local hosts") {
  CHECK(is_local_host("127.0.0.1:5000"));
  CHECK(is_local_host("localhost"));
  CHECK(is_local_host("[::1]:5000"));
  CHECK_FALSE(is_local_host("registry.example:5000"));
  CHECK_FALSE(is_local_host("127.example.com"));  // a name, not an address
}

TEST_CASE("registry: URL helpers") {
  CHECK(url_authority("https://Reg.Example:5000/v2/x?y=1") == "reg.example:5000");
  CHECK(url_authority("http://h") == "h");
  CHECK(url_authority("/v2/") == "");
  CHECK(resolve_url("https://a:1/v2/x/blobs/sha256:1", "/v2/uploads/u?_state=z") ==
        "https://a:1/v2/uploads/u?_state=z");
  CHECK(resolve_url("https://a:1/v2/x", "https://storage.example/b?sig=1") ==
        "https://storage.example/b?sig=1");
  CHECK(url_encode("repository:a/b:pull,push") == "repository%3Aa%2Fb%3Apull%2Cpush");
  CHECK(url_encode("sha256:ab-_.~") == "sha256%3Aab-_.~");
}

TEST_CASE("registry: error bodies are shown as the registry sent them") {
  HttpResponse r;
  r.status = 404;
  r.reason = "Not Found";
  r.body =
      R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"bar"}}]})";
  CHECK(describe_error_response(r) == "manifest unknown: manifest unknown");
  r.body =
      R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"},{"code":"DENIED"}]})";
  CHECK(describe_error_response(r) == "unauthorized: authentication required; denied");
  r.body = "<html>oops</html>";
  CHECK(describe_error_response(r) == "HTTP 404 Not Found");
}
