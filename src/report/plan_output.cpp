// The plan as JSON (`slimage plan --json`) and as text, and the run's report
// JSON (see include/slimage/report/report.h). The text lists a dropped
// directory once, with the bytes below it, instead of every file inside.
#include <algorithm>
#include <sstream>

#include "slimage/report/report.h"

namespace slimage {
namespace {

nlohmann::json counts_json(const Plan& plan) {
  nlohmann::json counts = nlohmann::json::object();
  for (auto& [path, a] : plan.actions) {
    if (a.fate == Fate::Keep) continue;
    auto& c = counts[reason_kind_name(a.kind)];
    if (c.is_null()) c = {{"fate", fate_name(a.fate)}, {"entries", 0}, {"bytes", 0}, {"bytes_after", 0}};
    c["entries"] = c["entries"].get<uint64_t>() + 1;
    c["bytes"] = c["bytes"].get<uint64_t>() + a.bytes;
    c["bytes_after"] = c["bytes_after"].get<uint64_t>() + a.bytes_after;
  }
  return counts;
}

nlohmann::json graph_problems(const Plan& plan, nlohmann::json& j) {
  nlohmann::json missing = nlohmann::json::array();
  for (auto& m : plan.graph.missing)
    missing.push_back({{"from", m.from}, {"needed", m.needed}, {"searched", m.searched}});
  j["missing"] = missing;
  j["warnings"] = plan.graph.warnings;
  j["closure_steps"] = plan.graph.closure_steps;
  return j;
}

}  // namespace

// Every non-Keep action: path, fate, reason and bytes (`plan --json` and `--report`).
nlohmann::json actions_json(const Plan& plan) {
  nlohmann::json actions = nlohmann::json::array();
  for (auto& [path, a] : plan.actions) {
    if (a.fate == Fate::Keep) continue;
    actions.push_back({{"path", path},
                       {"fate", fate_name(a.fate)},
                       {"kind", reason_kind_name(a.kind)},
                       {"reason", a.why()},
                       {"bytes", a.bytes},
                       {"bytes_after", a.bytes_after}});
    if (a.fate == Fate::Link) actions.back()["link"] = {{"to", a.link_to()}, {"copy", a.link_copy()}};
  }
  return actions;
}

nlohmann::json plan_json(const Plan& plan) {
  nlohmann::json j = {{"profile", plan.profile.name},
                      {"strip", strip_mode_name(plan.profile.strip)},
                      {"actions", actions_json(plan)},
                      {"counts", counts_json(plan)},
                      {"needed", plan.graph.needed.size()}};
  graph_problems(plan, j);
  if (plan.gpu.active()) j["gpu_code"] = gpu_code_json(plan);
  j["package_db"] = package_db_json(plan);
  return j;
}

std::string plan_text(const Plan& plan) {
  struct Item {
    std::string path;
    uint64_t bytes;
    std::string reason;
  };
  // Group top-most non-Keep actions by kind; a dropped dir sums what is below.
  std::map<ReasonKind, std::vector<Item>> groups;
  std::map<ReasonKind, uint64_t> totals;
  // Dropped directories being summed, innermost last; an entry below one
  // with the same kind adds to it, one with another kind is listed itself.
  struct Open {
    std::string dir;
    ReasonKind kind;
    size_t index;
  };
  std::vector<Open> open;
  for (auto& [path, a] : plan.actions) {
    while (!open.empty() && !path.starts_with(open.back().dir + "/")) open.pop_back();
    if (!open.empty() && a.fate == Fate::Drop) {
      auto same = std::find_if(open.rbegin(), open.rend(),
                               [kind = a.kind](const Open& o) { return o.kind == kind; });
      if (same != open.rend()) {
        groups[a.kind][same->index].bytes += a.bytes;
        totals[a.kind] += a.bytes;
        continue;
      }
    }
    if (a.fate == Fate::Keep) continue;
    uint64_t b = a.fate == Fate::Strip || a.fate == Fate::Link ? a.bytes - a.bytes_after : a.bytes;
    auto& list = groups[a.kind];
    list.push_back({std::string(path) + (a.type == FileType::Directory ? "/" : ""), b, a.why()});
    totals[a.kind] += b;
    if (a.fate == Fate::Drop && a.type == FileType::Directory)
      open.push_back({std::string(path), a.kind, list.size() - 1});
  }
  std::ostringstream out;
  out << "plan (profile " << plan.profile.name << ", strip " << strip_mode_name(plan.profile.strip)
      << "):\n";
  for (auto& [kind, items] : groups) {
    std::stable_sort(items.begin(), items.end(),
                     [](const Item& x, const Item& y) { return x.bytes > y.bytes; });
    bool strip = kind == ReasonKind::Stripped || kind == ReasonKind::Dedupe;
    out << (kind == ReasonKind::Dedupe ? "link" : strip ? "strip" : "drop") << " " << reason_kind_name(kind) << ": " << items.size()
        << (items.size() == 1 ? " entry, " : " entries, ") << human_bytes(totals[kind])
        << (strip ? " saved" : "") << "\n";
    for (auto& it : items) {
      char size[24];
      snprintf(size, sizeof size, "%10s", human_bytes(it.bytes).c_str());
      out << "  " << size << "  " << it.path << "  (" << it.reason << ")\n";
    }
  }
  if (groups.empty()) out << "  nothing to do\n";
  for (auto& m : plan.graph.missing)
    out << "missing: " << m.from << " needs " << m.needed << " (searched " << m.searched << ")\n";
  for (auto& w : plan.graph.warnings) out << "warning: " << w << "\n";
  out << gpu_plan_text(plan);
  out << package_db_text(plan);
  return out.str();
}

nlohmann::json package_db_json(const Plan& plan) {
  auto list = [](const std::vector<PackageNote>& notes) {
    nlohmann::json a = nlohmann::json::array();
    for (auto& n : notes) {
      nlohmann::json o = {{"database", n.database}, {"name", n.name}, {"version", n.version}};
      if (!n.kept_by.empty()) o["kept_by"] = n.kept_by;
      a.push_back(o);
    }
    return a;
  };
  nlohmann::json edited = nlohmann::json::array();
  for (auto& [path, content] : plan.replaced) {
    const Action* a = plan.find(path);
    edited.push_back({{"path", path},
                      {"reason", a ? a->why() : ""},
                      {"bytes", a ? a->bytes : 0},
                      {"bytes_after", content.size()}});
  }
  return {{"files_edited", edited},
          {"removed", list(plan.packages_removed)},
          {"listed_files_removed", list(plan.packages_listed_files_removed)}};
}

std::string package_db_text(const Plan& plan) {
  std::string out;
  for (auto& n : plan.packages_listed_files_removed)
    out += "package " + n.name + " (" + n.database + " " + n.version + "): listed, files removed (" +
           n.kept_by + ")\n";
  if (!plan.packages_removed.empty() || !plan.replaced.empty())
    out += "package databases: " + std::to_string(plan.packages_removed.size()) +
           " emptied packages removed, " + std::to_string(plan.replaced.size()) + " files edited\n";
  return out;
}

nlohmann::json report_json(const Summary& s, const Plan& plan, const nlohmann::json& extra) {
  auto stats = [](const ImageStats& st) {
    return nlohmann::json{{"files", st.files},
                          {"bytes", st.bytes},
                          {"compressed_bytes", st.compressed_bytes},
                          {"layers", st.layers}};
  };
  nlohmann::json removed = nlohmann::json::object();
  for (auto& [kind, r] : s.removed_by_reason) removed[kind] = {{"files", r.first}, {"bytes", r.second}};
  nlohmann::json j = {{"profile", plan.profile.name},
                      {"extends", plan.profile.extends_chain},
                      {"strip", strip_mode_name(plan.profile.strip)},
                      {"before", stats(s.before)},
                      {"after", stats(s.after)},
                      {"removed", removed},
                      {"stripped", {{"files", s.stripped_files}, {"bytes_saved", s.strip_saved_bytes}}},
                      {"deduped", {{"files", s.deduped_files}, {"bytes_saved", s.dedupe_saved_bytes}}},
                      {"saved_bytes", s.before.bytes - std::min(s.before.bytes, s.after.bytes)},
                      {"needed", plan.graph.needed.size()},
                      {"counts", counts_json(plan)},
                      {"actions", actions_json(plan)}};
  graph_problems(plan, j);
  j["package_db"] = package_db_json(plan);
  j["package_db"]["bytes_saved"] = s.package_db_saved_bytes;
  if (plan.gpu.active()) j["gpu_code"] = gpu_code_json(plan);
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) j[k] = v;
  return j;
}

}  // namespace slimage
