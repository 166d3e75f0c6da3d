// What each input layer itself says about a path, for rewriting it: a
// rewritten layer's entries keep the metadata THAT layer gave them, never the
// merged view's (where an upper layer's entry for the same directory wins), so
// a base layer comes out with the same bytes under any upper layers.
// A parent directory the layer does not declare takes the declaration the
// image had at that layer (the nearest lower layer's, unless a whiteout in
// between removed it): that too depends on this layer and those below only.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "slimage/rootfs/merged_fs.h"

namespace slimage {

class LayerMeta {
 public:
  explicit LayerMeta(const MergedFs& fs) : fs_(fs), index_(fs.layers().size()) {}

  // The directory entry that declares `dir` as seen once layer `layer` is
  // applied, or nullptr (the merge created it implicitly, or it is no directory).
  const TarEntry* dir_as_of(size_t layer, std::string_view dir);

 private:
  struct Index {
    bool built = false;
    std::unordered_map<std::string_view, const TarEntry*> entries;  // last one wins
    std::unordered_set<std::string_view> whiteouts, opaques;
  };
  const Index& index(size_t layer);

  const MergedFs& fs_;
  std::vector<Index> index_;
};

}  // namespace slimage
