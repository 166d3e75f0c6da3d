// Internal to src/image: reading members of an uncompressed tar in place, and
// the blob staging shared by the sinks.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "slimage/image/image.h"
#include "slimage/util/io.h"

namespace slimage {

// An open file shared by many range readers (closed with the last of them).
class SharedFile {
 public:
  explicit SharedFile(const std::string& path);
  ~SharedFile();
  SharedFile(const SharedFile&) = delete;
  SharedFile& operator=(const SharedFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  int fd_ = -1;
  std::string path_;
  uint64_t size_ = 0;
};

// Reads [offset, offset+size) of a file with pread; ends early (short) if
// the file does, which the VerifyingReader above it reports as truncation.
class FileRangeReader : public Reader {
 public:
  FileRangeReader(std::shared_ptr<SharedFile> file, uint64_t offset, uint64_t size)
      : file_(std::move(file)), pos_(offset), end_(offset + size) {}
  size_t read(void* buf, size_t n) override;

 private:
  std::shared_ptr<SharedFile> file_;
  uint64_t pos_, end_;
};

// Regular members of a tar file, by normalized path ("./a//b" -> "a/b");
// symlinks are followed (docker save links repeated layer.tar files).
class TarIndex {
 public:
  explicit TarIndex(const std::string& file);
  struct Member {
    uint64_t offset = 0, size = 0;
  };
  // nullptr if absent.
  const Member* find(const std::string& path) const;
  std::unique_ptr<Reader> open(const Member& m) const;
  const std::string& file() const { return file_->path(); }

 private:
  std::shared_ptr<SharedFile> file_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::string> symlinks_;
};

std::string normalize_member_path(std::string_view path);

// A directory of blobs named by hex digest, filled by put_blob_*: writes go to
// a temp name and are renamed into place once verified.
class BlobDir {
 public:
  BlobDir(std::string dir, std::string sink_name) : dir_(std::move(dir)), name_(std::move(sink_name)) {}
  const std::string& dir() const { return dir_; }
  std::string path(const std::string& digest) const;
  bool has(const std::string& digest) const { return blobs_.count(digest) != 0; }
  const std::set<std::string>& digests() const { return blobs_; }
  void put_file(const Descriptor& d, const std::string& path);
  void put_stream(const Descriptor& d, Reader& in);

 private:
  std::string dir_, name_;
  std::set<std::string> blobs_;
  unsigned counter_ = 0;
};

// The index.json an OCI layout publishes `root` under, tagged `ref` if given.
nlohmann::json layout_index_entry(const RootManifest& root, const std::string& ref);
extern const char kOciLayoutFile[];  // {"imageLayoutVersion":"1.0.0"}

}  // namespace slimage
