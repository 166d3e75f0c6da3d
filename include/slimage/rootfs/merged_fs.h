// The merged root filesystem of an image's layers, as a container runtime
// sees it. Each layer is decoded once into a scratch tar ("spilled"), whose
// content is then read lazily through an mmap: no layer is held in memory.
// Merge rules (image-spec layer.md, "Representing Changes"), read as
// containerd's applyNaive reads them (pkg/archive/tar.go), entry by entry in
// tar order; docs/layer-semantics.md has the full list with citations:
//  - `.wh.NAME` removes NAME, `.wh..wh..opq` empties its directory — both only
//    for lower layers. Where containerd would also delete an entry of the same
//    layer (a whiteout after it; an opaque marker over an implicit parent), or
//    create a directory for a whiteout that umoci ignores, the two runtimes
//    build different trees: the image is refused, naming the case;
//  - parent components are resolved through symlinks inside the root, as
//    containerd does when it applies a layer; a path that would leave the
//    root, or runs through a non-directory, is a diagnostic and is skipped;
//  - a hardlink carries its target's content, so it survives the target's
//    later deletion; a hardlink to a symlink, device or fifo is one more of
//    those (link(2) does not follow the last component); to a directory it is
//    an error, and so is one to nothing (link(2) fails in containerd).
// Spec: https://github.com/opencontainers/image-spec/blob/main/layer.md
#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "slimage/image/image.h"
#include "slimage/layer/packed_headers.h"
#include "slimage/layer/tar.h"
#include "slimage/rootfs/fs_view.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace slimage {

// One entry of a layer and what became of it in the merge. A layer of a
// million entries holds a million of these for the whole run. The header as
// read waits packed in its layer's PackedHeaders (`packed`) until the merge
// unpacks it into `tar` to apply it; the merge then drops it, except where a
// later stage reads it — directories and whiteout or opaque markers (the
// writer gives them their own layer's header again), and regular files over
// kSparseKeepMax (the low-disk estimate reads their stored name). What the
// rest need is copied out into the fields below.
struct LayerEntry {
  std::unique_ptr<const TarEntry> tar;  // set by the merge; null once dropped (see above)
  PackedHeaders::Ref packed = 0;        // the header, in SpilledLayer::headers
  std::string path;          // normalized, parents resolved through symlinks
  uint64_t header_offset = 0, size = 0;  // as in TarEntry
  TarType type = TarType::Regular;
  enum class Kind : uint8_t { File, Whiteout, Opaque, Skipped } kind = Kind::File;
  // Set by the merge: the stored name (and a hardlink's stored target) is
  // the one the merge read it as — no "/x", no "..", not through a symlink,
  // not skipped — so a layer could pass the entry on byte for byte.
  bool verbatim = false;
  LayerEntry() = default;
  LayerEntry(const TarEntry& header, PackedHeaders::Ref ref)
      : packed(ref), header_offset(header.header_offset), size(header.size), type(header.type) {}
  // A copy (a batch job's own, rootfs/spill_cache.h) copies the header too.
  LayerEntry(const LayerEntry& o)
      : tar(o.tar ? std::make_unique<const TarEntry>(*o.tar) : nullptr), packed(o.packed), path(o.path),
        header_offset(o.header_offset), size(o.size), type(o.type), kind(o.kind), verbatim(o.verbatim) {}
  LayerEntry& operator=(const LayerEntry& o) {
    if (this != &o) *this = LayerEntry(o);
    return *this;
  }
  LayerEntry(LayerEntry&&) = default;
  LayerEntry& operator=(LayerEntry&&) = default;
};

struct SpilledLayer {
  Descriptor descriptor;
  std::string diff_id;          // verified against the config
  std::shared_ptr<const ScratchFile> file;  // the decoded tar, unnamed (shared by batch jobs)
  std::string tar_path;         // file->path(): reopens it while `file` lives
  uint64_t tar_size = 0;
  std::vector<LayerEntry> entries;
  // The entries' headers until the merge has applied them (shared by the
  // copies a batch's jobs merge, rootfs/spill_cache.h).
  std::shared_ptr<PackedHeaders> headers;
  MappedFile map;               // of tar_path, opened after decoding
  // It holds a PAX global header: containerd ignores it, umoci refuses the
  // layer and GNU tar applies it to every later entry, so it is never reused
  // verbatim (the rewritten layer has none).
  bool pax_global_header = false;
  // Low-disk mode: the files whose content is a hole in tar_path (null: none).
  std::shared_ptr<SparseHoles> holes;
  std::string where() const;    // "layer sha256:ab12…"
};

struct SpillLimits {
  uint64_t max_layer_bytes = uint64_t(64) << 30;  // decompression bomb guard, per layer
  // Content of a regular file at least this big is written around the page
  // cache (O_DIRECT, where the scratch filesystem allows it): until the write
  // stage most such bytes are never read, and many are dropped.
  uint64_t direct_min_bytes = uint64_t(1) << 20;
  // Low-disk mode (rootfs/sparse_spill.h): leave content no analysis reads as holes.
  bool sparse = false;
  // Low-disk mode: what the analysis reads of a big ELF file, taken from its
  // bytes in a scratch file of its own, which then goes; the file stays a
  // hole in the layer's tar. Null (or a null summary): spilled whole.
  ElfSummarizer summarize;
  // The image's entries so far, every layer's, within SLIMAGE_MAX_ENTRIES
  // (null: this layer's alone; the merge checks the sum again).
  std::atomic<uint64_t>* entries = nullptr;
};

// Decodes a layer blob into an unnamed scratch file in `dir` (ScratchFile;
// `index` names nothing any more), checking its digest (by the
// Source) and its diff_id, and records its entries. Throws Error naming the
// layer on any failure.
std::unique_ptr<SpilledLayer> spill_layer(Source& source, const Descriptor& descriptor,
                                          const std::string& diff_id, const std::string& dir,
                                          size_t index, const SpillLimits& limits = {});

class MergedFs : public FsView {
 public:
  // Layers bottom first. Problems with single entries go to `diagnostics`.
  MergedFs(std::vector<std::unique_ptr<SpilledLayer>> layers, Diagnostics& diagnostics);

  const Node* lookup(std::string_view path) const override;
  std::vector<const Node*> list_dir(std::string_view dir) const override;
  void for_each(const std::function<void(const Node&)>& fn) const override;
  // Throws an internal Error for a node whose content low-disk mode did not spill.
  std::span<const uint8_t> content(const Node& node) const override;
  const std::string* unspilled_digest(const Node& node) const override;
  const ElfSummary* elf_summary(const Node& node) const override;
  void release(const Node& node) const override;
  void release_range(const Node& node, uint64_t offset, uint64_t length) const override;
  void trim() const override;

  // Frees the scratch blocks of content nobody will read again: the files
  // `dead` names, less any bytes a live node still shows (a hardlink to a
  // dropped file). Holes are punched in place, a piece at a time; where the
  // filesystem has none, the blocks stay. Afterwards a dead node's content
  // may read as zeros: call it once its last reader is done. Returns the
  // bytes freed. Slow on big images (freeing waits for the disk), so slim
  // runs it on a thread beside the write, which reads live nodes only.
  uint64_t discard(const std::function<bool(const Node&)>& dead) const;

  const std::vector<std::unique_ptr<SpilledLayer>>& layers() const { return layers_; }
  // True if this entry of layer `layer` is what the merged view shows at its path.
  bool entry_visible(size_t layer, const LayerEntry& entry) const;

 private:
  void apply_layer(uint32_t index, Diagnostics& diagnostics);
  // The last entry's parent as read and as resolved: consecutive entries of
  // one directory resolve it once.
  struct ParentCache {
    std::string raw, real;
    bool ok = false, valid = false;
  };
  void apply_entry(uint32_t index, LayerEntry& entry, ParentCache& parents,
                   std::vector<std::pair<std::string, std::string>>& unmade_parents,
                   Diagnostics& diagnostics);
  void apply_whiteout(uint32_t index, LayerEntry& entry, const std::string& path,
                      const std::string& where, Diagnostics& diagnostics,
                      std::vector<std::pair<std::string, std::string>>& unmade_parents);
  bool link_node(Node& node, const LayerEntry& entry, const std::string& where,
                 Diagnostics& diagnostics);
  // Removes everything below `path`, and `path` itself unless keep_self.
  void remove_subtree(const std::string& path, bool keep_self);
  std::string resolve_parent(const std::string& raw, const std::string& where, Diagnostics& d,
                             bool* ok);
  Node* ensure_dir(const std::string& path, uint32_t layer);
  // Adds `node` (absent from the tree) under its own path.
  Node* insert_node(Node&& node);
  // Adds a new node's path to path_bytes_, within SLIMAGE_MAX_PATH_BYTES.
  void count_path(const std::string& path);
  void index_children();

  std::vector<std::unique_ptr<SpilledLayer>> layers_;
  // Every path is held once, by its node: nodes are ordered by their own
  // `path` (no key beside it), and a directory's entry in children_ views
  // the dirname part of its children's paths (a node lives on the heap, so
  // the view stays put). Copies here would cost the tree's path bytes again
  // per copy, and a single deep path's parents already repeat it depth times.
  struct ByPath {
    using is_transparent = void;
    static std::string_view key(const std::unique_ptr<Node>& n) { return n->path; }
    static std::string_view key(std::string_view path) { return path; }
    template <class A, class B>
    bool operator()(const A& a, const B& b) const { return key(a) < key(b); }
  };
  std::set<std::unique_ptr<Node>, ByPath> nodes_;
  std::unordered_map<std::string_view, std::vector<const Node*>> children_;
  uint32_t current_layer_ = 0;
  uint64_t path_bytes_ = 0;  // of every node created, implicit parents included
  // Bytes of small files released since the last trim: they are dropped in
  // bulk (one madvise per 64 MiB, not one per file).
  mutable std::atomic<uint64_t> released_small_{0};
  static void drop_pages(std::span<const uint8_t> bytes);
  std::span<const uint8_t> mapped(const Node& node) const;  // content() without the hole check
};

}  // namespace slimage
