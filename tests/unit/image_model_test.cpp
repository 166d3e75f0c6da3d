// Unit tests for the image model: descriptors, platforms, references, the
// JSON validators, load_images and make_root over an in-memory source.
#include <doctest/doctest.h>

#include <map>

#include "slimage/image/image.h"
#include "slimage/util/budget.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"

using namespace slimage;
using nlohmann::json;

namespace {

// A source whose blobs are strings in memory.
class MemorySource : public Source {
 public:
  std::string name() const override { return "mem:"; }
  RootManifest root() override { return root_; }
  std::unique_ptr<Reader> open_blob(const Descriptor& d) override {
    auto it = blobs_.find(d.digest);
    if (it == blobs_.end()) fail("mem:: blob " + short_digest(d.digest) + ": missing");
    return std::make_unique<VerifyingReader>(std::make_unique<MemoryReader>(it->second),
                                             "mem:: blob " + short_digest(d.digest), d.digest, d.size);
  }
  Descriptor add(std::string_view mt, std::string bytes) {
    Descriptor d{std::string(mt), sha256_digest(bytes), static_cast<int64_t>(bytes.size())};
    blobs_[d.digest] = std::move(bytes);
    return d;
  }
  std::map<std::string, std::string> blobs_;
  RootManifest root_;
};

std::string config_json(const std::string& arch, size_t layers) {
  json ids = json::array();
  for (size_t i = 0; i < layers; ++i) ids.push_back(sha256_digest("layer" + std::to_string(i)));
  return json{{"os", "linux"}, {"architecture", arch}, {"rootfs", {{"type", "layers"}, {"diff_ids", ids}}}}
      .dump();
}

Descriptor add_image(MemorySource& s, const std::string& arch, size_t config_layers = 1) {
  Descriptor cfg = s.add(media_type::kOciConfig, config_json(arch, config_layers));
  Descriptor layer = s.add(media_type::kOciLayerGzip, "layer-bytes-" + arch);
  json m = {{"schemaVersion", 2},
            {"mediaType", media_type::kOciManifest},
            {"config", cfg.to_json()},
            {"layers", json::array({layer.to_json()})}};
  Descriptor d = s.add(media_type::kOciManifest, m.dump());
  d.extra["platform"] = {{"os", "linux"}, {"architecture", arch}};
  return d;
}

void set_index(MemorySource& s, const std::vector<Descriptor>& entries) {
  json manifests = json::array();
  for (auto& e : entries) manifests.push_back(e.to_json());
  json index = {{"schemaVersion", 2},
                {"mediaType", media_type::kOciIndex},
                {"annotations", {{"org.example", "kept"}}},
                {"manifests", manifests}};
  std::string bytes = index.dump();
  s.root_ = {bytes, std::string(media_type::kOciIndex), sha256_digest(bytes)};
}

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("image: descriptor round-trips unknown fields") {
  json j = json::parse(R"({"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:)" +
                       std::string(64, 'a') +
                       R"(","size":7,"annotations":{"a":"b"},"urls":["u"],"platform":{"os":"linux"}})");
  Descriptor d = Descriptor::from_json(j, "t");
  CHECK(d.size == 7);
  CHECK(d.extra["annotations"]["a"] == "b");
  CHECK(d.to_json() == j);
}

TEST_CASE("image: descriptor rejects ill-typed fields") {
  std::string digest = "sha256:" + std::string(64, 'a');
  auto bad = [&](json j) { return error_of([&] { Descriptor::from_json(j, "where"); }); };
  CHECK(bad({{"digest", digest}, {"size", 1}}).find("no string mediaType") != std::string::npos);
  CHECK(bad({{"mediaType", "x"}, {"digest", "sha256:zz"}, {"size", 1}}).find("invalid digest") !=
        std::string::npos);
  CHECK(bad({{"mediaType", "x"}, {"digest", digest}, {"size", -1}}).find("negative") != std::string::npos);
  CHECK(bad({{"mediaType", "x"}, {"digest", digest}, {"size", 1.5}}).find("integer size") !=
        std::string::npos);
  CHECK(bad({{"mediaType", "x"}, {"digest", digest}, {"size", "1"}}).starts_with("where: "));
  CHECK(bad(json::array()).find("not a JSON object") != std::string::npos);
}

TEST_CASE("image: platform parse, print and match") {
  CHECK(Platform::parse("linux/arm64/v8").to_string() == "linux/arm64/v8");
  CHECK(Platform::parse("linux/amd64").variant.empty());
  CHECK_THROWS_AS(Platform::parse("linux"), Error);
  CHECK_THROWS_AS(Platform::parse("a/b/c/d"), Error);
  Platform arm{"linux", "arm64", ""};
  CHECK(arm.matches(Platform::parse("linux/arm64/v8")));
  CHECK(arm.matches(Platform::parse("linux/arm64")));
  CHECK_FALSE(arm.matches(Platform::parse("linux/amd64")));
  CHECK(Platform{"linux", "arm", "v7"}.matches(Platform{"", "arm", ""}));
  CHECK_FALSE(Platform{"linux", "arm", "v6"}.matches(Platform::parse("linux/arm/v7")));
}

TEST_CASE("image: references in skopeo syntax") {
  ImageRef r = parse_image_ref("oci:/x/img:latest");
  CHECK(r.transport == Transport::Oci);
  CHECK(r.path == "/x/img");
  CHECK(r.ref == "latest");
  CHECK(r.to_string() == "oci:/x/img:latest");
  r = parse_image_ref("docker-archive:/t/x.tar:repo:tag");
  CHECK(r.transport == Transport::DockerArchive);
  CHECK(r.path == "/t/x.tar");
  CHECK(r.ref == "repo:tag");
  r = parse_image_ref("oci-archive:/t/o.tar");
  CHECK(r.transport == Transport::OciArchive);
  CHECK(r.ref.empty());
  r = parse_image_ref("docker://alpine");
  CHECK(r.path == "docker.io/library/alpine");
  CHECK(r.ref == "latest");
  r = parse_image_ref("docker://localhost:5000/team/app:1.2");
  CHECK(r.path == "localhost:5000/team/app");
  CHECK(r.ref == "1.2");
  CHECK(r.to_string() == "docker://localhost:5000/team/app:1.2");
  std::string digest = "sha256:" + std::string(64, 'b');
  r = parse_image_ref("docker://ghcr.io/o/app:v1@" + digest);
  CHECK(r.path == "ghcr.io/o/app");
  CHECK(r.ref == "@" + digest);
  CHECK_THROWS_AS(parse_image_ref("docker://x@sha256:12"), Error);
  CHECK(parse_image_ref("/nonexistent/out.tar").transport == Transport::OciArchive);
  CHECK(parse_image_ref("/nonexistent/outdir").transport == Transport::Oci);
}

TEST_CASE("image: validators reject hostile JSON") {
  CHECK(error_of([] { parse_manifest_json("not json", "m"); }) == "m: not valid JSON");
  CHECK(error_of([] { parse_manifest_json("[]", "m"); }) == "m: not a JSON object");
  CHECK(error_of([] { parse_index_json(std::string(100, '['), "i"); }).find("nested deeper") !=
        std::string::npos);
  CHECK(error_of([] { parse_manifest_json(R"({"mediaType":"application/vnd.oci.image.index.v1+json"})", "m"); })
            .find("wrong media type") != std::string::npos);
  CHECK(error_of([] { parse_index_json(R"({"manifests":{}})", "i"); }).find("no manifests array") !=
        std::string::npos);
  CHECK(error_of([] { parse_config_json(R"({"rootfs":{"type":"layers","diff_ids":[1]}})", "c"); })
            .find("diff_ids[0]") != std::string::npos);
  CHECK(error_of([] { parse_config_json(R"({"os":5,"rootfs":{}})", "c"); }) == "c: os is not a string");
}

TEST_CASE("image: load_images selects a platform and skips attestations") {
  MemorySource s;
  Descriptor amd = add_image(s, "amd64"), arm = add_image(s, "arm64");
  Descriptor att = s.add(media_type::kOciManifest, "{}");
  att.extra["platform"] = {{"os", "unknown"}, {"architecture", "unknown"}};
  set_index(s, {amd, arm, att});
  auto all = load_images(s, std::nullopt);
  REQUIRE(all.size() == 2);
  auto only_arm = load_images(s, Platform::parse("linux/arm64"));
  REQUIRE(only_arm.size() == 1);
  CHECK(only_arm[0].descriptor.digest == arm.digest);
  CHECK(only_arm[0].diff_ids.size() == 1);
  CHECK(only_arm[0].platform.architecture == "arm64");
  CHECK(error_of([&] { load_images(s, Platform::parse("linux/s390x")); }) ==
        "mem:: index has no manifest for platform linux/s390x (available: linux/amd64, linux/arm64)");
}

TEST_CASE("image: diff_ids must match the layers") {
  MemorySource s;
  set_index(s, {add_image(s, "amd64", 2)});
  CHECK(error_of([&] { load_images(s, std::nullopt); }).find("rootfs.diff_ids has 2 entries") !=
        std::string::npos);
}

TEST_CASE("image: a corrupted blob is a digest mismatch") {
  MemorySource s;
  Descriptor d = add_image(s, "amd64");
  set_index(s, {d});
  s.blobs_[d.digest][0] ^= 1;
  CHECK(error_of([&] { load_images(s, std::nullopt); }).find("digest mismatch") != std::string::npos);
}

TEST_CASE("image: make_root keeps annotations and replaces digests") {
  MemorySource s;
  Descriptor amd = add_image(s, "amd64"), arm = add_image(s, "arm64");
  amd.extra["annotations"] = {{"x", "y"}};
  set_index(s, {amd, arm});
  auto images = load_images(s, Platform::parse("linux/amd64"));
  REQUIRE(images.size() == 1);
  Descriptor fresh{std::string(media_type::kOciManifest), sha256_digest("new"), 3};
  RootManifest root = make_root(s.root_, {{images[0], fresh}});
  json j = json::parse(root.bytes);
  CHECK(root.digest == sha256_digest(root.bytes));
  CHECK(j["annotations"]["org.example"] == "kept");
  REQUIRE(j["manifests"].size() == 1);
  CHECK(j["manifests"][0]["digest"] == fresh.digest);
  CHECK(j["manifests"][0]["annotations"]["x"] == "y");
  CHECK(j["manifests"][0]["platform"]["architecture"] == "amd64");
}

TEST_CASE("image: make_root of a manifest root is the new manifest") {
  MemorySource s;
  Descriptor d = add_image(s, "amd64");
  s.root_ = {s.blobs_[d.digest], d.media_type, d.digest};
  auto images = load_images(s, std::nullopt);
  REQUIRE(images.size() == 1);
  ImageManifest changed = images[0];
  changed.manifest_bytes = "{\"new\":1}";
  Descriptor fresh{d.media_type, sha256_digest(changed.manifest_bytes), 9};
  CHECK(make_root(s.root_, {{changed, fresh}}).bytes == changed.manifest_bytes);
  fresh.digest = sha256_digest("other");
  CHECK_THROWS_AS(make_root(s.root_, {{changed, fresh}}), Error);
}

TEST_CASE("image: a nested index listed again counts again against SLIMAGE_MAX_MANIFESTS") {
  MemorySource s;
  Descriptor amd = add_image(s, "amd64");
  json nested = {{"schemaVersion", 2},
                 {"mediaType", media_type::kOciIndex},
                 {"manifests", json::array({amd.to_json(), amd.to_json(), amd.to_json()})}};
  Descriptor inner = s.add(media_type::kOciIndex, nested.dump());
  set_index(s, {inner, inner, inner});  // 3 entries + 3 x 3 nested = 12 listed
  ::setenv("SLIMAGE_MAX_MANIFESTS", "12", 1);
  reset_budgets_for_test();
  CHECK(error_of([&] { load_images(s, Platform::parse("linux/amd64")); }) == "(no error)");
  ::setenv("SLIMAGE_MAX_MANIFESTS", "11", 1);
  reset_budgets_for_test();
  CHECK(error_of([&] { load_images(s, Platform::parse("linux/amd64")); }) ==
        "mem:: index: 12 manifests and indexes exceed the budget of 11 "
        "(raise it with SLIMAGE_MAX_MANIFESTS=N)");
  ::unsetenv("SLIMAGE_MAX_MANIFESTS");
  reset_budgets_for_test();
}

TEST_CASE("image: a manifest listing more layers than SLIMAGE_MAX_LAYERS is refused before any is read") {
  auto manifest = [](size_t n) {
    nlohmann::json layers = nlohmann::json::array();
    for (size_t i = 0; i < n; ++i)
      layers.push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"},
                        {"digest", "sha256:" + std::string(64, 'a')},
                        {"size", 1}});
    return nlohmann::json{{"schemaVersion", 2},
                          {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                          {"config", {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                                      {"digest", "sha256:" + std::string(64, 'b')},
                                      {"size", 2}}},
                          {"layers", layers}}
        .dump();
  };
  ::setenv("SLIMAGE_MAX_LAYERS", "3", 1);
  reset_budgets_for_test();
  CHECK(parse_manifest_json(manifest(3), "m").layers.size() == 3);
  CHECK(error_of([&] { parse_manifest_json(manifest(4), "m"); }) ==
        "m: 4 layers exceed the budget of 3 (raise it with SLIMAGE_MAX_LAYERS=N)");
  ::unsetenv("SLIMAGE_MAX_LAYERS");
  reset_budgets_for_test();
}
