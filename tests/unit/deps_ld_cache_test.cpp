// ld.so.cache and ld.so.conf: the host's real cache against `ldconfig -p`, a
// cache built with `ldconfig -r` for a fixture root, hostile bytes, and the
// resolver preferring the cache over the conf dirs.
#include <sstream>

#include "deps_fixture.h"
#include "slimage/deps/ld_cache.h"
#include "test_skip.h"

using namespace slimage;
using namespace slimage::test;

TEST_CASE("deps: ld.so.cache parse matches ldconfig -p on the host" *
          doctest::skip(!have_path("/etc/ld.so.cache") || !have_tool("ldconfig"))) {
  MappedFile file("/etc/ld.so.cache");
  std::string error;
  auto cache = LdCache::parse(file.bytes(), &error);
  REQUIRE_MESSAGE(cache, error);
  std::set<std::string> ours;
  for (auto& e : cache->entries())
    ours.insert(e.name + " (" + ld_cache_flags_name(e.flags) + ") => " + e.path);
  std::istringstream in(sh("ldconfig -p"));
  std::string line;
  std::getline(in, line);  // "N libs found in cache"
  size_t count = std::stoul(line);
  CHECK(cache->entries().size() == count);
  size_t checked = 0;
  while (std::getline(in, line)) {
    if (line.find(" => ") == std::string::npos || line.find("hwcap") != std::string::npos ||
        line.find("OS ABI") != std::string::npos)
      continue;
    line = line.substr(line.find_first_not_of(" \t"));
    CHECK_MESSAGE(ours.count(line), line);
    checked++;
  }
  CHECK(checked > 0);
  auto hits = cache->lookup("libc.so.6", 62, 2);
  REQUIRE(!hits.empty());
  CHECK(hits[0]->path.find("libc.so.6") != std::string::npos);
  CHECK(cache->lookup("libc.so.6", 183, 2).empty());  // AArch64 wants FLAG_AARCH64_LIB64
}

TEST_CASE("deps: ld.so.cache rejects truncated and hostile bytes") {
  std::string error;
  CHECK_FALSE(LdCache::parse({}, &error));
  std::string bytes = "glibc-ld.so.cache1.1";
  bytes.resize(48, '\0');
  bytes[20] = '\xff', bytes[21] = '\xff', bytes[22] = '\xff', bytes[23] = '\x7f';  // nlibs huge
  auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  CHECK_FALSE(LdCache::parse(span, &error));
  CHECK(error.find("past end") != std::string::npos);
  // One entry whose strings point past the end.
  bytes[20] = 1, bytes[21] = bytes[22] = bytes[23] = 0;
  bytes += std::string(8, '\0') + std::string("\xff\xff\0\0\x10\0\0\0", 8) + std::string(8, '\0');
  span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  CHECK_FALSE(LdCache::parse(span, &error));
  if (path_exists("/etc/ld.so.cache")) {  // every truncation of a real cache
    std::string real = read_file("/etc/ld.so.cache");
    for (size_t n = 0; n < real.size(); n += 1 + real.size() / 97)
      LdCache::parse({reinterpret_cast<const uint8_t*>(real.data()), n}, &error);
  }
}

TEST_CASE("deps: ld.so.conf include is relative to the including file, sorted, loop-safe") {
  Fixture f;
  f.write("etc/ld.so.conf", "# comment\ninclude conf.d/*.conf\n/opt/top # trailing\n");
  f.write("etc/conf.d/b.conf", "/opt/b1:/opt/b2,/opt/b3\n");
  f.write("etc/conf.d/a.conf", "/opt/a\nrelative/dir\ninclude ../ld.so.conf\n");
  DirFs fs(f.root);
  std::vector<std::string> warnings;
  auto dirs = read_ld_so_conf(fs, "etc/ld.so.conf", &warnings);
  CHECK(dirs == std::vector<std::string>{"/opt/a", "/opt/b1", "/opt/b2", "/opt/b3", "/opt/top"});
  CHECK(warnings.size() == 2);  // the relative dir and the loop
}

TEST_CASE("deps: ldconfig-built cache is used, conf dirs missing from it warn" *
          doctest::skip(!have_tool("ldconfig"))) {
  Fixture f;
  f.glibc();
  f.lib("opt/conf_a/libconf.so.1", "libconf.so.1", "conf");
  f.write("etc/ld.so.conf", "include ld.so.conf.d/*.conf\n");
  f.write("etc/ld.so.conf.d/x.conf", "/opt/conf_a\n");
  int rc = 0;
  std::string log = sh("ldconfig -r '" + f.root + "'", &rc);
  INFO(log);
  REQUIRE(rc == 0);
  // Added after ldconfig ran: in a conf dir but not in the cache.
  f.lib("opt/conf_a/liblate.so.1", "liblate.so.1", "late");
  f.cc("app/exe", "int main(void) { return 0; }\n", "@opt/conf_a/libconf.so.1 @opt/conf_a/liblate.so.1");
  DirFs fs(f.root);
  {
    auto cache = LdCache::parse(fs.content(*fs.lookup("etc/ld.so.cache")), nullptr);
    REQUIRE(cache);
    CHECK(!cache->lookup("libconf.so.1", 62, 2).empty());
  }
  Diagnostics diagnostics;
  ResolveOptions options;
  options.string_heuristic = false;
  Graph g = resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, options, diagnostics);
  INFO(dump(g));
  REQUIRE(edge_to(g, "opt/conf_a/libconf.so.1", How::LdCache));
  CHECK(edge_to(g, "opt/conf_a/libconf.so.1", How::LdCache)->detail ==
        "libconf.so.1 in opt/conf_a (ld.so.cache)");
  REQUIRE(g.missing.size() == 1);
  CHECK(g.missing[0].needed == "liblate.so.1");
  bool warned = false;
  for (auto& w : g.warnings) warned = warned || w.find("liblate.so.1: in opt/conf_a") == 0;
  CHECK(warned);
  std::set<std::string> not_found;
  if (auto expected = f.oracle("app/exe", fs, "", "/lib64/ld-linux-x86-64.so.2", &not_found)) {
    CHECK(needed_elves(fs, g, {"app/exe"}) == *expected);
    CHECK(not_found == std::set<std::string>{"liblate.so.1"});
  }
}

// glibc's arm dl-cache.h: an armhf loader takes FLAG_ARM_LIBHF|FLAG_ELF_LIBC6 only, an
// armel one FLAG_ARM_LIBSF|FLAG_ELF_LIBC6 or plain FLAG_ELF_LIBC6. An image with both
// (multiarch armel + armhf) lists libfoo.so.1 twice; the other ABI's copy never loads.
TEST_CASE("deps: ld.so.cache on ARM takes only the entries of the requester's float ABI") {
  const uint32_t hard = 0x05000400, soft = 0x05000200;  // EABI5 + EF_ARM_ABI_FLOAT_*
  CHECK(ld_cache_flags_match(0x0903, 40, 1, hard));
  CHECK_FALSE(ld_cache_flags_match(0x0b03, 40, 1, hard));
  CHECK_FALSE(ld_cache_flags_match(0x0003, 40, 1, hard));
  CHECK(ld_cache_flags_match(0x0b03, 40, 1, soft));
  CHECK(ld_cache_flags_match(0x0003, 40, 1, soft));
  CHECK_FALSE(ld_cache_flags_match(0x0903, 40, 1, soft));
  CHECK(ld_cache_flags_match(0x0a03, 183, 2, 0));  // AArch64: e_flags play no part
  CHECK_FALSE(ld_cache_flags_match(0x0903, 183, 2, hard));
}

TEST_CASE("deps: the ELF reader keeps e_flags (armhf's EF_ARM_ABI_FLOAT_HARD)" *
          doctest::skip(!have_tool("arm-linux-gnueabihf-gcc"))) {
  Fixture f;
  f.cc("libhf.so.1", "int hf(void) { return 1; }\n", "-shared -fPIC", "arm-linux-gnueabihf-gcc");
  std::string bytes = read_file(f.at("libhf.so.1"));
  auto info = parse_elf({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, nullptr);
  REQUIRE(info);
  CHECK(info->machine == 40);
  CHECK(info->flags == 0x05000400);
  f.cc("app64", "int main(void) { return 0; }\n", "");
  bytes = read_file(f.at("app64"));
  info = parse_elf({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, nullptr);
  REQUIRE(info);
  CHECK(info->flags == 0);  // x86-64 defines no e_flags
}
