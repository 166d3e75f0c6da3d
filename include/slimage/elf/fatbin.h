// CUDA fat binaries inside ELF files: a bounds-checked reader of the
// containers nvcc and fatbinary write into `.nv_fatbin`, `__nv_relfatbin`
// and wherever a `.nvFatBinSegment` wrapper points, and the GPU-architecture
// pruner that rewrites them (src/elf/fatbin.cpp, fatbin_prune.cpp,
// fatbin_verify.cpp). Layout, checked against CUDA 13 nvcc output and the
// CUDA 13 libraries (all fields in the ELF's byte order):
//   container: u32 magic 0xBA55ED50, u16 version 1, u16 header size (16),
//              u64 fat size (bytes of entries after the header)
//   entry:     u16 kind (1 PTX, 2 ELF cubin, 4/8/… LTO-IR and others),
//              u16 version (0x0101), u32 header size (64, 80, 88, 96, 112…),
//              u64 payload size (8-aligned), u32 compressed size, u32 ext
//              offset, u16 minor, u16 major, u32 SM (75, 90, 100…), u32+u32
//              name, u64 flags, u64 reserved, u64 uncompressed size, then the
//              extension; the payload follows the header.
//   flags:     0x1 64-bit, 0x10 linux, 0x2000 compressed (LZ4, CUDA ≤ 12),
//              0x8000 compressed (zstd, CUDA 13), 0x100000 arch-specific
//              (sm_90a), 0x200000 family-specific (sm_100f).
// Entries sit back to back; every header and payload size nvcc writes is a
// multiple of 8, so entries keep their 8-byte alignment when packed.
// Containers sit back to back in a section; a run of zero bytes (what the
// pruner leaves after a shrunk container) may separate them.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "slimage/elf/elf.h"

namespace slimage {

inline constexpr uint32_t kFatbinMagic = 0xBA55ED50;
inline constexpr uint32_t kFatbinWrapperMagic = 0x466243B1;

enum class FatbinKind : uint16_t { Ptx = 1, Cubin = 2 };  // others kept as numbers

struct FatbinEntry {
  uint64_t offset = 0;  // in the file
  uint16_t kind = 0;
  uint32_t header_size = 0;
  uint64_t payload_size = 0;
  uint32_t sm = 0;     // 90 for sm_90 / compute_90
  uint64_t flags = 0;
  uint64_t uncompressed_size = 0;
  bool is_cubin() const { return kind == uint16_t(FatbinKind::Cubin); }
  bool is_ptx() const { return kind == uint16_t(FatbinKind::Ptx); }
  bool arch_specific() const { return flags & 0x100000; }    // sm_90a
  bool family_specific() const { return flags & 0x200000; }  // sm_100f
  bool compressed() const { return flags & (0x2000 | 0x8000); }
  uint64_t size() const { return header_size + payload_size; }
  // "sm_90 cubin", "sm_90a cubin", "compute_90 ptx", "sm_90 kind 4"
  std::string label() const;
};

struct FatbinContainer {
  uint64_t offset = 0;  // of the 16-byte header, in the file
  uint64_t size = 0;    // header + fat size
  uint16_t header_size = 16;
  std::string section;  // ".nv_fatbin", "__nv_relfatbin", or where a wrapper points
  std::vector<FatbinEntry> entries;
};

struct FatbinScan {
  std::vector<FatbinContainer> containers;  // in file order
  // Containers that do not parse exactly: "section .nv_fatbin offset 0x1234: …".
  // Any error leaves the whole file untouched.
  std::vector<std::string> errors;
  // Container magics outside every region the reader owns: reported, never rewritten.
  std::vector<uint64_t> stray_magics;
  std::map<std::string, uint64_t> stray_by_section;  // where they are ("(no section)" if none)
  bool ok() const { return errors.empty(); }
  uint64_t gpu_bytes() const;  // entries' header + payload bytes
};

// Told that the bytes [offset, offset + length) have been read and are not
// needed again soon: the caller can release their pages, so a 1 GB library
// is never held whole. Called every 64 MiB of progress and at each pass's end.
using ReadBehind = std::function<void(uint64_t offset, uint64_t length)>;

// Every container of the file. `find_strays` also scans the rest of the file
// (8-byte aligned, as nvcc places containers) for stray magics. Both passes
// read front to back and tell `behind` what they are done with.
FatbinScan scan_fatbins(std::span<const uint8_t> bytes, const ElfInfo& info, bool find_strays,
                        const ReadBehind& behind = {});

// Parses one container at `offset` within `bytes`, not past `limit`; returns
// false with *error ("entry 3 at 0x…: payload past the container") otherwise.
// Entries must fill the fat size exactly.
bool parse_fatbin_container(std::span<const uint8_t> bytes, uint64_t offset, uint64_t limit,
                            bool big_endian, FatbinContainer& out, std::string* error);

// Parses the containers of a region [begin, end): back to back, zero bytes
// allowed between them and after the last. Appends to `out`; false with
// *error naming the offset on the first that does not parse.
bool parse_fatbin_region(std::span<const uint8_t> bytes, uint64_t begin, uint64_t end,
                         bool big_endian, const std::string& section,
                         std::vector<FatbinContainer>& out, std::string* error,
                         const ReadBehind& behind = {});

// A byte range [begin, end) of a file.
using FileRange = std::pair<uint64_t, uint64_t>;

// The size (header + fat size) of the container whose little-endian header
// is at `p`, with `room` bytes of the file from `p` on (at least 16), or 0
// if none starts there: its magic, version 1, header size 16, a nonzero fat
// size within `room`. What low-disk mode's pass 1 leaves out of a big ELF
// file's copy as the stream goes by (rootfs/sparse_spill.h ElfCopy).
uint64_t fatbin_container_at(const uint8_t* p, uint64_t room);

// Whether zeros in place of the file's bytes in `zeroed` (sorted) change
// nothing that parse_elf, plan_strip and elf_kind_of read: each range lies
// inside one alloc PROGBITS section (.nv_fatbin, .rodata, .data, …: bytes
// none of them parses), overlaps no other section but NOBITS ones, nor the
// ELF header, the program or section header table, PT_INTERP or
// PT_DYNAMIC. library_name_strings, which scans read-only data, is the
// caller's: low-disk mode's ElfCopy keeps every byte it reads around each
// ".so". `info` is parse_elf's of those bytes.
bool zeroed_unread(std::span<const uint8_t> bytes, const ElfInfo& info, std::span<const FileRange> zeroed);

}  // namespace slimage
