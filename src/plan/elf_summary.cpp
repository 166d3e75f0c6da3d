// summarize_elf (include/slimage/plan/plan.h): for low-disk mode's pass 1,
// each fact computed here exactly as the pass that reads it computes it from
// the bytes (the function named beside it), so a summarized file gets the
// same answers a spilled one would.
#include "plan_internal.h"
#include "slimage/elf/elf.h"
#include "slimage/elf/fatbin.h"
#include "slimage/elf/strip.h"
#include "slimage/rootfs/sparse_spill.h"

namespace slimage {

std::shared_ptr<const ElfSummary> summarize_elf(std::span<const uint8_t> bytes, std::span<const FileRange> zeroed,
                                                StripMode strip, bool gpu_pruning) {
  if (gpu_pruning || !is_elf(bytes)) return nullptr;
  auto s = std::make_shared<ElfSummary>();
  s->kind = plan_detail::elf_kind_of(bytes);               // build_plan's elf kinds
  s->info = parse_elf(bytes, &s->parse_error);             // Search::elf, strip_pass, dedupe
  // Zeroed fat binaries: only where none of these functions reads (the error may be theirs).
  if (!zeroed.empty() && !(s->info && zeroed_unread(bytes, *s->info, zeroed))) return nullptr;
  if (!s->info) return s;
  // strip_pass: an ET_EXEC or ET_DYN file plan_strip makes smaller is rewritten.
  if (strip != StripMode::None && (s->info->type == 2 || s->info->type == 3)) {
    std::string why;
    if (auto r = plan_strip(bytes, *s->info, strip, &why); r && r->output_size < bytes.size()) return nullptr;
  }
  s->strings = library_name_strings(bytes, *s->info);  // Search::scan_strings, dedupe's $ORIGIN check
  return s;
}

}  // namespace slimage
