// Resolves every DT_NEEDED as the image's own loader would, inside the
// image's root (../shared/ELF-RESOLUTION.md is the reference): glibc's order
// (RPATH chain unless RUNPATH, LD_LIBRARY_PATH from the config Env, RUNPATH,
// /etc/ld.so.cache, default dirs), or musl's when PT_INTERP is musl's;
// $ORIGIN/$LIB/$PLATFORM, glibc-hwcaps, class/machine matching, breadth-first
// with soname reuse; plus dlopen families and the string heuristic.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slimage/deps/graph.h"
#include "slimage/image/runtime.h"
#include "slimage/rootfs/fs_view.h"
#include "slimage/util/error.h"

namespace slimage {

// A library family loaded with dlopen, invisible to DT_NEEDED.
struct DlopenFamily {
  std::string name;                   // "cudnn9"
  std::vector<std::string> triggers;  // basename globs: when a needed file matches, …
  std::vector<std::string> loads;     // … these basename globs are needed too, searched in the
                                      // trigger's directory first, then like a DT_NEEDED of it
  std::string reason;                 // "cuDNN 9 dlopens its sub-libraries by soname"
};

// Parsed ELF facts (headers, dynamic section, library-name strings) kept
// across walks over views of the same bytes (FsView::content_id): the plan's
// walk and the closures of the input and of the output (a FilteredFs over
// the same layers) parse each file once between them. A walk over other
// bytes gets facts of its own.
struct ElfFacts;
std::shared_ptr<ElfFacts> make_elf_facts();

struct ResolveOptions {
  std::vector<std::string> ld_library_path;  // from the config Env, split on ':'
  std::vector<DlopenFamily> dlopen_families;
  // Basename globs the host provides at run time (NVIDIA driver libraries
  // mounted by the container runtime): never required, never missing.
  std::vector<std::string> host_provided;
  bool string_heuristic = true;
  std::shared_ptr<ElfFacts> facts;  // null: facts live for one walk
};

struct Root {
  std::string path;  // normalized path in the root (symlinks allowed)
  How how = How::Entrypoint;
  std::string detail;  // "Entrypoint[0] python3 via PATH /usr/bin"
};

// Walks from `roots`; every file reached (and every symlink on the way) is in
// graph.needed. Problems with single files are diagnostics, never exceptions.
Graph resolve_graph(const FsView& fs, const std::vector<Root>& roots, const ResolveOptions& options,
                    Diagnostics& diagnostics);

// Roots of an image: Entrypoint+Cmd (argv[0] through the image PATH,
// symlinks inside the root, "#!" interpreters incl. `/usr/bin/env NAME`,
// `sh -c "…"` best effort), LD_PRELOAD, /etc/ld.so.preload, Python extension
// modules under site-packages/dist-packages/lib-dynload, and `extra` (profile
// and CLI roots, already resolved to paths). Every ELF for which `kept`
// returns true is a KeptElf root; files for which `excluded` is true (dropped
// by the plan: tests dirs, caches) are never roots.
std::vector<Root> find_roots(const FsView& fs, const ImageRuntime& runtime,
                             const std::vector<Root>& extra,
                             const std::function<bool(const Node&)>& kept_elf,
                             const std::function<bool(const std::string&)>& excluded,
                             Diagnostics& diagnostics);

// ResolveOptions::ld_library_path etc. from the runtime (LD_LIBRARY_PATH split on ':').
// Also fills host_provided with the NVIDIA driver libraries and
// dlopen_families with builtin_dlopen_families(); a profile may replace them.
ResolveOptions resolve_options_for(const ImageRuntime& runtime);

// The families of ELF-RESOLUTION.md's dlopen table that need no profile:
// cuDNN 9 sub-libraries, NVRTC builtins, NCCL net plugins.
std::vector<DlopenFamily> builtin_dlopen_families();
// Basename globs of the NVIDIA driver libraries the container runtime mounts.
std::vector<std::string> driver_library_globs();

}  // namespace slimage
