// DiskLayerCache (include/slimage/rewrite/layer_cache.h): rewritten layer
// blobs by fingerprint, one directory per entry, published by rename(2) so a
// concurrent reader (another thread, another pod on a shared volume) never
// sees half an entry. Blobs are hardlinked in and out where the filesystem
// allows (content-addressed, never modified in place), else copied.
// The cache only saves work: a store that fails is a warning, a bad entry a miss.
#include "slimage/rewrite/layer_cache.h"

#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage {

namespace fs = std::filesystem;

namespace {

bool valid_key(const std::string& key) {
  if (key.size() != 64) return false;
  for (char c : key)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// `to` must not exist yet or is replaced.
void link_or_copy(const std::string& from, const std::string& to) {
  std::error_code ec;
  fs::remove(to, ec);
  if (link_scratch_file(from, to)) return;  // `from` may be an unnamed staged file

  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) fail(from + ": cannot copy to " + to + ": " + ec.message());
}

std::string file_digest(const std::string& path) {
  FileReader in(path);
  Sha256 sha;
  char buf[1 << 16];
  while (size_t n = in.read(buf, sizeof buf)) sha.update(buf, n);
  return sha.digest();
}

}  // namespace

void DiskLayerCache::warn_once(std::string where, std::string message) {
  std::call_once(warned_, [&] { warnings_.warn(std::move(where), std::move(message)); });
}

LayerCache::Claim::Claim(LayerCache& cache, std::string key) : cache_(cache), key_(std::move(key)) {
  std::unique_lock lock(cache_.claims_mu_);
  cache_.claims_cv_.wait(lock, [&] { return !cache_.claimed_.count(key_); });
  cache_.claimed_.insert(key_);
}

LayerCache::Claim::~Claim() {
  {
    std::lock_guard lock(cache_.claims_mu_);
    cache_.claimed_.erase(key_);
  }
  cache_.claims_cv_.notify_all();
}

DiskLayerCache::DiskLayerCache(std::string dir) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !is_directory(dir_)) fail("layer cache " + dir_ + ": cannot create: " + ec.message());
}

std::string DiskLayerCache::default_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/slimage/layers";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/slimage/layers";
  fail("layer cache: neither XDG_CACHE_HOME nor HOME is set (use --cache DIR or --no-cache)");
}

std::string DiskLayerCache::entry_dir(const std::string& key) const {
  if (!valid_key(key)) fail("layer cache " + dir_ + ": bad key '" + key + "'");
  return dir_ + "/" + key;
}

// Moves the entry aside first (rename is atomic) so that a concurrent store
// can publish a good one while the bad one is being removed.
void DiskLayerCache::discard(const std::string& entry, const std::string& why) {
  corrupt_++;
  std::string aside = entry + ".bad-" + std::to_string(::getpid()) + "-" +
                      std::to_string(reinterpret_cast<uintptr_t>(&why));
  if (::rename(entry.c_str(), aside.c_str()) == 0) remove_tree(aside);
  warn_once("layer cache " + entry, why + "; removed, the layer is rewritten");
}

std::optional<LayerOutput> DiskLayerCache::find(const std::string& key) {
  std::string entry = entry_dir(key);
  if (!is_directory(entry)) {
    misses_++;
    return std::nullopt;
  }
  LayerOutput out;
  std::string blob = entry + "/blob";
  try {
    auto meta = nlohmann::json::parse(read_file(entry + "/meta.json"));
    if (meta.value("version", 0) != 1) fail("unknown meta.json version");
    out.descriptor.media_type = meta.at("media_type").get<std::string>();
    out.descriptor.digest = meta.at("digest").get<std::string>();
    out.descriptor.size = meta.at("size").get<int64_t>();
    out.diff_id = meta.at("diff_id").get<std::string>();
    out.uncompressed_size = meta.at("uncompressed_size").get<uint64_t>();
    out.entries = meta.at("entries").get<uint64_t>();
    if (!is_valid_digest(out.descriptor.digest) || !is_valid_digest(out.diff_id))
      fail("meta.json: invalid digest");
    std::error_code ec;
    auto size = fs::file_size(blob, ec);
    if (ec) fail("blob: " + ec.message());
    if (static_cast<int64_t>(size) != out.descriptor.size)
      fail("blob is " + std::to_string(size) + " bytes, meta.json says " +
           std::to_string(out.descriptor.size));
    // A size check misses a flipped byte; a sequential hash is cheap next to
    // re-encoding, and a bad blob would otherwise fail the sink's verification.
    if (file_digest(blob) != out.descriptor.digest) fail("blob does not hash to its digest");
  } catch (const std::exception& e) {
    misses_++;
    discard(entry, e.what());
    return std::nullopt;
  }
  out.staged_file = std::make_shared<ScratchFile>(ScratchFile::adopt(blob));
  out.staged_path = out.staged_file->path();
  hits_++;
  return out;
}

void DiskLayerCache::store(const std::string& key, const LayerOutput& output) {
  std::string entry = entry_dir(key);
  if (is_directory(entry)) return;  // another job or run stored it first
  try {
    TempDir temp(dir_, "." + key.substr(0, 12) + ".tmp-");
    link_or_copy(output.staged_path, temp.path() + "/blob");
    nlohmann::json meta = {{"version", 1},
                           {"media_type", output.descriptor.media_type},
                           {"digest", output.descriptor.digest},
                           {"size", output.descriptor.size},
                           {"diff_id", output.diff_id},
                           {"uncompressed_size", output.uncompressed_size},
                           {"entries", output.entries}};
    write_file_atomic(temp.path() + "/meta.json", meta.dump(2) + "\n");
    if (::rename(temp.path().c_str(), entry.c_str()) != 0) {
      // ENOTEMPTY/EEXIST: a concurrent store won; theirs is as good as ours.
      if (errno == ENOTEMPTY || errno == EEXIST) return;
      fail("rename: " + std::string(std::strerror(errno)));
    }
    temp.release();
    stores_++;
  } catch (const std::exception& e) {
    warn_once("layer cache " + dir_, std::string("cannot store a layer: ") + e.what());
  }
}

}  // namespace slimage
