// ReleasingWriter: write_content's bound (include/slimage/rootfs/fs_view.h)
// for a file the writer rewrites rather than copies.
#pragma once
#include <cstdint>
#include <span>

#include "slimage/rootfs/fs_view.h"
#include "slimage/util/io.h"

namespace slimage {

// The same bound for a rewritten file (stripped, GPU code pruned): a Writer
// in front of `out` that passes writes through in `step`s and, whenever the
// bytes written from `node`'s content (told apart by address) have gone
// `step` past what it last released, releases the content below that point.
// Rewrites read their input front to back; a piece that goes back reads
// released pages again (the bytes stay readable), nothing else changes.
class ReleasingWriter : public Writer {
 public:
  ReleasingWriter(const FsView& fs, const Node& node, std::span<const uint8_t> content, Writer& out,
                  uint64_t step = 64 << 20);
  void write(const void* data, size_t n) override;
  void finish() override { out_.finish(); }

 private:
  const FsView& fs_;
  const Node& node_;
  std::span<const uint8_t> content_;
  Writer& out_;
  uint64_t step_, high_ = 0, released_ = 0;
};

}  // namespace slimage
