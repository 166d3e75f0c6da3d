// Plan pass (e): which kept ELF files to strip, and byte accounting. Hardlinked
// names share one content, so both are decided once per content: the group's
// representative is its first name that stays (else its first name), which
// carries the bytes; the other names carry 0, so totals count content once.
// Never stripped: ET_REL objects, kernel modules (*.ko, lib/modules/**),
// *.o and *.a — plan_strip refuses ET_REL itself; the names are checked first
// so nothing is even parsed.
#include <map>
#include <span>
#include <string_view>
#include <unordered_set>

#include "plan_internal.h"
#include "slimage/elf/elf.h"
#include "slimage/plan/glob.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/thread_pool.h"

namespace slimage::plan_detail {
namespace {

bool never_strip(const std::string& path) {
  return path.ends_with(".ko") || path.ends_with(".o") || path.ends_with(".a") ||
         path.ends_with(".ko.xz") || glob_match("lib/modules/**", path) ||
         glob_match("usr/lib/modules/**", path);
}

std::string join(const std::vector<std::string>& v, size_t max) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max) s += ", … (" + std::to_string(v.size()) + " sections)";
  return s;
}

// A content and the names that share it: a file alone (most of them, so no
// vector), or a hardlink group.
struct Group {
  size_t representative = 0;  // node index of the name that carries the bytes
  const std::vector<size_t>* members = nullptr;  // in path order; null: the representative alone
};

}  // namespace


void strip_and_account_pass(PlanBuilder& b, StripMode mode) {
  // Content groups: a Hardlink joins its target's group. Only contents some
  // hardlink names are grouped: a million lone files cost no map and no vector.
  std::unordered_set<std::string_view> linked;  // targets of hardlinks (views of node paths)
  for (const Node* n : b.nodes)
    if (n->type == FileType::Hardlink) linked.insert(n->link_target);
  std::map<std::string_view, std::vector<size_t>> shared;  // target path -> members
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (!n.is_file()) continue;
    std::string_view key = n.type == FileType::Hardlink ? std::string_view(n.link_target) : std::string_view(n.path);
    if (n.type == FileType::Hardlink || linked.count(key)) shared[key].push_back(i);
  }
  // In key order, as one map of every group would list them: lone files (in
  // path order) merged with the shared groups (in target order).
  std::vector<Group> list;
  list.reserve(b.nodes.size());
  auto pick = [&](const std::vector<size_t>& members) {
    Group g{members.front(), &members};
    for (size_t m : members)
      if (!b.dropped(b.nodes[m]->path)) {
        g.representative = m;
        break;
      }
    list.push_back(g);
  };
  auto next_shared = shared.begin();
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (!n.is_file() || n.type == FileType::Hardlink || linked.count(n.path)) continue;
    for (; next_shared != shared.end() && next_shared->first < n.path; ++next_shared) pick(next_shared->second);
    list.push_back(Group{i, nullptr});
  }
  for (; next_shared != shared.end(); ++next_shared) pick(next_shared->second);

  // Only ELF files that stay are parsed: decisions for those alone.
  std::vector<size_t> candidates;  // indexes into list
  for (size_t k = 0; k < list.size(); ++k) {
    size_t rep = list[k].representative;
    const Node& n = *b.nodes[rep];
    if (mode != StripMode::None && b.elf[rep] && !b.dropped(n.path) && !never_strip(n.path))
      candidates.push_back(k);
  }
  struct Decision {
    std::optional<StripResult> result;
  };
  std::vector<Decision> decisions(candidates.size());
  ByteGate resident(kResidentContentCap);
  parallel_for(candidates.size(), b.options.jobs, [&](size_t k) {
    const Node& n = *b.nodes[list[candidates[k]].representative];
    // Low-disk mode summarized only big ELF files strip leaves as they are.
    if (const ElfSummary* s = b.fs.elf_summary(n)) {
      if (!s->info) b.diagnostics.warn(n.path, "not stripped: " + s->parse_error);
      return;
    }
    ByteGate::Hold hold(resident, n.size);
    auto bytes = b.fs.content(n);
    std::string error;
    auto info = parse_elf(bytes, &error);
    if (!info) {
      b.fs.release(n);
      b.diagnostics.warn(n.path, "not stripped: " + error);
      return;
    }
    if (info->type != 2 && info->type != 3) return b.fs.release(n);  // ET_EXEC, ET_DYN only
    std::string why;
    decisions[k].result = plan_strip(bytes, *info, mode, &why);
    b.fs.release(n);
    if (decisions[k].result && decisions[k].result->output_size >= n.size) decisions[k].result.reset();
  });

  static const std::optional<StripResult> kNone;
  size_t next_decision = 0;
  for (size_t k = 0; k < list.size(); ++k) {
    const Group& g = list[k];
    const Node& rep = *b.nodes[g.representative];
    bool decided = next_decision < candidates.size() && candidates[next_decision] == k;
    const auto& result = decided ? decisions[next_decision++].result : kNone;
    std::span<const size_t> members = g.members ? std::span<const size_t>(*g.members)
                                                : std::span<const size_t>(&g.representative, 1);
    for (size_t m : members) {
      Action& a = b.action(b.nodes[m]->path);
      bool is_rep = m == g.representative;
      a.bytes = is_rep ? rep.size : 0;
      a.bytes_after = 0;
      if (a.fate == Fate::Drop) continue;
      if (result) {
        a.fate = Fate::Strip;
        a.kind = ReasonKind::Stripped;
        a.bytes_after = is_rep ? result->output_size : 0;
        a.reason = is_rep ? std::string("strip-") + strip_mode_name(mode) + " removes " +
                                join(result->removed_sections, 8) + " (saves " +
                                human_bytes(rep.size - std::min(rep.size, result->output_size)) + ")"
                          : "hardlink to " + rep.path + ", stripped with it";
      } else {
        a.bytes_after = a.bytes;
      }
    }
  }
}

}  // namespace slimage::plan_detail
