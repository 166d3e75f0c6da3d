// Budgets: explicit caps on what a hostile image can make slimage do (path depth,
// layers, layer entries, bytes of the merged tree's paths, search-path entries, ld.so.conf includes, manifests, xattr bytes, DT_NEEDED entries,
// closure edges, shell commands). Each has a default well above what real images need
// and is raised (or lowered) through its environment variable, SLIMAGE_MAX_<NAME>.
// Exceeding one is an Error naming the budget and the variable that raises it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace slimage {

enum class Budget {
  PathDepth,          // SLIMAGE_MAX_PATH_DEPTH: components in one path
  SearchPaths,        // SLIMAGE_MAX_SEARCH_PATHS: entries in one RPATH/RUNPATH/LD_LIBRARY_PATH/ld.so.conf
  Includes,           // SLIMAGE_MAX_INCLUDES: ld.so.conf files read through include lines
  CacheEntries,       // SLIMAGE_MAX_CACHE_ENTRIES: ld.so.cache entries
  Manifests,          // SLIMAGE_MAX_MANIFESTS: manifests and indexes visited in one image index
  Needed,             // SLIMAGE_MAX_NEEDED: DT_NEEDED entries in one ELF
  SearchProbes,       // SLIMAGE_MAX_SEARCH_PROBES: (directory, library) probes in one image
  ShellCommands,      // SLIMAGE_MAX_SHELL_COMMANDS: simple commands in one `sh -c` script
  PathBytes,          // SLIMAGE_MAX_PATH_BYTES: bytes of every path the merged tree holds
  ClosureSteps,       // SLIMAGE_MAX_CLOSURE_STEPS: objects walked, every root's process together
  Entries,            // SLIMAGE_MAX_ENTRIES: tar entries in one image's layers, all together
  Layers,             // SLIMAGE_MAX_LAYERS: layers one image manifest lists
};

struct BudgetInfo {
  std::string_view env;   // "SLIMAGE_MAX_PATH_DEPTH"
  std::string_view what;  // "path components"
  uint64_t fallback;      // the default
};

const BudgetInfo& budget_info(Budget b);

// The budget now: the default, or $SLIMAGE_MAX_<NAME> (a positive integer; anything
// else is an Error naming the variable). Read once per process and cached.
uint64_t budget(Budget b);

// "WHERE: N path components exceed the budget of M (raise it with SLIMAGE_MAX_PATH_DEPTH=…)"
std::string budget_message(Budget b, std::string_view where, uint64_t seen);

// Throws Error(budget_message(...)) when seen > budget(b).
inline void check_budget(Budget b, std::string_view where, uint64_t seen);

[[noreturn]] void budget_exceeded(Budget b, std::string_view where, uint64_t seen);

inline void check_budget(Budget b, std::string_view where, uint64_t seen) {
  if (seen > budget(b)) budget_exceeded(b, where, seen);
}

// For tests: forget cached values so a changed environment is read again.
void reset_budgets_for_test();

}  // namespace slimage
