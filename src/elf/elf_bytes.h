// Bounds-checked, byte-order-aware reads of ELF fields from untrusted bytes.
// Every ELF integer is read through ElfBytes, which knows the file's class
// (32/64-bit field widths) and byte order (EI_DATA), so the parser and the
// strip writer work for any machine. Offsets come from the file, so every
// sum is overflow-checked before it is compared with the size.
// Spec: gABI "ELF Identification", https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
#pragma once
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

namespace slimage::elf_detail {

// a + b without wrapping; false on overflow.
inline bool checked_add(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
inline bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

class ElfBytes {
 public:
  ElfBytes(std::span<const uint8_t> bytes, bool is64, bool big_endian)
      : bytes_(bytes), is64_(is64), big_(big_endian) {}

  uint64_t size() const { return bytes_.size(); }
  bool is64() const { return is64_; }
  bool big_endian() const { return big_; }
  const uint8_t* data() const { return bytes_.data(); }

  // True if [offset, offset + length) lies inside the bytes.
  bool contains(uint64_t offset, uint64_t length) const {
    uint64_t end;
    return checked_add(offset, length, &end) && end <= bytes_.size();
  }

  // Callers check contains() for the whole record first; these assume it.
  uint64_t uint(uint64_t offset, unsigned width) const {
    const uint8_t* p = bytes_.data() + offset;
    uint64_t v = 0;
    if (big_) {
      for (unsigned i = 0; i < width; ++i) v = (v << 8) | p[i];
    } else {
      for (unsigned i = width; i-- > 0;) v = (v << 8) | p[i];
    }
    return v;
  }
  uint16_t u16(uint64_t offset) const { return static_cast<uint16_t>(uint(offset, 2)); }
  uint32_t u32(uint64_t offset) const { return static_cast<uint32_t>(uint(offset, 4)); }
  uint64_t u64(uint64_t offset) const { return uint(offset, 8); }
  // An Elf32_Addr/Off/Word-or-Xword: 4 bytes in ELFCLASS32, 8 in ELFCLASS64.
  uint64_t word(uint64_t offset) const { return uint(offset, is64_ ? 8 : 4); }

  // The NUL-terminated string at table_offset + index inside a table of
  // table_size bytes. False if the index or the terminator is outside it.
  bool c_string(uint64_t table_offset, uint64_t table_size, uint64_t index,
                std::string* out) const {
    if (!contains(table_offset, table_size) || index >= table_size) return false;
    const char* start = reinterpret_cast<const char*>(bytes_.data() + table_offset + index);
    const void* nul = std::memchr(start, 0, table_size - index);
    if (!nul) return false;
    out->assign(start, static_cast<const char*>(nul));
    return true;
  }

 private:
  std::span<const uint8_t> bytes_;
  bool is64_;
  bool big_;
};

// Writes an integer of `width` bytes in the file's byte order into out[offset…].
inline void put_uint(std::string& out, uint64_t offset, unsigned width, uint64_t value,
                     bool big_endian) {
  for (unsigned i = 0; i < width; ++i) {
    unsigned shift = big_endian ? 8 * (width - 1 - i) : 8 * i;
    out[offset + i] = static_cast<char>((value >> shift) & 0xff);
  }
}

// Field offsets that differ between the classes (gABI figures 4-3, 4-8, 5-1).
struct ElfLayout {
  bool is64;
  unsigned ehsize() const { return is64 ? 64 : 52; }
  unsigned e_phoff() const { return is64 ? 32 : 28; }
  unsigned e_shoff() const { return is64 ? 40 : 32; }
  unsigned e_phentsize() const { return is64 ? 54 : 42; }
  unsigned e_phnum() const { return is64 ? 56 : 44; }
  unsigned e_shentsize() const { return is64 ? 58 : 46; }
  unsigned e_shnum() const { return is64 ? 60 : 48; }
  unsigned e_shstrndx() const { return is64 ? 62 : 50; }
  unsigned word() const { return is64 ? 8 : 4; }
  // Elf_Phdr
  unsigned phdr_size() const { return is64 ? 56 : 32; }
  unsigned p_offset() const { return is64 ? 8 : 4; }
  unsigned p_vaddr() const { return is64 ? 16 : 8; }
  unsigned p_filesz() const { return is64 ? 32 : 16; }
  // Elf_Shdr
  unsigned shdr_size() const { return is64 ? 64 : 40; }
  unsigned sh_flags() const { return 8; }
  unsigned sh_addr() const { return is64 ? 16 : 12; }
  unsigned sh_offset() const { return is64 ? 24 : 16; }
  unsigned sh_size() const { return is64 ? 32 : 20; }
  unsigned sh_link() const { return is64 ? 40 : 24; }
  unsigned sh_info() const { return is64 ? 44 : 28; }
  unsigned sh_addralign() const { return is64 ? 48 : 32; }
  unsigned sh_entsize() const { return is64 ? 56 : 36; }
  // Elf_Dyn and Elf_Sym
  unsigned dyn_size() const { return is64 ? 16 : 8; }
  unsigned sym_size() const { return is64 ? 24 : 16; }
  unsigned st_shndx() const { return is64 ? 6 : 14; }
};

// Constants used across the module (elf.h in glibc, gABI tables).
constexpr uint32_t kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3;
constexpr uint32_t kShtNull = 0, kShtProgbits = 1, kShtSymtab = 2, kShtStrtab = 3,
                   kShtRela = 4, kShtDynamic = 6, kShtNobits = 8, kShtRel = 9,
                   kShtDynsym = 11, kShtSymtabShndx = 18;
constexpr uint64_t kShfWrite = 0x1, kShfAlloc = 0x2, kShfExecinstr = 0x4, kShfInfoLink = 0x40;
constexpr uint16_t kShnLoreserve = 0xff00, kShnXindex = 0xffff, kPnXnum = 0xffff;
constexpr uint16_t kEtRel = 1, kEtExec = 2, kEtDyn = 3, kEtCore = 4;

}  // namespace slimage::elf_detail
