// fatbin_container_at and zeroed_unread (include/slimage/elf/fatbin.h): what
// low-disk mode may leave out of a big ELF file's copy without changing the
// facts its summary takes from that copy.
#include "elf_bytes.h"
#include "slimage/elf/fatbin.h"

namespace slimage {

using namespace elf_detail;

uint64_t fatbin_container_at(const uint8_t* p, uint64_t room) {
  auto le = [p](unsigned at, unsigned width) {
    uint64_t v = 0;
    for (unsigned i = 0; i < width; ++i) v |= uint64_t(p[at + i]) << (8 * i);
    return v;
  };
  if (room < 16 || le(0, 4) != kFatbinMagic || le(4, 2) != 1 || le(6, 2) != 16) return 0;
  uint64_t fat = le(8, 8);
  return fat > 0 && fat <= room - 16 ? 16 + fat : 0;
}

namespace {

bool overlaps(const FileRange& r, uint64_t offset, uint64_t size) {
  uint64_t end;
  if (!checked_add(offset, size, &end)) end = UINT64_MAX;
  return size > 0 && r.first < end && offset < r.second;
}

// Data: what none of the readers parses (library_name_strings scans alloc read-only
// ones, but ElfCopy keeps what it reads of them).
bool data_section(const ElfSection& s) { return s.type == kShtProgbits && (s.flags & kShfAlloc); }

}  // namespace

bool zeroed_unread(std::span<const uint8_t> bytes, const ElfInfo& info, std::span<const FileRange> zeroed) {
  if (zeroed.empty()) return true;
  if (info.sections.empty()) return false;  // library_name_strings would read the whole file
  const bool is64 = info.elf_class == 2;
  ElfBytes in(bytes, is64, info.data == 2);
  ElfLayout layout{is64};
  if (!in.contains(0, layout.ehsize())) return false;
  // The tables parse_elf, plan_strip and elf_kind_of read: they hold what says where the rest is.
  std::vector<std::pair<uint64_t, uint64_t>> read;  // offset, size
  read.push_back({0, layout.ehsize()});
  uint64_t phoff = in.word(layout.e_phoff()), phnum = in.u16(layout.e_phnum());
  uint64_t phentsize = in.u16(layout.e_phentsize());
  uint64_t shoff = in.word(layout.e_shoff()), shentsize = in.u16(layout.e_shentsize());
  uint64_t phbytes, shbytes;
  if (phnum > 0 && phentsize < layout.phdr_size()) return false;
  if (!checked_mul(phnum, phentsize, &phbytes) || !in.contains(phoff, phbytes)) return false;
  if (!checked_mul(uint64_t(info.sections.size()), shentsize, &shbytes)) return false;
  read.push_back({phoff, phbytes});
  read.push_back({shoff, shbytes});
  for (uint64_t k = 0; k < phnum; ++k) {
    uint64_t at = phoff + k * phentsize;
    uint32_t type = in.u32(at);
    if (type == kPtInterp || type == kPtDynamic) read.push_back({in.word(at + layout.p_offset()), in.word(at + layout.p_filesz())});
  }
  for (const FileRange& z : zeroed) {
    if (z.first >= z.second) continue;
    for (auto& [offset, size] : read)
      if (overlaps(z, offset, size)) return false;
    bool inside = false;
    for (const ElfSection& s : info.sections) {
      if (s.type == kShtNobits || !overlaps(z, s.offset, s.size)) continue;
      if (!data_section(s)) return false;
      inside |= s.offset <= z.first && z.second - s.offset <= s.size;
    }
    if (!inside) return false;
  }
  return true;
}

}  // namespace slimage
