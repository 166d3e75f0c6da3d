// The dependency graph: which files an image needs, and how each was found.
// Every edge records its reason (libtree's model), so `slimage why PATH` can
// print the chain from a root, and the plan can cite it.
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

namespace slimage {

enum class How {
  Entrypoint,       // config Entrypoint/Cmd argv[0], through the image PATH
  Shebang,          // "#!" interpreter of a script (incl. /usr/bin/env NAME)
  ShellCommand,     // a command word in `sh -c "…"` (best effort)
  Interp,           // PT_INTERP of an executable
  Preload,          // LD_PRELOAD from the config Env, or /etc/ld.so.preload
  PythonExtension,  // extension module of a kept Python package
  ProfileRoot,      // declared by the profile (entrypoints, keep globs)
  CliRoot,          // --entrypoint / --keep
  KeptElf,          // an ELF the plan keeps anyway (its dependencies must resolve too)
  Rpath,            // DT_NEEDED found via DT_RPATH (detail: dir, and whose rpath)
  LdLibraryPath,    // DT_NEEDED via LD_LIBRARY_PATH from the config Env
  Runpath,          // DT_NEEDED via DT_RUNPATH
  LdCache,          // DT_NEEDED via /etc/ld.so.cache
  DefaultDir,       // DT_NEEDED via the default dirs (or musl's path file)
  DirectPath,       // DT_NEEDED containing '/'
  AlreadyLoaded,    // DT_NEEDED matched an object already loaded (soname reuse)
  DlopenFamily,     // a profile's dlopen family (cuDNN sub-libraries, NVRTC builtins…)
  StringHeuristic,  // a "lib….so…" literal in the requester's read-only data
  Symlink,          // a symlink on the way to a needed file (soname chain)
  Hwcaps,           // glibc-hwcaps/<level>/ variant of a kept library
  ConfigPlugin,     // a plugin the image's own config loads (nsswitch.conf, gconv-modules, pam.d, openssl.cnf)
  PythonLoad,       // a library kept Python code loads by name (ctypes, cffi, find_library)
  PluginDir,        // runtime profile: a shared library outside loader_search_dirs (plugins.h)
};
const char* how_name(How how);  // "runpath", "ld.so.cache", "dlopen family", …

struct Edge {
  std::string from;    // normalized path of the requester; "" for a root
  std::string to;      // normalized path of what it needs (real file, or a symlink for How::Symlink)
  How how = How::Entrypoint;
  std::string detail;  // e.g. "libcublasLt.so.13 in $ORIGIN/../lib (RUNPATH of usr/lib/x.so)"
};

struct Missing {
  std::string from;     // requester
  std::string needed;   // the DT_NEEDED (or dlopen) name
  std::string searched; // where it looked, for the message
};

struct Graph {
  std::set<std::string> needed;   // every path that must stay: files and the symlinks leading to them
  std::vector<Edge> edges;
  std::vector<Missing> missing;
  std::vector<std::string> warnings;  // relative rpath elements, $PLATFORM guesses, conf/cache disagreements…
  // Objects the walk popped, every root's process together: what
  // SLIMAGE_MAX_CLOSURE_STEPS bounds (`plan --json` shows it as closure_steps).
  uint64_t closure_steps = 0;
  // Shortest chains of edges from a root to `path` (each chain root-first);
  // empty if it is not needed.
  std::vector<std::vector<const Edge*>> chains_to(const std::string& path, size_t max_chains = 3) const;
};

}  // namespace slimage
