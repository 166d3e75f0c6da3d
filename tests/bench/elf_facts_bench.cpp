// Benchmark driver for the ELF reader (run by scripts/bench-elf.sh): walks
// directories, maps every regular file, and times parse_elf (plus, with
// --strings, library_name_strings). Symlinks are skipped so each file counts
// once. Single-threaded: the number is the reader's cost, not the machine's.
// With --lief MB, also times LIEF 0.9 and parse_elf on the ELF files under MB
// megabytes (LIEF parses everything, so it is only run on small files).
// Usage: elf_facts_bench [--strings] [--print] [--lief MB] DIR...
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#if __has_include(<LIEF/ELF.hpp>)
#include <LIEF/ELF.hpp>
#define HAVE_LIEF 1
#endif

#include "slimage/elf/elf.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace fs = std::filesystem;
using namespace slimage;

// Seconds for LIEF and for parse_elf over the ELF files no bigger than max_bytes.
static void compare_with_lief(const std::vector<std::string>& paths, uint64_t max_bytes) {
#ifdef HAVE_LIEF
  std::vector<std::string> small;
  uint64_t bytes = 0;
  for (const auto& p : paths) {
    MappedFile f(p);
    if (f.bytes().size() <= max_bytes && is_elf(f.bytes())) small.push_back(p), bytes += f.bytes().size();
  }
  auto time = [&](auto&& fn) {
    auto start = std::chrono::steady_clock::now();
    for (const auto& p : small) fn(p);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double lief = time([](const std::string& p) {
    try {
      LIEF::ELF::Parser::parse(p);
    } catch (const std::exception&) {
    }
  });
  double ours = time([](const std::string& p) {
    MappedFile f(p);
    std::string error;
    parse_elf(f.bytes(), &error);
  });
  std::printf("lief-subset files %zu bytes %llu lief %.3f s parse_elf %.6f s ratio %.0fx\n",
              small.size(), (unsigned long long)bytes, lief, ours, ours > 0 ? lief / ours : 0.0);
#else
  std::printf("lief-subset: built without LIEF\n");
#endif
}

int main(int argc, char** argv) {
  bool strings = false, print = false;
  uint64_t lief_max_mb = 0;
  std::vector<std::string> dirs;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--strings") == 0) strings = true;
    else if (std::strcmp(argv[i], "--print") == 0) print = true;
    else if (std::strcmp(argv[i], "--lief") == 0 && i + 1 < argc) lief_max_mb = std::stoull(argv[++i]);
    else dirs.push_back(argv[i]);
  }
  if (dirs.empty()) {
    std::fprintf(stderr, "usage: elf_facts_bench [--strings] [--print] DIR...\n");
    return 2;
  }
  std::vector<std::string> paths;
  for (const auto& dir : dirs) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); it.increment(ec))
      if (it->is_regular_file() && !it->is_symlink()) paths.push_back(it->path().string());
  }
  const auto start = std::chrono::steady_clock::now();
  uint64_t bytes = 0, elf_files = 0, bad = 0, needed = 0, names = 0;
  for (const auto& path : paths) {
    try {
      MappedFile file(path);
      bytes += file.bytes().size();
      if (!is_elf(file.bytes())) continue;
      ++elf_files;
      std::string error;
      auto info = parse_elf(file.bytes(), &error);
      if (!info) {
        ++bad;
        if (print) std::printf("%s: %s\n", path.c_str(), error.c_str());
        continue;
      }
      needed += info->needed.size();
      if (print) {
        std::printf("%s:", path.c_str());
        for (const auto& n : info->needed) std::printf(" %s", n.c_str());
        std::printf("\n");
      }
      if (strings) {
        auto found = library_name_strings(file.bytes(), *info);
        names += found.size();
        if (print)
          for (const auto& n : found) std::printf("  string %s\n", n.c_str());
      }
    } catch (const Error& e) {
      std::fprintf(stderr, "%s\n", e.what());
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("files %zu elf %llu malformed %llu bytes %llu (%.2f GB) needed %llu%s time %.3f s\n",
              paths.size(), (unsigned long long)elf_files, (unsigned long long)bad,
              (unsigned long long)bytes, bytes / 1e9, (unsigned long long)needed,
              strings ? (" strings " + std::to_string(names)).c_str() : "", seconds);
  if (lief_max_mb) compare_with_lief(paths, lief_max_mb << 20);
  return 0;
}
