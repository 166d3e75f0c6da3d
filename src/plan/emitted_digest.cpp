// emitted_digest (see plan_internal.h): the digest of a kept file's bytes as
// the layer writer will emit them, for dedupe. It must follow the writer's
// content choice in src/rewrite/layer_writer.cpp write_layer: a Fate::Strip
// file is written by write_stripped over plan_strip's pieces, anything else
// byte for byte. A new content rewrite in the writer (GPU-code pruning) adds
// its step here too, or dedupe would link files whose output differs.
#include "plan_internal.h"
#include "slimage/elf/elf.h"
#include "slimage/elf/fatbin_prune.h"
#include "slimage/rootfs/releasing_writer.h"
#include "slimage/util/hash.h"

namespace slimage::plan_detail {

void write_emitted(const FsView& fs, const Node& node, Fate fate, StripMode mode,
                   const GpuLibrary* gpu, Writer& out) {
  if (fate != Fate::Strip && !gpu) return write_content(fs, node, out);  // byte for byte
  auto bytes = fs.content(node);
  std::optional<StripResult> stripped;
  if (fate == Fate::Strip) {
    std::string error, why;
    if (auto info = parse_elf(bytes, &error)) stripped = plan_strip(bytes, *info, mode, &why);
  }
  ReleasingWriter bounded(fs, node, bytes, out);  // a 1 GB library is never resident whole
  if (gpu)
    write_stripped_patched(bytes, stripped ? &*stripped : nullptr, gpu->prune.patches, bounded);
  else if (stripped)
    write_stripped(bytes, *stripped, bounded);
  else if (!bytes.empty())
    bounded.write(bytes.data(), bytes.size());
  fs.release(node);
}

std::string emitted_digest(const FsView& fs, const Node& node, Fate fate, StripMode mode) {
  // Low-disk mode hashed the bytes as it left them out (never an ELF file to strip).
  if (const std::string* digest = fs.unspilled_digest(node); digest && fate != Fate::Strip) return *digest;
  HashingWriter hash;
  write_emitted(fs, node, fate, mode, nullptr, hash);
  return hash.digest();
}

}  // namespace slimage::plan_detail
