// Small budgets for the fuzzers (include/slimage/util/budget.h). A fuzz input
// is a few KiB, so the defaults (1,024 path components, 4,096 DT_NEEDED
// entries, 500,000 search probes…) are never reached and the code enforcing
// them would go unfuzzed: each fuzzer whose code checks a budget lowers them
// all from LLVMFuzzerInitialize, so both sides of every check are reached.
#pragma once
#include <cstdlib>
#include <utility>

#include "slimage/util/budget.h"

namespace slimage::fuzz {

inline void use_small_budgets() {
  static const std::pair<const char*, const char*> kSmall[] = {
      {"SLIMAGE_MAX_PATH_DEPTH", "6"},      {"SLIMAGE_MAX_SEARCH_PATHS", "3"},
      {"SLIMAGE_MAX_INCLUDES", "3"},        {"SLIMAGE_MAX_CACHE_ENTRIES", "8"},
      {"SLIMAGE_MAX_MANIFESTS", "3"},       {"SLIMAGE_MAX_NEEDED", "4"},
      {"SLIMAGE_MAX_SEARCH_PROBES", "24"},  {"SLIMAGE_MAX_SHELL_COMMANDS", "4"},
      {"SLIMAGE_MAX_PATH_BYTES", "4096"},   {"SLIMAGE_MAX_ENTRIES", "64"},
      {"SLIMAGE_MAX_LAYERS", "8"},
  };
  for (const auto& [name, value] : kSmall) ::setenv(name, value, 1);
  reset_budgets_for_test();
}

}  // namespace slimage::fuzz
