// The strip writer's first half: which sections a strip removes, and the
// checks that make removing them safe. Debug mode removes .debug_*, .zdebug_*,
// .gnu.debuglto_*, .line, .stab*; unneeded mode also the symbol table and
// its string table. Quirk: sections point at each other by index (sh_link,
// sh_info), so a relocation section for a removed section goes too, an alloc
// REL/RELA whose symbol table goes gets sh_link 0 (static executables'
// .rela.plt; GNU strip does the same), and anything else still pointing at a
// removed section makes us refuse rather than guess.
// Spec: gABI ch. 4, https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.sheader.html
#include <algorithm>

#include "strip_planner.h"
#include "slimage/util/error.h"

namespace slimage {
namespace elf_detail {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool is_debug_section(const ElfSection& s) {
  return starts_with(s.name, ".debug_") || starts_with(s.name, ".zdebug_") ||
         starts_with(s.name, ".gnu.debuglto_") || s.name == ".line" ||
         starts_with(s.name, ".stab");
}

}  // namespace

bool is_relocation(const ElfSection& s) { return s.type == kShtRel || s.type == kShtRela; }
bool info_is_section(const ElfSection& s) { return is_relocation(s) || (s.flags & kShfInfoLink); }

std::optional<StripResult> StripPlanner::plan(std::string* why) {
  why_ = why;
  if (mode_ == StripMode::None) return refuse("strip mode is none"), std::nullopt;
  if (info_.type != kEtExec && info_.type != kEtDyn) {
    refuse(info_.type == kEtRel ? "relocatable object (ET_REL) is never stripped"
                                : "only executables and shared libraries are stripped");
    return std::nullopt;
  }
  if (sections_.empty()) return refuse("no section table"), std::nullopt;
  if (!read_header() || !choose_removed() || !check_indices() || !check_extents())
    return std::nullopt;
  StripResult result;
  if (!lay_out(&result) || !write_section_headers(&result)) return std::nullopt;
  for (size_t i = 0; i < sections_.size(); ++i)
    if (removed_[i]) result.removed_sections.push_back(sections_[i].name);
  return result;
}

bool StripPlanner::read_header() {
  if (in_.size() < layout_.ehsize()) return refuse("ELF header truncated");
  RawHeader& h = header_;
  h.ehsize = layout_.ehsize();
  h.phoff = in_.word(layout_.e_phoff());
  h.phentsize = in_.u16(layout_.e_phentsize());
  h.phnum = in_.u16(layout_.e_phnum());
  h.shoff = in_.word(layout_.e_shoff());
  h.shentsize = in_.u16(layout_.e_shentsize());
  h.shstrndx = in_.u16(layout_.e_shstrndx());
  uint64_t table_size;
  if (h.shentsize < layout_.shdr_size() ||
      !checked_mul(h.shentsize, sections_.size(), &table_size) ||
      !in_.contains(h.shoff, table_size))
    return refuse("section header table past end of file");
  if (h.phnum == kPnXnum) h.phnum = in_.u32(h.shoff + layout_.sh_info());
  if (h.shstrndx == kShnXindex) h.shstrndx = in_.u32(h.shoff + layout_.sh_link());
  return true;
}

bool StripPlanner::choose_removed() {
  const size_t n = sections_.size();
  removed_.assign(n, false);
  for (size_t i = 1; i < n; ++i) {
    const ElfSection& s = sections_[i];
    if ((s.flags & kShfAlloc) || i == header_.shstrndx) continue;
    if (is_debug_section(s)) removed_[i] = true;
    if (mode_ == StripMode::Unneeded && s.type == kShtSymtab) {
      removed_[i] = true;
      const uint32_t strtab = s.link;
      if (strtab > 0 && strtab < n && strtab != header_.shstrndx &&
          sections_[strtab].type == kShtStrtab && !(sections_[strtab].flags & kShfAlloc))
        removed_[strtab] = true;
    }
  }
  auto link_gone = [&](const ElfSection& s) {
    return s.link != 0 && s.link < n && removed_[s.link];
  };
  auto info_gone = [&](const ElfSection& s) {
    return info_is_section(s) && s.info != 0 && s.info < n && removed_[s.info];
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 1; i < n; ++i) {
      const ElfSection& s = sections_[i];
      if (removed_[i] || (s.flags & kShfAlloc) || i == header_.shstrndx) continue;
      if ((link_gone(s) || info_gone(s)) && (is_relocation(s) || s.type == kShtSymtabShndx))
        removed_[i] = changed = true;
    }
  }
  zero_link_.assign(n, false);
  for (size_t i = 1; i < n; ++i) {
    const ElfSection& s = sections_[i];
    if (removed_[i] || !(link_gone(s) || info_gone(s))) continue;
    if ((s.flags & kShfAlloc) && is_relocation(s) && !info_gone(s)) {
      zero_link_[i] = true;
      continue;
    }
    return refuse(s.name + " refers to removed section " +
                  sections_[link_gone(s) ? s.link : s.info].name);
  }
  if (std::none_of(removed_.begin(), removed_.end(), [](bool b) { return b; }))
    return refuse("nothing to strip");
  return true;
}

// Alloc sections must keep their indices so .dynsym's st_shndx stays right.
bool StripPlanner::check_indices() {
  const size_t n = sections_.size();
  new_index_.assign(n, 0);
  uint32_t next = 0;
  for (size_t i = 0; i < n; ++i) {
    if (removed_[i]) continue;
    if ((sections_[i].flags & kShfAlloc) && next != i)
      return refuse("a removed section precedes alloc section " + sections_[i].name);
    new_index_[i] = next++;
  }
  kept_count_ = next;
  for (size_t i = 1; i < n; ++i) {
    const ElfSection& s = sections_[i];
    if (!removed_[i] && (s.link >= n || (info_is_section(s) && s.info >= n)))
      return refuse(s.name + ": sh_link or sh_info out of range");
  }
  return true;
}

// The ELF header gets a new e_shoff, so no alloc bytes may live inside it.
bool StripPlanner::check_extents() {
  for (const ElfSection& s : sections_) {
    if (s.type == kShtNobits || s.size == 0) continue;
    if (!in_.contains(s.offset, s.size)) return refuse(s.name + " past end of file");
    if ((s.flags & kShfAlloc) && s.offset < header_.ehsize)
      return refuse(s.name + " overlaps the ELF header");
  }
  return true;
}

}  // namespace elf_detail

StripMode parse_strip_mode(const std::string& s) {
  if (s == "none") return StripMode::None;
  if (s == "debug") return StripMode::Debug;
  if (s == "unneeded") return StripMode::Unneeded;
  fail("unknown strip mode \"" + s + "\" (expected none, debug or unneeded)");
}

const char* strip_mode_name(StripMode m) {
  switch (m) {
    case StripMode::None: return "none";
    case StripMode::Debug: return "debug";
    case StripMode::Unneeded: return "unneeded";
  }
  return "none";
}

std::optional<StripResult> plan_strip(std::span<const uint8_t> bytes, const ElfInfo& info,
                                      StripMode mode, std::string* why) {
  return elf_detail::StripPlanner(bytes, info, mode).plan(why);
}

}  // namespace slimage
