// LibraryLookup (see include/slimage/deps/library_lookup.h): one deps::Search
// with the executable as the requester, as preload_roots in roots.cpp does
// for LD_PRELOAD. Quirk: dlopen from a Python extension uses the caller's
// RUNPATH, but the caller here is ctypes' own _ctypes module, which has none,
// so the interpreter's RPATH and the process-wide lists are what count.
#include "slimage/deps/library_lookup.h"

#include <set>

#include "search.h"

namespace slimage {

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
  auto scan_dir = [&](const std::string& dir, const std::string& why) {
    std::string real;
    const Node* node = m.fs.resolve(dir, true, &real);
    if (!node || node->type != FileType::Directory) return;
    for (const Node* child : m.fs.list_dir(real)) {
      std::string base = basename_of(child->path);
      if (deps::glob_match(glob, base))
        add(m.hit(dir + "/" + base, base + " in " + deps::display(dir) + " (" + why + ")"));
    }
  };
  const auto& dirs = m.search_dirs();
  size_t n_library_path = dirs.size() - m.search.default_dirs(m.info()).size();
  for (size_t i = 0; i < n_library_path; ++i) scan_dir(dirs[i], "LD_LIBRARY_PATH");
  if (const LdCache* cache = m.ld_cache())
    for (auto& e : cache->entries())
      if (e.hwcap == 0 && ld_cache_flags_match(e.flags, m.info().machine, m.info().elf_class, m.info().flags) &&
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
  for (auto& e : cache->entries())
    if (e.name.starts_with(prefix) && e.name.size() > prefix.size() &&
        ld_cache_flags_match(e.flags, m.info().machine, m.info().elf_class, m.info().flags))
      return true;
  return false;
}

}  // namespace slimage
