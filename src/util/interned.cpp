// The intern pool behind InternedString (include/slimage/util/interned.h).
#include "slimage/util/interned.h"

#include <mutex>
#include <unordered_set>

namespace slimage {

const std::string InternedString::kEmpty;

InternedString::InternedString(std::string_view s) {
  if (s.empty()) return;
  // Never freed: handles are copied freely between threads and structures.
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
  };
  static std::mutex mu;
  static auto* pool = new std::unordered_set<std::string, Hash, std::equal_to<>>();
  std::lock_guard lock(mu);
  auto it = pool->find(s);
  if (it == pool->end()) it = pool->emplace(s).first;
  s_ = &*it;  // set elements never move
}

}  // namespace slimage
