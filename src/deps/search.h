// Internal to src/deps: the loader's search for one DT_NEEDED name (glibc or
// musl order, ELF-RESOLUTION.md), the per-run caches it relies on (parsed
// ELF headers by real path, lookups by raw path), and path-list tokens.
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "slimage/deps/ld_cache.h"
#include "slimage/deps/resolver.h"
#include "slimage/elf/elf.h"

namespace slimage::deps {

enum class Flavor { Glibc, Musl };

// One ELF object as loaded in one (possibly hypothetical) process.
struct Object {
  std::string opened;  // path as opened, raw (".." and symlinks unresolved), no leading '/'
  std::string real;    // normalized real path
  const ElfInfo* info = nullptr;
  std::shared_ptr<const Object> loader;  // who loaded it; null for a root
  bool main_program = false;  // $ORIGIN of the executable is /proc/self/exe: its real dir
  Flavor flavor = Flavor::Glibc;
  // "/dir" the object's $ORIGIN expands to.
  std::string origin() const;
  // Up the loader chain, this object included: the nearest object with
  // DT_RPATH (glibc inherits those), the nearest with DT_RPATH or DT_RUNPATH
  // (musl reads either), and the process's root. Worked out on first use,
  // once `info` and `loader` are set, so a chain N deep costs N once, not
  // once per name searched (a DT_NEEDED chain of 10,000 libraries).
  const Object* rpath_holder() const { return up().rpath; }
  const Object* path_holder() const { return up().paths; }
  const Object& top() const { return *up().top; }

 private:
  struct Up {
    bool done = false;
    const Object *rpath = nullptr, *paths = nullptr, *top = nullptr;
  };
  mutable Up up_;
  const Up& up() const;
};

struct Found {
  std::string opened, real;
  const ElfInfo* info = nullptr;
  How how = How::DefaultDir;
  std::string detail;
};

// A directory to search and why it is on the list.
struct SearchDir {
  std::string dir;     // absolute, raw ("/usr/local/cuda/lib64/../lib")
  How how;
  std::string source;  // "RUNPATH of usr/lib/x.so", "$ORIGIN from RPATH of …, inherited"
};

struct ElfEntry {
  std::optional<ElfInfo> info;
  bool parsed = false;
  std::vector<std::string> strings;
  bool strings_done = false;
};

struct Triplet {
  std::vector<std::string> multiarch;  // "x86_64-linux-gnu"
  std::string platform;                // $PLATFORM guess
  std::vector<std::string> hwcaps;     // glibc-hwcaps levels, best first
};
Triplet triplet_for(uint16_t machine, uint8_t elf_class, uint8_t data);

class Search {
 public:
  Search(const FsView& fs, const ResolveOptions& options, Diagnostics& diagnostics);

  // Parsed headers of the file at a normalized real path (null if not an ELF
  // or malformed; the latter is a diagnostic).
  const ElfInfo* elf(const std::string& real);
  ElfEntry* entry(const std::string& real);  // creates; not thread-safe
  void parse_all(const std::vector<std::string>& reals);                // parallel
  void scan_strings(const std::vector<std::string>& reals);             // parallel

  // The file at a raw path if it is an ELF the requester can load.
  std::optional<Found> try_file(const std::string& raw, const ElfInfo& requester);
  // Searches for `name` as the loader of `requester` would. `searched` gets
  // a summary of where it looked when nothing is found.
  std::optional<Found> find(const std::string& name, const Object& requester, const Object& root,
                            Flavor flavor, std::string* searched);
  // Direct path (name with '/'), tokens expanded.
  std::optional<Found> find_direct(const std::string& name, const Object& requester);

  // Expands a path list (RPATH, RUNPATH, LD_LIBRARY_PATH) for `owner`.
  std::vector<SearchDir> expand(const std::string& list, const Object* owner, How how,
                                const std::string& source, Flavor flavor, const ElfInfo& machine);
  std::vector<std::string> default_dirs(const ElfInfo& requester) const;
  bool host_provided(const std::string& name) const;
  void warn(const std::string& message);
  std::vector<std::string> take_warnings() { return std::move(warnings_); }

  const FsView& fs() const { return fs_; }
  const ResolveOptions& options() const { return options_; }
  std::string musl_arch;  // "x86_64", from the musl loader's name

 private:
  std::optional<Found> try_dir(const std::string& dir, const std::string& name,
                               const ElfInfo& requester, bool hwcaps);
  // Whether `dir` is a directory in the view, asked once per directory: a
  // name is probed (and its probe remembered in lookups_) only in those, so
  // a million names that exist nowhere cost no memory per name and dir.
  bool dir_in_view(const std::string& dir);
  // try_dir in a directory of the view, counted against
  // SLIMAGE_MAX_SEARCH_PROBES (the RPATH/RUNPATH/LD_LIBRARY_PATH dirs, which
  // a hostile ELF multiplies: every probe counts, remembered or not).
  std::optional<Found> probe(const std::string& dir, const std::string& name, const ElfInfo& requester,
                             bool hwcaps);
  std::optional<Found> from_cache(const std::string& name, const ElfInfo& requester,
                                  std::string* searched);
  std::vector<std::string> musl_dirs();

  const FsView& fs_;
  const ResolveOptions& options_;
  Diagnostics& diagnostics_;
  std::shared_ptr<ElfFacts> facts_;  // the options' if they serve this view's bytes
  struct Lookup {
    const Node* node = nullptr;
    std::string real;
  };
  // Every path probed, remembered: within SLIMAGE_MAX_SEARCH_PROBES too.
  std::unordered_map<std::string, Lookup> lookups_;
  std::optional<LdCache> cache_;
  bool cache_loaded_ = false;
  std::vector<std::string> conf_dirs_;
  std::optional<std::vector<std::string>> musl_dirs_;
  std::vector<std::string> warnings_;
  std::set<std::string> warned_;
  std::unordered_map<std::string, bool> dir_exists_;  // search dirs: a directory in the view?
  uint64_t probes_ = 0;  // (dir, name) probes so far: SLIMAGE_MAX_SEARCH_PROBES
};

bool glob_match(const std::string& pattern, const std::string& name);
std::string display(const std::string& raw);  // "/usr/lib/./x" -> "usr/lib/./x"

}  // namespace slimage::deps

namespace slimage {
struct ElfFacts {
  uint64_t content_id = 0;  // FsView::content_id() of the views served; 0 until first use
  std::unordered_map<std::string, std::unique_ptr<deps::ElfEntry>> entries;  // by real path
};
}  // namespace slimage
