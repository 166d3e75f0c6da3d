// resolve_graph (see include/slimage/deps/resolver.h). Each root is a process
// of its own, walked breadth-first as the loader does: a name already loaded
// (requested name, DT_SONAME or the same file) is reused, so the first
// resolution of a soname wins for the whole process, and RPATH inheritance
// follows the loader chain of that process. Then, in waves, what each newly
// needed library may dlopen (profile families, its read-only strings) and
// the glibc-hwcaps builds beside it become new dlopen processes, until
// nothing new turns up. Edges are deduplicated across processes.
#include <deque>
#include <map>
#include <set>
#include <tuple>

#include "search.h"
#include "slimage/util/budget.h"

namespace slimage {

using deps::Flavor;
using deps::Found;
using deps::Object;
using ObjectPtr = std::shared_ptr<const Object>;

namespace {

// musl's libc.so is its loader; these names all map to it (ldso/dynlink.c).
bool musl_reserved(const std::string& name) {
  static const char* kNames[] = {"c", "pthread", "rt", "m", "dl", "util", "xnet"};
  if (name.rfind("lib", 0) != 0) return false;
  for (const char* n : kNames) {
    std::string prefix = std::string("lib") + n + ".so";
    if (name.rfind(prefix, 0) == 0 && (name.size() == prefix.size() || name[prefix.size()] == '.'))
      return true;
  }
  return false;
}

std::string musl_arch_of(const std::string& interp) {
  std::string base = basename_of(interp);
  if (base.rfind("ld-musl-", 0) != 0) return "";
  std::string arch = base.substr(8);
  return arch.substr(0, arch.find(".so"));
}

struct Walker {
  const FsView& fs;
  const ResolveOptions& options;
  Diagnostics& diagnostics;
  deps::Search search;
  Graph graph;
  std::set<std::tuple<std::string, std::string, int>> edge_keys;
  std::set<std::pair<std::string, std::string>> missing_keys;
  std::set<std::string> walked, seen;
  std::vector<ObjectPtr> fresh;  // needed ELF objects whose dlopen extras are not done
  Flavor default_flavor = Flavor::Glibc;

  Walker(const FsView& f, const ResolveOptions& o, Diagnostics& d)
      : fs(f), options(o), diagnostics(d), search(f, o, d) {}

  uint64_t steps = 0;  // objects popped, every process together (Budget::ClosureSteps)

  void edge(const std::string& from, const std::string& to, How how, std::string detail) {
    if (edge_keys.emplace(from, to, static_cast<int>(how)).second)
      graph.edges.push_back({from, to, how, std::move(detail)});
  }

  // `raw` and every symlink on the way to it are needed.
  void keep(const std::string& from, const std::string& raw, const std::string& real) {
    for (auto& link : fs.symlink_chain(raw)) {
      graph.needed.insert(link);
      edge(from, link, How::Symlink, "symlink on the way to " + real);
    }
    graph.needed.insert(real);
  }

  void missing(const std::string& from, const std::string& name, const std::string& searched) {
    if (missing_keys.emplace(from, name).second) graph.missing.push_back({from, name, searched});
  }

  void detect_flavor() {
    bool musl = false, glibc = false;
    for (const char* dir : {"lib", "lib64"})
      for (const Node* n : fs.list_dir(dir)) {
        std::string base = basename_of(n->path);
        if (base.rfind("ld-musl-", 0) == 0) {
          musl = true;
          if (search.musl_arch.empty()) search.musl_arch = musl_arch_of(base);
        }
        if (base.rfind("ld-linux", 0) == 0) glibc = true;
      }
    default_flavor = musl && !glibc ? Flavor::Musl : Flavor::Glibc;
  }

  void start_root(const Root& root);
  void run_process(ObjectPtr first);
  void dlopen_extras(const ObjectPtr& obj, std::vector<ObjectPtr>& pending);
};

void Walker::start_root(const Root& root) {
  std::string real;
  const Node* node = fs.resolve(root.path, true, &real);
  if (!node) {
    graph.warnings.push_back(root.path + ": root (" + how_name(root.how) + ") not found");
    diagnostics.warn(root.path, std::string("root (") + how_name(root.how) + ") not found");
    return;
  }
  keep("", root.path, real);
  edge("", real, root.how, root.detail);
  if (!node->is_file()) return;
  const ElfInfo* info = search.elf(real);
  if (!info) return;  // a script or data file: kept, nothing to resolve
  auto obj = std::make_shared<Object>();
  obj->opened = normalize_path(root.path);
  obj->real = real;
  obj->info = info;
  obj->main_program = !info->interp.empty();
  obj->flavor = info->interp.find("ld-musl") != std::string::npos ? Flavor::Musl
                : !info->interp.empty()                          ? Flavor::Glibc
                                                                 : default_flavor;
  run_process(obj);
}

void Walker::run_process(ObjectPtr first) {
  std::map<std::string, ObjectPtr> by_name, by_real;
  std::deque<ObjectPtr> queue;
  ObjectPtr interp;
  auto enroll = [&](const ObjectPtr& o, const std::string& requested) {
    if (!requested.empty()) by_name.emplace(requested, o);
    if (!o->info->soname.empty()) by_name.emplace(o->info->soname, o);
    by_name.emplace(o->opened, o);
    by_real.emplace(o->real, o);
    queue.push_back(o);
  };
  enroll(first, "");
  const Object& root = first->top();
  Flavor flavor = first->flavor;
  if (first->main_program && !first->loader) {
    const std::string& path = first->info->interp;
    if (flavor == Flavor::Musl && search.musl_arch.empty()) search.musl_arch = musl_arch_of(path);
    auto f = search.try_file("/" + deps::display(path), *first->info);
    if (!f) {
      missing(first->real, path, "PT_INTERP");
    } else {
      keep(first->real, f->opened, f->real);
      edge(first->real, f->real, How::Interp, "PT_INTERP " + path);
      auto o = std::make_shared<Object>();
      o->opened = f->opened;
      o->real = f->real;
      o->info = f->info;
      o->loader = first;
      o->flavor = flavor;
      interp = o;
      enroll(o, path);
    }
  }
  while (!queue.empty()) {
    ObjectPtr obj = queue.front();
    queue.pop_front();
    walked.insert(obj->real);
    // Each root is its own process (its own search context), so a library
    // reached from many roots is walked once per root: a chain of N libraries,
    // each a root, walks N^2/2 objects. Bounded here, across every process.
    check_budget(Budget::ClosureSteps, "image library closure (every ELF root's process)", ++steps);
    if (seen.insert(obj->real).second) fresh.push_back(obj);
    for (const std::string& name : obj->info->needed) {
      if (name.empty() || search.host_provided(name)) continue;
      if (flavor == Flavor::Musl && musl_reserved(name) && name.find('/') == std::string::npos) {
        if (interp) edge(obj->real, interp->real, How::AlreadyLoaded, name + ": musl's libc is its loader");
        else if (auto f = search.try_file("/lib/ld-musl-" + search.musl_arch + ".so.1", *obj->info)) {
          keep(obj->real, f->opened, f->real);
          edge(obj->real, f->real, How::AlreadyLoaded, name + ": musl's libc is its loader");
        }
        continue;
      }
      if (auto it = by_name.find(name); it != by_name.end()) {
        if (it->second->real != obj->real)
          edge(obj->real, it->second->real, How::AlreadyLoaded,
               name + " already loaded from " + it->second->opened);
        continue;
      }
      std::string searched;
      auto f = name.find('/') != std::string::npos ? search.find_direct(name, *obj)
                                                   : search.find(name, *obj, root, flavor, &searched);
      if (!f) {
        missing(obj->real, name, name.find('/') != std::string::npos ? "direct path" : searched);
        continue;
      }
      keep(obj->real, f->opened, f->real);
      edge(obj->real, f->real, f->how, f->detail);
      if (auto it = by_real.find(f->real); it != by_real.end()) {
        by_name.emplace(name, it->second);  // same file under another name
        continue;
      }
      auto o = std::make_shared<Object>();
      o->opened = f->opened;
      o->real = f->real;
      o->info = f->info;
      o->loader = obj;
      o->flavor = flavor;
      enroll(o, name);
    }
  }
}

void Walker::dlopen_extras(const ObjectPtr& obj, std::vector<ObjectPtr>& pending) {
  std::set<std::string> own{basename_of(obj->opened), basename_of(obj->real), obj->info->soname};
  const Object& root = obj->top();
  auto add = [&](const Found& f, How how, std::string detail, ObjectPtr loader) {
    keep(obj->real, f.opened, f.real);
    edge(obj->real, f.real, how, std::move(detail));
    if (walked.count(f.real)) return;
    auto o = std::make_shared<Object>();
    o->opened = f.opened;
    o->real = f.real;
    o->info = f.info;
    o->loader = std::move(loader);
    o->flavor = obj->flavor;
    pending.push_back(o);
  };
  std::string dir = "/" + dirname_of(obj->opened);
  std::string dir_real;
  const Node* dir_node = fs.resolve(dir, true, &dir_real);
  std::vector<const Node*> siblings;
  if (dir_node && dir_node->type == FileType::Directory) siblings = fs.list_dir(dir_real);
  std::string dir_shown = deps::display(dir);

  for (auto& family : options.dlopen_families) {
    bool triggered = false;
    for (auto& t : family.triggers)
      for (auto& n : own) triggered = triggered || (!n.empty() && deps::glob_match(t, n));
    if (!triggered) continue;
    std::string why = family.reason.empty() ? family.name : family.name + ": " + family.reason;
    for (auto& glob : family.loads) {
      bool any = false;
      for (const Node* sibling : siblings) {
        std::string base = basename_of(sibling->path);
        if (own.count(base) || !deps::glob_match(glob, base)) continue;
        if (auto f = search.try_file(dir + "/" + base, *obj->info)) {
          add(*f, How::DlopenFamily, base + " in " + dir_shown + " (" + why + ")", obj);
          any = true;
        }
      }
      if (any || glob.find_first_of("*?[") != std::string::npos || search.host_provided(glob))
        continue;
      if (auto f = search.find(glob, *obj, root, obj->flavor, nullptr))
        add(*f, How::DlopenFamily, f->detail + " (" + why + ")", obj);
      else
        graph.warnings.push_back(obj->real + ": " + glob + " (dlopen family " + family.name +
                                 ") not found");
    }
  }

  if (options.string_heuristic) {
    for (auto& s : search.entry(obj->real)->strings) {
      std::string base = basename_of(s);
      if (base.empty() || own.count(base) || search.host_provided(base)) continue;
      std::optional<Found> f;
      if (s[0] == '/') f = search.try_file(s, *obj->info);
      else f = search.find(base, *obj, root, obj->flavor, nullptr);
      if (!f) f = search.try_file(dir + "/" + base, *obj->info);
      if (f) add(*f, How::StringHeuristic, base + ": string in " + obj->real, obj);
    }
  }

  if (obj->flavor == Flavor::Glibc && obj->opened.find("glibc-hwcaps/") == std::string::npos) {
    auto t = deps::triplet_for(obj->info->machine, obj->info->elf_class, obj->info->data);
    std::string base = basename_of(obj->opened);
    for (auto& level : t.hwcaps)
      if (auto f = search.try_file(dir + "/glibc-hwcaps/" + level + "/" + base, *obj->info))
        add(*f, How::Hwcaps, "glibc-hwcaps/" + level + " build of " + obj->real, obj->loader);
  }
}

}  // namespace

Graph resolve_graph(const FsView& fs, const std::vector<Root>& roots, const ResolveOptions& options,
                    Diagnostics& diagnostics) {
  Walker w(fs, options, diagnostics);
  w.detect_flavor();
  // Header-only parse of every library-looking file up front, in parallel:
  // the searches then only hit the cache.
  std::vector<std::string> candidates;
  fs.for_each([&](const Node& n) {
    if (n.is_file() && basename_of(n.path).find(".so") != std::string::npos)
      candidates.push_back(n.path);
  });
  w.search.parse_all(candidates);

  for (auto& root : roots) w.start_root(root);
  while (!w.fresh.empty()) {
    std::vector<ObjectPtr> batch = std::move(w.fresh);
    w.fresh.clear();
    if (options.string_heuristic) {
      std::vector<std::string> reals;
      for (auto& o : batch) reals.push_back(o->real);
      w.search.scan_strings(reals);
    }
    std::vector<ObjectPtr> pending;
    for (auto& o : batch) w.dlopen_extras(o, pending);
    for (auto& o : pending)
      if (!w.walked.count(o->real)) w.run_process(o);
  }
  for (auto& warning : w.search.take_warnings()) w.graph.warnings.push_back(warning);
  w.graph.closure_steps = w.steps;
  return std::move(w.graph);
}

}  // namespace slimage
