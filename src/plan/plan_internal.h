// Internal to src/plan: the state build_plan's passes share. Each pass is a
// free function over PlanBuilder, in the order plan.cpp calls them.
#pragma once
#include "slimage/util/strings.h"
#include <map>
#include <optional>
#include <set>
#include <span>
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
  ActionMap& actions;                          // the plan's
  std::set<std::string> keep_empty;            // bases of "dir/**" drop globs: kept, emptied
  std::map<std::string, std::string> cli_dropped;  // path -> --drop glob that matched
  // Per Python package dir: imported module -> first non-test importer.
  using ImportIndex = std::map<std::string, std::string>;
  std::map<std::string, ImportIndex> import_index;
  std::vector<char> elf;                       // per node: regular file starting with \x7fELF
  // Per node, filled only when the profile drops unreachable libraries:
  // elf_kind_of() of its bytes ('p' program, 's' shared library, 'o' other ELF, 0 not ELF).
  std::vector<char> elf_kind;
  // loader_search_dirs() (deps/plugins.h): where the loader finds a library by name. A
  // library elsewhere is a plugin, opened by its full path.
  std::set<std::string> loader_dirs;

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

// Pass (e): strip decisions and byte accounting, once per content (hardlinks).
void strip_and_account_pass(PlanBuilder& b, StripMode mode);

// runtime_pass.cpp. 'p': ET_EXEC, or ET_DYN with PT_INTERP (a program, a PIE);
// 's': ET_DYN without PT_INTERP (a shared library); 'o': any other ELF; 0: not ELF.
char elf_kind_of(std::span<const uint8_t> bytes);
// After pre_drop_pass: the profile's runtime_compilers whose trigger matches a
// kept path keep their `keeps` (KeepGlob, so ELF ones are roots), overriding
// every drop but --drop.
void runtime_compilers_pass(PlanBuilder& b);
// A shared library drop_unreachable_libraries may drop when nothing reaches it.
bool unreachable_library_candidate(const PlanBuilder& b, size_t index);
// In runtime mode, which kept ELF files are roots of the walk: programs only.
bool runtime_root_elf(const PlanBuilder& b, size_t index);
// Pass (g): identical kept files written once, as links — dedupe_pass.cpp.
void dedupe_pass(PlanBuilder& b);

// SHA-256 of the bytes the layer writer emits for a kept regular file with
// this fate: stripped per `mode` for Fate::Strip, else the content as is.
// GPU-code pruning is not applied here: its patches are a function of the
// content and the --cuda-arch selection alone, so two files equal before it
// are equal after it. A rewrite that depends on anything else must join here.
// emitted_digest.cpp.
std::string emitted_digest(const FsView& fs, const Node& node, Fate fate, StripMode mode);
// The bytes themselves, and with `gpu` its patches applied too (the package
// databases' checksums: every change the writer makes).
void write_emitted(const FsView& fs, const Node& node, Fate fate, StripMode mode,
                   const GpuLibrary* gpu, Writer& out);
// Pass (f): with --cuda-arch, each kept ELF's fat binaries decided (gpu_prune_pass.cpp).
void gpu_prune_pass(PlanBuilder& b, Plan& plan);
GpuSelection gpu_selection_of(const PlanOptions& options, const Profile& profile);

// Pass (g): package databases edited to match the final fates (pkgdb.cpp):
// emptied packages leave them unless a staying package depends on them, file
// lists trimmed, checksums of stripped and pruned files updated.
void package_db_pass(PlanBuilder& b, Plan& plan);

// `why`: the GPU code of `path` under --cuda-arch, entry kinds kept/removed and why.
std::string gpu_explain(const Plan& plan, const std::string& path);

// "12.3 MiB"
using slimage::human_bytes;

}  // namespace slimage::plan_detail
