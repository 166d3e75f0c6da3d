// libFuzzer target for the ld.so.cache parser: any bytes, never a crash,
// never a read outside the input (run under ASan). Seeds: a real
// /etc/ld.so.cache and truncations of it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "slimage/deps/ld_cache.h"
#include "fuzz_budgets.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  slimage::fuzz::use_small_budgets();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto cache = slimage::LdCache::parse({data, size}, &error);
  if (cache) {
    for (auto& e : cache->entries()) (void)slimage::ld_cache_flags_name(e.flags);
    (void)cache->lookup("libc.so.6", 62, 2);
  }
  return 0;
}
