// Plan pass (e): which kept ELF files to strip, and byte accounting. Hardlinked
// names share one content, so both are decided once per content: the group's
// representative is its first name that stays (else its first name), which
// carries the bytes; the other names carry 0, so totals count content once.
// Never stripped: ET_REL objects, kernel modules (*.ko, lib/modules/**),
// *.o and *.a — plan_strip refuses ET_REL itself; the names are checked first
// so nothing is even parsed.
#include <map>

#include "plan_internal.h"
#include "slimage/elf/elf.h"
#include "slimage/plan/glob.h"
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

struct Group {
  std::vector<size_t> members;  // node indexes, in path order
  size_t representative = 0;
};

}  // namespace


void strip_and_account_pass(PlanBuilder& b, StripMode mode) {
  // Content groups: a Hardlink joins its target's group.
  std::map<std::string, Group> groups;
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (!n.is_file()) continue;
    const std::string& key = n.type == FileType::Hardlink ? n.link_target : n.path;
    groups[key].members.push_back(i);
  }
  std::vector<Group*> list;
  for (auto& [key, g] : groups) {
    g.representative = g.members.front();
    for (size_t m : g.members)
      if (!b.dropped(b.nodes[m]->path)) {
        g.representative = m;
        break;
      }
    list.push_back(&g);
  }

  struct Decision {
    std::optional<StripResult> result;
  };
  std::vector<Decision> decisions(list.size());
  ByteGate resident(kResidentContentCap);
  parallel_for(list.size(), b.options.jobs, [&](size_t k) {
    size_t rep = list[k]->representative;
    const Node& n = *b.nodes[rep];
    if (mode == StripMode::None || !b.elf[rep] || b.dropped(n.path) || never_strip(n.path)) return;
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

  for (size_t k = 0; k < list.size(); ++k) {
    const Group& g = *list[k];
    const Node& rep = *b.nodes[g.representative];
    const auto& result = decisions[k].result;
    for (size_t m : g.members) {
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
