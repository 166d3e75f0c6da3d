// Internal to src/plan: the state build_plan's passes share. Each pass is a
// free function over PlanBuilder, in the order plan.cpp calls them.
#pragma once
#include "slimage/util/strings.h"
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "slimage/plan/plan.h"

namespace slimage::plan_detail {

struct PlanBuilder {
  const FsView& fs;
  const PlanOptions& options;
  const Profile& profile;
  Diagnostics& diagnostics;
  std::vector<const Node*> nodes;              // sorted by path
  std::map<std::string, Action>& actions;      // the plan's
  std::set<std::string> keep_empty;            // bases of "dir/**" drop globs: kept, emptied
  std::map<std::string, std::string> cli_dropped;  // path -> --drop glob that matched
  // Per Python package dir: imported module -> first non-test importer.
  using ImportIndex = std::map<std::string, std::string>;
  std::map<std::string, ImportIndex> import_index;
  std::vector<char> elf;                       // per node: regular file starting with \x7fELF

  Action& action(const std::string& path) { return actions.at(path); }
  bool dropped(const std::string& path) const {
    auto it = actions.find(path);
    return it != actions.end() && it->second.fate == Fate::Drop;
  }
  // Nodes whose path starts with `dir` + "/" (a contiguous range: nodes are sorted).
  std::pair<size_t, size_t> subtree(const std::string& dir) const;
};

// Pass (a): drop globs, caches, tests dirs, __pycache__, dev files; keep globs win.
void pre_drop_pass(PlanBuilder& b);
// The keep glob matching `path`, as "--keep G" or "profile keep glob G".
std::optional<std::string> keep_glob_for(const PlanBuilder& b, const std::string& path);

// Tests dirs: whether non-test code of the package imports `dir` (normalized,
// under site-packages/<pkg>/…). Returns the importer and statement if so.
struct ImportHit {
  std::string importer, module;
};
std::optional<ImportHit> find_import_of(PlanBuilder& b, const std::string& site_dir,
                                        const std::string& dir);

// Pass (d): strip decisions and byte accounting, once per content (hardlinks).
void strip_and_account_pass(PlanBuilder& b, StripMode mode);

// Pass (f): with --cuda-arch, each kept ELF's fat binaries decided (gpu_prune_pass.cpp).
void gpu_prune_pass(PlanBuilder& b, Plan& plan);
GpuSelection gpu_selection_of(const PlanOptions& options, const Profile& profile);

// `why`: the GPU code of `path` under --cuda-arch, entry kinds kept/removed and why.
std::string gpu_explain(const Plan& plan, const std::string& path);

// "12.3 MiB"
using slimage::human_bytes;

}  // namespace slimage::plan_detail
