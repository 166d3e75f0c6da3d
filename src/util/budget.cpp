// Budgets (include/slimage/util/budget.h): defaults, the SLIMAGE_MAX_<NAME>
// environment overrides, and the error that names the budget and how to raise it.
#include "slimage/util/budget.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>

#include "slimage/util/error.h"

namespace slimage {
namespace {

// Defaults: each at least 10x what the largest real sample needs (see README "Budgets").
constexpr std::array<BudgetInfo, 12> kInfo{{
    {"SLIMAGE_MAX_PATH_DEPTH", "path components", 1024},
    {"SLIMAGE_MAX_SEARCH_PATHS", "search-path entries", 1024},
    {"SLIMAGE_MAX_INCLUDES", "ld.so.conf includes", 1024},
    {"SLIMAGE_MAX_CACHE_ENTRIES", "ld.so.cache entries", 50000},
    {"SLIMAGE_MAX_MANIFESTS", "manifests and indexes", 4096},
    {"SLIMAGE_MAX_NEEDED", "DT_NEEDED entries", 4096},
    {"SLIMAGE_MAX_SEARCH_PROBES", "library search probes", 500000},
    {"SLIMAGE_MAX_SHELL_COMMANDS", "shell commands", 100000},
    {"SLIMAGE_MAX_PATH_BYTES", "bytes of paths in the merged tree", uint64_t{64} << 20},
    {"SLIMAGE_MAX_CLOSURE_STEPS", "objects walked in one library closure", 700000},
    // Every entry costs memory from decode to the end (LayerEntry, node, plan
    // action: about 900 bytes with a 60-byte path), so this bounds peak RSS
    // where SLIMAGE_MAX_PATH_BYTES alone does not (short paths). 10.3x the
    // 10 GB PyTorch CUDA image's 106,272.
    {"SLIMAGE_MAX_ENTRIES", "layer entries", 1100000},
    // Each layer costs a decode (threads, a scratch file) and an output blob
    // (an fsync): about 5 ms of the kernel's time. 10x Docker's own limit
    // (overlayfs: about 127), so 10,000 one-file layers stop before a minute.
    {"SLIMAGE_MAX_LAYERS", "layers", 1280},
}};

// 0: not read yet.
std::array<std::atomic<uint64_t>, kInfo.size()> g_cache{};

uint64_t read_env(const BudgetInfo& info) {
  std::string name(info.env);
  const char* env = std::getenv(name.c_str());
  if (!env || !*env) return info.fallback;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(env, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || env[0] == '-')
    fail(name + "=" + env + ": not a positive integer");
  return v;
}

}  // namespace

const BudgetInfo& budget_info(Budget b) { return kInfo[static_cast<size_t>(b)]; }

uint64_t budget(Budget b) {
  auto& slot = g_cache[static_cast<size_t>(b)];
  uint64_t v = slot.load(std::memory_order_relaxed);
  if (v == 0) {
    v = read_env(budget_info(b));
    slot.store(v, std::memory_order_relaxed);
  }
  return v;
}

std::string budget_message(Budget b, std::string_view where, uint64_t seen) {
  const BudgetInfo& info = budget_info(b);
  std::string msg(where);
  if (!msg.empty()) msg += ": ";
  msg += std::to_string(seen) + " " + std::string(info.what) + " exceed the budget of " +
         std::to_string(budget(b)) + " (raise it with " + std::string(info.env) + "=N)";
  return msg;
}

void budget_exceeded(Budget b, std::string_view where, uint64_t seen) {
  fail(budget_message(b, where, seen));
}

void reset_budgets_for_test() {
  for (auto& slot : g_cache) slot.store(0, std::memory_order_relaxed);
}

}  // namespace slimage
