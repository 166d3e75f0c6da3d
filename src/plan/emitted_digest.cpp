// emitted_digest (see plan_internal.h): the digest of a kept file's bytes as
// the layer writer will emit them, for dedupe. It must follow the writer's
// content choice in src/rewrite/layer_writer.cpp write_layer: a Fate::Strip
// file is written by write_stripped over plan_strip's pieces, anything else
// byte for byte. A new content rewrite in the writer (GPU-code pruning) adds
// its step here too, or dedupe would link files whose output differs.
#include "plan_internal.h"
#include "slimage/elf/elf.h"
#include "slimage/util/hash.h"

namespace slimage::plan_detail {

std::string emitted_digest(const FsView& fs, const Node& node, Fate fate, StripMode mode) {
  auto bytes = fs.content(node);
  HashingWriter hash;
  bool written = false;
  if (fate == Fate::Strip) {
    std::string error, why;
    if (auto info = parse_elf(bytes, &error))
      if (auto stripped = plan_strip(bytes, *info, mode, &why)) {
        write_stripped(bytes, *stripped, hash);
        written = true;
      }
  }
  if (!written && !bytes.empty()) hash.write(bytes.data(), bytes.size());
  fs.release(node);
  return hash.digest();
}

}  // namespace slimage::plan_detail
