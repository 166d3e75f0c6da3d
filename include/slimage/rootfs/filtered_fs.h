// A view of another FsView with some paths hidden: the slimmed image as it
// will be, before it is written, so its closure can be verified first.
#pragma once
#include <functional>

#include "slimage/rootfs/fs_view.h"

namespace slimage {

class FilteredFs : public FsView {
 public:
  FilteredFs(const FsView& base, std::function<bool(const std::string&)> hidden)
      : base_(base), hidden_(std::move(hidden)) {}
  const Node* lookup(std::string_view path) const override {
    const Node* n = base_.lookup(path);
    return n && !hidden_(n->path) ? n : nullptr;
  }
  std::vector<const Node*> list_dir(std::string_view dir) const override {
    std::vector<const Node*> out;
    for (const Node* n : base_.list_dir(dir))
      if (!hidden_(n->path)) out.push_back(n);
    return out;
  }
  void for_each(const std::function<void(const Node&)>& fn) const override {
    base_.for_each([&](const Node& n) {
      if (!hidden_(n.path)) fn(n);
    });
  }
  std::span<const uint8_t> content(const Node& node) const override { return base_.content(node); }
  const std::string* unspilled_digest(const Node& node) const override { return base_.unspilled_digest(node); }
  const ElfSummary* elf_summary(const Node& node) const override { return base_.elf_summary(node); }
  void release(const Node& node) const override { base_.release(node); }
  void release_range(const Node& node, uint64_t offset, uint64_t length) const override {
    base_.release_range(node, offset, length);
  }
  void trim() const override { base_.trim(); }
  uint64_t content_id() const override { return base_.content_id(); }

 private:
  const FsView& base_;
  std::function<bool(const std::string&)> hidden_;
};

}  // namespace slimage
