// Tar headers as the decode read them, packed one after another into large
// blocks mapped for the purpose. A layer of a million entries held a heap
// TarEntry each (about 300 bytes with its path) from the decode to the
// merge, allocated by the decoding thread in that thread's malloc arena,
// which the merging thread never reuses: the plan then ran on top of it.
// Packed, an entry costs its fixed fields and its strings (about 100 bytes
// plus the path), and dropping the store gives every block back to the
// kernel at once (munmap), whichever thread allocated it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "slimage/layer/tar.h"

namespace slimage {

class PackedHeaders {
 public:
  using Ref = uint64_t;  // block index << 32 | offset in the block
  PackedHeaders() = default;
  PackedHeaders(const PackedHeaders&) = delete;
  PackedHeaders& operator=(const PackedHeaders&) = delete;
  ~PackedHeaders();

  Ref add(const TarEntry& e);      // one writer (the decoding thread)
  TarEntry get(Ref ref) const;     // any number of readers once the writer is done
  uint64_t mapped_bytes() const;   // what the blocks reserve (touched pages are resident)
  // Unmaps the blocks before the one `ref` is in: a reader going through in
  // order (the merge) gives them back as it goes. get() of a ref in them fails.
  void release_before(Ref ref);

  static constexpr size_t kBlockBytes = 4 << 20;

 private:
  struct Block {
    char* data;
    size_t size;
    size_t used;
  };
  char* reserve(size_t n, Ref* ref);
  std::vector<Block> blocks_;
  size_t released_ = 0;  // blocks_[0, released_) are unmapped
};

}  // namespace slimage
