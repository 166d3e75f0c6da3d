// Tar members read in place (no extraction) and the verified blob staging the
// sinks share. Quirks: archives name members "./x" or "x" interchangeably, and
// `docker save` (before 25) stores a repeated layer as a symlink
// "../<id>/layer.tar"; both resolve here to one member's byte range.
// Spec: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
#include "archive_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"

namespace slimage {

const char kOciLayoutFile[] = "{\"imageLayoutVersion\":\"1.0.0\"}";

SharedFile::SharedFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(path + ": not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

SharedFile::~SharedFile() {
  if (fd_ >= 0) ::close(fd_);
}

size_t FileRangeReader::read(void* buf, size_t n) {
  if (pos_ >= end_) return 0;
  n = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
  for (;;) {
    ssize_t k = ::pread(file_->fd(), buf, n, static_cast<off_t>(pos_));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) fail(file_->path() + ": read: " + std::strerror(errno));
    pos_ += static_cast<uint64_t>(k);
    if (k == 0) pos_ = end_;  // file shorter than its tar header said
    return static_cast<size_t>(k);
  }
}

std::string normalize_member_path(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto p : parts) out += (out.empty() ? "" : "/") + std::string(p);
  return out;
}

TarIndex::TarIndex(const std::string& file) : file_(std::make_shared<SharedFile>(file)) {
  FileReader in(file);
  TarReader tar(in);
  TarEntry e;
  while (tar.next(e)) {
    std::string path = normalize_member_path(e.path);
    if (e.type == TarType::Regular) {
      members_[path] = {e.data_offset, e.size};
      symlinks_.erase(path);
    } else if (e.type == TarType::Symlink) {
      std::string dir = path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
      symlinks_[path] = normalize_member_path(e.link_target.starts_with("/")
                                                  ? e.link_target
                                                  : dir + "/" + e.link_target);
    } else if (e.type == TarType::Hardlink) {
      auto target = members_.find(normalize_member_path(e.link_target));
      if (target != members_.end()) members_[path] = target->second;
    }
  }
}

const TarIndex::Member* TarIndex::find(const std::string& path) const {
  std::string p = normalize_member_path(path);
  for (int hops = 0; hops < 8; ++hops) {
    if (auto m = members_.find(p); m != members_.end()) return &m->second;
    auto s = symlinks_.find(p);
    if (s == symlinks_.end()) return nullptr;
    p = s->second;
  }
  return nullptr;
}

std::unique_ptr<Reader> TarIndex::open(const Member& m) const {
  return std::make_unique<FileRangeReader>(file_, m.offset, m.size);
}

std::string BlobDir::path(const std::string& digest) const {
  return dir_ + "/" + digest.substr(digest.find(':') + 1);
}

namespace {
}  // namespace

void BlobDir::put_stream(const Descriptor& d, Reader& in) {
  std::string what = name_ + ": blob " + short_digest(d.digest);
  if (!is_valid_digest(d.digest)) fail(name_ + ": invalid digest \"" + d.digest + "\"");
  std::string tmp = dir_ + "/.tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
  try {
    VerifyingReader verified(std::make_unique<BorrowedReader>(in), what, d.digest, d.size);
    FileWriter out(tmp);
    copy_stream(verified, out);
    out.finish();
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  if (::rename(tmp.c_str(), path(d.digest).c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    fail(what + ": rename: " + std::strerror(e));
  }
  blobs_.insert(d.digest);
}

void BlobDir::put_file(const Descriptor& d, const std::string& file) {
  std::string what = name_ + ": blob " + short_digest(d.digest);
  if (!is_valid_digest(d.digest)) fail(name_ + ": invalid digest \"" + d.digest + "\"");
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) fail(what + ": " + file + ": " + std::strerror(errno));
  if (static_cast<int64_t>(st.st_size) != d.size)
    fail(what + ": " + file + " has " + std::to_string(st.st_size) + " bytes, descriptor says " +
         std::to_string(d.size));
  // An unnamed scratch file (ScratchFile, /proc/self/fd/N) is linked into
  // place where link(2) allows it, else copied; a named one is moved.
  const bool unnamed = file.starts_with("/proc/self/fd/");
  if (unnamed ? link_scratch_file(file, path(d.digest)) : ::rename(file.c_str(), path(d.digest).c_str()) == 0) {
    blobs_.insert(d.digest);
    return;
  }
  if (!unnamed && errno != EXDEV) fail(what + ": rename " + file + ": " + std::strerror(errno));
  FileReader in(file);
  put_stream(d, in);
}

nlohmann::json layout_index_entry(const RootManifest& root, const std::string& ref) {
  Descriptor d{root.media_type, root.digest, static_cast<int64_t>(root.bytes.size())};
  if (!ref.empty()) d.extra["annotations"][std::string(kRefNameAnnotation)] = ref;
  return d.to_json();
}

}  // namespace slimage
