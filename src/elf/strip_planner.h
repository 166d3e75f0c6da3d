// Internal to the strip writer: StripPlanner decides what a strip removes
// (strip_select.cpp) and lays out the output (strip_layout.cpp).
// Spec: gABI ch. 4, https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.sheader.html
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "elf_bytes.h"
#include "slimage/elf/strip.h"

namespace slimage::elf_detail {

// Header fields the strip writer needs besides what ElfInfo carries.
struct RawHeader {
  uint64_t ehsize = 0, phoff = 0, phnum = 0, phentsize = 0;
  uint64_t shoff = 0, shentsize = 0, shstrndx = 0;
};

bool is_relocation(const ElfSection& s);
// For REL/RELA and SHF_INFO_LINK sections sh_info is a section index.
bool info_is_section(const ElfSection& s);

class StripPlanner {
 public:
  StripPlanner(std::span<const uint8_t> bytes, const ElfInfo& info, StripMode mode)
      : in_(bytes, info.elf_class == 2, info.data == 2), layout_{info.elf_class == 2},
        info_(info), mode_(mode), sections_(info.sections) {}

  std::optional<StripResult> plan(std::string* why);

 private:
  bool refuse(const std::string& message) {
    if (why_) *why_ = message;
    return false;
  }
  // strip_select.cpp
  bool read_header();
  bool choose_removed();
  bool check_indices();
  bool check_extents();
  // strip_layout.cpp
  bool lay_out(StripResult* result);
  bool write_section_headers(StripResult* result);
  bool renumber_symbols(size_t symtab, std::string* out);

  ElfBytes in_;
  ElfLayout layout_;
  const ElfInfo& info_;
  StripMode mode_;
  const std::vector<ElfSection>& sections_;
  std::string* why_ = nullptr;
  RawHeader header_;
  std::vector<bool> removed_;
  std::vector<uint32_t> new_index_;  // valid for kept sections
  uint32_t kept_count_ = 0;
  std::vector<uint64_t> new_offset_;
  std::vector<std::string> new_contents_;  // non-empty: replaces the section's bytes
  std::vector<bool> zero_link_;
};

}  // namespace slimage::elf_detail
