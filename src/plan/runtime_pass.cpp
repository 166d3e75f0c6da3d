// The runtime profile's plan steps (see plan_internal.h): ELF kinds for
// choosing roots, the runtime-compilers pass, and which shared libraries may
// go when nothing reaches them. With drop_unreachable_libraries the walk's
// roots are the entrypoint, kept programs (every ELF with PT_INTERP or of
// type ET_EXEC: the PATH tools and anything else a person or script may run),
// Python extension modules, config plugins and the profile's keep and
// entrypoint globs; every other shared library is kept only if one reaches it.
#include <algorithm>

#include "plan_internal.h"
#include "slimage/plan/glob.h"

namespace slimage::plan_detail {
namespace {

uint64_t read_uint(std::span<const uint8_t> b, size_t at, size_t size, bool big) {
  uint64_t v = 0;
  for (size_t k = 0; k < size; ++k) {
    uint8_t byte = b[at + (big ? k : size - 1 - k)];
    v = (v << 8) | byte;
  }
  return v;
}

bool any_match(const std::vector<std::string>& globs, const std::string& path) {
  for (auto& g : globs)
    if (glob_match(g, path)) return true;
  return false;
}

// The directory a glob's matches all lie below ("usr/lib/gcc" for
// "usr/lib/gcc/*/*/cc1"); "" when it can match anywhere.
std::string fixed_dir(const std::string& glob) {
  std::string g = glob.starts_with("/") ? glob.substr(1) : glob;
  size_t wild = g.find_first_of("*?[");
  std::string head = g.substr(0, wild);
  size_t slash = head.rfind('/');
  return slash == std::string::npos ? "" : head.substr(0, slash);
}

}  // namespace

char elf_kind_of(std::span<const uint8_t> b) {
  if (b.size() < 52 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F') return 0;
  bool wide = b[4] == 2, big = b[5] == 2;
  if (wide && b.size() < 64) return 'o';
  uint64_t type = read_uint(b, 16, 2, big);
  if (type == 2) return 'p';
  if (type != 3) return 'o';
  uint64_t phoff = wide ? read_uint(b, 32, 8, big) : read_uint(b, 28, 4, big);
  uint64_t phentsize = read_uint(b, wide ? 54 : 42, 2, big);
  uint64_t phnum = read_uint(b, wide ? 56 : 44, 2, big);
  if (phentsize < 4) return 's';
  for (uint64_t k = 0; k < phnum && k < 4096; ++k) {
    uint64_t at = phoff + k * phentsize;
    if (at < phoff || at + 4 > b.size()) break;
    if (read_uint(b, at, 4, big) == 3) return 'p';  // PT_INTERP
  }
  return 's';
}

void runtime_compilers_pass(PlanBuilder& b) {
  for (auto& rc : b.profile.runtime_compilers) {
    std::string trigger;
    for (auto& g : rc.triggers) {
      auto [first, last] = fixed_dir(g).empty() ? std::pair<size_t, size_t>{0, b.nodes.size()}
                                                : b.subtree(fixed_dir(g));
      for (size_t k = first; k < last && trigger.empty(); ++k)
        if (!b.dropped(b.nodes[k]->path) && glob_match(g, b.nodes[k]->path)) trigger = b.nodes[k]->path;
      if (!trigger.empty()) break;
    }
    if (trigger.empty()) continue;
    std::string why = "runtime compiler " + rc.name + ": " + rc.reason + " (" + trigger + " is kept)";
    for (auto& g : rc.keeps) {
      auto [first, last] = fixed_dir(g).empty() ? std::pair<size_t, size_t>{0, b.nodes.size()}
                                                : b.subtree(fixed_dir(g));
      for (size_t k = first; k < last; ++k) {
        const Node& n = *b.nodes[k];
        if (n.path.empty() || !glob_match(g, n.path)) continue;
        Action& a = b.action(n.path);
        if (a.kind == ReasonKind::KeepGlob || b.cli_dropped.count(n.path)) continue;
        std::string over = a.fate == Fate::Drop ? std::string("; overrides ") +
                                                      reason_kind_name(a.kind) + " (" + a.why() + ")"
                                                : "";
        a = Action{.type = n.type, .fate = Fate::Keep, .kind = ReasonKind::KeepGlob,
                 .reason = why + over};
      }
    }
  }
}

bool runtime_root_elf(const PlanBuilder& b, size_t index) {
  return index < b.elf_kind.size() && b.elf_kind[index] == 'p';
}

bool unreachable_library_candidate(const PlanBuilder& b, size_t index) {
  const Node& n = *b.nodes[index];
  if (!b.profile.drop_unreachable_libraries || !n.is_file() || index >= b.elf_kind.size() ||
      b.elf_kind[index] != 's')
    return false;
  std::string base = basename_of(n.path);
  // Shared libraries by name only: "*.node", kernel modules and odd ELF stay.
  if (base.find(".so") == std::string::npos) return false;
  return !any_match(b.profile.host_provided, base) && !keep_glob_for(b, n.path) &&
         b.actions.at(n.path).kind != ReasonKind::KeepGlob;
}

}  // namespace slimage::plan_detail
