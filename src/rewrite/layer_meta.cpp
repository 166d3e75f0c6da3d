// Per-layer metadata lookups (see layer_meta.h).
// Spec: image-spec layer.md ("Whiteouts": applied before the layer's own entries).
#include "layer_meta.h"

namespace slimage {

const LayerMeta::Index& LayerMeta::index(size_t layer) {
  Index& idx = index_[layer];
  if (idx.built) return idx;
  idx.built = true;
  for (auto& e : fs_.layers()[layer]->entries) {
    switch (e.kind) {
      // Only a directory's header is kept (LayerEntry): another type shadows lower ones.
      case LayerEntry::Kind::File: idx.entries[e.path] = e.type == TarType::Directory ? e.tar.get() : nullptr; break;
      case LayerEntry::Kind::Whiteout: idx.whiteouts.insert(e.path); break;
      case LayerEntry::Kind::Opaque: idx.opaques.insert(e.path); break;
      case LayerEntry::Kind::Skipped: break;
    }
  }
  return idx;
}

const TarEntry* LayerMeta::dir_as_of(size_t layer, std::string_view dir) {
  if (layer >= index_.size()) return nullptr;
  std::vector<std::string_view> ancestors;  // strict ancestors of dir
  for (size_t slash = dir.rfind('/'); slash != std::string_view::npos && slash > 0;
       slash = dir.rfind('/', slash - 1))
    ancestors.emplace_back(dir.data(), slash);
  for (size_t j = layer + 1; j-- > 0;) {
    const Index& idx = index(j);
    if (auto it = idx.entries.find(dir); it != idx.entries.end())
      return it->second;
    // This layer's whiteouts removed what lower layers declared.
    if (idx.whiteouts.count(dir)) return nullptr;
    for (auto a : ancestors)
      if (idx.whiteouts.count(a) || idx.opaques.count(a)) return nullptr;
  }
  return nullptr;
}

}  // namespace slimage
