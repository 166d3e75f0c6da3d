// ELF facts slimage needs, read with bounds checks from untrusted bytes:
// class, byte order, machine, type, PT_INTERP, the dynamic section's NEEDED,
// SONAME, RPATH, RUNPATH, FLAGS_1, and the section table. 32/64-bit, both
// byte orders, any e_machine. Reads only the headers and the pages those
// point at (the input is usually an mmap of a multi-hundred-MB library).
// Spec: System V gABI ch. 4–5, https://refspecs.linuxfoundation.org/elf/gabi4+/contents.html
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace slimage {

struct ElfSection {
  std::string name;
  uint32_t type = 0;    // SHT_*
  uint64_t flags = 0;   // SHF_*
  uint64_t addr = 0, offset = 0, size = 0;
  uint32_t link = 0, info = 0;
  uint64_t addralign = 0, entsize = 0;
};

struct ElfInfo {
  uint8_t elf_class = 0;    // 1 = ELFCLASS32, 2 = ELFCLASS64
  uint8_t data = 0;         // 1 = little endian, 2 = big endian
  uint8_t osabi = 0;
  uint16_t type = 0;        // ET_REL 1, ET_EXEC 2, ET_DYN 3, ET_CORE 4
  uint16_t machine = 0;     // EM_*
  uint32_t flags = 0;       // e_flags: on ARM, EF_ARM_ABI_FLOAT_HARD (0x400) marks armhf
  std::string interp;       // PT_INTERP, empty if none
  bool has_dynamic = false;
  std::vector<std::string> needed;  // DT_NEEDED in order
  std::string soname;
  std::optional<std::string> rpath;    // DT_RPATH, as written (":"-separated, tokens unexpanded)
  std::optional<std::string> runpath;  // DT_RUNPATH
  uint64_t flags_1 = 0;                // DT_FLAGS_1 (DF_1_NODEFLIB = 0x800)
  std::vector<ElfSection> sections;    // empty if the file has no section table
  bool nodeflib() const { return flags_1 & 0x800; }
  // Same class, byte order and machine: what the loader requires of a candidate.
  bool compatible_with(const ElfInfo& other) const {
    return elf_class == other.elf_class && data == other.data && machine == other.machine;
  }
};

// True if the bytes start with "\x7fELF".
bool is_elf(std::span<const uint8_t> bytes);

// Parses `bytes`. A malformed file returns nullopt and sets *error to a
// message without location ("e_shoff past end of file"); the caller prefixes
// where. Never reads outside `bytes`, never crashes.
std::optional<ElfInfo> parse_elf(std::span<const uint8_t> bytes, std::string* error);

// e_machine as text ("x86-64", "AArch64", …; "machine 0x1234" if unknown).
std::string machine_name(uint16_t machine);

// Read-only strings that look like library names ("libfoo.so", "libfoo.so.9",
// "libnvrtc-builtins.so.13.0") found in .rodata/.dynstr-free alloc, non-exec
// sections (or, with no section table, the whole file), deduplicated, in
// order of first appearance. Used by the dlopen string heuristic.
std::vector<std::string> library_name_strings(std::span<const uint8_t> bytes, const ElfInfo& info);
// The longest name it takes: it looks no further back from a ".so" than
// this (and the byte before), and forward to the string's NUL.
inline constexpr size_t kLibraryNameMax = 255;

}  // namespace slimage
