// build_plan (see include/slimage/plan/plan.h): the passes in the order they run.
//   (a) pre-drops — pre_drop.cpp; runtime compilers kept or dropped — runtime_pass.cpp
//   (b) roots and the dependency walk; dlopen loads written as paths relative
//       to the trigger ("../../nvidia/*/lib/lib*.so*") are expanded here and
//       walked again until nothing new is reached
//   (c) needed files, unreachable CUDA libraries, needed-but-dropped guards;
//       then the parents of every kept path
//   (d) dangling symlinks and directories left empty, until stable
//   (e) strip and byte accounting, on the final fates — strip_pass.cpp
//   (f) with --cuda-arch, fat binaries pruned to the listed GPUs — gpu_prune_pass.cpp
//   (g) identical kept files written once, as links — dedupe_pass.cpp
#include "slimage/plan/plan.h"

#include <algorithm>
#include <set>

#include "plan_internal.h"
#include "slimage/deps/plugins.h"
#include "python_roots.h"
#include "slimage/elf/elf.h"
#include "slimage/plan/glob.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/thread_pool.h"

namespace slimage {
using plan_detail::PlanBuilder;

std::pair<size_t, size_t> PlanBuilder::subtree(const std::string& dir) const {
  std::string prefix = dir.empty() ? "" : dir + "/";
  auto less = [](const Node* n, const std::string& p) { return n->path < p; };
  size_t first = std::lower_bound(nodes.begin(), nodes.end(), prefix, less) - nodes.begin();
  size_t last = first;
  while (last < nodes.size() && nodes[last]->path.starts_with(prefix)) ++last;
  return {first, last};
}

namespace {

// "usr/lib/x.so" -> "usr/lib", as a view into `path`.
std::string_view parent_view(const std::string& path) {
  size_t slash = path.rfind('/');
  return std::string_view(path).substr(0, slash == std::string::npos ? 0 : slash);
}

bool any_match(const std::vector<std::string>& globs, const std::string& path) {
  for (auto& g : globs)
    if (glob_match(g, path)) return true;
  return false;
}

// A CUDA library the plan may drop if nothing reaches it: an ELF file whose
// basename matches cuda_libraries, not a driver library, not kept by a glob.
bool cuda_candidate(const PlanBuilder& b, size_t index) {
  const Node& n = *b.nodes[index];
  if (!b.profile.drop_unreachable_cuda || !n.is_file() || !b.elf[index]) return false;
  std::string base = basename_of(n.path);
  return any_match(b.profile.cuda_libraries, base) && !any_match(b.profile.host_provided, base) &&
         !plan_detail::keep_glob_for(b, n.path);
}

bool has_slash(const std::string& s) { return s.find('/') != std::string::npos; }

std::vector<Root> extra_roots(PlanBuilder& b) {
  std::vector<Root> roots;
  auto add_globs = [&](const std::vector<std::string>& globs, How how, const char* what) {
    for (auto& g : globs) {
      bool any = false;
      for (const Node* n : b.nodes) {
        if (n->type == FileType::Directory || b.dropped(n->path) || !glob_match(g, n->path)) continue;
        roots.push_back({n->path, how, std::string(what) + " " + g});
        any = true;
      }
      if (!any) b.diagnostics.warn(what, "entrypoint glob " + g + " matches nothing");
    }
  };
  add_globs(b.profile.entrypoints, How::ProfileRoot, "profile entrypoint");
  add_globs(b.options.entrypoints, How::CliRoot, "--entrypoint");
  // Files a keep glob names are roots too: what they load must stay.
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (!b.elf[i] || b.action(n.path).kind != ReasonKind::KeepGlob) continue;
    bool cli = any_match(b.options.keep, n.path);
    roots.push_back({n.path, cli ? How::CliRoot : How::ProfileRoot, b.action(n.path).why()});
  }
  return roots;
}

// dlopen loads with '/' are paths relative to the trigger's directory: new
// roots for every needed trigger. Returns how many were not needed yet.
size_t path_dlopen_roots(PlanBuilder& b, const std::vector<DlopenFamily>& families,
                         const Graph& graph, std::vector<Root>& roots) {
  size_t added = 0;
  for (auto& family : families) {
    for (auto& load : family.loads) {
      if (!has_slash(load)) continue;
      for (auto& path : graph.needed) {
        if (!any_match(family.triggers, basename_of(path))) continue;
        std::string pattern = normalize_path(dirname_of(path) + "/" + load);
        std::string fixed = pattern.substr(0, pattern.find_first_of("*?["));
        fixed = fixed.substr(0, fixed.rfind('/') == std::string::npos ? 0 : fixed.rfind('/'));
        auto [first, last] = b.subtree(fixed);
        for (size_t k = first; k < last; ++k) {
          const Node& n = *b.nodes[k];
          if (n.type == FileType::Directory || graph.needed.count(n.path) || b.dropped(n.path) ||
              !glob_match(pattern, n.path))
            continue;
          roots.push_back({n.path, How::DlopenFamily,
                           family.name + ": " + family.reason + " (loaded by " + path + ")"});
          ++added;
        }
      }
    }
  }
  return added;
}

// Every path update-alternatives manages (var/lib/dpkg/alternatives/*: the links and each
// alternative), real. A library there is loaded through the chosen link, by name: Debian's
// blas/libblas.so.3 and openblas-pthread/libblas.so.3 are choices, not plugins.
std::set<std::string> alternatives_paths(const FsView& fs) {
  std::set<std::string> paths;
  std::string dir;
  const Node* d = fs.resolve("var/lib/dpkg/alternatives", true, &dir);
  if (!d || d->type != FileType::Directory) return paths;
  for (const Node* f : fs.list_dir(dir)) {
    if (!f->is_file()) continue;
    auto bytes = fs.content(*f);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (auto& line : split_any(text, "\n")) {
      if (line.empty() || line[0] != '/') continue;
      std::string real;
      fs.resolve(line, true, &real);  // on a miss, the would-be path
      paths.insert(normalize_path(line));
      paths.insert(real);
    }
    fs.release(*f);
  }
  return paths;
}

// With drop_unreachable_libraries: every kept shared library (or a symlink to one) that lies
// outside the dirs the loader searches by name, and is no update-alternatives choice. Such a
// file is opened by its full path, by code that scans its directory or reads its own config
// (ImageMagick's coders, sudo's plugins, libjvm.so, Ruby and Lua modules, UCX and Open MPI
// components, rdma-core providers): no walk sees that, so all of them stay, and what they
// need. CUDA libraries are left to drop_unreachable_cuda; a plugin tree nobody runs goes by
// a toolchain glob.
std::vector<Root> plugin_dir_roots(const PlanBuilder& b) {
  std::set<std::string> alternatives = alternatives_paths(b.fs);
  auto index_of = [&](const std::string& path) {
    auto it = std::lower_bound(b.nodes.begin(), b.nodes.end(), path,
                               [](const Node* x, const std::string& p) { return x->path < p; });
    return it != b.nodes.end() && (*it)->path == path ? size_t(it - b.nodes.begin()) : b.nodes.size();
  };
  std::vector<Root> roots;
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if ((!n.is_file() && n.type != FileType::Symlink) || b.dropped(n.path)) continue;
    std::string dir = dirname_of(n.path), base = basename_of(n.path);
    if (base.find(".so") == std::string::npos || b.loader_dirs.count(dir) ||
        alternatives.count(n.path))
      continue;
    size_t lib = i;
    if (n.type == FileType::Symlink) {
      std::string real;
      const Node* target = b.fs.resolve(n.path, true, &real);
      if (!target || !target->is_file() || b.dropped(real)) continue;
      // "llvm-19/lib/libclang-cpp.so.19.1 -> ../../x86_64-linux-gnu/libclang-cpp.so.19.1": a
      // mirror of a library the loader finds by name, kept if something loads it so.
      if (basename_of(real) == base && b.loader_dirs.count(dirname_of(real))) continue;
      lib = index_of(real);
    }
    if (lib >= b.elf_kind.size() || b.elf_kind[lib] != 's' || cuda_candidate(b, lib) ||
        any_match(b.profile.host_provided, basename_of(b.nodes[lib]->path)))
      continue;
    roots.push_back({n.path, How::PluginDir,
                     dir + " is not a dir the loader searches by name, so a library there is "
                           "opened by its full path (a plugin)"});
  }
  return roots;
}

Graph walk(PlanBuilder& b, const ImageRuntime& runtime) {
  std::vector<Root> extra = extra_roots(b);
  std::vector<DlopenFamily> families = b.profile.dlopen;
  if (b.profile.config_plugins) {  // only adds roots: safe in every profile
    for (auto& r : config_plugin_roots(b.fs, runtime))
      if (!b.dropped(r.path)) extra.push_back(std::move(r));
    for (auto& f : plugin_dir_families()) families.push_back(std::move(f));
  }
  for (auto& r : plan_detail::python_load_roots(b, runtime)) extra.push_back(std::move(r));
  auto kept_elf = [&](const Node& n) {
    auto it = std::lower_bound(b.nodes.begin(), b.nodes.end(), n.path,
                               [](const Node* x, const std::string& p) { return x->path < p; });
    size_t i = it - b.nodes.begin();
    if (b.profile.drop_unreachable_libraries && !plan_detail::runtime_root_elf(b, i)) return false;
    return !b.dropped(n.path) && !(i < b.nodes.size() && cuda_candidate(b, i));
  };
  auto excluded = [&](const std::string& path) { return b.dropped(path); };
  std::vector<Root> roots = find_roots(b.fs, runtime, extra, kept_elf, excluded, b.diagnostics);
  // After find_roots' own: a Python extension module stays a "python extension" root.
  if (b.profile.drop_unreachable_libraries && b.profile.plugin_dirs)
    for (auto& r : plugin_dir_roots(b)) roots.push_back(std::move(r));
  ResolveOptions options = resolve_options_for(runtime);
  for (auto family : families) {
    std::erase_if(family.loads, has_slash);  // expanded by path_dlopen_roots
    if (!family.loads.empty()) options.dlopen_families.push_back(std::move(family));
  }
  options.host_provided = b.profile.host_provided;
  options.string_heuristic = b.profile.string_heuristic;
  options.facts = b.options.facts;
  Graph graph = resolve_graph(b.fs, roots, options, b.diagnostics);
  for (int round = 0; round < 8 && path_dlopen_roots(b, families, graph, roots) > 0; ++round)
    graph = resolve_graph(b.fs, roots, options, b.diagnostics);
  return graph;
}

std::string edge_reason(const Edge& e) {
  std::string s = e.from.empty() ? std::string("root (") + how_name(e.how) + ")"
                                 : std::string(how_name(e.how)) + " from " + e.from;
  if (!e.detail.empty()) s += ": " + e.detail;
  return s;
}

// Pass (c).
void needed_and_cuda_pass(PlanBuilder& b, const Graph& graph) {
  std::map<std::string, const Edge*> first_edge;
  for (auto& e : graph.edges) first_edge.emplace(e.to, &e);
  auto why_needed = [&](const std::string& path) {
    auto it = first_edge.find(path);
    return it == first_edge.end() ? std::string("in the dependency closure")
                                  : edge_reason(*it->second);
  };
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    Action& a = b.action(n.path);
    bool needed = graph.needed.count(n.path) > 0;
    if (a.fate == Fate::Drop) {
      if (!needed) continue;
      auto cli = b.cli_dropped.find(n.path);
      if (cli != b.cli_dropped.end()) {
        b.diagnostics.warn(n.path, "dropped by --drop " + cli->second + " but it is needed (" +
                                       why_needed(n.path) + ")");
        continue;
      }
      a = Action{.type = n.type, .fate = Fate::Keep, .kind = ReasonKind::Needed,
                 .reason = "needed: " + why_needed(n.path) + "; overrides " + reason_kind_name(a.kind) +
                     " (" + a.why() + ")"};
      continue;
    }
    if (needed) {
      if (a.kind == ReasonKind::Kept) {
        a.kind = ReasonKind::Needed;
        a.reason = "needed: " + why_needed(n.path);
      }
      continue;
    }
    bool candidate = cuda_candidate(b, i);
    if (!candidate && n.type == FileType::Symlink && b.profile.drop_unreachable_cuda) {
      std::string real;
      if (b.fs.resolve(n.path, true, &real) && !graph.needed.count(real)) {
        auto it = std::lower_bound(b.nodes.begin(), b.nodes.end(), real,
                                   [](const Node* x, const std::string& p) { return x->path < p; });
        if (it != b.nodes.end() && (*it)->path == real) candidate = cuda_candidate(b, it - b.nodes.begin());
      }
    }
    if (candidate) {
      a.fate = Fate::Drop;
      a.kind = ReasonKind::UnreachableCuda;
      a.reason = "CUDA library: no kept ELF loads it (DT_NEEDED, dlopen families, string heuristic)";
    } else if (plan_detail::unreachable_library_candidate(b, i)) {
      a.fate = Fate::Drop;
      a.kind = ReasonKind::UnreachableLibrary;
      a.reason = "shared library: no root reaches it (entrypoint, programs, Python extensions, "
                 "config plugins, plugin dirs, keep globs; DT_NEEDED, dlopen families, string heuristic)";
    }
  }
}

// Pass (d), one round: symlinks into dropped paths, then directories whose
// entries are all dropped. Returns whether anything changed.
bool dangling_and_empty_round(PlanBuilder& b) {
  bool changed = false;
  for (const Node* n : b.nodes) {
    if (n->type != FileType::Symlink || b.dropped(n->path)) continue;
    std::string real;
    if (!b.fs.resolve(n->path, true, &real)) continue;  // dangling already: not ours to judge
    std::string culprit = b.dropped(real) ? real : "";
    for (auto& hop : b.fs.symlink_chain(n->path))
      if (culprit.empty() && hop != n->path && b.dropped(hop)) culprit = hop;
    if (culprit.empty()) continue;
    Action& a = b.action(n->path);
    a.fate = Fate::Drop;
    a.kind = ReasonKind::DanglingSymlink;
    a.reason = "its target " + culprit + " is dropped (" + b.action(culprit).why() + ")";
    changed = true;
  }
  // dir -> (entries, dropped); keys view the nodes' own paths (no copies).
  std::map<std::string_view, std::pair<size_t, size_t>> children;
  for (auto it = b.nodes.rbegin(); it != b.nodes.rend(); ++it) {
    const Node& n = **it;
    Action& a = b.action(n.path);
    if (n.type == FileType::Directory && a.fate != Fate::Drop && !n.path.empty()) {
      auto c = children.find(std::string_view(n.path));
      if (c != children.end() && c->second.first == c->second.second &&
          a.kind != ReasonKind::KeepGlob && a.kind != ReasonKind::Needed && !b.keep_empty.count(n.path)) {
        a.fate = Fate::Drop;
        a.kind = ReasonKind::EmptyDir;
        a.reason = "empty after drops";
        changed = true;
      }
    }
    if (n.path.empty()) continue;
    auto& c = children[parent_view(n.path)];
    ++c.first;
    if (a.fate == Fate::Drop) ++c.second;
  }
  return changed;
}

// A dropped directory holding something kept stays (keep globs and needed
// files inside dropped trees).
void keep_parents_pass(PlanBuilder& b) {
  // dir -> an entry kept below it; both view the nodes' own paths: a copy per
  // directory of a deep path would cost depth times its length.
  std::map<std::string_view, std::string_view> holds;
  for (auto it = b.nodes.rbegin(); it != b.nodes.rend(); ++it) {
    const Node& n = **it;
    Action& a = b.action(n.path);
    auto h = holds.find(std::string_view(n.path));
    if (a.fate == Fate::Drop && h != holds.end()) {
      a = Action{.type = n.type, .fate = Fate::Keep, .kind = ReasonKind::Kept,
                 .reason = "holds kept " + std::string(h->second) + "; overrides " + reason_kind_name(a.kind)};
    }
    if (a.fate != Fate::Drop && !n.path.empty())
      holds.emplace(parent_view(n.path), h != holds.end() ? h->second : std::string_view(n.path));
  }
}

}  // namespace

Plan build_plan(const FsView& fs, const ImageRuntime& runtime, const PlanOptions& options,
                Diagnostics& diagnostics) {
  Plan plan;
  plan.profile = options.profile;
  if (options.strip) plan.profile.strip = *options.strip;
  PlanBuilder b{fs, options, plan.profile, diagnostics, {}, plan.actions, {}, {}, {}, {}, {}, {}};
  fs.for_each([&](const Node& n) { b.nodes.push_back(&n); });
  // for_each already yields path order: checking it costs one comparison per
  // node, sorting n·log n of them (each as long as the shared prefix).
  auto by_path = [](const Node* x, const Node* y) { return x->path < y->path; };
  if (!std::is_sorted(b.nodes.begin(), b.nodes.end(), by_path))
    std::sort(b.nodes.begin(), b.nodes.end(), by_path);
  size_t path_bytes = 0;
  for (const Node* n : b.nodes) path_bytes += n->path.size();
  plan.actions.reserve(b.nodes.size(), path_bytes);
  for (const Node* n : b.nodes)
    plan.actions.emplace(n->path, Action{.type = n->type, .fate = Fate::Keep, .kind = ReasonKind::Kept});
  b.elf.assign(b.nodes.size(), 0);
  const bool kinds = plan.profile.drop_unreachable_libraries;
  if (kinds) b.elf_kind.assign(b.nodes.size(), 0);
  parallel_for(b.nodes.size(), options.jobs ? options.jobs : kIoBoundJobs, [&](size_t i) {
    if (b.nodes[i]->type == FileType::Regular || b.nodes[i]->type == FileType::Hardlink) {
      if (const ElfSummary* s = fs.elf_summary(*b.nodes[i])) {  // low-disk mode, a big ELF file
        b.elf[i] = 1;
        if (kinds) b.elf_kind[i] = s->kind;
        return;
      }
      if (fs.unspilled_digest(*b.nodes[i])) return;  // not ELF: low-disk mode spills the rest
      b.elf[i] = is_elf(fs.content(*b.nodes[i]));
      if (kinds && b.elf[i]) b.elf_kind[i] = plan_detail::elf_kind_of(fs.content(*b.nodes[i]));
      fs.release(*b.nodes[i]);
    }
  });

  // Each pass reads file heads or whole files through mappings; trimming
  // between passes keeps resident memory to one pass's reads.
  fs.trim();
  // Read only by the passes that may drop a library or a .la: the default profile skips it.
  if (plan.profile.drop_unreachable_libraries || plan.profile.drop_dev_files)
    b.loader_dirs = loader_search_dirs(fs, runtime);
  plan_detail::pre_drop_pass(b);                   // (a)
  plan_detail::runtime_compilers_pass(b);
  fs.trim();
  plan.graph = walk(b, runtime);                   // (b)
  fs.trim();
  needed_and_cuda_pass(b, plan.graph);             // (c)
  keep_parents_pass(b);
  for (int round = 0; round < 16 && dangling_and_empty_round(b); ++round) {  // (d)
  }
  plan_detail::strip_and_account_pass(b, plan.profile.strip);  // (e), on the final fates
  fs.trim();
  plan_detail::gpu_prune_pass(b, plan);                        // (f), --cuda-arch
  plan_detail::package_db_pass(b, plan);  // (g), package databases match what stays
  plan_detail::dedupe_pass(b);  // (h), identical emitted files as links
  fs.trim();
  return plan;
}

const std::string* Plan::replacement(std::string_view path) const {
  if (replaced.empty()) return nullptr;
  auto it = is_normalized(path) ? replaced.find(path) : replaced.find(normalize_path(path));
  return it == replaced.end() ? nullptr : &it->second;
}

// Called per node (the slimmed view hides by it): a node's path is already
// normalized, so it is looked up as is, without a copy.
const Action* Plan::find(const std::string& path) const {
  auto it = is_normalized(path) ? actions.find(path) : actions.find(normalize_path(path));
  return it == actions.end() ? nullptr : &it->second;
}

}  // namespace slimage
