// Tar sinks: "oci-archive:FILE[:REF]" (an OCI layout in a tar) and
// "docker-archive:FILE[:REF]" (the Docker 25+ `docker save` shape: the same
// layout plus manifest.json, which every `docker load` reads).
// Quirks: blobs are staged beside FILE and the tar is written there and
// renamed over FILE at commit, so FILE is never half-written. The tar is
// deterministic: fixed member order, mtime 0, uid/gid 0, modes 0644/0755.
// docker load takes one image per manifest.json entry, so an index root is
// reduced to its only image.
// Specs: https://github.com/opencontainers/image-spec/blob/main/image-layout.md,
// https://github.com/moby/moby/blob/master/image/spec/v1.2.md
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "archive_files.h"
#include "slimage/image/image.h"
#include "slimage/image/referrer.h"
#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage {

namespace {

std::string base_name(const std::string& path) {
  auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

class ArchiveSink : public Sink, public ReferrerSink {
 public:
  ArchiveSink(const char* transport, std::string file, std::string ref, bool docker)
      : file_(std::move(file)), ref_(std::move(ref)), docker_(docker),
        name_(transport + file_ + (ref_.empty() ? "" : ":" + ref_)) {
    if (is_directory(file_)) fail(name_ + ": is a directory");
    staging_ = std::make_unique<TempDir>(parent_dir(file_), base_name(file_) + ".slimage-tmp-");
    std::filesystem::create_directory(staging_->path() + "/blobs");
    blobs_ = std::make_unique<BlobDir>(staging_->path() + "/blobs", name_);
  }

  std::string name() const override { return name_; }
  std::string staging_dir() const override { return staging_->path(); }
  bool has_blob(const std::string& digest) override { return blobs_->has(digest); }

  void put_blob_file(const Descriptor& d, const std::string& path) override {
    if (!has_blob(d.digest)) blobs_->put_file(d, path);
  }
  void put_blob_stream(const Descriptor& d, Reader& in) override {
    if (!has_blob(d.digest)) blobs_->put_stream(d, in);
  }

  // An oci-archive lists referrers in its index.json as a layout does; docker
  // load would take them for images, so a docker-archive holds none.
  void put_referrer(const Descriptor& manifest, const std::string& bytes, const std::string&) override {
    if (docker_) fail(name_ + ": a docker archive cannot hold an OCI referrer (write to oci:, oci-archive: or docker://)");
    put_blob_bytes(manifest, bytes);
    referrers_.push_back(manifest.to_json());
  }

  void commit(const RootManifest& given_root) override {
    if (committed_) fail(name_ + ": committed twice");
    RootManifest root = docker_ ? single_image(given_root) : given_root;
    if (sha256_digest(root.bytes) != root.digest)
      fail(name_ + ": root bytes do not hash to " + short_digest(root.digest));
    put_blob_bytes({root.media_type, root.digest, static_cast<int64_t>(root.bytes.size())}, root.bytes);
    nlohmann::json manifests = nlohmann::json::array({layout_index_entry(root, ref_)});
    for (auto& r : referrers_) manifests.push_back(r);
    nlohmann::json index = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}, {"manifests", manifests}};
    std::string out = staging_->path() + "/out.tar";
    {
      FileWriter file(out);
      TarWriter tar(file);
      add_file(tar, "oci-layout", kOciLayoutFile);
      add_file(tar, "index.json", index.dump());
      if (docker_) add_file(tar, "manifest.json", docker_manifest(root));
      add_dir(tar, "blobs/");
      add_dir(tar, "blobs/sha256/");
      for (auto& digest : blobs_->digests()) add_blob(tar, digest);
      tar.finish();  // also finishes (fsyncs) the file
    }
    if (::rename(out.c_str(), file_.c_str()) != 0)
      fail(name_ + ": rename into place: " + std::strerror(errno));
    fsync_dir(parent_dir(file_));
    committed_ = true;
    note_output_committed(name_);
    staging_.reset();
  }

 private:
  static TarEntry entry(const std::string& path, TarType type, uint32_t mode, uint64_t size) {
    TarEntry e;
    e.path = path;
    e.type = type;
    e.mode = mode;
    e.size = size;
    return e;  // uid/gid/mtime 0, no user names
  }

  static void add_dir(TarWriter& tar, const std::string& path) {
    tar.add(entry(path, TarType::Directory, 0755, 0));
  }

  static void add_file(TarWriter& tar, const std::string& path, std::string_view data) {
    tar.add(entry(path, TarType::Regular, 0644, data.size()));
    tar.write_data(data.data(), data.size());
  }

  void add_blob(TarWriter& tar, const std::string& digest) {
    std::string path = blobs_->path(digest);
    FileReader in(path);
    uint64_t size = std::filesystem::file_size(path);
    tar.add(entry("blobs/sha256/" + digest.substr(7), TarType::Regular, 0644, size));
    char buf[65536];
    uint64_t done = 0;
    while (size_t n = in.read(buf, sizeof buf)) {
      if (done + n > size) fail(name_ + ": blob " + short_digest(digest) + " changed while writing");
      tar.write_data(buf, n);
      done += n;
    }
    if (done != size) fail(name_ + ": blob " + short_digest(digest) + " changed while writing");
  }

  std::string staged(const Descriptor& d) {
    if (!blobs_->has(d.digest)) fail(name_ + ": blob " + short_digest(d.digest) + " was never put");
    std::string bytes = read_file(blobs_->path(d.digest));
    if (sha256_digest(bytes) != d.digest) fail(name_ + ": blob " + short_digest(d.digest) + ": digest mismatch");
    return bytes;
  }

  RootManifest single_image(const RootManifest& root) {
    if (!media_type::is_index(root.media_type)) return root;
    std::vector<Descriptor> images;
    for (auto& d : parse_index_json(root.bytes, name_ + ": root index").manifests)
      if (media_type::is_manifest(d.media_type) && !is_attestation(d)) images.push_back(d);
    if (images.size() != 1)
      fail(name_ + ": a docker archive holds one image but the index has " +
           std::to_string(images.size()) + "; pick one with --platform");
    return {staged(images[0]), images[0].media_type, images[0].digest};
  }

  std::string docker_manifest(const RootManifest& root) {
    ParsedManifest m = parse_manifest_json(root.bytes, name_ + ": manifest");
    nlohmann::json layers = nlohmann::json::array();
    for (auto& l : m.layers) {
      if (!blobs_->has(l.digest)) fail(name_ + ": layer " + short_digest(l.digest) + " was never put");
      layers.push_back("blobs/sha256/" + l.digest.substr(7));
    }
    if (!blobs_->has(m.config.digest)) fail(name_ + ": config " + short_digest(m.config.digest) + " was never put");
    nlohmann::json image = {{"Config", "blobs/sha256/" + m.config.digest.substr(7)},
                            {"RepoTags", ref_.empty() ? nlohmann::json::array()
                                                      : nlohmann::json::array({ref_})},
                            {"Layers", layers}};
    return nlohmann::json::array({image}).dump();
  }

  std::string file_, ref_;
  bool docker_;
  std::string name_;
  bool committed_ = false;
  std::vector<nlohmann::json> referrers_;  // index entries, in the order put
  std::unique_ptr<TempDir> staging_;
  std::unique_ptr<BlobDir> blobs_;
};

}  // namespace

std::unique_ptr<Sink> open_oci_archive_sink(const std::string& file, const std::string& ref) {
  return std::make_unique<ArchiveSink>("oci-archive:", file, ref, false);
}

std::unique_ptr<Sink> open_docker_archive_sink(const std::string& file, const std::string& ref) {
  return std::make_unique<ArchiveSink>("docker-archive:", file, ref, true);
}

}  // namespace slimage
