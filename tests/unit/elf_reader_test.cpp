// parse_elf and library_name_strings against gcc-built stubs, host files and
// LIEF 0.9; synthetic 32-bit and big-endian files; every truncation of a
// small ELF.
#include <LIEF/ELF.hpp>
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>

#include "elf_test_support.h"
#include "slimage/elf/elf.h"
#include "slimage/util/file.h"
#include "test_skip.h"

using namespace slimage;
using namespace slimage::elf_test;
namespace fs = std::filesystem;

namespace {

std::optional<ElfInfo> parse_file(const std::string& path, std::string* error = nullptr) {
  MappedFile file(path);
  std::string ignored;
  return parse_elf(file.bytes(), error ? error : &ignored);
}

// Checks every fact parse_elf reports against LIEF's view of the same file.
void compare_with_lief(const std::string& path) {
  CAPTURE(path);
  std::string error;
  auto ours = parse_file(path, &error);
  REQUIRE_MESSAGE(ours, error);
  std::unique_ptr<LIEF::ELF::Binary> lief;
  try {
    lief = LIEF::ELF::Parser::parse(path);
  } catch (const std::exception& e) {
    MESSAGE("LIEF cannot parse " << path << ": " << e.what());
    return;
  }
  REQUIRE(lief);
  CHECK(ours->interp == (lief->has_interpreter() ? lief->interpreter() : std::string()));
  std::vector<std::string> needed;
  std::string soname;
  std::optional<std::string> rpath, runpath;
  for (const LIEF::ELF::DynamicEntry& entry : lief->dynamic_entries()) {
    using LIEF::ELF::DYNAMIC_TAGS;
    if (entry.tag() == DYNAMIC_TAGS::DT_NEEDED)
      needed.push_back(dynamic_cast<const LIEF::ELF::DynamicEntryLibrary&>(entry).name());
    if (entry.tag() == DYNAMIC_TAGS::DT_SONAME)
      soname = dynamic_cast<const LIEF::ELF::DynamicSharedObject&>(entry).name();
    if (entry.tag() == DYNAMIC_TAGS::DT_RPATH)
      rpath = dynamic_cast<const LIEF::ELF::DynamicEntryRpath&>(entry).rpath();
    if (entry.tag() == DYNAMIC_TAGS::DT_RUNPATH)
      runpath = dynamic_cast<const LIEF::ELF::DynamicEntryRunPath&>(entry).runpath();
    if (entry.tag() == DYNAMIC_TAGS::DT_FLAGS_1) CHECK(ours->flags_1 == entry.value());
  }
  CHECK(ours->needed == needed);
  CHECK(ours->soname == soname);
  CHECK(ours->rpath == rpath);
  CHECK(ours->runpath == runpath);
  CHECK(ours->machine == static_cast<uint16_t>(lief->header().machine_type()));
  std::vector<std::string> lief_sections, our_sections;
  for (const LIEF::ELF::Section& s : lief->sections()) lief_sections.push_back(s.name());
  for (const ElfSection& s : ours->sections) our_sections.push_back(s.name);
  CHECK(our_sections == lief_sections);
}

struct Fixtures {
  std::unique_ptr<TempDir> dir;
  std::string lib_runpath, lib_rpath, exe;
  Fixtures() {
    dir = std::make_unique<TempDir>(fs::temp_directory_path().string(), "elf-reader-");
    const std::string d = dir->path();
    lib_runpath = compile(d, "libone.so.1",
                          "const char* which(void){return \"libcudnn_ops.so.9\";}\n"
                          "const char* path(void){return \"/opt/x/libnvrtc-builtins.so.13.0\";}\n",
                          "-shared -fPIC -Wl,-soname,libone.so.1 -Wl,-z,nodefaultlib "
                          "-Wl,-rpath,'$ORIGIN/../lib:/opt/a' -Wl,--no-as-needed -lc");
    lib_rpath = compile(d, "libtwo.so", "int two(void){return 2;}\n",
                        "-shared -fPIC -Wl,-soname,libtwo.so -Wl,--disable-new-dtags "
                        "-Wl,-rpath,/opt/rp -Wl,--no-as-needed -lm");
    exe = compile(d, "exe",
                  "#include <stdio.h>\nconst char* which(void);\n"
                  "int main(){puts(which());return 0;}\n",
                  "-Wl,-z,nodefaultlib " + lib_runpath + " -Wl,-rpath," + d);
  }
};

}  // namespace

TEST_CASE("elf: facts of gcc-built stubs") {
  Fixtures f;
  REQUIRE(!f.lib_runpath.empty());
  REQUIRE(!f.lib_rpath.empty());
  REQUIRE(!f.exe.empty());

  auto one = parse_file(f.lib_runpath);
  REQUIRE(one);
  CHECK(one->elf_class == 2);
  CHECK(one->data == 1);
  CHECK(one->type == 3);
  CHECK(machine_name(one->machine) == "x86-64");
  CHECK(one->soname == "libone.so.1");
  CHECK(one->runpath == std::optional<std::string>("$ORIGIN/../lib:/opt/a"));
  CHECK(!one->rpath);
  CHECK(one->interp.empty());
  CHECK(std::find(one->needed.begin(), one->needed.end(), "libc.so.6") != one->needed.end());

  auto two = parse_file(f.lib_rpath);
  REQUIRE(two);
  CHECK(two->rpath == std::optional<std::string>("/opt/rp"));
  CHECK(!two->runpath);
  CHECK(std::find(two->needed.begin(), two->needed.end(), "libm.so.6") != two->needed.end());

  auto exe = parse_file(f.exe);
  REQUIRE(exe);
  CHECK(exe->nodeflib());  // ld spells it -z nodefaultlib
  CHECK(!exe->interp.empty());
  CHECK(exe->needed.front() == "libone.so.1");
  CHECK(one->nodeflib());

  for (const auto& path : {f.lib_runpath, f.lib_rpath, f.exe}) compare_with_lief(path);
}

TEST_CASE("elf: library name strings come from read-only data, not .dynstr") {
  Fixtures f;
  REQUIRE(!f.lib_runpath.empty());
  MappedFile file(f.lib_runpath);
  std::string error;
  auto info = parse_elf(file.bytes(), &error);
  REQUIRE(info);
  auto names = library_name_strings(file.bytes(), *info);
  CHECK(names == std::vector<std::string>{"libcudnn_ops.so.9", "libnvrtc-builtins.so.13.0"});
  // libc.so.6 is in .dynstr only.
  CHECK(std::find(names.begin(), names.end(), "libc.so.6") == names.end());
}

TEST_CASE("elf: library name matching rules") {
  ElfInfo no_sections;
  auto scan = [&](const std::string& s) {
    std::vector<uint8_t> bytes(s.begin(), s.end());
    return library_name_strings(bytes, no_sections);
  };
  using V = std::vector<std::string>;
  CHECK(scan(std::string("libfoo.so\0", 10)) == V{"libfoo.so"});
  CHECK(scan(std::string("cannot open libfoo.so.1.2: %s\n\0", 31)) == V{"libfoo.so.1.2"});
  CHECK(scan(std::string("libnvrtc-builtins.so.%d.%d\0", 27)) == V{"libnvrtc-builtins.so"});
  CHECK(scan(std::string("/usr/lib/libz.so.1\0libz.so.1\0", 29)) == V{"libz.so.1"});
  CHECK(scan(std::string("libfoo.so", 9)).empty());                 // no terminator
  CHECK(scan(std::string("libfoo.so\x01\0", 11)).empty());          // not text
  CHECK(scan(std::string("libfoo.socket\0", 14)).empty());          // another word
  CHECK(scan(std::string("mylib.so\0", 9)).empty());                 // "lib" inside a word
  CHECK(scan(std::string("\x01\x02libx.so\0", 10)) == V{"libx.so"});  // binary before is fine
  CHECK(scan(std::string(".so.so.so\0", 10)).empty());
}

TEST_CASE("elf: synthetic files of every class and byte order") {
  for (bool is64 : {false, true})
    for (bool big : {false, true})
      for (bool extended : {false, true}) {
        CAPTURE(is64);
        CAPTURE(big);
        CAPTURE(extended);
        SyntheticElf s;
        s.is64 = is64, s.big_endian = big, s.extended_numbering = extended;
        s.machine = big ? 22 : 3;
        s.needed = {"libc.so.6", "libm.so.6"};
        auto bytes = s.build();
        std::string error;
        auto info = parse_elf(bytes, &error);
        REQUIRE_MESSAGE(info, error);
        CHECK(info->elf_class == (is64 ? 2 : 1));
        CHECK(info->data == (big ? 2 : 1));
        CHECK(info->machine == s.machine);
        CHECK(info->interp == s.interp);
        CHECK(info->needed == s.needed);
        CHECK(info->soname == s.soname);
        CHECK(info->runpath == std::optional<std::string>(s.runpath));
        CHECK(info->nodeflib());
        REQUIRE(info->sections.size() == 7);
        CHECK(info->sections[3].name == ".rodata");
        CHECK(info->sections[6].name == ".shstrtab");
        CHECK(library_name_strings(bytes, *info) == std::vector<std::string>{"libcudnn_ops.so.9"});
      }
}

TEST_CASE("elf: readelf agrees on a synthetic big-endian file" *
          doctest::skip(!slimage::test::have_tool("readelf"))) {
  SyntheticElf s;
  s.big_endian = true;
  s.machine = 21;
  TempDir dir(fs::temp_directory_path().string(), "elf-synth-");
  auto bytes = s.build();
  write_file_atomic(dir.path() + "/x.so", std::string(bytes.begin(), bytes.end()));
  std::string out = run_output("readelf -dW " + dir.path() + "/x.so");
  CHECK(out.find("Library soname: [libsynthetic.so.1]") != std::string::npos);
  CHECK(out.find("Shared library: [libc.so.6]") != std::string::npos);
  CHECK(out.find("Library runpath: [$ORIGIN/../lib]") != std::string::npos);
}

TEST_CASE("elf: every prefix of a small ELF is rejected or parsed consistently") {
  Fixtures f;
  REQUIRE(!f.lib_rpath.empty());
  std::string whole = read_file(f.lib_rpath);
  std::string error;
  auto full = parse_elf(to_bytes(whole), &error);
  REQUIRE(full);
  size_t parsed = 0;
  for (size_t n = 0; n < whole.size(); ++n) {
    std::vector<uint8_t> prefix(whole.begin(), whole.begin() + n);  // exact size: ASan sees overreads
    auto info = parse_elf(prefix, &error);
    if (!info) {
      CHECK(!error.empty());
      continue;
    }
    ++parsed;
    CHECK(info->needed == full->needed);
    library_name_strings(prefix, *info);
  }
  // The section table sits at the end, so no strict prefix is a whole file.
  CHECK(parsed == 0);
}

TEST_CASE("elf: garbage is rejected with a reason") {
  std::string error;
  CHECK(!parse_elf({}, &error));
  CHECK(error == "not an ELF file");
  std::vector<uint8_t> bytes = to_bytes(std::string("\x7f" "ELF\x03\x01\x01", 7) + std::string(64, '\0'));
  CHECK(!parse_elf(bytes, &error));
  CHECK(error == "bad EI_CLASS");
  SyntheticElf s;
  auto good = s.build();
  auto bad = good;
  bad[40] = 0xff, bad[41] = 0xff, bad[42] = 0xff;  // e_shoff far past the end
  CHECK(!parse_elf(bad, &error));
  CHECK(error == "e_shoff past end of file");
  // Flip every byte of the headers in turn: never a crash.
  for (size_t i = 0; i < 64 + 3 * 56; ++i) {
    auto flipped = good;
    flipped[i] ^= 0xa5;
    auto info = parse_elf(flipped, &error);
    if (info) library_name_strings(flipped, *info);
  }
}

TEST_CASE("elf: host libraries and executables match LIEF") {
  std::vector<std::string> paths;
  auto take = [&](const std::string& dir, size_t want, uint64_t max_size) {
    if (!is_directory(dir)) return;
    std::vector<std::string> found;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (!e.is_regular_file() || e.is_symlink() || e.file_size() > max_size) continue;
      std::string name = e.path().filename().string();
      if (dir.find("/bin") == std::string::npos && name.find(".so") == std::string::npos) continue;
      MappedFile f(e.path().string());
      if (is_elf(f.bytes())) found.push_back(e.path().string());
    }
    std::sort(found.begin(), found.end());
    for (size_t i = 0; i < found.size() && i < want * 7; i += 7) paths.push_back(found[i]);
  };
  take("/usr/lib/x86_64-linux-gnu", 12, 8 << 20);
  take("/usr/bin", 8, 8 << 20);
  take("/usr/local/cuda/lib64", 4, 16 << 20);
  CHECK(paths.size() >= 10);
  for (const auto& p : paths) compare_with_lief(p);
}
