// Registry auth without a network: challenges, base64, config files, --creds.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "slimage/registry/auth.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

using namespace slimage;
using namespace slimage::registry;

TEST_CASE("registry: parses a Bearer challenge with quoted commas") {
  auto cs = parse_www_authenticate(
      R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push")");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].scheme == "bearer");
  CHECK(cs[0].param("realm") == "https://auth.example.com/token");
  CHECK(cs[0].param("service") == "registry.example.com");
  CHECK(cs[0].param("scope") == "repository:a/b:pull,push");
}

TEST_CASE("registry: parses several challenges, escapes and unquoted values") {
  auto cs = parse_www_authenticate(
      R"(Basic realm="Registry \"Realm\"", Bearer realm=https://t/x, error=invalid_token)");
  REQUIRE(cs.size() == 2);
  CHECK(cs[0].scheme == "basic");
  CHECK(cs[0].param("realm") == "Registry \"Realm\"");
  CHECK(cs[1].scheme == "bearer");
  CHECK(cs[1].param("realm") == "https://t/x");
  CHECK(cs[1].param("error") == "invalid_token");
}

TEST_CASE("registry: challenge names are case-insensitive; garbage is skipped") {
  auto cs = parse_www_authenticate("  BEARER Realm=\"r\" ,, ");
  REQUIRE(cs.size() == 1);
  CHECK(cs[0].scheme == "bearer");
  CHECK(cs[0].param("realm") == "r");
  CHECK(parse_www_authenticate("").empty());
  CHECK(parse_www_authenticate("Basic").at(0).params.empty());
}

TEST_CASE("registry: base64 round-trips and rejects garbage") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("user:pa:ss") == "dXNlcjpwYTpzcw==");
  CHECK(base64_decode("dXNlcjpwYTpzcw==").value() == "user:pa:ss");
  CHECK(base64_decode("Zm8").value() == "fo");  // padding optional
  CHECK_FALSE(base64_decode("Zm9v!").has_value());
  CHECK_FALSE(base64_decode("Z").has_value());
  std::string all;
  for (int i = 0; i < 256; i++) all += static_cast<char>(i);
  CHECK(base64_decode(base64_encode(all)).value() == all);
}

TEST_CASE("registry: --creds splits at the first colon and never echoes") {
  auto c = parse_creds_option("alice:s3:cret");
  CHECK(c.username == "alice");
  CHECK(c.password == "s3:cret");
  CHECK(basic_authorization(c) == "Basic " + base64_encode("alice:s3:cret"));
  try {
    parse_creds_option("hunter2");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
}

TEST_CASE("registry: config keys are normalized") {
  CHECK(normalize_registry_key("https://index.docker.io/v1/") == "docker.io");
  CHECK(normalize_registry_key("registry-1.docker.io") == "docker.io");
  CHECK(normalize_registry_key("http://Reg.Example:5000/v2/") == "reg.example:5000");
  CHECK(normalize_registry_key("127.0.0.1:5000") == "127.0.0.1:5000");
}

TEST_CASE("registry: docker config.json auths entry gives credentials") {
  std::string config = R"({"auths": {
      "https://index.docker.io/v1/": {"auth": ")" +
                       base64_encode("hub:hubpw") + R"("},
      "127.0.0.1:5000": {"auth": ")" +
                       base64_encode("bob:pw:x") + R"("},
      "other:1": {"username": "u", "password": "p"}}})";
  auto c = credentials_from_docker_config(config, "127.0.0.1:5000", "config.json");
  REQUIRE(c.has_value());
  CHECK(c->username == "bob");
  CHECK(c->password == "pw:x");
  CHECK(credentials_from_docker_config(config, "docker.io", "config.json")->username == "hub");
  CHECK(credentials_from_docker_config(config, "other:1", "config.json")->password == "p");
  CHECK_FALSE(credentials_from_docker_config(config, "127.0.0.1:5001", "config.json").has_value());
}

TEST_CASE("registry: credential helpers give a warning, not credentials") {
  std::string warning;
  auto c = credentials_from_docker_config(R"({"credHelpers": {"gcr.io": "gcloud"}})", "gcr.io",
                                          "config.json", &warning);
  CHECK_FALSE(c.has_value());
  CHECK(warning.find("credential helpers are not supported") != std::string::npos);
  warning.clear();
  credentials_from_docker_config(R"({"credsStore": "desktop", "auths": {"x:1": {}}})", "x:1",
                                 "config.json", &warning);
  CHECK(warning.find("credsStore") != std::string::npos);
}

TEST_CASE("registry: a bad config file is a clear error without secrets") {
  CHECK_THROWS_WITH_AS(credentials_from_docker_config("not json", "h", "/x/config.json"),
                       "/x/config.json: not a JSON object", Error);
  try {
    credentials_from_docker_config(R"({"auths": {"h": {"auth": "c2VjcmV0"}}})", "h", "c.json");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "c.json: auths.h.auth: not base64 of USER:PASS");
  }
}

TEST_CASE("registry: find_credentials prefers --creds, then --authfile, then env files") {
  TempDir dir(scratch_parent(), "registry_auth_test");
  std::string file = dir.path() + "/auth.json";
  std::ofstream(file) << R"({"auths": {"h:1": {"auth": ")" << base64_encode("env:pw") << R"("}}})";
  CHECK(find_credentials("h:1", "cli:pw", file)->username == "cli");
  CHECK(find_credentials("h:1", "", file)->username == "env");
  CHECK_THROWS_AS(find_credentials("h:1", "", dir.path() + "/missing.json"), Error);
  setenv("REGISTRY_AUTH_FILE", file.c_str(), 1);
  CHECK(find_credentials("h:1", "", "")->username == "env");
  unsetenv("REGISTRY_AUTH_FILE");
}
