// `slimage diff A B`: files added, removed and changed (content or metadata)
// between two merged root filesystems, by layer and in total. Compares what a
// container sees (the merged view), not the layer tars: a file moved to
// another layer with the same bytes and metadata is unchanged.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimage/rootfs/fs_view.h"

namespace slimage {

struct FileChange {
  enum class Kind { Added, Removed, Changed };
  Kind kind = Kind::Changed;
  std::string path;
  // Changed: the differing fields, in this order: type, content, link,
  // mode, owner, mtime, xattrs, device.
  std::vector<std::string> fields;
  uint64_t bytes_a = 0, bytes_b = 0;  // content bytes (0 when absent)
  uint32_t layer_a = 0, layer_b = 0;  // the layer that wrote the entry on each side
};

struct DiffCount {
  uint64_t files = 0;  // entries of any type
  uint64_t bytes_a = 0, bytes_b = 0;
};

struct ImageDiff {
  std::vector<FileChange> changes;  // sorted by path
  DiffCount added, removed, changed;
  // Per layer of A: removed and changed entries written by it; of B: added
  // and changed entries written by it. Sized by the layer counts given.
  std::vector<DiffCount> removed_by_layer_a, changed_by_layer_a;
  std::vector<DiffCount> added_by_layer_b, changed_by_layer_b;
};

// Compares every entry of `a` with `b`. layers_a/b: how many layers each
// view has (for the per-layer totals).
ImageDiff diff_views(const FsView& a, size_t layers_a, const FsView& b, size_t layers_b);

const char* change_kind_name(FileChange::Kind kind);  // added | removed | changed
nlohmann::json diff_json(const ImageDiff& diff);
// "+ /path (1.2 KiB)" lines and the totals; layer_names label each layer.
std::string diff_text(const ImageDiff& diff, const std::vector<std::string>& layer_names_a,
                      const std::vector<std::string>& layer_names_b);

}  // namespace slimage
