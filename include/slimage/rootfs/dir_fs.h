// DirFs: an FsView over a directory on the host (tests and `--rootfs DIR`).
// The tree is scanned once with lstat: symlinks are recorded, never followed,
// and nothing outside DIR is read. A second path to the same dev/ino becomes a
// Hardlink to the first path seen (scan order is sorted, so deterministic).
// mount() grafts another host directory at an image path, so tests can see
// /usr/local/cuda/lib64 as if it were inside an image without copying it.
#pragma once
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "slimage/rootfs/fs_view.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace slimage {

class DirFs : public FsView {
 public:
  // Unreadable entries become diagnostics; a missing host_dir is an Error.
  explicit DirFs(const std::string& host_dir, Diagnostics* diagnostics = nullptr);
  ~DirFs() override;

  // Scans host_dir (its realpath) and places it at image_dir, replacing
  // anything already there; missing parent directories are created (0755).
  void mount(std::string_view image_dir, const std::string& host_dir);

  const Node* lookup(std::string_view path) const override;
  std::vector<const Node*> list_dir(std::string_view dir) const override;
  void for_each(const std::function<void(const Node&)>& fn) const override;
  std::span<const uint8_t> content(const Node& node) const override;

  size_t size() const { return nodes_.size(); }

 private:
  struct Entry {
    Node node;
    std::string host;  // host path
  };
  void scan(const std::string& image_dir, const std::string& host_dir);
  void add_parents(const std::string& path);

  std::map<std::string, Entry, std::less<>> nodes_;
  std::map<std::string, std::vector<std::string>, std::less<>> children_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> inodes_;  // (dev, ino) -> first path
  Diagnostics* diagnostics_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::unique_ptr<MappedFile>> maps_;
};

}  // namespace slimage
