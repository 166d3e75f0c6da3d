// DirFs: an FsView over a host directory (see include/slimage/rootfs/dir_fs.h).
// Quirks: entries are lstat'ed (a symlink to /etc/passwd is a link, never the
// host's file), hardlinks are detected by (st_dev, st_ino) so the view matches
// what a layer tar would record, and content is mmapped on first use and kept
// (guarded by a mutex, so parsing threads may share one view).
#include "slimage/rootfs/dir_fs.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>

namespace slimage {

static FileType type_of(mode_t mode) {
  if (S_ISDIR(mode)) return FileType::Directory;
  if (S_ISLNK(mode)) return FileType::Symlink;
  if (S_ISCHR(mode)) return FileType::CharDevice;
  if (S_ISBLK(mode)) return FileType::BlockDevice;
  if (S_ISFIFO(mode)) return FileType::Fifo;
  return FileType::Regular;
}

static std::string real_dir(const std::string& host_dir) {
  char buf[PATH_MAX];
  if (!::realpath(host_dir.c_str(), buf)) fail(host_dir + ": no such directory");
  if (!is_directory(buf)) fail(host_dir + ": not a directory");
  return buf;
}

DirFs::DirFs(const std::string& host_dir, Diagnostics* diagnostics) : diagnostics_(diagnostics) {
  scan("", real_dir(host_dir));
}

DirFs::~DirFs() = default;

void DirFs::add_parents(const std::string& path) {
  std::string dir = dirname_of(path);
  for (;;) {
    auto it = nodes_.find(dir);
    if (it == nodes_.end() || it->second.node.type != FileType::Directory) {
      Entry e;
      e.node.path = dir;
      e.node.type = FileType::Directory;
      e.node.mode = 0755;
      nodes_[dir] = std::move(e);
    }
    if (dir.empty()) break;
    dir = dirname_of(dir);
  }
}

void DirFs::mount(std::string_view image_dir, const std::string& host_dir) {
  std::string at = normalize_path(image_dir);
  std::string host = real_dir(host_dir);
  // Drop whatever was at `at` (a symlink or an older tree).
  if (!at.empty()) {
    nodes_.erase(at);
    std::string prefix = at + "/";
    auto it = nodes_.lower_bound(prefix);
    while (it != nodes_.end() && it->first.compare(0, prefix.size(), prefix) == 0)
      it = nodes_.erase(it);
    add_parents(at);
  }
  scan(at, host);
}

// Recursive scan; `image_dir` is normalized ("" for the root), `host_dir` a real path.
void DirFs::scan(const std::string& image_dir, const std::string& host_dir) {
  struct Item {
    std::string image, host;
  };
  std::vector<Item> todo{{image_dir, host_dir}};
  while (!todo.empty()) {
    Item item = std::move(todo.back());
    todo.pop_back();
    struct stat st;
    if (::lstat(item.host.c_str(), &st) != 0) {
      if (diagnostics_) diagnostics_->warn(item.image, "cannot lstat " + item.host);
      continue;
    }
    Entry e;
    Node& n = e.node;
    n.path = item.image;
    n.type = type_of(st.st_mode);
    n.mode = st.st_mode & 07777;
    n.uid = st.st_uid;
    n.gid = st.st_gid;
    n.mtime = st.st_mtim.tv_sec;
    n.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
    e.host = item.host;
    if (n.type == FileType::Regular) {
      n.size = static_cast<uint64_t>(st.st_size);
      auto key = std::make_pair(static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino));
      auto [it, fresh] = inodes_.emplace(key, n.path);
      if (!fresh && it->second != n.path && nodes_.count(it->second)) {
        n.type = FileType::Hardlink;
        n.link_target = it->second;
      }
    } else if (n.type == FileType::Symlink) {
      std::string target(static_cast<size_t>(st.st_size) + 256, '\0');
      ssize_t len = ::readlink(item.host.c_str(), target.data(), target.size());
      if (len < 0) {
        if (diagnostics_) diagnostics_->warn(item.image, "cannot read symlink " + item.host);
        continue;
      }
      target.resize(static_cast<size_t>(len));
      n.link_target = std::move(target);
    } else if (n.type == FileType::CharDevice || n.type == FileType::BlockDevice) {
      n.dev_major = major(st.st_rdev);
      n.dev_minor = minor(st.st_rdev);
    }
    bool dir = n.type == FileType::Directory;
    nodes_[item.image] = std::move(e);
    if (!dir) continue;
    DIR* d = ::opendir(item.host.c_str());
    if (!d) {
      if (diagnostics_) diagnostics_->warn(item.image, "cannot read directory " + item.host);
      continue;
    }
    std::vector<std::string> names;
    while (dirent* de = ::readdir(d)) {
      std::string name = de->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    // Reverse-sorted onto a stack: visited in sorted order, so the first
    // path of a hardlink set is the smallest one.
    std::sort(names.rbegin(), names.rend());
    for (auto& name : names)
      todo.push_back({item.image.empty() ? name : item.image + "/" + name, item.host + "/" + name});
  }
  children_.clear();
  for (auto& [path, entry] : nodes_)
    if (!path.empty()) children_[dirname_of(path)].push_back(path);
}

const Node* DirFs::lookup(std::string_view path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : &it->second.node;
}

std::vector<const Node*> DirFs::list_dir(std::string_view dir) const {
  std::vector<const Node*> out;
  auto it = children_.find(dir);
  if (it == children_.end()) return out;
  for (auto& p : it->second) out.push_back(&nodes_.find(p)->second.node);
  return out;
}

void DirFs::for_each(const std::function<void(const Node&)>& fn) const {
  for (auto& [path, entry] : nodes_) fn(entry.node);
}

std::span<const uint8_t> DirFs::content(const Node& node) const {
  if (!node.is_file()) return {};
  auto it = nodes_.find(node.path);
  if (it == nodes_.end()) return {};
  std::lock_guard lock(mu_);
  auto& slot = maps_[node.path];
  if (!slot) {
    try {
      slot = std::make_unique<MappedFile>(it->second.host);
    } catch (const Error& e) {
      if (diagnostics_) diagnostics_->warn(node.path, e.what());
      slot = std::make_unique<MappedFile>();
    }
  }
  return slot->bytes();
}

}  // namespace slimage
