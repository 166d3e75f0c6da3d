// libFuzzer target: every file the strip writer accepts must come out as an
// ELF that parse_elf reads, with every SHF_ALLOC section's bytes unchanged at
// the same offsets and the same dynamic facts; abort() otherwise.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "slimage/elf/strip.h"
#include "slimage/util/io.h"

using namespace slimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  std::string error;
  auto info = parse_elf(bytes, &error);
  if (!info) return 0;
  for (StripMode mode : {StripMode::Debug, StripMode::Unneeded}) {
    std::string why;
    auto result = plan_strip(bytes, *info, mode, &why);
    if (!result) {
      if (why.empty()) abort();
      continue;
    }
    StringWriter out;
    write_stripped(bytes, *result, out);
    const std::string& s = out.str();
    if (s.size() != result->output_size) abort();
    std::span<const uint8_t> stripped(reinterpret_cast<const uint8_t*>(s.data()), s.size());
    auto again = parse_elf(stripped, &error);
    if (!again) abort();
    if (again->needed != info->needed || again->soname != info->soname ||
        again->interp != info->interp || again->runpath != info->runpath ||
        again->rpath != info->rpath)
      abort();
    for (const ElfSection& sec : info->sections) {
      if (!(sec.flags & 2) || sec.type == 8 || sec.size == 0) continue;
      if (sec.offset + sec.size > s.size() ||
          std::memcmp(s.data() + sec.offset, bytes.data() + sec.offset, sec.size) != 0)
        abort();
    }
  }
  return 0;
}
