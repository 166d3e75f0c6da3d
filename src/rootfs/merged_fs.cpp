// Layer merge (see include/slimage/rootfs/merged_fs.h). A layer's entries and
// whiteouts apply in tar order, as containerd's applyNaive applies them
// (pkg/archive/tar.go); whiteouts hide lower layers only, and where containerd
// and umoci would build different trees the image is refused
// (docs/layer-semantics.md lists each case).
#include "slimage/rootfs/merged_fs.h"

#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "slimage/util/scratch_meter.h"
#include "slimage/util/budget.h"

namespace slimage {

namespace {

#ifdef __GLIBC__
// glibc's malloc sets itself up on its first call, without a lock, and
// attaches the calling thread to the main arena. Under ASan nothing else
// calls glibc's malloc, so its first call was the malloc_trim after a merge,
// and batch merges images at once: two threads attached while the arena
// counted one, and the second one's exit failed glibc's assertion
// `a->attached_threads > 0` (an abort in layer_fidelity.sh's batch run under
// ASan). Calling it once here, before main and any thread, keeps it single.
[[maybe_unused]] const int kMallocReady = ::malloc_trim(0);
#endif

// True if the stored path climbs above the root ("../x", "a/../../x").
bool escapes_root(std::string_view raw) {
  int depth = 0;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view part = raw.substr(i, j - i);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      depth++;
    }
    i = j + 1;
  }
  return false;
}

// True if a '/'-separated component of `path` is "..".
bool has_dotdot(std::string_view path) {
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (path.substr(i, j - i) == "..") return true;
    i = j + 1;
  }
  return false;
}

// LayerEntry::verbatim, once the merge has applied `e`.
bool stored_verbatim(const LayerEntry& e) {
  const TarEntry& t = *e.tar;
  // A name a careless extractor would place outside the root ("/x", "a/../x").
  if (!t.path.empty() && t.path[0] == '/') return false;
  if (has_dotdot(t.path)) return false;
  // A hardlink target likewise ("../../etc/passwd", "/etc/passwd": clamped
  // inside the root by the merge, as containerd and umoci do).
  if (t.type == TarType::Hardlink && (t.link_target.starts_with("/") || has_dotdot(t.link_target)))
    return false;
  const std::string stored = normalize_path(t.path);
  switch (e.kind) {
    case LayerEntry::Kind::Skipped: return false;
    case LayerEntry::Kind::Whiteout:  // its parent reached through a symlink?
      return stored == join_path(dirname_of(e.path), std::string(kWhiteoutPrefix) + basename_of(e.path));
    case LayerEntry::Kind::Opaque:
      return stored == join_path(e.path, std::string(kOpaqueWhiteout));
    case LayerEntry::Kind::File: break;
  }
  return e.path == stored;  // not written through a symlink
}

FileType file_type(TarType t) {
  switch (t) {
    case TarType::Directory: return FileType::Directory;
    case TarType::Symlink: return FileType::Symlink;
    case TarType::Hardlink: return FileType::Hardlink;
    case TarType::CharDevice: return FileType::CharDevice;
    case TarType::BlockDevice: return FileType::BlockDevice;
    case TarType::Fifo: return FileType::Fifo;
    default: return FileType::Regular;
  }
}

}  // namespace

MergedFs::MergedFs(std::vector<std::unique_ptr<SpilledLayer>> layers, Diagnostics& diagnostics)
    : layers_(std::move(layers)) {
  Node root;
  root.type = FileType::Directory;
  root.mode = 0755;
  root.entry_offset = UINT64_MAX;
  insert_node(std::move(root));
  // Decode counted them as it went; a layer decoded for another image of a
  // batch (rootfs/spill_cache.h) was counted against that one.
  uint64_t entries = 0;
  for (auto& layer : layers_) {
    entries += layer->entries.size();
    check_budget(Budget::Entries, layer->where(), entries);
  }
  for (uint32_t i = 0; i < layers_.size(); i++) apply_layer(i, diagnostics);
  index_children();
#ifdef __GLIBC__
  // What the decode threads allocated and freed (each header's strings as it
  // was read, the entry vectors as they grew) sits in their malloc arenas,
  // which the rest of the run (on this thread) does not reuse; and the merge
  // freed most of the headers it unpacked. Returned to the system now rather
  // than at exit (kMallocReady: why this is never glibc malloc's first call).
  ::malloc_trim(0);
#endif
}

void MergedFs::remove_subtree(const std::string& path, bool keep_self) {
  if (path.empty()) {
    auto root = nodes_.extract(nodes_.find(std::string_view()));
    nodes_.clear();
    nodes_.insert(std::move(root));
    return;
  }
  auto first = nodes_.lower_bound(path + "/");
  auto last = nodes_.lower_bound(path + "0");  // '0' sorts right after '/'
  nodes_.erase(first, last);
  if (!keep_self)
    if (auto self = nodes_.find(std::string_view(path)); self != nodes_.end()) nodes_.erase(self);
}

Node* MergedFs::insert_node(Node&& node) {
  return nodes_.insert(std::make_unique<Node>(std::move(node))).first->get();
}

// Every later stage walks each path of the tree (globs, lookups, parents), so
// the tree's total path bytes bound their time and memory. One entry can
// create a thousand parents whose paths repeat its own: counting the parents
// too is what keeps a single deep path from costing depth² unbounded.
void MergedFs::count_path(const std::string& path) {
  path_bytes_ += path.size() + 1;
  check_budget(Budget::PathBytes, layers_[current_layer_]->where(), path_bytes_);
}

Node* MergedFs::ensure_dir(const std::string& path, uint32_t layer) {
  // Iterative: the deepest existing ancestor, then each missing level below it.
  size_t end = path.size();
  Node* parent = nullptr;
  while (true) {
    std::string_view prefix = std::string_view(path).substr(0, end);
    auto it = nodes_.find(prefix);
    if (it != nodes_.end()) {
      if ((*it)->type != FileType::Directory) return nullptr;
      parent = it->get();
      break;
    }
    if (prefix.empty()) return nullptr;
    size_t slash = path.rfind('/', end - 1);
    end = slash == std::string::npos ? 0 : slash;
  }
  while (end < path.size()) {
    size_t next = path.find('/', end + 1);
    if (next == std::string::npos) next = path.size();
    Node dir;
    dir.path = path.substr(0, next);
    dir.type = FileType::Directory;
    dir.mode = 0755;
    dir.layer = layer;
    dir.entry_offset = UINT64_MAX;
    count_path(dir.path);
    parent = insert_node(std::move(dir));
    end = next;
  }
  return parent;
}

// The real directory a layer entry's parent names: symlinks followed inside
// the root, missing directories created as the runtime would.
std::string MergedFs::resolve_parent(const std::string& dir, const std::string& where,
                                     Diagnostics& d, bool* ok) {
  *ok = true;
  // A node keyed by the path itself is a real directory: nodes are keyed by
  // real paths, and a directory replaced by a link or file loses its subtree.
  // One lookup, not one per component (nested directories stay n·log n).
  if (auto it = nodes_.find(dir); it != nodes_.end() && (*it)->type == FileType::Directory)
    return dir;
  std::string real;
  const Node* n = resolve(dir, true, &real);
  if (n && n->type == FileType::Directory) return real;
  if (!n && ensure_dir(real, current_layer_)) return real;
  d.error(where, "parent is not a directory: " + (real.empty() ? "/" : real));
  *ok = false;
  return real;
}

// One whiteout or opaque marker, applied where it stands in tar order, as
// containerd's applyNaive does (pkg/archive/tar.go: convertWhiteout runs per
// entry). It removes lower layers' nodes only (image-spec layer.md); where
// containerd would also remove an entry of the same layer and umoci
// (oci/layer/tar_extract.go, ociWhiteout keeps its upperPaths) would not, the
// two build different trees: refused, naming the case (docs/layer-semantics.md).
void MergedFs::apply_whiteout(uint32_t index, LayerEntry& e, const std::string& p,
                              const std::string& where, Diagnostics& d,
                              std::vector<std::pair<std::string, std::string>>& unmade_parents) {
  std::string base = basename_of(p);
  std::string real;
  const Node* parent = resolve(dirname_of(p), true, &real);
  if (parent && parent->type != FileType::Directory) {
    d.error(where, "parent is not a directory: " + (real.empty() ? "/" : real));
    e.kind = LayerEntry::Kind::Skipped;
    return;
  }
  if (!parent) {
    // containerd's mkparent creates the directory before the whiteout is
    // looked at; umoci ignores a whiteout whose directory is missing. The
    // trees agree only if this layer creates the directory itself.
    unmade_parents.emplace_back(where, real);
    e.kind = LayerEntry::Kind::Skipped;
    return;
  }
  const std::string& dir = real;
  auto is_upper = [&](const Node& n) { return n.layer == index; };
  if (base == kOpaqueWhiteout) {
    e.kind = LayerEntry::Kind::Opaque;
    e.path = dir;
    // containerd walks the directory and removes every path it did not
    // unpack from this layer (unpackedPaths): explicit entries only.
    std::string removed;  // the last lower node removed: its subtree goes with it
    auto it = nodes_.lower_bound(dir.empty() ? std::string() : dir + "/");
    if (dir.empty() && it != nodes_.end() && (*it)->path.empty()) ++it;
    auto last = dir.empty() ? nodes_.end() : nodes_.lower_bound(dir + "0");
    while (it != last) {
      const Node& n = **it;
      bool under_removed = !removed.empty() && n.path.size() > removed.size() &&
                           n.path.compare(0, removed.size(), removed) == 0 &&
                           n.path[removed.size()] == '/';
      if (under_removed && is_upper(n))
        fail(where + ": opaque marker removes " + removed + " with " + n.path +
             " of its own layer beneath it: containerd deletes both, umoci keeps " + n.path +
             "; refused (see docs/layer-semantics.md)");
      if (under_removed) {
        it = nodes_.erase(it);
        continue;
      }
      if (is_upper(n) && n.entry_offset != UINT64_MAX) {
        ++it;
        continue;
      }
      if (is_upper(n))
        fail(where + ": opaque marker comes after " + n.path +
             ", a directory its own layer created implicitly: containerd deletes it, umoci "
             "keeps it; refused (see docs/layer-semantics.md)");
      removed = n.path;
      it = nodes_.erase(it);
    }
    return;
  }
  std::string name = base.substr(kWhiteoutPrefix.size());
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    d.error(where, "whiteout names no file; entry skipped");
    e.kind = LayerEntry::Kind::Skipped;
    return;
  }
  e.kind = LayerEntry::Kind::Whiteout;
  e.path = dir.empty() ? name : dir + "/" + name;
  // containerd: os.RemoveAll(path), whatever layer wrote it.
  auto refuse_if_upper = [&](const Node& n) {
    if (is_upper(n))
      fail(where + ": whiteout of " + e.path + " comes after " + n.path +
           " of its own layer: containerd deletes it, umoci keeps it; refused (see "
           "docs/layer-semantics.md)");
  };
  if (auto self = nodes_.find(std::string_view(e.path)); self != nodes_.end()) refuse_if_upper(**self);
  auto last = nodes_.lower_bound(e.path + "0");  // '0' sorts right after '/'
  for (auto it = nodes_.lower_bound(e.path + "/"); it != last; ++it) refuse_if_upper(**it);
  remove_subtree(e.path, false);
}

// A hardlink's node: link(2) does not follow a final symlink (containerd's
// hardlinkRootPath resolves the parent only), so a hardlink to a symlink,
// device or fifo is one more of those; a regular file shares its content.
bool MergedFs::link_node(Node& node, const LayerEntry& e, const std::string& where,
                         Diagnostics& d) {
  // A target leaving the root ("../../etc/passwd", "/etc/passwd") is clamped
  // inside it, as both runtimes do: containerd's hardlinkRootPath resolves the
  // parent with fs.RootPath (".." at the root stays there), umoci's
  // CleanPath + SecureJoinVFS the same; normalize_path clamps alike. Never a
  // host file: the target is looked up in this tree only.
  (void)d;
  std::string target_path;
  const Node* target = resolve(normalize_path(e.tar->link_target), false, &target_path);
  if (target && target->type == FileType::Hardlink) target = lookup(target->link_target);
  // containerd removes what stands at the link's own path first, then
  // link(2) fails on a missing target: the layer is not applied (umoci fails
  // the same way), so neither is it read here.
  if (!target || target_path == node.path)
    fail(where + ": hardlink to " + e.tar->link_target +
         ", which does not exist: link(2) fails, so containerd cannot apply this layer");
  if (target->type == FileType::Directory)
    fail(where + ": hardlink to directory " + (target_path.empty() ? "/" : target_path) +
         ": link(2) refuses it, so containerd cannot apply this layer");
  node.mode = target->mode, node.uid = target->uid, node.gid = target->gid;
  node.uname = target->uname, node.gname = target->gname;
  node.mtime = target->mtime, node.mtime_nsec = target->mtime_nsec;
  node.xattrs = target->xattrs;
  if (target->type != FileType::Regular) {
    node.type = target->type;
    node.link_target = target->link_target;
    node.dev_major = target->dev_major, node.dev_minor = target->dev_minor;
    return true;
  }
  node.link_target = target->path;
  node.size = target->size;
  node.data_layer = target->data_layer;
  node.data_offset = target->data_offset;
  return true;
}

void MergedFs::apply_layer(uint32_t index, Diagnostics& d) {
  SpilledLayer& layer = *layers_[index];
  current_layer_ = index;
  std::vector<std::pair<std::string, std::string>> unmade_parents;  // where, directory
  ParentCache parents;
  // Alone in holding the headers (no other job of a batch merges a copy of
  // this layer), the merge gives each block back once it has gone past it.
  bool sole = layer.headers.use_count() == 1;
  for (auto& e : layer.entries) {
    if (sole) layer.headers->release_before(e.packed);
    e.tar = std::make_unique<const TarEntry>(layer.headers->get(e.packed));
    apply_entry(index, e, parents, unmade_parents, d);
    e.verbatim = stored_verbatim(e);
    // The header's last reader was the line above, unless a later stage reads it (merged_fs.h).
    bool keep_header = e.type == TarType::Directory || e.kind == LayerEntry::Kind::Whiteout ||
                       e.kind == LayerEntry::Kind::Opaque ||
                       (e.type == TarType::Regular && e.size > kSparseKeepMax);
    if (!keep_header) e.tar.reset();
  }
  layer.headers.reset();  // every header is applied: the blocks go back (unless a batch job shares them)
  for (auto& [where, dir] : unmade_parents) {
    const Node* n = lookup(dir);
    if (!n || n->type != FileType::Directory)
      fail(where + ": whiteout in " + dir +
           ", a directory no layer creates: containerd creates it, umoci does not; refused "
           "(see docs/layer-semantics.md)");
  }
}

void MergedFs::apply_entry(uint32_t index, LayerEntry& e, ParentCache& parents,
                           std::vector<std::pair<std::string, std::string>>& unmade_parents,
                           Diagnostics& d) {
  SpilledLayer& layer = *layers_[index];
  std::string where = layer.where() + ": " + e.tar->path;
  if (escapes_root(e.tar->path)) {
    d.error(where, "path leaves the root; entry skipped");
    e.kind = LayerEntry::Kind::Skipped;
    return;
  }
  std::string p = normalize_path(e.tar->path);
  if (basename_of(p).rfind(kWhiteoutPrefix, 0) == 0) {
    apply_whiteout(index, e, p, where, d, unmade_parents);
    parents.valid = false;  // it may have removed a directory or symlink on the way
    return;
  }
  if (p.empty()) {  // "./": the root's own metadata
    Node& root = **nodes_.find(std::string_view());
    if (e.tar->type == TarType::Directory) {
      root.mode = e.tar->mode, root.uid = e.tar->uid, root.gid = e.tar->gid;
      root.mtime = e.tar->mtime;
    }
    e.path.clear();
    return;
  }
  std::string raw_parent = dirname_of(p);
  if (!parents.valid || raw_parent != parents.raw ||
      nodes_.find(std::string_view(parents.real)) == nodes_.end()) {
    parents.valid = true;
    parents.raw = raw_parent;
    parents.real = resolve_parent(raw_parent, where, d, &parents.ok);
  }
  if (!parents.ok) {
    e.kind = LayerEntry::Kind::Skipped;
    return;
  }
  std::string path =
      parents.real.empty() ? basename_of(p) : parents.real + "/" + basename_of(p);
  e.path = path;
  for (const auto& name : e.tar->ignored_xattrs)
    d.warn(where, "xattr " + name +
                      " is stored as LIBARCHIVE.xattr, a form containerd and umoci do not "
                      "apply; never written as SCHILY.xattr");

  Node node;
  node.path = path;
  node.type = file_type(e.tar->type);
  node.mode = e.tar->mode & 07777;
  node.uid = e.tar->uid, node.gid = e.tar->gid;
  node.uname = e.tar->uname, node.gname = e.tar->gname;
  node.mtime = e.tar->mtime, node.mtime_nsec = e.tar->mtime_nsec;
  node.dev_major = e.tar->dev_major, node.dev_minor = e.tar->dev_minor;
  node.xattrs = e.tar->xattrs;
  node.layer = index;
  node.entry_offset = e.tar->header_offset;
  if (node.type == FileType::Regular) {
    node.size = e.tar->size;
    node.data_layer = index;
    node.data_offset = e.tar->data_offset;
  } else if (node.type == FileType::Symlink) {
    node.link_target = e.tar->link_target;
  } else if (node.type == FileType::Hardlink && !link_node(node, e, where, d)) {
    e.kind = LayerEntry::Kind::Skipped;
    return;
  }
  auto it = nodes_.find(std::string_view(path));
  if (it != nodes_.end()) {
    // A directory replaced by another keeps its subtree; by anything else, not.
    bool was_dir = (*it)->type == FileType::Directory;
    if (was_dir && node.type != FileType::Directory) remove_subtree(path, true);
    nodes_.erase(nodes_.find(std::string_view(path)));
    insert_node(std::move(node));
    return;
  }
  count_path(path);
  insert_node(std::move(node));
}

// Keys view the children's own paths (their dirname part): no path is copied.
void MergedFs::index_children() {
  children_.clear();
  for (auto& node : nodes_) {
    std::string_view path = node->path;
    if (path.empty()) continue;
    size_t slash = path.rfind('/');
    children_[path.substr(0, slash == std::string_view::npos ? 0 : slash)].push_back(node.get());
  }
}

const Node* MergedFs::lookup(std::string_view path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? nullptr : it->get();
}

std::vector<const Node*> MergedFs::list_dir(std::string_view dir) const {
  auto it = children_.find(dir);
  return it == children_.end() ? std::vector<const Node*>{} : it->second;
}

void MergedFs::for_each(const std::function<void(const Node&)>& fn) const {
  for (auto& node : nodes_) fn(*node);
}

std::span<const uint8_t> MergedFs::mapped(const Node& node) const {
  if (!node.is_file() || node.data_layer >= layers_.size()) return {};
  auto bytes = layers_[node.data_layer]->map.bytes();
  if (node.data_offset > bytes.size() || node.size > bytes.size() - node.data_offset) return {};
  return bytes.subspan(node.data_offset, node.size);
}

// The safety net of low-disk mode: a hole reads as zeros, and zeros read as
// "no ELF, no needed libraries" would drop what a program needs.
std::span<const uint8_t> MergedFs::content(const Node& node) const {
  if (unspilled_digest(node))
    fail(layers_[node.data_layer]->where() + ": " + node.path +
         ": internal error: content not spilled in low-disk mode");
  return mapped(node);
}

const std::string* MergedFs::unspilled_digest(const Node& node) const {
  if (!node.is_file() || node.data_layer >= layers_.size()) return nullptr;
  const auto& holes = layers_[node.data_layer]->holes;
  if (!holes) return nullptr;
  auto it = holes->by_offset.find(node.data_offset);
  if (it == holes->by_offset.end() || it->second.filled.load(std::memory_order_acquire)) return nullptr;
  return &it->second.digest;
}

// Whether or not pass 2 has refilled it: a refilled file is punched again
// once written, so its readers keep to the summary throughout.
const ElfSummary* MergedFs::elf_summary(const Node& node) const {
  if (!node.is_file() || node.data_layer >= layers_.size()) return nullptr;
  const auto& holes = layers_[node.data_layer]->holes;
  if (!holes) return nullptr;
  auto it = holes->by_offset.find(node.data_offset);
  return it == holes->by_offset.end() ? nullptr : it->second.elf.get();
}

void MergedFs::release(const Node& node) const {
  auto bytes = mapped(node);
  if (bytes.empty()) return;
  // One madvise per small file (and its TLB shootdown across our threads)
  // cost more than the reads: small files are dropped in bulk.
  constexpr uint64_t kSmall = 1 << 20, kBulk = 64 << 20;
  if (bytes.size() < kSmall) {
    uint64_t pending = released_small_.fetch_add(bytes.size()) + bytes.size();
    if (pending >= kBulk && pending - bytes.size() < kBulk) trim();
    return;
  }
  drop_pages(bytes);
}

void MergedFs::release_range(const Node& node, uint64_t offset, uint64_t length) const {
  auto bytes = mapped(node);
  if (offset >= bytes.size()) return;
  drop_pages(bytes.subspan(offset, std::min<uint64_t>(length, bytes.size() - offset)));
}

// The mapping is private and read-only: dropping its pages (even ones a
// neighbour's bytes share) loses nothing; a later read refaults them from
// the page cache.
void MergedFs::drop_pages(std::span<const uint8_t> bytes) {
  const uintptr_t page = page_size();
  uintptr_t begin = reinterpret_cast<uintptr_t>(bytes.data()) & ~(page - 1);
  uintptr_t end = (reinterpret_cast<uintptr_t>(bytes.data()) + bytes.size() + page - 1) & ~(page - 1);
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void MergedFs::trim() const {
  released_small_ = 0;
  for (auto& l : layers_) {
    auto bytes = l->map.bytes();
    if (!bytes.empty())
      ::madvise(const_cast<uint8_t*>(bytes.data()), bytes.size(), MADV_DONTNEED);
  }
}

uint64_t MergedFs::discard(const std::function<bool(const Node&)>& dead) const {
  struct Range {
    uint64_t begin, end;
    bool operator<(const Range& o) const { return begin < o.begin; }
  };
  const uint64_t kPage = page_size();  // holes are punched in whole pages
  constexpr uint64_t kMin = 64 << 10, kStep = 32 << 20;
  std::vector<std::vector<Range>> gone(layers_.size()), live(layers_.size());
  for (auto& node : nodes_) {
    const Node& n = *node;
    if (!n.is_file() || n.size == 0 || n.data_layer >= layers_.size()) continue;
    if (unspilled_digest(n)) continue;  // a hole already: nothing to free, nothing to keep
    Range r{n.data_offset, n.data_offset + n.size};
    if (!dead(n)) {
      live[n.data_layer].push_back({r.begin & ~(kPage - 1), (r.end + kPage - 1) & ~(kPage - 1)});
    } else if (r.begin + kMin < r.end) {  // whole pages inside the file only
      gone[n.data_layer].push_back({(r.begin + kPage - 1) & ~(kPage - 1), r.end & ~(kPage - 1)});
    }
  }
  uint64_t freed = 0;
  for (size_t i = 0; i < layers_.size(); i++) {
    if (gone[i].empty()) continue;
    std::sort(gone[i].begin(), gone[i].end());
    std::sort(live[i].begin(), live[i].end());
    int fd = ::open(layers_[i]->tar_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue;
    // Punches [a, b) in steps: each call holds the file's invalidate lock,
    // which the writer's page faults on live bytes of this file wait for.
    auto punch = [&](uint64_t a, uint64_t b) {
      for (; a + kMin <= b; a += kStep) {
        uint64_t len = std::min(kStep, b - a);
        if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(a),
                        static_cast<off_t>(len)) != 0)
          return false;
        freed += len;
        scratch_credit(layers_[i]->tar_path, len);
      }
      return true;
    };
    size_t k = 0;       // first live range that may overlap
    uint64_t done = 0;  // hardlinked dead files share ranges: punch once
    bool ok = true;
    for (const Range& g : gone[i]) {
      uint64_t at = std::max(g.begin, done);
      done = std::max(done, g.end);
      while (k < live[i].size() && live[i][k].end <= at) k++;
      for (size_t j = k; ok && j < live[i].size() && live[i][j].begin < g.end; j++) {
        if (live[i][j].begin > at) ok = punch(at, live[i][j].begin);
        at = std::max(at, live[i][j].end);
      }
      if (ok && at < g.end) ok = punch(at, g.end);
      if (!ok) break;  // no holes here (EOPNOTSUPP): the blocks go with the file
    }
    ::close(fd);
  }
  return freed;
}

bool MergedFs::entry_visible(size_t layer, const LayerEntry& entry) const {
  if (entry.kind != LayerEntry::Kind::File) return false;
  const Node* n = lookup(entry.path);
  return n && n->layer == layer && n->entry_offset == entry.header_offset;
}

}  // namespace slimage
