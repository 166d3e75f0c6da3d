// The OCI layout directory sink ("oci:DIR[:REF]"), atomic at commit().
// Quirks: a new DIR is built whole in "DIR.slimage-tmp-XXXXXX" beside it and
// renamed into place; an existing layout gets its new blobs staged in
// blobs/sha256/.slimage-tmp-XXXXXX (renamed in at commit, invisible to readers
// until index.json names them) and index.json replaced atomically, with the
// entry holding the same ref.name annotation replaced. OCI 1.1 referrers
// (put_referrer) are listed after the root with no ref.name, as `oras attach
// --oci-layout` lists them; an entry of the same digest is listed once.
// Spec: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "archive_files.h"
#include "slimage/image/image.h"
#include "slimage/image/referrer.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage {

namespace {

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool dir_is_empty(const std::string& dir) {
  std::error_code ec;
  return std::filesystem::is_empty(dir, ec) && !ec;
}

void make_dirs(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail(dir + ": " + ec.message());
}

class OciSink : public Sink, public ReferrerSink {
 public:
  OciSink(std::string dir, std::string ref)
      : dir_(std::move(dir)), ref_(std::move(ref)), name_("oci:" + dir_ + (ref_.empty() ? "" : ":" + ref_)) {
    while (dir_.size() > 1 && dir_.ends_with("/")) dir_.pop_back();
    if (is_directory(dir_) && path_exists(dir_ + "/oci-layout")) {
      existing_ = true;
      make_dirs(dir_ + "/blobs/sha256");
      staging_ = std::make_unique<TempDir>(dir_ + "/blobs/sha256", ".slimage-tmp-");
      blobs_ = std::make_unique<BlobDir>(staging_->path(), name_);
      old_index_ = read_file(dir_ + "/index.json");
      parse_index_json(old_index_, name_ + ": index.json");  // refuse to extend a broken layout
    } else {
      if (path_exists(dir_) && !(is_directory(dir_) && dir_is_empty(dir_)))
        fail(name_ + ": exists and is not an OCI layout (refusing to overwrite it)");
      staging_ = std::make_unique<TempDir>(parent_dir(dir_), base_name(dir_) + ".slimage-tmp-");
      make_dirs(staging_->path() + "/blobs/sha256");
      blobs_ = std::make_unique<BlobDir>(staging_->path() + "/blobs/sha256", name_);
    }
  }

  std::string name() const override { return name_; }
  std::string staging_dir() const override { return staging_->path(); }

  bool has_blob(const std::string& digest) override {
    if (blobs_->has(digest)) return true;
    return existing_ && is_valid_digest(digest) && path_exists(final_blob(digest));
  }

  void put_blob_file(const Descriptor& d, const std::string& path) override {
    if (has_blob(d.digest)) return;
    blobs_->put_file(d, path);
  }

  void put_blob_stream(const Descriptor& d, Reader& in) override {
    if (has_blob(d.digest)) return;
    blobs_->put_stream(d, in);
  }

  void put_referrer(const Descriptor& manifest, const std::string& bytes, const std::string&) override {
    put_blob_bytes(manifest, bytes);
    referrers_.push_back(manifest.to_json());
  }

  void commit(const RootManifest& root) override {
    if (committed_) fail(name_ + ": committed twice");
    if (sha256_digest(root.bytes) != root.digest)
      fail(name_ + ": root bytes do not hash to " + short_digest(root.digest));
    put_blob_bytes({root.media_type, root.digest, static_cast<int64_t>(root.bytes.size())}, root.bytes);
    nlohmann::json entry = layout_index_entry(root, ref_);
    if (existing_) {
      for (auto& digest : blobs_->digests()) {
        if (::rename(blobs_->path(digest).c_str(), final_blob(digest).c_str()) != 0)
          fail(name_ + ": blob " + short_digest(digest) + ": rename: " + std::strerror(errno));
      }
      fsync_dir(dir_ + "/blobs/sha256");
      write_file_atomic(dir_ + "/index.json", merged_index(entry).dump());
      fsync_dir(dir_);
    } else {
      nlohmann::json manifests = nlohmann::json::array({entry});
      for (auto& r : referrers_) manifests.push_back(r);
      nlohmann::json index = {{"schemaVersion", 2},
                              {"mediaType", media_type::kOciIndex},
                              {"manifests", manifests}};
      write_file_atomic(staging_->path() + "/oci-layout", kOciLayoutFile);
      write_file_atomic(staging_->path() + "/index.json", index.dump());
      if (is_directory(dir_)) ::rmdir(dir_.c_str());  // the empty dir we were given
      // The staging dir's lock file (util/file.cpp: the next run sweeps a
      // staging dir whose lock nobody holds) is no part of the layout.
      ::unlink((staging_->path() + "/.slimage-lock").c_str());
      if (::rename(staging_->path().c_str(), dir_.c_str()) != 0)
        fail(name_ + ": rename into place: " + std::strerror(errno));
      staging_->release();
      fsync_dir(parent_dir(dir_));
    }
    committed_ = true;
    note_output_committed(name_);
  }

 private:
  std::string final_blob(const std::string& digest) const {
    return dir_ + "/blobs/sha256/" + digest.substr(7);
  }

  // The old index with the entry of the same ref (or, untagged, the same
  // digest) replaced by the new one, then the referrers (each listed once).
  nlohmann::json merged_index(const nlohmann::json& entry) {
    ParsedIndex old = parse_index_json(old_index_, name_ + ": index.json");
    nlohmann::json manifests = nlohmann::json::array();
    for (size_t i = 0; i < old.manifests.size(); ++i) {
      const Descriptor& d = old.manifests[i];
      std::string old_ref;
      if (auto a = d.extra.find("annotations"); a != d.extra.end() && a->is_object())
        if (auto r = a->find(std::string(kRefNameAnnotation)); r != a->end() && r->is_string())
          old_ref = r->get<std::string>();
      bool replaced = ref_.empty() ? (old_ref.empty() && d.digest == entry["digest"]) : old_ref == ref_;
      for (auto& r : referrers_) replaced = replaced || (old_ref.empty() && d.digest == r["digest"]);
      if (!replaced) manifests.push_back(old.json["manifests"][i]);
    }
    manifests.push_back(entry);
    for (auto& r : referrers_) manifests.push_back(r);
    old.json["manifests"] = std::move(manifests);
    return old.json;
  }

  std::string dir_, ref_, name_;
  bool existing_ = false, committed_ = false;
  std::string old_index_;
  std::vector<nlohmann::json> referrers_;  // index entries, in the order put
  std::unique_ptr<TempDir> staging_;
  std::unique_ptr<BlobDir> blobs_;
};

}  // namespace

std::unique_ptr<Sink> open_oci_sink(const std::string& dir, const std::string& ref) {
  return std::make_unique<OciSink>(dir, ref);
}

}  // namespace slimage
