// A root filesystem seen as the container sees it: the merge of an image's
// layers (MergedFs) or a directory on the host (DirFs, for tests and
// `--rootfs`). Paths are normalized: relative to the root, no leading '/',
// no '.', '..' or empty components ("usr/lib/libz.so.1"; "" is the root).
// Symlinks are resolved inside the root: an absolute target starts at the
// root and '..' at the root stays there, as in a chroot.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slimage/util/interned.h"

namespace slimage {

enum class FileType : uint8_t { Regular, Directory, Symlink, Hardlink, CharDevice, BlockDevice, Fifo };

// A node's xattrs (name -> value, binary): most nodes have none and the
// rest repeat a few sets, so a set is interned like an owner name and costs
// one pointer (a std::map costs 48 bytes, empty or not). Thread-safe.
class XattrSet {
 public:
  using Map = std::map<std::string, std::string>;
  XattrSet() = default;
  XattrSet(const Map& map);  // NOLINT: implicit, as a map is assigned
  const Map& map() const;
  operator const Map&() const { return map(); }
  bool empty() const { return !map_; }
  friend bool operator==(const XattrSet& a, const XattrSet& b) { return a.map_ == b.map_; }

 private:
  const Map* map_ = nullptr;  // interned; null: none
};

// One path of the tree. A layer of a million files makes a million of these,
// held for the whole run: fields are ordered to pack, and what repeats
// (owner names, xattrs) is shared, not copied.
struct Node {
  std::string path;  // normalized
  std::string link_target;    // Symlink: as written; Hardlink: normalized path of the file it links to
  FileType type = FileType::Regular;
  uint16_t mode = 0;  // 07777 bits
  uint32_t uid = 0, gid = 0;
  InternedString uname, gname;
  int64_t mtime = 0;
  uint32_t mtime_nsec = 0;
  uint32_t dev_major = 0, dev_minor = 0;
  uint64_t size = 0;          // content bytes (Regular and Hardlink)
  XattrSet xattrs;
  // MergedFs only (0 for DirFs): the layer whose entry wrote this node and
  // that entry's header offset in the layer tar (UINT64_MAX for a directory
  // the merge created implicitly), and where the content lives: layer and
  // offset in that layer's spilled tar. A hardlink carries its target's
  // content location, so it survives the target's deletion.
  uint32_t layer = 0;
  uint32_t data_layer = 0;
  uint64_t entry_offset = 0;
  uint64_t data_offset = 0;
  bool is_file() const { return type == FileType::Regular || type == FileType::Hardlink; }
};

class Writer;
struct ElfSummary;

class FsView {
 public:
  virtual ~FsView() = default;
  // Exact lookup of a normalized path; symlinks are not followed. nullptr if absent.
  virtual const Node* lookup(std::string_view path) const = 0;
  // Direct children of a directory, sorted by path.
  virtual std::vector<const Node*> list_dir(std::string_view dir) const = 0;
  // Every node, sorted by path (a directory before its contents).
  virtual void for_each(const std::function<void(const Node&)>& fn) const = 0;
  // Content of a Regular or Hardlink node; empty span for anything else.
  // Valid as long as the view lives. Pages are read lazily (mmap).
  virtual std::span<const uint8_t> content(const Node& node) const = 0;
  // Low-disk mode (rootfs/sparse_spill.h): the sha256 digest ("sha256:…") of
  // a file whose content was not spilled, so content() would throw; nullptr
  // when content() can read it. Such a file is neither ELF nor a "#!" script,
  // unless elf_summary() holds what the analysis reads of it.
  virtual const std::string* unspilled_digest(const Node& node) const { return nullptr; }
  // Low-disk mode: the ELF facts pass 1 took from a big ELF file it then left
  // unspilled (rootfs/sparse_spill.h ElfSummary); nullptr for any other file.
  // Every reader of ELF content asks this first.
  virtual const ElfSummary* elf_summary(const Node& node) const { return nullptr; }
  // Done with this node's content for now: lets a view backed by mappings
  // drop the pages from this process (they stay in the page cache), so
  // resident memory does not grow with the image.
  virtual void release(const Node& node) const {}
  // The same for `length` bytes from `offset` of its content only: a big
  // file read front to back need not sit whole in resident memory.
  virtual void release_range(const Node& node, uint64_t offset, uint64_t length) const {}
  // The same for every node at once (pages the kernel mapped around reads).
  virtual void trim() const {}
  // Views showing the same bytes at the same node share this id (a
  // FilteredFs has its base's); any other view has its own, never reused.
  // Caches of facts parsed from content are keyed by it.
  virtual uint64_t content_id() const { return content_id_; }

  // Follows symlinks in every component (and in the last if follow_last),
  // at most 40 of them, never leaving the root. Returns nullptr if some
  // component is missing or not a directory, or on a loop. `resolved` gets the
  // normalized real path when given (also set, to the would-be path, on a miss).
  const Node* resolve(std::string_view path, bool follow_last = true,
                      std::string* resolved = nullptr) const;
  // The symlinks followed on the way to the file (normalized paths), in order.
  // Used to keep whole soname chains: libfoo.so.1 -> libfoo.so.1.2.3.
  std::vector<std::string> symlink_chain(std::string_view path) const;

 private:
  static uint64_t next_content_id();
  uint64_t content_id_ = next_content_id();
};

// Normalizes a path lexically: strips leading '/', collapses '//' and '.',
// applies '..' (clamped at the root).
std::string normalize_path(std::string_view path);
// True if normalize_path(path) == path (no allocation): "" and "a/b" are,
// "/a", "a/", "a//b", "./a" and "a/../b" are not.
bool is_normalized(std::string_view path);
// Joins a directory and a relative path, then normalizes. An absolute `rel`
// replaces `dir`.
std::string join_path(std::string_view dir, std::string_view rel);
std::string dirname_of(std::string_view normalized);   // "usr/lib/x.so" -> "usr/lib", "x" -> ""
std::string basename_of(std::string_view normalized);  // "usr/lib/x.so" -> "x.so"

// Writes `node`'s whole content to `out` in `step`s (64 MiB), releasing each step's
// pages once written (FsView::release_range), then the node (FsView::release):
// a multi-GB library passes through in bounded resident memory.
void write_content(const FsView& fs, const Node& node, Writer& out, uint64_t step = 64 << 20);

}  // namespace slimage
