// LibraryLookup (see include/slimage/deps/library_lookup.h): one deps::Search
// with the executable as the requester, as preload_roots in roots.cpp does
// for LD_PRELOAD. Quirk: dlopen from a Python extension uses the caller's
// RUNPATH, but the caller here is ctypes' own _ctypes module, which has none,
// so the interpreter's RPATH and the process-wide lists are what count.
#include "slimage/deps/library_lookup.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "search.h"

namespace slimage {

namespace {

// A list of names (a directory's children, ld.so.cache's entries) and their
// order by name: the names starting with a prefix, found without reading the
// others. matching() runs once per find_library/glob in the image's Python
// code; reading every name per glob made 20,000 calls over a 20,000-file lib
// dir 400 million fnmatch calls (22 s).
struct NameIndex {
  std::vector<std::string> names;  // in their own order
  std::vector<size_t> by_name;     // positions into names, sorted by name

  explicit NameIndex(std::vector<std::string> list) : names(std::move(list)), by_name(names.size()) {
    for (size_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
    std::sort(by_name.begin(), by_name.end(), [&](size_t a, size_t b) { return names[a] < names[b]; });
  }
  // Positions of the names starting with `prefix`, in the list's own order.
  std::vector<size_t> starting_with(std::string_view prefix) const {
    auto it = std::lower_bound(by_name.begin(), by_name.end(), prefix,
                               [&](size_t i, std::string_view p) { return names[i] < p; });
    std::vector<size_t> out;
    for (; it != by_name.end() && names[*it].starts_with(prefix); ++it) out.push_back(*it);
    std::sort(out.begin(), out.end());
    return out;
  }
};

// What every name fnmatch(3) can match with `glob` starts with.
std::string_view literal_prefix(std::string_view glob) {
  return glob.substr(0, std::min(glob.find_first_of("*?[\\"), glob.size()));
}

}  // namespace

struct LibraryLookup::Impl {
  const FsView& fs;
  ResolveOptions options;
  deps::Search search;
  ElfInfo guess;
  deps::Object requester;
  std::optional<LdCache> cache;
  bool cache_loaded = false;
  std::vector<std::string> dirs;  // LD_LIBRARY_PATH then default dirs, raw, absolute
  bool dirs_done = false;
  std::map<std::string, NameIndex> dir_names;  // by a dir's real path: its children's basenames
  std::optional<NameIndex> cache_names;       // ld.so.cache's entry names

  const NameIndex& children_of(const std::string& real) {
    auto it = dir_names.find(real);
    if (it != dir_names.end()) return it->second;
    std::vector<std::string> bases;
    for (const Node* child : fs.list_dir(real)) bases.push_back(basename_of(child->path));
    return dir_names.emplace(real, NameIndex(std::move(bases))).first->second;
  }
  const NameIndex& cache_entry_names(const LdCache& c) {
    if (!cache_names) {
      std::vector<std::string> names;
      for (auto& e : c.entries()) names.push_back(e.name);
      cache_names.emplace(std::move(names));
    }
    return *cache_names;
  }

  Impl(const FsView& f, const ImageRuntime& runtime, std::shared_ptr<ElfFacts> facts,
       Diagnostics& diagnostics)
      : fs(f), options(with_facts(resolve_options_for(runtime), std::move(facts))),
        search(f, options, diagnostics) {}

  static ResolveOptions with_facts(ResolveOptions o, std::shared_ptr<ElfFacts> facts) {
    o.facts = std::move(facts);
    return o;
  }

  const ElfInfo& info() const { return *requester.info; }

  const LdCache* ld_cache() {
    if (!cache_loaded) {
      cache_loaded = true;
      const Node* node = fs.resolve("etc/ld.so.cache");
      std::string error;
      if (node && node->is_file()) cache = LdCache::parse(fs.content(*node), &error);
      if (node) fs.release(*node);
    }
    return cache ? &*cache : nullptr;
  }

  const std::vector<std::string>& search_dirs() {
    if (dirs_done) return dirs;
    dirs_done = true;
    std::string list;
    for (auto& d : options.ld_library_path) list += (list.empty() ? "" : ":") + d;
    if (!options.ld_library_path.empty())
      for (auto& d : search.expand(list, &requester, How::LdLibraryPath, "LD_LIBRARY_PATH",
                                   deps::Flavor::Glibc, info()))
        dirs.push_back(d.dir);
    for (auto& d : search.default_dirs(info())) dirs.push_back(d);
    return dirs;
  }

  std::optional<LibraryHit> hit(const std::string& raw, const std::string& detail) {
    auto f = search.try_file(raw, info());
    if (!f) return std::nullopt;
    return LibraryHit{normalize_path(f->opened), f->real, detail};
  }
};

LibraryLookup::LibraryLookup(const FsView& fs, const ImageRuntime& runtime,
                             const std::string& executable, std::shared_ptr<ElfFacts> facts,
                             Diagnostics& diagnostics)
    : impl_(std::make_unique<Impl>(fs, runtime, std::move(facts), diagnostics)) {
  Impl& m = *impl_;
  std::string real;
  const Node* node = fs.resolve(executable, true, &real);
  if (node && node->is_file() && (m.requester.info = m.search.elf(real))) {
    m.requester.opened = normalize_path(executable);
    m.requester.real = real;
    m.requester.main_program = true;
    return;
  }
  m.guess.elf_class = 2, m.guess.data = 1, m.guess.machine = 62;
  for (const char* sh : {"bin/sh", "usr/bin/sh", "bin/busybox"}) {
    const Node* n = fs.resolve(sh, true, &real);
    if (!n || !n->is_file()) continue;
    if (const ElfInfo* info = m.search.elf(real)) {
      m.guess.elf_class = info->elf_class, m.guess.data = info->data, m.guess.machine = info->machine;
      break;
    }
  }
  m.requester.info = &m.guess;
  m.requester.opened = m.requester.real = normalize_path(executable);
}

LibraryLookup::~LibraryLookup() = default;

std::optional<LibraryHit> LibraryLookup::dlopen(const std::string& name) {
  Impl& m = *impl_;
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos)
    return m.hit("/" + normalize_path(name), name + " (a path)");
  auto f = m.search.find(name, m.requester, m.requester, deps::Flavor::Glibc, nullptr);
  if (!f) return std::nullopt;
  return LibraryHit{normalize_path(f->opened), f->real, f->detail};
}

std::vector<LibraryHit> LibraryLookup::matching(const std::string& glob) {
  Impl& m = *impl_;
  std::vector<LibraryHit> out;
  std::set<std::string> seen;
  auto add = [&](std::optional<LibraryHit> h) {
    if (h && seen.insert(h->opened).second) out.push_back(std::move(*h));
  };
  const std::string_view prefix = literal_prefix(glob);
  auto scan_dir = [&](const std::string& dir, const std::string& why) {
    std::string real;
    const Node* node = m.fs.resolve(dir, true, &real);
    if (!node || node->type != FileType::Directory) return;
    const NameIndex& children = m.children_of(real);
    for (size_t i : children.starting_with(prefix)) {
      const std::string& base = children.names[i];
      if (deps::glob_match(glob, base))
        add(m.hit(dir + "/" + base, base + " in " + deps::display(dir) + " (" + why + ")"));
    }
  };
  const auto& dirs = m.search_dirs();
  size_t n_library_path = dirs.size() - m.search.default_dirs(m.info()).size();
  for (size_t i = 0; i < n_library_path; ++i) scan_dir(dirs[i], "LD_LIBRARY_PATH");
  if (const LdCache* cache = m.ld_cache())
    for (size_t i : m.cache_entry_names(*cache).starting_with(prefix))
      if (const auto& e = cache->entries()[i];
          e.hwcap == 0 && ld_cache_flags_match(e.flags, m.info().machine, m.info().elf_class, m.info().flags) &&
          deps::glob_match(glob, e.name))
        add(m.hit(e.path, e.name + " in " + deps::display(dirname_of(normalize_path(e.path))) +
                              " (ld.so.cache)"));
  for (size_t i = n_library_path; i < dirs.size(); ++i) scan_dir(dirs[i], "default dir");
  return out;
}

bool LibraryLookup::in_ld_cache(const std::string& prefix) {
  Impl& m = *impl_;
  const LdCache* cache = m.ld_cache();
  if (!cache) return false;
  for (size_t i : m.cache_entry_names(*cache).starting_with(prefix))
    if (const auto& e = cache->entries()[i];
        e.name.size() > prefix.size() &&
        ld_cache_flags_match(e.flags, m.info().machine, m.info().elf_class, m.info().flags))
      return true;
  return false;
}

}  // namespace slimage
