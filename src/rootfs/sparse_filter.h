// Pass 1 of low-disk mode (include/slimage/rootfs/sparse_spill.h): between
// the decoded tar stream and the scratch file, the content of candidate
// entries is either passed on or, when its first bytes show nothing the
// analysis reads, skipped (a hole) and hashed. A big ELF file is skipped and
// hashed too, and written to a scratch file of its own: once whole, it is
// summarized (a hole with its ElfSummary) or, declined, copied into its
// place in the tar (the DirectWriter never writes inside a skipped range).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "slimage/elf/fatbin.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/direct_writer.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"
#include "slimage/util/io.h"

namespace slimage {

class SparseFilter : public Writer {
 public:
  // `tar_path`: the file `out` writes (`where` names it in errors); `dir`:
  // where a big ELF file waits for `summarize` (null: none does).
  SparseFilter(SkippingWriter& out, std::string tar_path, std::string where, std::string dir,
               ElfSummarizer summarize)
      : out_(out),
        holes_(std::make_shared<SparseHoles>()),
        tar_path_(std::move(tar_path)),
        where_(std::move(where)),
        dir_(std::move(dir)),
        summarize_(std::move(summarize)) {}
  ~SparseFilter() override;
  SparseFilter(const SparseFilter&) = delete;
  SparseFilter& operator=(const SparseFilter&) = delete;
  // The next entry's content, [begin, begin + size) of the stream: spilled
  // or not by sparse_keeps_content once its first bytes pass. Called before
  // those bytes are written, one entry at a time.
  void candidate(std::string path, uint64_t begin, uint64_t size);
  void write(const void* data, size_t n) override;
  void finish() override;
  std::shared_ptr<SparseHoles> holes() const { return holes_; }

 private:
  enum class State { None, Probing, Keep, Hole, Elf };
  // A declined ELF file's bytes [from, from + size) into its hole in the tar.
  void write_back(const ScratchFile& file, uint64_t from, uint64_t size);
  void decide();
  void pass_hole(const char* p, size_t n, uint64_t at);
  void close_entry();

  SkippingWriter& out_;
  std::shared_ptr<SparseHoles> holes_;
  uint64_t pos_ = 0;
  State state_ = State::None;
  std::string path_, head_;
  uint64_t begin_ = 0, end_ = 0;
  HoleGap gap_;  // of the entry in State::Hole or State::Elf
  std::unique_ptr<HashingWriter> hash_;
  std::string tar_path_, where_, dir_;
  ElfSummarizer summarize_;
  std::unique_ptr<ElfCopy> elf_copy_;  // State::Elf: the file so far
  int tar_fd_ = -1;  // for write_back, opened at the first
};

}  // namespace slimage
