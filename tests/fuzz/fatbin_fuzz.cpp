// libFuzzer target for the fat binary reader and pruner: the input is one
// region (a .nv_fatbin section). Whatever parses must prune into patches that
// keep the length, re-parse to exactly the kept entries (the verifier), and
// prune again to no change; abort() otherwise. Nothing may read out of bounds.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "slimage/elf/fatbin_prune.h"
#include "slimage/util/error.h"
#include "slimage/util/io.h"

using namespace slimage;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  bool be = data[0] & 1;
  PtxPolicy ptx = PtxPolicy((data[0] >> 1) % 3);
  std::vector<uint8_t> bytes(data + 1, data + size);
  FatbinScan scan;
  std::string error;
  if (!parse_fatbin_region(bytes, 0, bytes.size(), be, ".nv_fatbin", scan.containers, &error)) {
    if (error.empty()) abort();
    return 0;
  }
  static const char* kLists[] = {"sm_90", "sm_80,sm_86", "sm_90a", "sm_100f,sm_75"};
  GpuSelection sel{parse_cuda_archs(kLists[(data[0] >> 3) % 4]), ptx};
  FatbinPrune p = plan_fatbin_prune(bytes, scan, sel);
  StringWriter out;
  write_stripped_patched(bytes, nullptr, p.patches, out);
  const std::string& s = out.str();
  if (s.size() != bytes.size()) abort();
  std::span<const uint8_t> written(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  try {
    verify_fatbin_prune(bytes, scan, p, sel, written, "fuzz");
  } catch (const Error&) {
    abort();
  }
  FatbinScan again;
  if (!parse_fatbin_region(written, 0, written.size(), be, ".nv_fatbin", again.containers, &error)) abort();
  FatbinPrune twice = plan_fatbin_prune(written, again, sel);
  if (twice.changed_any()) abort();
  return 0;
}
