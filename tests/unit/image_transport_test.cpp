// Unit tests for the file transports: layouts made by umoci and converted by
// skopeo are read by our sources, written by our sinks and read back by skopeo.
// Skips (with a message) where umoci or skopeo is not installed.
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "slimage/image/image.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"
#include "test_skip.h"

using namespace slimage;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

bool have_tools() {
  return slimage::test::have_tool("umoci") && slimage::test::have_tool("skopeo");
}

void sh(const std::string& cmd) {
  INFO(cmd);
  REQUIRE(std::system((cmd + " >/dev/null 2>&1").c_str()) == 0);
}

std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  REQUIRE(::pclose(p) == 0);
  return out;
}

// A scratch dir holding layout L with tags v1 and v2 (one small layer each).
struct Fixture {
  TempDir tmp{scratch_parent(), "slimage-image-test-"};
  std::string dir = tmp.path();
  std::string layout = dir + "/L";
  Fixture() {
    std::string rootless = ::getuid() == 0 ? "" : " --rootless";
    sh("cd " + dir + " && umoci init --layout L && umoci new --image L:v1 && echo hi > hello && umoci insert" +
       rootless + " --image L:v1 hello /etc/hello && umoci new --image L:v2 && umoci insert" + rootless +
       " --image L:v2 hello /etc/other");
  }
  std::string path(const std::string& name) const { return dir + "/" + name; }
};

std::string error_of(auto&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Copies the one image of `source` to `sink` unchanged and commits.
ImageManifest copy_image(Source& source, Sink& sink) {
  auto images = load_images(source, std::nullopt);
  REQUIRE(images.size() == 1);
  const ImageManifest& image = images[0];
  for (auto& l : image.layers) {
    auto in = source.open_blob(l);
    sink.put_blob_stream(l, *in);
  }
  sink.put_blob_bytes(image.config_descriptor, source.read_blob(image.config_descriptor));
  RootManifest root{image.manifest_bytes, image.descriptor.media_type, image.descriptor.digest};
  sink.commit(root);
  return image;
}

std::string file_bytes(const std::string& path) { return read_file(path); }

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("image: oci source reads a umoci layout by ref" * doctest::skip(!have_tools())) {
  Fixture f;
  auto source = open_oci_source(f.layout, "v1");
  auto images = load_images(*source, std::nullopt);
  REQUIRE(images.size() == 1);
  CHECK(images[0].layers.size() == 1);
  CHECK(images[0].diff_ids.size() == 1);
  CHECK(json::parse(capture("skopeo inspect --raw oci:" + f.layout + ":v1")) == images[0].manifest);
  CHECK(!source->blob_path(images[0].layers[0]).empty());
  CHECK(contains(error_of([&] { open_oci_source(f.layout, ""); }), "available: v1, v2"));
  CHECK(contains(error_of([&] { open_oci_source(f.layout, "nope"); }), "no image named \"nope\""));
  CHECK(contains(error_of([&] { open_oci_source(f.dir, ""); }), "not an OCI image layout"));
}

TEST_CASE("image: oci-archive and docker-archive sources match the layout" * doctest::skip(!have_tools())) {
  Fixture f;
  sh("skopeo copy oci:" + f.layout + ":v1 oci-archive:" + f.path("o.tar") + ":v1");
  sh("skopeo copy oci:" + f.layout + ":v1 docker-archive:" + f.path("d.tar") + ":demo:v1");
  auto dir_image = load_images(*open_oci_source(f.layout, "v1"), std::nullopt).at(0);

  auto archive = open_oci_archive_source(f.path("o.tar"), "v1");
  auto a = load_images(*archive, std::nullopt).at(0);
  CHECK(a.layers[0].digest == dir_image.layers[0].digest);
  CHECK(archive->blob_path(a.layers[0]).empty());
  CHECK(parse_image_ref(f.path("o.tar")).transport == Transport::OciArchive);
  CHECK(parse_image_ref(f.path("d.tar")).transport == Transport::DockerArchive);
  CHECK(parse_image_ref(f.layout).transport == Transport::Oci);

  for (std::string ref : {"demo:v1", "@0", ""}) {
    auto docker = open_docker_archive_source(f.path("d.tar"), ref);
    auto d = load_images(*docker, std::nullopt).at(0);
    CHECK(d.descriptor.media_type == media_type::kDockerManifest);
    CHECK(d.config_descriptor.digest == dir_image.config_descriptor.digest);
    REQUIRE(d.layers.size() == 1);
    CHECK(d.layers[0].media_type == media_type::kDockerLayer);  // skopeo stores it uncompressed
    CHECK(d.layers[0].digest == d.diff_ids[0]);
    auto in = docker->open_blob(d.layers[0]);
    CHECK(read_all(*in).size() == static_cast<size_t>(d.layers[0].size));
  }
  CHECK(contains(error_of([&] { open_docker_archive_source(f.path("d.tar"), "demo:v9"); }),
                 "no image tagged \"demo:v9\" (available: docker.io/library/demo:v1)"));
}

TEST_CASE("image: each sink's output is read back by skopeo" * doctest::skip(!have_tools())) {
  Fixture f;
  auto source = open_oci_source(f.layout, "v1");

  auto oci = open_oci_sink(f.path("out"), "slim");
  ImageManifest image = copy_image(*source, *oci);
  CHECK(json::parse(capture("skopeo inspect --raw oci:" + f.path("out") + ":slim")) == image.manifest);
  sh("skopeo copy oci:" + f.path("out") + ":slim oci:" + f.path("check1") + ":x");

  auto oci_archive = open_oci_archive_sink(f.path("out.tar"), "slim");
  copy_image(*source, *oci_archive);
  sh("skopeo copy oci-archive:" + f.path("out.tar") + ":slim oci:" + f.path("check2") + ":x");

  auto docker = open_docker_archive_sink(f.path("docker.tar"), "slim:1");
  copy_image(*source, *docker);
  sh("skopeo copy docker-archive:" + f.path("docker.tar") + " oci:" + f.path("check3") + ":x");
  sh("skopeo copy docker-archive:" + f.path("docker.tar") + ":slim:1 oci:" + f.path("check4") + ":x");
  CHECK(json::parse(capture("tar xOf " + f.path("docker.tar") + " manifest.json"))[0]["RepoTags"][0] == "slim:1");
  // Our own docker-archive reader takes the output too.
  auto back = load_images(*open_docker_archive_source(f.path("docker.tar"), "slim:1"), std::nullopt);
  CHECK(back.at(0).config_descriptor.digest == image.config_descriptor.digest);
}

TEST_CASE("image: oci sink adds a tag to an existing layout" * doctest::skip(!have_tools())) {
  Fixture f;
  {
    auto source = open_oci_source(f.layout, "v1");
    auto sink = open_oci_sink(f.layout, "v3");
    copy_image(*source, *sink);
  }
  json index = json::parse(file_bytes(f.layout + "/index.json"));
  CHECK(index["manifests"].size() == 3);
  CHECK(json::parse(capture("skopeo inspect --raw oci:" + f.layout + ":v3")) ==
        json::parse(capture("skopeo inspect --raw oci:" + f.layout + ":v1")));
  for (auto& name : entries(f.layout + "/blobs/sha256")) CHECK(!name.starts_with("."));
  CHECK(contains(error_of([&] { open_oci_sink(f.dir, "x"); }), "is not an OCI layout"));
}

TEST_CASE("image: a sink destroyed without commit leaves nothing" * doctest::skip(!have_tools())) {
  Fixture f;
  auto before = entries(f.dir);
  auto layout_before = entries(f.layout + "/blobs/sha256");
  std::string index_before = file_bytes(f.layout + "/index.json");
  auto source = open_oci_source(f.layout, "v1");
  auto image = load_images(*source, std::nullopt).at(0);
  std::string cfg = source->read_blob(image.config_descriptor);
  Descriptor extra{std::string(media_type::kOciLayer), sha256_digest("fresh"), 5};
  {
    auto a = open_oci_sink(f.path("new"), "t");
    auto b = open_oci_archive_sink(f.path("new.tar"), "t");
    auto c = open_docker_archive_sink(f.path("new-docker.tar"), "t");
    auto d = open_oci_sink(f.layout, "t");
    for (Sink* s : {a.get(), b.get(), c.get(), d.get()}) {
      s->put_blob_bytes(image.config_descriptor, cfg);
      s->put_blob_bytes(extra, "fresh");
      CHECK(s->has_blob(extra.digest));
    }
  }
  CHECK(entries(f.dir) == before);
  CHECK(entries(f.layout + "/blobs/sha256") == layout_before);
  CHECK(file_bytes(f.layout + "/index.json") == index_before);
}

TEST_CASE("image: archive sinks are deterministic" * doctest::skip(!have_tools())) {
  Fixture f;
  auto source = open_oci_source(f.layout, "v2");
  for (int i = 0; i < 2; ++i) {
    auto a = open_oci_archive_sink(f.path("o" + std::to_string(i) + ".tar"), "t");
    copy_image(*source, *a);
    auto d = open_docker_archive_sink(f.path("d" + std::to_string(i) + ".tar"), "t:1");
    copy_image(*source, *d);
  }
  CHECK(file_bytes(f.path("o0.tar")) == file_bytes(f.path("o1.tar")));
  CHECK(file_bytes(f.path("d0.tar")) == file_bytes(f.path("d1.tar")));
  CHECK(capture("tar tvf " + f.path("o0.tar") + " | awk '{print $1, $2, $4, $5}' | sort -u | head -3") ==
        "-rw-r--r-- 0/0 1970-01-01 00:00\ndrwxr-xr-x 0/0 1970-01-01 00:00\n");
}

TEST_CASE("image: damaged layouts are clear errors" * doctest::skip(!have_tools())) {
  Fixture f;
  auto image = load_images(*open_oci_source(f.layout, "v1"), std::nullopt).at(0);
  auto blob = [&](const Descriptor& d) { return f.layout + "/blobs/sha256/" + d.digest.substr(7); };
  auto reread_layer = [&] {
    auto s = open_oci_source(f.layout, "v1");
    auto in = s->open_blob(image.layers[0]);
    read_all(*in);
  };
  std::string layer = file_bytes(blob(image.layers[0]));

  std::string flipped = layer;
  flipped[flipped.size() / 2] ^= 0x20;
  write_file_atomic(blob(image.layers[0]), flipped);
  CHECK(contains(error_of(reread_layer), "blob " + short_digest(image.layers[0].digest) + ": digest mismatch"));

  write_file_atomic(blob(image.layers[0]), layer.substr(0, 10));
  CHECK(contains(error_of(reread_layer), "truncated"));

  fs::remove(blob(image.config_descriptor));
  CHECK(error_of([&] { load_images(*open_oci_source(f.layout, "v1"), std::nullopt); }) ==
        "oci:" + f.layout + ":v1: blob " + short_digest(image.config_descriptor.digest) + ": missing");

  // A manifest that is not JSON, correctly indexed.
  std::string garbage = "this is not json";
  write_file_atomic(f.layout + "/blobs/sha256/" + sha256_digest(garbage).substr(7), garbage);
  json index = json::parse(file_bytes(f.layout + "/index.json"));
  index["manifests"][0]["digest"] = sha256_digest(garbage);
  index["manifests"][0]["size"] = garbage.size();
  write_file_atomic(f.layout + "/index.json", index.dump());
  CHECK(contains(error_of([&] { load_images(*open_oci_source(f.layout, "v1"), std::nullopt); }), "not valid JSON"));

  index["manifests"][0]["mediaType"] = media_type::kOciLayer;
  write_file_atomic(f.layout + "/index.json", index.dump());
  CHECK(contains(error_of([&] { load_images(*open_oci_source(f.layout, "v1"), std::nullopt); }),
                 "not an image index or manifest"));

  CHECK(contains(error_of([&] { load_images(*open_oci_source(f.layout, "v2"), Platform::parse("linux/s390x")); }),
                 ", not linux/s390x"));
}

TEST_CASE("image: sinks verify what they are given" * doctest::skip(!have_tools())) {
  Fixture f;
  auto sink = open_oci_archive_sink(f.path("x.tar"), "");
  Descriptor d{std::string(media_type::kOciLayer), sha256_digest("right"), 5};
  CHECK(contains(error_of([&] { sink->put_blob_bytes(d, "wrong"); }), "digest mismatch"));
  CHECK_FALSE(sink->has_blob(d.digest));
  std::string staged = f.path("staged");
  write_file_atomic(staged, "right");
  sink->put_blob_file(d, staged);
  CHECK(sink->has_blob(d.digest));
  CHECK_FALSE(path_exists(staged));  // moved, not copied
}
