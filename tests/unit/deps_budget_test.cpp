// Budgets where the dependency stage reads untrusted bytes: ld.so.cache entry count,
// ld.so.conf include fan-out (each file read once; SLIMAGE_MAX_INCLUDES), DT_NEEDED
// count (SLIMAGE_MAX_NEEDED). Exact messages.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "deps_fixture.h"
#include "slimage/deps/ld_cache.h"
#include "slimage/deps/library_lookup.h"
#include "slimage/elf/elf.h"
#include "slimage/util/budget.h"

using namespace slimage;
using slimage::test::Fixture;

namespace {
struct BudgetEnv {
  const char* name;
  BudgetEnv(const char* n, const char* v) : name(n) {
    ::setenv(name, v, 1);
    reset_budgets_for_test();
  }
  ~BudgetEnv() {
    ::unsetenv(name);
    reset_budgets_for_test();
  }
};

void put(std::string& b, size_t off, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) b[off + i] = static_cast<char>(v >> (8 * i));
}

// A new-format cache of N entries, all naming the same string "libx.so".
std::string cache_bytes(uint32_t n) {
  std::string b = "glibc-ld.so.cache1.1";
  b.resize(48 + size_t{n} * 24, '\0');
  uint32_t str = static_cast<uint32_t>(b.size());
  b += std::string("libx.so\0", 8);
  put(b, 20, n, 4);
  put(b, 24, 8, 4);
  b[28] = 2;  // little-endian
  for (uint32_t i = 0; i < n; i++) {
    size_t e = 48 + size_t{i} * 24;
    put(b, e, 0x0303, 4);
    put(b, e + 4, str, 4);
    put(b, e + 8, str, 4);
  }
  return b;
}

// A minimal x86-64 ELF (PT_LOAD + PT_DYNAMIC, no sections) with N DT_NEEDED entries.
std::vector<uint8_t> elf_with_needed(uint32_t n, const std::string& runpath = "") {
  std::string strtab("\0libn.so\0", 9);
  size_t runpath_at = strtab.size();
  if (!runpath.empty()) strtab += runpath + std::string(1, '\0');
  uint32_t extra = runpath.empty() ? 0 : 1;
  size_t str_off = 64 + 2 * 56, dyn_off = (str_off + strtab.size() + 7) & ~size_t{7};
  size_t dyn_size = (size_t{n} + extra + 3) * 16, total = dyn_off + dyn_size;
  std::string b(total, '\0');
  std::memcpy(&b[0], "\x7f" "ELF\x02\x01\x01", 7);
  put(b, 16, 3, 2), put(b, 18, 62, 2), put(b, 20, 1, 4), put(b, 32, 64, 8);
  put(b, 52, 64, 2), put(b, 54, 56, 2), put(b, 56, 2, 2), put(b, 58, 64, 2);
  put(b, 64, 1, 4), put(b, 68, 5, 4), put(b, 96, total, 8), put(b, 104, total, 8);
  put(b, 120, 2, 4), put(b, 124, 6, 4), put(b, 128, dyn_off, 8), put(b, 136, dyn_off, 8);
  put(b, 144, dyn_off, 8), put(b, 152, dyn_size, 8), put(b, 160, dyn_size, 8);
  std::memcpy(&b[str_off], strtab.data(), strtab.size());
  size_t d = dyn_off;
  for (uint32_t i = 0; i < n; i++, d += 16) put(b, d, 1, 8), put(b, d + 8, 1, 8);
  if (extra) put(b, d, 29, 8), put(b, d + 8, runpath_at, 8), d += 16;
  put(b, d, 5, 8), put(b, d + 8, str_off, 8);
  put(b, d + 16, 10, 8), put(b, d + 24, strtab.size(), 8);
  return {b.begin(), b.end()};
}

std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
}  // namespace

TEST_CASE("deps budget: ld.so.cache entries past SLIMAGE_MAX_CACHE_ENTRIES are refused") {
  BudgetEnv env("SLIMAGE_MAX_CACHE_ENTRIES", "100");
  std::string error;
  auto ok = cache_bytes(100);
  REQUIRE(LdCache::parse(span_of(ok), &error));
  auto big = cache_bytes(101);
  CHECK_FALSE(LdCache::parse(span_of(big), &error));
  CHECK(error == "ld.so.cache: 101 ld.so.cache entries exceed the budget of 100 "
                 "(raise it with SLIMAGE_MAX_CACHE_ENTRIES=N)");
}

TEST_CASE("deps budget: ld.so.conf fan-out reads each file once, bounded by SLIMAGE_MAX_INCLUDES") {
  Fixture f;
  std::string top;
  for (int i = 0; i < 50; i++) top += "include conf.d/*.conf\n";
  f.write("etc/ld.so.conf", top);
  for (int i = 0; i < 20; i++)
    f.write("etc/conf.d/" + std::to_string(100 + i) + ".conf", "include *.conf\n/opt/" + std::to_string(i) + "\n");
  DirFs fs(f.root);
  std::vector<std::string> warnings;
  auto dirs = read_ld_so_conf(fs, "etc/ld.so.conf", &warnings);
  CHECK(dirs.size() == 20);
  BudgetEnv env("SLIMAGE_MAX_INCLUDES", "20");  // the top file and 19 includes
  CHECK_THROWS_WITH_AS(read_ld_so_conf(fs, "etc/ld.so.conf", &warnings),
                       "etc/conf.d/119.conf: 21 ld.so.conf includes exceed the budget of 20 "
                       "(raise it with SLIMAGE_MAX_INCLUDES=N)",
                       Error);
}

TEST_CASE("deps budget: DT_NEEDED entries past SLIMAGE_MAX_NEEDED fail the parse") {
  BudgetEnv env("SLIMAGE_MAX_NEEDED", "10");
  std::string error;
  auto ok = parse_elf(elf_with_needed(10), &error);
  REQUIRE_MESSAGE(ok, error);
  CHECK(ok->needed.size() == 10);
  CHECK_FALSE(parse_elf(elf_with_needed(11), &error));
  CHECK(error == "11 DT_NEEDED entries exceed the budget of 10 (raise it with SLIMAGE_MAX_NEEDED=N)");
}

TEST_CASE("deps budget: a sh -c script past SLIMAGE_MAX_SHELL_COMMANDS is refused, naming the config") {
  Fixture f;
  f.write("bin/sh", "#!/bin/sh\n", 0755);
  DirFs fs(f.root);
  ImageRuntime runtime;
  runtime.entrypoint = {"/bin/sh", "-c", "a;a;a;a;a;a"};
  Diagnostics diagnostics;
  auto none = [](const std::string&) { return false; };
  CHECK_NOTHROW(find_roots(fs, runtime, {}, nullptr, none, diagnostics));
  BudgetEnv env("SLIMAGE_MAX_SHELL_COMMANDS", "5");
  CHECK_THROWS_WITH_AS(find_roots(fs, runtime, {}, nullptr, none, diagnostics),
                       "image config: sh -c \"a;a;a;a;a;a\": 6 shell commands exceed the budget of 5 "
                       "(raise it with SLIMAGE_MAX_SHELL_COMMANDS=N)",
                       Error);
}

TEST_CASE("deps budget: RUNPATH entries past SLIMAGE_MAX_SEARCH_PATHS, probes past SLIMAGE_MAX_SEARCH_PROBES") {
  Fixture f;
  std::string runpath;
  for (int i = 0; i < 6; i++) {
    runpath += (i ? ":/r/" : "/r/") + std::to_string(i);
    f.write("r/" + std::to_string(i) + "/.keep", "");
  }
  auto elf = elf_with_needed(2, runpath);
  f.write("app/exe", std::string(elf.begin(), elf.end()), 0755);
  DirFs fs(f.root);
  ResolveOptions options;
  options.string_heuristic = false;
  auto resolve = [&] {
    Diagnostics diagnostics;
    resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, options, diagnostics);
  };
  CHECK_NOTHROW(resolve());
  {
    BudgetEnv env("SLIMAGE_MAX_SEARCH_PATHS", "5");
    CHECK_THROWS_WITH_AS(resolve(),
                         "image file app/exe: DT_NEEDED libn.so: 6 search-path entries exceed the budget of 5 "
                         "(raise it with SLIMAGE_MAX_SEARCH_PATHS=N)",
                         Error);
  }
  BudgetEnv env("SLIMAGE_MAX_SEARCH_PROBES", "5");  // 6 existing dirs for one name
  CHECK_THROWS_WITH_AS(resolve(),
                       "image library search: 6 library search probes exceed the budget of 5 "
                       "(raise it with SLIMAGE_MAX_SEARCH_PROBES=N)",
                       Error);
}

TEST_CASE("deps budget: a name found nowhere is probed only in dirs the image has, each remembered probe counted") {
  Fixture f;
  f.write("usr/lib/.keep", "");  // the one default dir there: no lib/, lib64/, multiarch or hwcaps dirs
  DirFs fs(f.root);
  ImageRuntime runtime;
  Diagnostics diagnostics;
  LibraryLookup lookup(fs, runtime, "usr/bin/python3", nullptr, diagnostics);
  BudgetEnv env("SLIMAGE_MAX_SEARCH_PROBES", "3");
  CHECK_FALSE(lookup.dlopen("liba.so"));  // usr/lib/liba.so: probe 1
  CHECK_FALSE(lookup.dlopen("libb.so"));  // 2
  CHECK_FALSE(lookup.dlopen("liba.so"));  // remembered: no new probe
  CHECK_FALSE(lookup.dlopen("libc.so"));  // 3
  CHECK_THROWS_WITH_AS(lookup.dlopen("libd.so"),
                       "image library search: 4 library search probes exceed the budget of 3 "
                       "(raise it with SLIMAGE_MAX_SEARCH_PROBES=N)",
                       Error);
}

TEST_CASE("deps budget: a glob reads only the names that start with its literal part, in the dir's own order") {
  Fixture f;
  auto elf = elf_with_needed(0);
  const std::string lib(elf.begin(), elf.end());
  for (const char* name : {"libfoo.so.2", "libfoo.so.1", "libfob.so", "libbar.so", "libfo"})
    f.write(std::string("usr/lib/") + name, lib);
  DirFs fs(f.root);
  ImageRuntime runtime;
  Diagnostics diagnostics;
  LibraryLookup lookup(fs, runtime, "usr/bin/python3", nullptr, diagnostics);
  std::vector<std::string> list_order;  // what the dir scan meets first comes first
  for (const Node* n : fs.list_dir("usr/lib")) list_order.push_back(basename_of(n->path));
  auto opened = [&](const std::string& glob) {
    std::vector<std::string> out;
    for (auto& h : lookup.matching(glob)) out.push_back(basename_of(h.opened));
    return out;
  };
  auto in_list_order = [&](std::vector<std::string> names) {
    std::vector<std::string> out;
    for (auto& n : list_order)
      if (std::find(names.begin(), names.end(), n) != names.end()) out.push_back(n);
    return out;
  };
  CHECK(opened("libfo[ob]*") == in_list_order({"libfoo.so.2", "libfoo.so.1", "libfob.so"}));
  CHECK(opened("libfoo.so.*") == in_list_order({"libfoo.so.2", "libfoo.so.1"}));
  CHECK(opened("*bar*") == in_list_order({"libbar.so"}));  // no literal part: every name
  CHECK(opened("libfo") == in_list_order({"libfo"}));      // all literal
  CHECK(opened("lib\\fob.so") == in_list_order({"libfob.so"}));  // an escape ends the literal part
  CHECK(opened("libz*").empty());
}

TEST_CASE("deps budget: ld.so.cache names found by a glob's literal part keep the cache's order") {
  Fixture f;
  auto elf = elf_with_needed(0);
  const std::string lib(elf.begin(), elf.end());
  // A new-format cache of three x86-64 libc6 entries, names out of order.
  const std::vector<std::string> names = {"libc2.so", "liba1.so", "libb3.so"};
  std::string cache = "glibc-ld.so.cache1.1", strings;
  cache.resize(48 + names.size() * 24, '\0');
  for (size_t i = 0; i < names.size(); i++) {
    f.write("usr/lib/" + names[i], lib);
    size_t e = 48 + i * 24;
    put(cache, e, 0x0303, 4);
    put(cache, e + 4, cache.size() + strings.size(), 4);
    strings += names[i] + std::string(1, '\0');
    put(cache, e + 8, cache.size() + strings.size(), 4);
    strings += "/usr/lib/" + names[i] + std::string(1, '\0');
  }
  put(cache, 20, names.size(), 4);
  put(cache, 24, strings.size(), 4);
  cache[28] = 2;  // little-endian
  f.write("etc/ld.so.cache", cache + strings);
  DirFs fs(f.root);
  ImageRuntime runtime;
  Diagnostics diagnostics;
  LibraryLookup lookup(fs, runtime, "usr/bin/python3", nullptr, diagnostics);
  std::vector<std::string> got;
  for (auto& h : lookup.matching("lib[abc]?.so")) got.push_back(h.detail);
  CHECK(got == std::vector<std::string>{"libc2.so in usr/lib (ld.so.cache)", "liba1.so in usr/lib (ld.so.cache)",
                                        "libb3.so in usr/lib (ld.so.cache)"});
  CHECK(lookup.in_ld_cache("libb"));
  CHECK_FALSE(lookup.in_ld_cache("libb3.so"));  // ctypes asks for longer names than its prefix
  CHECK_FALSE(lookup.in_ld_cache("libz"));
}
