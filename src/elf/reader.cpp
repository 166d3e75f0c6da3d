// parse_elf: the ELF header, program headers (PT_INTERP, PT_DYNAMIC), the
// dynamic section's string tags and the section table, from untrusted bytes.
// Quirks handled: both classes and byte orders; e_shnum == 0 and
// e_shstrndx == SHN_XINDEX (the real values live in section 0), e_phnum ==
// PN_XNUM; the dynamic section and DT_STRTAB are virtual addresses, mapped to
// file offsets through PT_LOAD the way the loader sees them, with .dynstr
// from the section table as a fallback; single-valued tags: the last one
// wins, as in glibc's _dl_get_dynamic_info.
// Spec: gABI ch. 4 (sections) and ch. 5 (program loading, dynamic linking),
// https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html
#include <cstring>

#include "elf_bytes.h"
#include "slimage/elf/elf.h"
#include "slimage/util/budget.h"

namespace slimage {
namespace {
using namespace elf_detail;

constexpr int64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtStrsz = 10, kDtSoname = 14,
                  kDtRpath = 15, kDtRunpath = 29, kDtFlags1 = 0x6ffffffb;

struct Segment {
  uint32_t type = 0;
  uint64_t offset = 0, vaddr = 0, filesz = 0;
};

class Parser {
 public:
  Parser(std::span<const uint8_t> bytes, bool is64, bool big)
      : in_(bytes, is64, big), layout_{is64} {}

  bool parse(ElfInfo* info) {
    info_ = info;
    const uint8_t* p = in_.data();
    info_->elf_class = p[4];
    info_->data = p[5];
    info_->osabi = p[7];
    info_->type = in_.u16(16);
    info_->machine = in_.u16(18);
    info_->flags = in_.u32(info_->elf_class == 2 ? 48 : 36);
    return read_sections() && read_program_headers() && read_interp() && read_dynamic();
  }
  const std::string& error() const { return error_; }

 private:
  bool fail(const char* message) {
    error_ = message;
    return false;
  }

  bool read_sections() {
    uint64_t shoff = in_.word(layout_.e_shoff());
    uint64_t entsize = in_.u16(layout_.e_shentsize());
    uint64_t count = in_.u16(layout_.e_shnum());
    uint64_t strndx = in_.u16(layout_.e_shstrndx());
    if (shoff == 0) return true;
    if (entsize < layout_.shdr_size()) return fail("e_shentsize too small");
    if (!in_.contains(shoff, entsize)) return fail("e_shoff past end of file");
    // Section 0 carries the real counts when they do not fit in the header.
    section0_info_ = in_.u32(shoff + layout_.sh_info());
    if (count == 0) count = in_.word(shoff + layout_.sh_size());
    if (strndx == kShnXindex) strndx = in_.u32(shoff + layout_.sh_link());
    uint64_t table_size;
    if (!checked_mul(count, entsize, &table_size) || !in_.contains(shoff, table_size))
      return fail("section header table past end of file");
    if (strndx != 0 && strndx >= count) return fail("e_shstrndx out of range");

    auto& sections = info_->sections;
    sections.resize(count);
    std::vector<uint32_t> name_index(count);
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t at = shoff + i * entsize;
      ElfSection& s = sections[i];
      name_index[i] = in_.u32(at);
      s.type = in_.u32(at + 4);
      s.flags = in_.word(at + layout_.sh_flags());
      s.addr = in_.word(at + layout_.sh_addr());
      s.offset = in_.word(at + layout_.sh_offset());
      s.size = in_.word(at + layout_.sh_size());
      s.link = in_.u32(at + layout_.sh_link());
      s.info = in_.u32(at + layout_.sh_info());
      s.addralign = in_.word(at + layout_.sh_addralign());
      s.entsize = in_.word(at + layout_.sh_entsize());
    }
    if (strndx == 0) return true;
    const ElfSection& names = sections[strndx];
    if (names.type == kShtNobits || !in_.contains(names.offset, names.size))
      return fail("section name table past end of file");
    for (uint64_t i = 0; i < count; ++i) {
      if (name_index[i] == 0) continue;
      if (!in_.c_string(names.offset, names.size, name_index[i], &sections[i].name))
        return fail("section name outside section name table");
    }
    return true;
  }

  bool read_program_headers() {
    uint64_t phoff = in_.word(layout_.e_phoff());
    uint64_t entsize = in_.u16(layout_.e_phentsize());
    uint64_t count = in_.u16(layout_.e_phnum());
    if (count == kPnXnum && !info_->sections.empty()) count = section0_info_;
    if (phoff == 0 || count == 0) return true;
    if (entsize < layout_.phdr_size()) return fail("e_phentsize too small");
    uint64_t table_size;
    if (!checked_mul(count, entsize, &table_size) || !in_.contains(phoff, table_size))
      return fail("program header table past end of file");
    segments_.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t at = phoff + i * entsize;
      segments_[i].type = in_.u32(at);
      segments_[i].offset = in_.word(at + layout_.p_offset());
      segments_[i].vaddr = in_.word(at + layout_.p_vaddr());
      segments_[i].filesz = in_.word(at + layout_.p_filesz());
    }
    return true;
  }

  bool read_interp() {
    for (const Segment& s : segments_) {
      if (s.type != kPtInterp) continue;
      if (!in_.contains(s.offset, s.filesz)) return fail("PT_INTERP past end of file");
      const char* start = reinterpret_cast<const char*>(in_.data() + s.offset);
      const void* nul = std::memchr(start, 0, s.filesz);
      info_->interp.assign(start, nul ? static_cast<const char*>(nul) : start + s.filesz);
      return true;
    }
    return true;
  }

  // The file offset the loader's view of `vaddr` comes from, and how many
  // bytes of file back it from there (*available).
  bool vaddr_to_offset(uint64_t vaddr, uint64_t* offset, uint64_t* available) const {
    for (const Segment& s : segments_) {
      if (s.type != kPtLoad || vaddr < s.vaddr || vaddr - s.vaddr >= s.filesz) continue;
      uint64_t delta = vaddr - s.vaddr, at;
      if (!checked_add(s.offset, delta, &at) || at >= in_.size()) return false;
      *offset = at;
      *available = std::min(s.filesz - delta, in_.size() - at);
      return true;
    }
    return false;
  }

  bool read_dynamic() {
    const Segment* dynamic = nullptr;
    for (const Segment& s : segments_)
      if (s.type == kPtDynamic) {
        dynamic = &s;
        break;
      }
    if (!dynamic) return true;
    uint64_t offset, size;
    if (vaddr_to_offset(dynamic->vaddr, &offset, &size)) {
      size = std::min(size, dynamic->filesz);
    } else {
      offset = dynamic->offset;
      size = dynamic->filesz;
      if (!in_.contains(offset, size)) return fail("PT_DYNAMIC past end of file");
    }
    info_->has_dynamic = true;

    std::vector<uint64_t> needed;
    std::optional<uint64_t> soname, rpath, runpath, strtab, strsz;
    const unsigned w = layout_.word();
    const uint64_t count = size / layout_.dyn_size();
    bool done = false;
    for (uint64_t i = 0; i < count && !done; ++i) {
      uint64_t at = offset + i * layout_.dyn_size();
      int64_t tag = static_cast<int64_t>(in_.word(at));
      if (!layout_.is64) tag = static_cast<int32_t>(tag);
      uint64_t value = in_.word(at + w);
      switch (tag) {
        case kDtNull: done = true; break;
        case kDtNeeded: needed.push_back(value); break;
        case kDtStrtab: strtab = value; break;
        case kDtStrsz: strsz = value; break;
        case kDtSoname: soname = value; break;
        case kDtRpath: rpath = value; break;
        case kDtRunpath: runpath = value; break;
        case kDtFlags1: info_->flags_1 = value; break;
        default: break;
      }
    }
    if (needed.empty() && !soname && !rpath && !runpath) return true;
    if (needed.size() > budget(Budget::Needed)) {
      error_ = budget_message(Budget::Needed, "", needed.size());
      return false;
    }

    uint64_t str_offset = 0, str_size = 0;
    if (!(strtab && vaddr_to_offset(*strtab, &str_offset, &str_size)) &&
        !dynstr_section(&str_offset, &str_size))
      return fail("DT_STRTAB not in any PT_LOAD and no .dynstr section");
    if (strsz) str_size = std::min(str_size, *strsz);

    auto string_at = [&](uint64_t index, std::string* out) {
      return in_.c_string(str_offset, str_size, index, out);
    };
    for (uint64_t index : needed) {
      std::string name;
      if (!string_at(index, &name)) return fail("DT_NEEDED outside DT_STRTAB");
      info_->needed.push_back(std::move(name));
    }
    if (soname && !string_at(*soname, &info_->soname)) return fail("DT_SONAME outside DT_STRTAB");
    if (rpath && !string_at(*rpath, &info_->rpath.emplace()))
      return fail("DT_RPATH outside DT_STRTAB");
    if (runpath && !string_at(*runpath, &info_->runpath.emplace()))
      return fail("DT_RUNPATH outside DT_STRTAB");
    return true;
  }

  // The string table the SHT_DYNAMIC section links to, else ".dynstr".
  bool dynstr_section(uint64_t* offset, uint64_t* size) const {
    const auto& sections = info_->sections;
    const ElfSection* found = nullptr;
    for (const ElfSection& s : sections)
      if (s.type == kShtDynamic && s.link < sections.size()) found = &sections[s.link];
    if (!found)
      for (const ElfSection& s : sections)
        if (s.name == ".dynstr") found = &s;
    if (!found || found->type == kShtNobits || !in_.contains(found->offset, found->size))
      return false;
    *offset = found->offset;
    *size = found->size;
    return true;
  }

  ElfBytes in_;
  ElfLayout layout_;
  ElfInfo* info_ = nullptr;
  std::vector<Segment> segments_;
  uint32_t section0_info_ = 0;
  std::string error_;
};

}  // namespace

bool is_elf(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "\x7f" "ELF", 4) == 0;
}

std::optional<ElfInfo> parse_elf(std::span<const uint8_t> bytes, std::string* error) {
  auto failed = [&](const char* message) -> std::optional<ElfInfo> {
    if (error) *error = message;
    return std::nullopt;
  };
  if (!is_elf(bytes)) return failed("not an ELF file");
  if (bytes.size() < 16) return failed("ELF identification truncated");
  uint8_t elf_class = bytes[4], data = bytes[5];
  if (elf_class != 1 && elf_class != 2) return failed("bad EI_CLASS");
  if (data != 1 && data != 2) return failed("bad EI_DATA");
  if (bytes.size() < (elf_class == 2 ? 64u : 52u)) return failed("ELF header truncated");
  Parser parser(bytes, elf_class == 2, data == 2);
  ElfInfo info;
  if (!parser.parse(&info)) return failed(parser.error().c_str());
  return info;
}

}  // namespace slimage
