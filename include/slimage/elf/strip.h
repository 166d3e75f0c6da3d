// The in-process strip writer: removes non-alloc sections the way
// `strip --strip-debug` / `--strip-unneeded` do for executables and shared
// libraries, for any e_machine and byte order. Alloc sections, program
// headers and the dynamic section are never touched: every byte the loader
// maps stays at its offset. Kept non-alloc sections (.shstrtab, .gnu_debuglink,
// .comment, non-alloc notes…) are packed after the last alloc byte, followed
// by a new section header table with sh_link/sh_info renumbered.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "slimage/elf/elf.h"
#include "slimage/util/io.h"

namespace slimage {

enum class StripMode { None, Debug, Unneeded };
StripMode parse_strip_mode(const std::string& s);  // "none", "debug", "unneeded"; throws Error
const char* strip_mode_name(StripMode m);

// The stripped file as pieces: ranges of the input and new bytes, in order.
// A 500 MB library is never copied into memory to strip it.
struct StripPiece {
  uint64_t offset = 0, length = 0;  // a range of the input, if bytes is empty
  std::string bytes;                // new bytes (headers, tables)
};

struct StripResult {
  std::vector<StripPiece> pieces;
  uint64_t output_size = 0;
  std::vector<std::string> removed_sections;  // names, for reports
};

// Whether this file may be stripped at all: ET_EXEC or ET_DYN with a section
// table; never ET_REL (objects, kernel modules), never a file that has no
// removable section for the mode. Returns nullopt (with *why) when it must be
// left alone or nothing would change.
std::optional<StripResult> plan_strip(std::span<const uint8_t> bytes, const ElfInfo& info,
                                      StripMode mode, std::string* why);

// Writes the pieces (reading ranges from `bytes`).
void write_stripped(std::span<const uint8_t> bytes, const StripResult& result, Writer& out);

}  // namespace slimage
