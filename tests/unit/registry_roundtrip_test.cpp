// Pushes an image to a live registry with the docker:// Sink and pulls it back
// with the Source. Needs a registry: tests/e2e/registry_roundtrip.sh starts
// docker-registry on 127.0.0.1 (plain, htpasswd, TLS) and runs these cases with
//   SLIMAGE_TEST_REGISTRY=127.0.0.1:PORT  [SLIMAGE_TEST_REGISTRY_CREDS=u:p]
//   [SLIMAGE_TEST_REGISTRY_CA=ca.pem]  [SLIMAGE_TEST_REGISTRY_TLS_VERIFY=0]
// Without SLIMAGE_TEST_REGISTRY every case here passes without doing anything.
// The script points HOME and the auth-file variables at an empty directory.
#include <doctest/doctest.h>

#include <cstdlib>

#include "slimage/image/image.h"
#include "slimage/registry/registry.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

using namespace slimage;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

TransportOptions options_from_env() {
  TransportOptions o;
  o.creds = env("SLIMAGE_TEST_REGISTRY_CREDS");
  o.ca_file = env("SLIMAGE_TEST_REGISTRY_CA");
  o.tls_verify = env("SLIMAGE_TEST_REGISTRY_TLS_VERIFY") != "0";
  return o;
}

ImageRef docker_ref(const std::string& repo, const std::string& ref) {
  return ImageRef{Transport::Docker, env("SLIMAGE_TEST_REGISTRY") + "/" + repo, ref};
}

// Deterministic bytes that do not compress: layers bigger than one upload chunk.
std::string noise(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i++) {
    seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
    out[i] = static_cast<char>(seed);
  }
  return out;
}

Descriptor describe(std::string_view media_type, const std::string& bytes) {
  return Descriptor{std::string(media_type), sha256_digest(bytes),
                    static_cast<int64_t>(bytes.size())};
}

struct TestImage {
  std::string big_layer = noise((40 << 20) + 12345, 1);  // three PATCH chunks
  std::string small_layer = noise(1000, 2);
  std::string config, manifest, index;
  Descriptor big, small, config_d, manifest_d;
  RootManifest root;

  TestImage() {
    big = describe(media_type::kOciLayerGzip, big_layer);
    small = describe(media_type::kOciLayerGzip, small_layer);
    config =
        nlohmann::json{{"architecture", "amd64"},
                       {"os", "linux"},
                       {"rootfs", {{"type", "layers"}, {"diff_ids", {big.digest, small.digest}}}}}
            .dump();
    config_d = describe(media_type::kOciConfig, config);
    manifest = nlohmann::json{{"schemaVersion", 2},
                              {"mediaType", media_type::kOciManifest},
                              {"config", config_d.to_json()},
                              {"layers", {big.to_json(), small.to_json()}}}
                   .dump();
    manifest_d = describe(media_type::kOciManifest, manifest);
    nlohmann::json entry = manifest_d.to_json();
    entry["platform"] = {{"architecture", "amd64"}, {"os", "linux"}};
    index =
        nlohmann::json{
            {"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}, {"manifests", {entry}}}
            .dump();
    root = RootManifest{index, std::string(media_type::kOciIndex), sha256_digest(index)};
  }

  void push(Sink& sink) const {
    TempDir dir(scratch_parent(), "registry_roundtrip");
    std::string big_file = dir.path() + "/big";
    write_file_atomic(big_file, big_layer);
    sink.put_blob_file(big, big_file);
    MemoryReader small_in(small_layer), config_in(config), manifest_in(manifest);
    sink.put_blob_stream(small, small_in);
    sink.put_blob_stream(config_d, config_in);
    sink.put_blob_stream(manifest_d, manifest_in);
    sink.commit(root);
  }
};

std::string read_whole(Source& source, const Descriptor& d) {
  auto in = source.open_blob(d);
  return read_all(*in);
}

}  // namespace

TEST_CASE("registry: an index pushed with the Sink is pulled back byte for byte" *
          doctest::test_suite("live-registry")) {
  REQUIRE_MESSAGE(!env("SLIMAGE_TEST_REGISTRY").empty(),
                  "SLIMAGE_TEST_REGISTRY is set by tests/e2e/registry_roundtrip.sh");
  TestImage image;
  auto options = options_from_env();
  image.push(*open_sink(docker_ref("roundtrip/app", "1"), options));

  auto source = open_source(docker_ref("roundtrip/app", "1"), options);
  RootManifest root = source->root();
  CHECK(root.bytes == image.index);
  CHECK(root.digest == image.root.digest);
  CHECK(root.media_type == media_type::kOciIndex);
  CHECK(read_whole(*source, image.manifest_d) == image.manifest);
  CHECK(read_whole(*source, image.config_d) == image.config);
  CHECK(read_whole(*source, image.small) == image.small_layer);
  CHECK(sha256_digest(read_whole(*source, image.big)) == image.big.digest);

  auto by_digest = open_source(docker_ref("roundtrip/app", "@" + image.root.digest), options);
  CHECK(by_digest->root().bytes == image.index);
  CHECK(by_digest->name() ==
        "docker://" + env("SLIMAGE_TEST_REGISTRY") + "/roundtrip/app@" + image.root.digest);
}

TEST_CASE("registry: a second push skips present blobs and mounts across repositories" *
          doctest::test_suite("live-registry")) {
  REQUIRE_MESSAGE(!env("SLIMAGE_TEST_REGISTRY").empty(),
                  "SLIMAGE_TEST_REGISTRY is set by tests/e2e/registry_roundtrip.sh");
  TestImage image;
  auto options = options_from_env();
  image.push(*open_sink(docker_ref("roundtrip/app", "1"), options));
  image.push(*open_sink(docker_ref("roundtrip/app", "again"), options));

  auto sink = open_sink(docker_ref("roundtrip/mounted", "2"), options);
  registry::enable_cross_repo_mount(*sink, docker_ref("roundtrip/app", "1"));
  CHECK_FALSE(sink->has_blob(image.big.digest));
  image.push(*sink);
  auto source = open_source(docker_ref("roundtrip/mounted", "2"), options);
  CHECK(source->root().digest == image.root.digest);
  CHECK(sha256_digest(read_whole(*source, image.big)) == image.big.digest);
}

TEST_CASE("registry: a missing tag is the registry's own error" *
          doctest::test_suite("live-registry")) {
  REQUIRE_MESSAGE(!env("SLIMAGE_TEST_REGISTRY").empty(),
                  "SLIMAGE_TEST_REGISTRY is set by tests/e2e/registry_roundtrip.sh");
  auto source = open_source(docker_ref("roundtrip/app", "no-such-tag"), options_from_env());
  std::string where = "docker://" + env("SLIMAGE_TEST_REGISTRY") + "/roundtrip/app:no-such-tag: ";
  CHECK_THROWS_WITH_AS(source->root(), (where + "manifest unknown: manifest unknown").c_str(),
                       Error);
}

TEST_CASE("registry: a blob that does not match its descriptor is refused before upload" *
          doctest::test_suite("live-registry")) {
  REQUIRE_MESSAGE(!env("SLIMAGE_TEST_REGISTRY").empty(),
                  "SLIMAGE_TEST_REGISTRY is set by tests/e2e/registry_roundtrip.sh");
  auto sink = open_sink(docker_ref("roundtrip/bad", "1"), options_from_env());
  std::string bytes = noise(5000, 3);
  Descriptor wrong = describe(media_type::kOciLayerGzip, noise(5000, 4));
  MemoryReader in(bytes);
  CHECK_THROWS_WITH_AS(sink->put_blob_stream(wrong, in), doctest::Contains("digest mismatch"),
                       Error);
  CHECK_FALSE(sink->has_blob(wrong.digest));
}

TEST_CASE("registry: dropping a blob stream half read stops the download" *
          doctest::test_suite("live-registry")) {
  REQUIRE_MESSAGE(!env("SLIMAGE_TEST_REGISTRY").empty(),
                  "SLIMAGE_TEST_REGISTRY is set by tests/e2e/registry_roundtrip.sh");
  TestImage image;
  auto options = options_from_env();
  image.push(*open_sink(docker_ref("roundtrip/app", "1"), options));
  auto source = open_source(docker_ref("roundtrip/app", "1"), options);
  auto in = source->open_blob(image.big);
  char buf[4096];
  CHECK(in->read(buf, sizeof buf) > 0);
  in.reset();  // must not hang on the full queue
}

TEST_CASE("registry: wrong credentials are a clear error that does not show them" *
          doctest::test_suite("live-registry-auth")) {
  REQUIRE_MESSAGE(!env("SLIMAGE_TEST_REGISTRY_CREDS").empty(),
                  "SLIMAGE_TEST_REGISTRY_CREDS is set by tests/e2e/registry_roundtrip.sh");
  auto options = options_from_env();
  options.creds = "intruder:guess-me";
  auto source = open_source(docker_ref("roundtrip/app", "1"), options);
  try {
    source->root();
    FAIL("expected an authentication error");
  } catch (const Error& e) {
    std::string message = e.what();
    CHECK(message.find("unauthorized") != std::string::npos);
    CHECK(message.find("were rejected") != std::string::npos);
    CHECK(message.find("guess-me") == std::string::npos);
  }
  options.creds.clear();
  auto anonymous = open_source(docker_ref("roundtrip/app", "1"), options);
  CHECK_THROWS_WITH_AS(anonymous->root(), doctest::Contains("no credentials for"), Error);
}

// fixtures/registry/fake_token_registry.py: Bearer tokens, blobs redirected to
// another host that refuses any Authorization header.
TEST_CASE("registry: pulls with a Bearer token through a storage redirect" *
          doctest::test_suite("live-bearer")) {
  std::string host = env("SLIMAGE_TEST_BEARER_REGISTRY");
  REQUIRE_MESSAGE(!host.empty(), "SLIMAGE_TEST_BEARER_REGISTRY is set by tests/e2e/registry_bearer.sh");
  TransportOptions options;
  options.creds = env("SLIMAGE_TEST_BEARER_CREDS");
  options.tls_verify = false;
  auto source = open_source(ImageRef{Transport::Docker, host + "/app", "1"}, options);
  RootManifest root = source->root();
  std::vector<Descriptor> manifests;
  if (media_type::is_index(root.media_type)) {
    for (auto& m : nlohmann::json::parse(root.bytes)["manifests"])
      manifests.push_back(Descriptor::from_json(m, "index"));
  } else {
    manifests.push_back(Descriptor{root.media_type, root.digest, int64_t(root.bytes.size())});
  }
  size_t blobs = 0;
  for (auto& m : manifests) {
    auto manifest = nlohmann::json::parse(read_whole(*source, m));
    std::vector<Descriptor> wanted{Descriptor::from_json(manifest["config"], "config")};
    for (auto& l : manifest["layers"]) wanted.push_back(Descriptor::from_json(l, "layer"));
    for (auto& d : wanted) {
      auto in = source->open_blob(d);
      CHECK(read_all(*in).size() == static_cast<size_t>(d.size));  // verified at the end
      blobs++;
    }
  }
  CHECK(blobs >= 2);

  options.creds = "intruder:guess-me";
  auto wrong = open_source(ImageRef{Transport::Docker, host + "/app", "1"}, options);
  try {
    wrong->root();
    FAIL("expected the token server to refuse");
  } catch (const Error& e) {
    std::string message = e.what();
    CHECK(message.find("token server") != std::string::npos);
    CHECK(message.find("were rejected") != std::string::npos);
    CHECK(message.find("guess-me") == std::string::npos);
  }
}
