// Plan pass (a), the pre-drops: what goes whatever the dependency walk finds.
// Drop globs (--drop, then the profile's), caches, tests dirs of Python
// packages, __pycache__ and dev files. A dropped directory drops everything
// below it; a keep glob overrides every drop. For a glob ending in "/**" the
// directory it hangs from stays (emptied): apt, pip and friends expect it.
#include <optional>

#include "plan_internal.h"
#include "slimage/plan/glob.h"

namespace slimage::plan_detail {
namespace {

struct PreDrop {
  ReasonKind kind;
  std::string reason;
  std::string cli_glob;  // set for --drop
};

// True if `glob` drops `node`; a "/**" base directory is remembered instead.
bool drops(PlanBuilder& b, const std::string& glob, const Node& node) {
  if (!glob_match(glob, node.path)) return false;
  if (node.type == FileType::Directory && glob_is_base_dir(glob, node.path)) {
    b.keep_empty.insert(node.path);
    return false;
  }
  return true;
}

// The site-packages/dist-packages directory above `path` if `path` lies at
// least two levels below it (inside a package), else "".
std::string site_dir_of(const std::string& path) {
  size_t start = 0;
  std::string best;
  while (start < path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string_view part(path.data() + start, end - start);
    if (part == "site-packages" || part == "dist-packages") best = path.substr(0, end);
    start = end + 1;
  }
  if (best.empty()) return "";
  std::string rest = path.substr(best.size() + 1 < path.size() ? best.size() + 1 : path.size());
  return rest.find('/') == std::string::npos ? "" : best;
}

std::optional<PreDrop> tests_dir_drop(PlanBuilder& b, const Node& node) {
  if (!b.profile.drop_tests || node.type != FileType::Directory) return std::nullopt;
  std::string base = basename_of(node.path);
  bool named = false;
  for (auto& t : b.profile.tests_dirs) named = named || t == base;
  if (!named) return std::nullopt;
  std::string site = site_dir_of(node.path);
  if (site.empty()) return std::nullopt;
  std::string rel = node.path.substr(site.size() + 1);
  std::string package = rel.substr(0, rel.find('/'));
  if (auto hit = find_import_of(b, site, node.path)) {
    b.action(node.path).reason = "tests dir kept: non-test code imports it (" + hit->importer +
                                 " imports " + hit->module + ")";
    return std::nullopt;
  }
  return PreDrop{ReasonKind::TestsDir,
                 "tests dir of Python package " + package +
                     " (best effort: no import of it found in the package's non-test .py files)",
                 ""};
}

// A libtool "NAME.la" beside "NAME.so" outside the loader's dirs: a module that libltdl's
// lt_dlopen finds through its .la file, so that file is needed at run time (in a loader
// dir, beside a library linked by name, it is a dev file). Returns the module's path.
std::optional<std::string> ltdl_module_of(const PlanBuilder& b, const Node& node) {
  if (node.type == FileType::Directory || !node.path.ends_with(".la") ||
      b.loader_dirs.count(dirname_of(node.path)))
    return std::nullopt;
  std::string module = node.path.substr(0, node.path.size() - 3) + ".so";
  const Node* so = b.fs.resolve(module);
  if (!so || !so->is_file()) return std::nullopt;
  return module;
}

std::optional<PreDrop> own_drop(PlanBuilder& b, const Node& node) {
  for (auto& g : b.options.drop)
    if (drops(b, g, node)) return PreDrop{ReasonKind::DropGlob, "matches --drop " + g, g};
  for (auto& g : b.profile.drop)
    if (drops(b, g, node)) return PreDrop{ReasonKind::DropGlob, "matches profile drop glob " + g, ""};
  for (auto& g : b.profile.caches)
    if (drops(b, g, node)) return PreDrop{ReasonKind::Cache, "cache: matches " + g, ""};
  if (auto t = tests_dir_drop(b, node)) return t;
  if (b.profile.drop_pycache && node.type == FileType::Directory &&
      basename_of(node.path) == "__pycache__") {
    return PreDrop{ReasonKind::Pycache, "__pycache__: recompiled from the .py on first import", ""};
  }
  if (b.profile.drop_toolchain)
    for (auto& g : b.profile.toolchain)
      if (drops(b, g, node)) return PreDrop{ReasonKind::Toolchain, "toolchain: matches " + g, ""};
  if (b.profile.drop_dev_files)
    for (auto& g : b.profile.dev_files) {
      if (!drops(b, g, node)) continue;
      if (auto module = ltdl_module_of(b, node)) {
        b.action(node.path).reason = "libtool file kept: libltdl opens the module " + *module +
                                     " through it (ImageMagick's coders load this way)";
        return std::nullopt;
      }
      return PreDrop{ReasonKind::DevFile, "dev file: matches " + g, ""};
    }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> keep_glob_for(const PlanBuilder& b, const std::string& path) {
  for (auto& g : b.options.keep)
    if (glob_match(g, path)) return "--keep " + g;
  for (auto& g : b.profile.keep)
    if (glob_match(g, path)) return "profile keep glob " + g;
  return std::nullopt;
}

void pre_drop_pass(PlanBuilder& b) {
  for (const Node* node : b.nodes) {
    Action& a = b.action(node->path);
    if (node->path.empty()) continue;  // the root stays
    std::optional<PreDrop> drop;
    std::string parent = dirname_of(node->path);
    if (b.dropped(parent)) {
      const Action& p = b.action(parent);
      drop = PreDrop{p.kind, "below dropped " + parent + "/ (" + p.reason + ")", ""};
      auto cli = b.cli_dropped.find(parent);
      if (cli != b.cli_dropped.end()) drop->cli_glob = cli->second;
    } else {
      drop = own_drop(b, *node);
    }
    if (auto keep = keep_glob_for(b, node->path)) {
      a.kind = ReasonKind::KeepGlob;
      a.reason = "matches " + *keep;
      if (drop) a.reason += "; overrides: " + drop->reason;
      continue;
    }
    if (!drop) continue;
    a.fate = Fate::Drop;
    a.kind = drop->kind;
    a.reason = drop->reason;
    if (!drop->cli_glob.empty()) b.cli_dropped[node->path] = drop->cli_glob;
  }
}

}  // namespace slimage::plan_detail
