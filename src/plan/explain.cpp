// `slimage why PATH` (ninja's -d explain, libtree's how-found): the action
// for a path and its reason; for a needed file, the chains of edges from the
// roots with how each edge was found; for a symlink, where it leads.
#include <sstream>

#include "plan_internal.h"

namespace slimage {
using plan_detail::gpu_explain;

const char* fate_name(Fate fate) {
  switch (fate) {
    case Fate::Keep: return "keep";
    case Fate::Drop: return "drop";
    case Fate::Strip: return "strip";
    case Fate::Link: return "link";
  }
  return "?";
}

const char* reason_kind_name(ReasonKind kind) {
  switch (kind) {
    case ReasonKind::Needed: return "needed";
    case ReasonKind::Kept: return "kept";
    case ReasonKind::KeepGlob: return "keep-glob";
    case ReasonKind::UnreachableCuda: return "unreachable-cuda";
    case ReasonKind::DanglingSymlink: return "dangling-symlink";
    case ReasonKind::Cache: return "cache";
    case ReasonKind::TestsDir: return "tests-dir";
    case ReasonKind::Pycache: return "pycache";
    case ReasonKind::DevFile: return "dev-file";
    case ReasonKind::DropGlob: return "drop-glob";
    case ReasonKind::Stripped: return "stripped";
    case ReasonKind::EmptyDir: return "empty-dir";
    case ReasonKind::Toolchain: return "toolchain";
    case ReasonKind::UnreachableLibrary: return "unreachable-library";
    case ReasonKind::Dedupe: return "dedupe";
    case ReasonKind::GpuPruned: return "gpu-pruned";
    case ReasonKind::PackageDb: return "package-db";
  }
  return "?";
}

std::string explain(const Plan& plan, const FsView& fs, const std::string& path) {
  std::string p = normalize_path(path);
  std::ostringstream out;
  const Action* a = plan.find(p);
  if (!a) {
    out << p << ": not in the image\n";
    return out.str();
  }
  out << p << ": " << fate_name(a->fate) << " (" << reason_kind_name(a->kind) << "): " << a->why()
      << "\n";
  if (a->fate == Fate::Strip)
    out << "  size: " << plan_detail::human_bytes(a->bytes) << " -> "
        << plan_detail::human_bytes(a->bytes_after) << "\n";
  if (a->fate == Fate::Link)
    out << "  written as " << (a->link == Action::LinkKind::Symlink ? "symlink -> " + a->link_to() + " (the copy " + a->link_copy() + ")"
                                                                    : "hardlink to " + a->link_copy())
        << ", " << plan_detail::human_bytes(a->bytes_deduped) << " saved\n";
  out << gpu_explain(plan, p);
  if (const Node* n = fs.lookup(p); n && n->type == FileType::Symlink) {
    std::string real;
    bool ok = fs.resolve(p, true, &real) != nullptr;
    out << "  symlink -> " << n->link_target << " (" << (ok ? "resolves to " + real : "dangling")
        << ")\n";
  }
  auto chains = plan.graph.chains_to(p, 3);
  if (chains.empty() && plan.graph.needed.count(p) == 0) {
    if (a->fate != Fate::Drop) out << "  not in the dependency closure\n";
    return out.str();
  }
  for (size_t c = 0; c < chains.size(); ++c) {
    out << "  chain " << c + 1 << ":\n";
    for (const Edge* e : chains[c]) {
      if (e->from.empty())
        out << "    root " << e->to << " [" << how_name(e->how) << "]";
      else
        out << "    " << e->from << " -> " << e->to << " [" << how_name(e->how) << "]";
      if (!e->detail.empty()) out << " " << e->detail;
      out << "\n";
    }
  }
  for (auto& m : plan.graph.missing)
    if (m.from == p) out << "  missing: " << m.needed << " (searched " << m.searched << ")\n";
  return out.str();
}

nlohmann::json explain_json(const Plan& plan, const FsView& fs, const std::string& path) {
  std::string p = normalize_path(path);
  nlohmann::json out = {{"path", p}};
  const Action* a = plan.find(p);
  if (!a) {
    out["fate"] = nullptr;
    return out;
  }
  out["fate"] = fate_name(a->fate);
  out["kind"] = reason_kind_name(a->kind);
  out["reason"] = a->why();
  out["bytes"] = a->bytes;
  if (a->fate == Fate::Strip) out["bytes_after"] = a->bytes_after;
  if (a->fate == Fate::Link)
    out["link"] = {{"kind", a->link == Action::LinkKind::Symlink ? "symlink" : "hardlink"},
                   {"to", a->link_to()},
                   {"copy", a->link_copy()},
                   {"bytes_saved", a->bytes_deduped}};
  nlohmann::json gpu = nlohmann::json::array();
  std::istringstream lines(gpu_explain(plan, p));
  for (std::string line; std::getline(lines, line);) gpu.push_back(line.substr(line.find_first_not_of(' ')));
  out["gpu"] = gpu;
  if (const Node* n = fs.lookup(p); n && n->type == FileType::Symlink) {
    std::string real;
    bool ok = fs.resolve(p, true, &real) != nullptr;
    out["symlink"] = {{"target", n->link_target}, {"resolves_to", ok ? nlohmann::json(real) : nlohmann::json()}};
  }
  nlohmann::json chains = nlohmann::json::array();
  for (auto& chain : plan.graph.chains_to(p, 3)) {
    nlohmann::json edges = nlohmann::json::array();
    for (const Edge* e : chain)
      edges.push_back({{"from", e->from.empty() ? nlohmann::json() : nlohmann::json(e->from)},
                       {"to", e->to},
                       {"how", how_name(e->how)},
                       {"detail", e->detail}});
    chains.push_back(edges);
  }
  out["chains"] = chains;
  out["needed"] = plan.graph.needed.count(p) > 0;
  nlohmann::json missing = nlohmann::json::array();
  for (auto& m : plan.graph.missing)
    if (m.from == p) missing.push_back({{"needed", m.needed}, {"searched", m.searched}});
  out["missing"] = missing;
  return out;
}

}  // namespace slimage
