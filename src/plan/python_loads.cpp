// python_load_roots (see python_roots.h): the kept .py files (and .pyc files
// whose source is not shipped) are scanned in parallel, then each name is
// resolved as the interpreter's dlopen would (deps/library_lookup.h), plus
// the same basename anywhere in the file's own package tree (ctypes code
// loads `os.path.join(os.path.dirname(__file__), "libfoo.so")`).
// find_library (CPython Lib/ctypes/util.py, Linux): `/sbin/ldconfig -p` and
// a "lib<name>." entry of its output first; else `gcc -Wl,-t -l<name>`, then
// `ld -t -L$LD_LIBRARY_PATH -l<name>`, the result's soname read with
// `objdump -p`. So a call keeps sbin/ldconfig and etc/ld.so.cache, and a
// literal name the cache lacks keeps gcc, ld and objdump. A name that is not
// a literal keeps ldconfig and the cache only (documented in profiles/README.md).
// The stdlib's own ctypes and test packages and _sysconfigdata are skipped.
#include <map>
#include <set>

#include "python_roots.h"
#include "slimage/deps/library_lookup.h"
#include "slimage/plan/glob.h"
#include "slimage/plan/python_loads.h"
#include "slimage/util/thread_pool.h"

namespace slimage::plan_detail {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// usr/lib/python3.11/ctypes/…: the implementation of what is scanned for
// (its definitions and self-test); usr/lib/python3.11/test/…: CPython's own
// test package (test.support calls find_library("ApplicationServices") for macOS);
// _sysconfigdata*.py: the build's configuration.
bool stdlib_skipped(const std::string& path) {
  // Build configuration ('LDLIBRARY': 'libpython3.11.so'), not a load.
  if (basename_of(path).starts_with("_sysconfigdata")) return true;
  for (const char* dir : {"/ctypes/", "/test/"}) {
    std::string_view d(dir);
    for (size_t k = path.find(d); k != std::string::npos; k = path.find(d, k + 1))
      if (basename_of(path.substr(0, k)).starts_with("python")) return true;
  }
  return false;
}

// pkg/__pycache__/mod.cpython-311.pyc -> pkg/mod.py; pkg/mod.pyc -> pkg/mod.py
std::string source_of_pyc(const std::string& path) {
  std::string dir = dirname_of(path), base = basename_of(path);
  if (basename_of(dir) == "__pycache__")
    return join_path(dirname_of(dir), base.substr(0, base.find('.')) + ".py");
  return join_path(dir, base.substr(0, base.size() - 1));
}

// site-packages/<package> for a file inside a package, else the file's dir.
std::string package_tree(const std::string& file) {
  size_t best = std::string::npos;  // just past the last "site-packages/" component
  for (std::string site : {"site-packages/", "dist-packages/"}) {
    size_t k = file.rfind(site);
    if (k == std::string::npos || (k > 0 && file[k - 1] != '/')) continue;
    if (best == std::string::npos || k + site.size() > best) best = k + site.size();
  }
  if (best != std::string::npos) {
    size_t slash = file.find('/', best);
    if (slash != std::string::npos) return file.substr(0, slash);
  }
  return dirname_of(file);
}

bool is_glob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

struct Scanned {
  size_t node;
  std::vector<PythonLoad> loads;
};

class Resolver {
 public:
  Resolver(PlanBuilder& b, const ImageRuntime& runtime, const std::string& python)
      : b_(b), runtime_(runtime), lookup_(b.fs, runtime, python, b.options.facts, b.diagnostics) {}

  void resolve(const std::string& file, const PythonLoad& load) {
    std::string reason = python_load_reason(file, load);
    switch (load.kind) {
      case PythonLoadKind::Name: return name(file, load.name, reason);
      case PythonLoadKind::FindLibrary: return find_library(load.name, reason);
      case PythonLoadKind::FindLibraryUnknown: return ldconfig(reason);
    }
  }
  std::vector<Root> take() { return std::move(roots_); }

 private:
  void add(const std::string& path, const std::string& reason) {
    if (seen_.insert(path).second) roots_.push_back({path, How::PythonLoad, reason});
  }

  void name(const std::string& file, const std::string& name, const std::string& reason) {
    std::string base = basename_of(name);
    if (is_glob(base)) {
      for (auto& h : lookup_.matching(base)) add(h.opened, reason);
    } else if (name.find('/') == std::string::npos || name[0] == '/') {
      if (auto h = lookup_.dlopen(name)) add(h->opened, reason);
    } else if (auto h = lookup_.dlopen("/" + join_path(dirname_of(file), name))) {
      add(h->opened, reason);  // relative: against the file's dir, the usual os.path.join
    }
    std::string tree = package_tree(file);
    if (tree.empty()) return;
    for (auto& [b, paths] : basename_index())
      if (is_glob(base) ? glob_match(base, b) : b == base)
        for (const std::string* p : paths)
          if (p->starts_with(tree + "/") && !b_.dropped(*p)) add(*p, reason);
  }

  void find_library(const std::string& short_name, const std::string& reason) {
    for (auto& h : lookup_.matching("lib" + short_name + ".so*")) add(h.opened, reason);
    ldconfig(reason);
    if (toolchain_done_ || lookup_.in_ld_cache("lib" + short_name + ".")) return;
    toolchain_done_ = true;
    std::string why = reason + ": lib" + short_name +
                      " is not in etc/ld.so.cache, so find_library runs gcc -Wl,-t, then ld -t, "
                      "and objdump -p";
    for (auto names : {std::vector<std::string>{"gcc", "cc"}, {"ld"}, {"objdump"}})
      for (auto& n : names)
        if (std::string p = command(n); !p.empty()) {
          add(p, why);
          break;
        }
  }

  void ldconfig(const std::string& reason) {
    if (ldconfig_done_) return;
    ldconfig_done_ = true;
    if (const Node* n = b_.fs.resolve("sbin/ldconfig"); n && n->is_file())
      add("sbin/ldconfig", reason + ": find_library runs /sbin/ldconfig -p");
    if (const Node* n = b_.fs.resolve("etc/ld.so.cache"); n && n->is_file())
      add("etc/ld.so.cache", reason + ": find_library reads it through ldconfig -p");
  }

  // A command as execvp finds it through the image's PATH; "" if absent.
  std::string command(const std::string& name) const {
    std::string path = runtime_.env_value("PATH");
    for (auto& dir : split_any(path.empty() ? kDefaultPath : path, ":")) {
      std::string p = join_path(dir, name);
      if (const Node* n = b_.fs.resolve(p); n && n->is_file() && (n->mode & 0111)) return p;
    }
    return "";
  }

  // Basename -> paths of the files and symlinks whose name has ".so", built once.
  const std::map<std::string, std::vector<const std::string*>>& basename_index() {
    if (!index_built_) {
      index_built_ = true;
      for (size_t i = 0; i < b_.nodes.size(); ++i) {
        const Node& n = *b_.nodes[i];
        if (n.type == FileType::Directory || n.path.find(".so") == std::string::npos) continue;
        if (n.is_file() && !b_.elf[i]) continue;
        std::string base = basename_of(n.path);
        if (base.find(".so") != std::string::npos) index_[base].push_back(&n.path);
      }
    }
    return index_;
  }

  PlanBuilder& b_;
  const ImageRuntime& runtime_;
  LibraryLookup lookup_;
  std::vector<Root> roots_;
  std::set<std::string> seen_;
  bool ldconfig_done_ = false, toolchain_done_ = false, index_built_ = false;
  std::map<std::string, std::vector<const std::string*>> index_;
};

std::string python_executable(const PlanBuilder& b, const ImageRuntime& runtime) {
  std::vector<std::string> argv = runtime.entrypoint;
  argv.insert(argv.end(), runtime.cmd.begin(), runtime.cmd.end());
  if (!argv.empty() && basename_of(argv[0]).starts_with("python") && argv[0].find('/') != std::string::npos)
    return normalize_path(argv[0]);
  std::string path = runtime.env_value("PATH");
  for (const char* name : {"python3", "python"})
    for (auto& dir : split_any(path.empty() ? kDefaultPath : path, ":")) {
      std::string p = join_path(dir, name);
      if (const Node* n = b.fs.resolve(p); n && n->is_file()) return p;
    }
  return "usr/bin/python3";
}

}  // namespace

std::vector<Root> python_load_roots(PlanBuilder& b, const ImageRuntime& runtime) {
  if (!b.profile.python_library_scan) return {};
  std::vector<Scanned> files;
  for (size_t i = 0; i < b.nodes.size(); ++i) {
    const Node& n = *b.nodes[i];
    if (!n.is_file() || b.elf[i] || b.dropped(n.path) || stdlib_skipped(n.path)) continue;
    bool source = n.path.ends_with(".py");
    if (!source && !(n.path.ends_with(".pyc") && !b.fs.lookup(source_of_pyc(n.path)))) continue;
    files.push_back({i, {}});
  }
  parallel_for(files.size(), b.options.jobs ? b.options.jobs : kIoBoundJobs, [&](size_t k) {
    const Node& n = *b.nodes[files[k].node];
    auto bytes = b.fs.content(n);
    if (n.path.ends_with(".py"))
      files[k].loads = scan_python_source({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    else
      files[k].loads = scan_python_bytecode(bytes);
    b.fs.release(n);
  });
  Resolver resolver(b, runtime, python_executable(b, runtime));
  for (auto& f : files)
    for (auto& load : f.loads) resolver.resolve(b.nodes[f.node]->path, load);
  return resolver.take();
}

}  // namespace slimage::plan_detail
