// Where a program's own dlopen("libfoo.so.1") finds a library, and which
// libraries a name pattern can reach — the loader's search (src/deps/search*.cpp)
// run for one executable of the image (the Python interpreter, for ctypes):
// LD_LIBRARY_PATH from the config Env, the executable's RPATH/RUNPATH,
// /etc/ld.so.cache, the default dirs. Also answers what `ldconfig -p` would
// list, which is what ctypes.util.find_library reads first.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "slimage/deps/resolver.h"

namespace slimage {

struct LibraryHit {
  std::string opened;  // normalized path as the loader opens it (symlinks unresolved)
  std::string real;    // normalized real path
  std::string detail;  // "libcurand.so.10 in usr/local/cuda/lib64 (LD_LIBRARY_PATH)"
};

class LibraryLookup {
 public:
  // `executable`: normalized path of the requesting program; when it is not
  // an ELF in the image, an x86-64 (or bin/sh's machine) glibc program is assumed.
  LibraryLookup(const FsView& fs, const ImageRuntime& runtime, const std::string& executable,
                std::shared_ptr<ElfFacts> facts, Diagnostics& diagnostics);
  ~LibraryLookup();
  LibraryLookup(const LibraryLookup&) = delete;
  LibraryLookup& operator=(const LibraryLookup&) = delete;

  // dlopen(name): a bare name through the loader's order; a name with '/'
  // is that file (absolute, inside the root). Only ELF files the executable
  // can load count.
  std::optional<LibraryHit> dlopen(const std::string& name);
  // Every loadable library whose basename matches `glob`, in the dirs
  // dlopen searches: LD_LIBRARY_PATH, ld.so.cache entries, default dirs.
  std::vector<LibraryHit> matching(const std::string& glob);
  // Whether `ldconfig -p` lists a name starting with `prefix` for the
  // executable's machine (ctypes: "lib" + short name + ".").
  bool in_ld_cache(const std::string& prefix);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slimage
