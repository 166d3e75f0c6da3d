// Pass 1 of low-disk mode (include/slimage/rootfs/sparse_spill.h): between
// the decoded tar stream and the scratch file, the content of candidate
// entries is either passed on or, when its first bytes show nothing the
// analysis reads, skipped (a hole) and hashed.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/direct_writer.h"
#include "slimage/util/hash.h"
#include "slimage/util/io.h"

namespace slimage {

class SparseFilter : public Writer {
 public:
  explicit SparseFilter(SkippingWriter& out) : out_(out), holes_(std::make_shared<SparseHoles>()) {}
  // The next entry's content, [begin, begin + size) of the stream: spilled
  // or not by sparse_keeps_content once its first bytes pass. Called before
  // those bytes are written, one entry at a time.
  void candidate(std::string path, uint64_t begin, uint64_t size);
  void write(const void* data, size_t n) override;
  void finish() override { out_.finish(); }
  std::shared_ptr<SparseHoles> holes() const { return holes_; }

 private:
  enum class State { None, Probing, Keep, Hole };
  void decide();
  void close_entry();

  SkippingWriter& out_;
  std::shared_ptr<SparseHoles> holes_;
  uint64_t pos_ = 0;
  State state_ = State::None;
  std::string path_, head_;
  uint64_t begin_ = 0, end_ = 0;
  std::unique_ptr<HashingWriter> hash_;
};

}  // namespace slimage
