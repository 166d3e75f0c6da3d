// DiskLayerCache (include/slimage/rewrite/layer_cache.h): a stored layer comes
// back byte for byte with its descriptor; entries appear whole or not at all;
// a damaged entry is a miss, removed so that the next store repairs it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "slimage/rewrite/layer_cache.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

using namespace slimage;

namespace {

const std::string kKey(64, 'a');

LayerOutput staged_layer(const std::string& dir, const std::string& bytes) {
  LayerOutput out;
  out.staged_path = dir + "/staged.blob";
  write_file_atomic(out.staged_path, bytes);
  out.descriptor = {"application/vnd.oci.image.layer.v1.tar+gzip", sha256_digest(bytes),
                    int64_t(bytes.size())};
  out.diff_id = sha256_digest("uncompressed " + bytes);
  out.uncompressed_size = 4096;
  out.entries = 3;
  return out;
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path().filename());
  return out;
}

}  // namespace

TEST_CASE("layer cache: store then find returns the same blob and descriptor") {
  TempDir tmp(scratch_parent(), "slimage-test-");
  DiskLayerCache cache(tmp.path() + "/cache");
  CHECK_FALSE(cache.find(kKey));
  LayerOutput in = staged_layer(tmp.path(), "blob bytes");
  cache.store(kKey, in);
  CHECK(cache.stores() == 1);
  CHECK(names_in(cache.dir()) == std::vector<std::string>{kKey});  // no temp left behind
  auto hit = cache.find(kKey);
  REQUIRE(hit);
  CHECK(hit->descriptor.digest == in.descriptor.digest);
  CHECK(hit->descriptor.size == in.descriptor.size);
  CHECK(hit->descriptor.media_type == in.descriptor.media_type);
  CHECK(hit->diff_id == in.diff_id);
  CHECK(hit->uncompressed_size == 4096);
  CHECK(hit->entries == 3);
  // Handed out as the cache's own file, opened read-only: a sink links it into
  // place (or copies it), and the cache keeps its entry.
  CHECK(hit->staged_path == "/proc/self/fd/" + std::to_string(hit->staged_file->fd()));
  CHECK(read_file(hit->staged_path) == "blob bytes");
  REQUIRE(link_scratch_file(hit->staged_path, tmp.path() + "/in-sink.blob"));
  CHECK(read_file(tmp.path() + "/in-sink.blob") == "blob bytes");
  hit.reset();
  CHECK(cache.find(kKey));
  CHECK(cache.hits() == 2);
}

TEST_CASE("layer cache: a second store of a key keeps the first entry") {
  TempDir tmp(scratch_parent(), "slimage-test-");
  DiskLayerCache cache(tmp.path() + "/cache");
  cache.store(kKey, staged_layer(tmp.path(), "first"));
  cache.store(kKey, staged_layer(tmp.path(), "second"));
  CHECK(cache.stores() == 1);
  CHECK(read_file(cache.dir() + "/" + kKey + "/blob") == "first");
  CHECK(names_in(cache.dir()).size() == 1);
}

TEST_CASE("layer cache: an entry without meta.json (a crash mid-store) is not visible") {
  // A store writes into a temp dir and renames it: a crashed one leaves only
  // the temp dir, which find() never looks at.
  TempDir tmp(scratch_parent(), "slimage-test-");
  DiskLayerCache cache(tmp.path() + "/cache");
  std::filesystem::create_directories(cache.dir() + "/." + kKey.substr(0, 12) + ".tmp-abc");
  write_file_atomic(cache.dir() + "/." + kKey.substr(0, 12) + ".tmp-abc/blob", "partial");
  CHECK_FALSE(cache.find(kKey));
  // A half entry under the real name (not made by slimage) is a miss too, and repaired.
  std::filesystem::create_directories(cache.dir() + "/" + kKey);
  write_file_atomic(cache.dir() + "/" + kKey + "/blob", "partial");
  CHECK_FALSE(cache.find(kKey));
  CHECK_FALSE(path_exists(cache.dir() + "/" + kKey));
  CHECK(cache.corrupt() == 1);
  cache.store(kKey, staged_layer(tmp.path(), "whole"));
  CHECK(cache.find(kKey));
}

TEST_CASE("layer cache: a damaged blob or meta.json is a miss and the entry is removed") {
  TempDir tmp(scratch_parent(), "slimage-test-");
  DiskLayerCache cache(tmp.path() + "/cache");
  std::string blob = cache.dir() + "/" + kKey + "/blob";
  std::string meta = cache.dir() + "/" + kKey + "/meta.json";
  SUBCASE("truncated blob") {
    cache.store(kKey, staged_layer(tmp.path(), "0123456789"));
    std::filesystem::remove(blob);  // not truncate in place: the staged file may share the inode
    write_file_atomic(blob, "01234");
  }
  SUBCASE("same size, other bytes") {
    cache.store(kKey, staged_layer(tmp.path(), "0123456789"));
    std::filesystem::remove(blob);
    write_file_atomic(blob, "0123456780");
  }
  SUBCASE("meta.json not JSON") {
    cache.store(kKey, staged_layer(tmp.path(), "0123456789"));
    write_file_atomic(meta, "{not json");
  }
  SUBCASE("meta.json without a field") {
    cache.store(kKey, staged_layer(tmp.path(), "0123456789"));
    write_file_atomic(meta, R"({"version": 1, "digest": "sha256:00"})");
  }
  CHECK_FALSE(cache.find(kKey));
  CHECK_FALSE(path_exists(cache.dir() + "/" + kKey));
  CHECK(cache.corrupt() == 1);
  CHECK(cache.hits() == 0);
  // Reported to the caller (batch shows it), never printed by the cache.
  auto warnings = cache.warnings();
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].where == "layer cache " + cache.dir() + "/" + kKey);
  CHECK(warnings[0].message.ends_with("; removed, the layer is rewritten"));
}

TEST_CASE("layer cache: keys that are not fingerprints are refused") {
  TempDir tmp(scratch_parent(), "slimage-test-");
  DiskLayerCache cache(tmp.path() + "/cache");
  CHECK_THROWS_AS(cache.find("../escape"), Error);
  CHECK_THROWS_AS(cache.find(std::string(64, 'A')), Error);
}

TEST_CASE("layer cache: a claimed key makes a second writer wait for the first's entry") {
  TempDir tmp(scratch_parent(), "slimage-cache-test-");
  DiskLayerCache cache(tmp.path() + "/cache");
  std::atomic<bool> second_in{false};
  std::optional<LayerOutput> second_found;
  std::thread second;
  {
    LayerCache::Claim first(cache, kKey);
    CHECK_FALSE(cache.find(kKey));
    second = std::thread([&] {
      LayerCache::Claim mine(cache, kKey);  // waits for `first`
      second_in = true;
      second_found = cache.find(kKey);
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK_FALSE(second_in.load());  // still waiting while the first holds the key
    cache.store(kKey, staged_layer(tmp.path(), "layer bytes"));
    LayerCache::Claim other(cache, std::string(64, 'b'));  // other keys do not wait
  }
  second.join();
  CHECK(second_in.load());
  REQUIRE(second_found);
  CHECK(second_found->descriptor.digest == sha256_digest("layer bytes"));
  CHECK(cache.stores() == 1);
}
