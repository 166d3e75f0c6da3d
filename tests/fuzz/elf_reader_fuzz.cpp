// libFuzzer target: parse_elf and library_name_strings on arbitrary bytes.
// The bytes are copied to an exact-size heap buffer so ASan sees any overread.
#include <cstdint>
#include <string>
#include <vector>

#include "slimage/elf/elf.h"
#include "fuzz_budgets.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  slimage::fuzz::use_small_budgets();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  std::string error;
  auto info = slimage::parse_elf(bytes, &error);
  if (info) {
    slimage::library_name_strings(bytes, *info);
    slimage::machine_name(info->machine);
  } else if (error.empty()) {
    __builtin_trap();  // a rejection always says why
  }
  return 0;
}
