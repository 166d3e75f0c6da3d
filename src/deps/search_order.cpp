// The order of the search for one name (see search.h): builds the list of
// directories for the requester in its process (RPATH chain, LD_LIBRARY_PATH,
// RUNPATH for glibc; LD_LIBRARY_PATH, rpaths up the chain, the path file for
// musl), then ld.so.cache and the default dirs. Quirk: the loader reads
// /etc/ld.so.cache, not /etc/ld.so.conf; a library reachable through a conf
// dir but absent from the cache is not found at run time, so the cache wins
// and the disagreement becomes a warning.
#include "search.h"
#include "slimage/util/budget.h"

namespace slimage::deps {

static bool under_dir(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         path[dir.size()] == '/';
}

std::optional<Found> Search::from_cache(const std::string& name, const ElfInfo& requester,
                                        std::string* searched) {
  if (!cache_loaded_) {
    cache_loaded_ = true;
    std::vector<std::string> conf_warnings;
    conf_dirs_ = read_ld_so_conf(fs_, "etc/ld.so.conf", &conf_warnings);
    for (auto& w : conf_warnings) warn(w);
    std::string real;
    const Node* node = fs_.resolve("etc/ld.so.cache", true, &real);
    if (node && node->is_file()) {
      std::string error;
      cache_ = LdCache::parse(fs_.content(*node), &error);
      if (!cache_) diagnostics_.warn(real, error);
    } else if (!conf_dirs_.empty()) {
      warn("etc/ld.so.cache: absent, so the loader never searches the etc/ld.so.conf dirs "
           "(ldconfig was not run)");
    }
  }
  if (searched) *searched += searched->empty() ? "ld.so.cache" : ", ld.so.cache";
  std::optional<Found> hit;
  if (cache_) {
    for (const LdCacheEntry* e :
         cache_->lookup(name, requester.machine, requester.elf_class, requester.flags)) {
      if (requester.nodeflib()) {
        bool system = false;
        for (auto& d : default_dirs(requester)) system = system || under_dir(e->path, d);
        if (system) continue;
      }
      if ((hit = try_file(e->path, requester))) {
        hit->how = How::LdCache;
        hit->detail = name + " in " + display(dirname_of(e->path)) + " (ld.so.cache)";
        break;
      }
    }
  }
  // Cross-check with the conf dirs the cache was (supposedly) built from.
  for (auto& dir : conf_dirs_) {
    if (!dir_in_view(dir)) continue;
    auto f = try_dir(dir, name, requester, false);
    if (!f) continue;
    if (!hit)
      warn(name + ": in " + display(dir) + " (etc/ld.so.conf) but not in etc/ld.so.cache; "
           "the loader uses the cache");
    else if (f->real != hit->real)
      warn(name + ": etc/ld.so.cache gives " + hit->real + ", etc/ld.so.conf order gives " +
           f->real + "; the loader uses the cache");
    break;
  }
  return hit;
}

std::vector<std::string> Search::musl_dirs() {
  if (musl_dirs_) return *musl_dirs_;
  std::vector<std::string> dirs;
  std::string path = "etc/ld-musl-" + musl_arch + ".path";
  const Node* node = fs_.resolve(path);
  if (node && node->is_file()) {
    auto bytes = fs_.content(*node);
    std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (size_t i = 0; i < text.size();) {
      size_t j = text.find_first_of(":\n", i);
      if (j == std::string::npos) j = text.size();
      if (j > i) dirs.push_back(text.substr(i, j - i));
      i = j + 1;
    }
  } else {
    dirs = {"/lib", "/usr/local/lib", "/usr/lib"};
  }
  musl_dirs_ = dirs;
  return dirs;
}

static std::string summary(const std::vector<SearchDir>& dirs) {
  std::string s;
  for (auto& d : dirs) {
    if (!s.empty()) s += ", ";
    s += display(d.dir) + " (" + how_name(d.how) + ")";
  }
  return s;
}

std::optional<Found> Search::find(const std::string& name, const Object& requester,
                                  const Object& root, Flavor flavor, std::string* searched) {
  const ElfInfo& info = *requester.info;
  std::vector<SearchDir> dirs;
  std::string ld_library_path;
  for (auto& d : options_.ld_library_path) ld_library_path += (ld_library_path.empty() ? "" : ":") + d;
  auto chain_source = [&](const char* tag, const Object* o) {
    return std::string(tag) + " of " + o->real + (o == &requester ? "" : ", inherited");
  };
  if (flavor == Flavor::Glibc) {
    if (!info.runpath)
      for (const Object* o = requester.rpath_holder(); o; o = o->loader ? o->loader->rpath_holder() : nullptr) {
        auto more = expand(*o->info->rpath, o, How::Rpath, chain_source("RPATH", o), flavor, info);
        dirs.insert(dirs.end(), more.begin(), more.end());
      }
    if (!options_.ld_library_path.empty()) {
      auto more = expand(ld_library_path, &root, How::LdLibraryPath, "LD_LIBRARY_PATH", flavor, info);
      dirs.insert(dirs.end(), more.begin(), more.end());
    }
    if (info.runpath) {
      auto more = expand(*info.runpath, &requester, How::Runpath, chain_source("RUNPATH", &requester),
                         flavor, info);
      dirs.insert(dirs.end(), more.begin(), more.end());
    }
  } else {
    if (!options_.ld_library_path.empty()) {
      auto more = expand(ld_library_path, &root, How::LdLibraryPath, "LD_LIBRARY_PATH", flavor, info);
      dirs.insert(dirs.end(), more.begin(), more.end());
    }
    for (const Object* o = requester.path_holder(); o; o = o->loader ? o->loader->path_holder() : nullptr) {
      // musl reads DT_RUNPATH over DT_RPATH and treats either like RPATH.
      const auto& list = o->info->runpath ? o->info->runpath : o->info->rpath;
      auto more = expand(*list, o, o->info->runpath ? How::Runpath : How::Rpath,
                         chain_source(o->info->runpath ? "RUNPATH" : "RPATH", o), flavor, info);
      dirs.insert(dirs.end(), more.begin(), more.end());
    }
  }
  check_budget(Budget::SearchPaths, "image file " + requester.real + ": DT_NEEDED " + name, dirs.size());
  for (auto& d : dirs) {
    if (auto f = probe(d.dir, name, info, flavor == Flavor::Glibc)) {
      f->how = d.how;
      f->detail = name + " in " + display(d.dir) + " (" + d.source + ")";
      return f;
    }
  }
  std::string tried = summary(dirs);
  std::vector<std::string> defaults;
  if (flavor == Flavor::Glibc) {
    if (auto f = from_cache(name, info, &tried)) return f;
    if (!info.nodeflib()) defaults = default_dirs(info);
  } else {
    defaults = musl_dirs();
  }
  for (auto& d : defaults) {
    if (!dir_in_view(d)) continue;  // holds nothing
    if (auto f = try_dir(d, name, info, flavor == Flavor::Glibc)) {
      f->how = How::DefaultDir;
      f->detail = name + " in " + display(d) +
                  (flavor == Flavor::Musl ? " (musl default path)" : " (default dir)");
      return f;
    }
  }
  if (searched) {
    for (auto& d : defaults) tried += (tried.empty() ? "" : ", ") + display(d);
    if (flavor == Flavor::Glibc && info.nodeflib()) tried += " (DF_1_NODEFLIB: no default dirs)";
    *searched = tried;
  }
  return std::nullopt;
}

std::optional<Found> Search::find_direct(const std::string& name, const Object& requester) {
  std::string path = name;
  if (name.find('$') != std::string::npos) {
    auto dirs = expand(name, &requester, How::DirectPath, "DT_NEEDED " + name + " of " + requester.real,
                       Flavor::Glibc, *requester.info);
    if (dirs.empty()) return std::nullopt;
    path = dirs[0].dir;
  } else if (name[0] != '/') {
    warn(requester.real + ": DT_NEEDED " + name +
         " is relative to the process's current directory; assumed relative to /");
  }
  auto f = try_file("/" + display(path), *requester.info);
  if (f) {
    f->how = How::DirectPath;
    f->detail = name + " (path in DT_NEEDED of " + requester.real + ")";
  }
  return f;
}

}  // namespace slimage::deps
