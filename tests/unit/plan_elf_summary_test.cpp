// summarize_elf (plan/plan.h): each fact what the pass that reads it would
// compute from the same bytes, and null where a pass will need the bytes.
#include <doctest/doctest.h>

#include "elf_test_support.h"
#include "test_skip.h"
#include "slimage/elf/elf.h"
#include "slimage/elf/fatbin.h"
#include "slimage/plan/plan.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/file.h"

using namespace slimage;
using namespace slimage::elf_test;

namespace {

const char* kLibrary =
    "static const volatile char pad[300000] = {1};\n"
    "const char *target = \"libcublasLt.so.12\";\n"
    "int f(void) { return pad[3] + target[0]; }\n";

}  // namespace

TEST_CASE("summarize_elf: the facts the plan reads, or null where strip or GPU pruning reads the bytes") {
  TempDir dir{"/tmp", "slimage-summary-"};
  std::string stripped = compile(dir.path(), "libs.so", kLibrary, "-O1 -shared -fPIC -Wl,-soname,libs.so.1 -s");
  std::string symbols = compile(dir.path(), "libg.so", kLibrary, "-O1 -g -shared -fPIC");
  REQUIRE(!stripped.empty());  // gcc: see libs.so.log
  REQUIRE(!symbols.empty());
  MappedFile map(stripped);
  auto bytes = map.bytes();

  auto s = summarize_elf(bytes, {}, StripMode::Debug, false);
  REQUIRE(s);
  std::string error;
  auto info = parse_elf(bytes, &error);
  REQUIRE(info);
  CHECK(s->kind == 's');  // build_plan's elf_kind_of: a shared library
  REQUIRE(s->info);
  CHECK(s->info->soname == "libs.so.1");
  CHECK(s->info->needed == info->needed);
  CHECK(s->info->sections.size() == info->sections.size());
  CHECK(s->strings == library_name_strings(bytes, *info));
  CHECK(std::find(s->strings.begin(), s->strings.end(), "libcublasLt.so.12") != s->strings.end());

  std::string program = compile(dir.path(), "prog", "int main(void) { return 0; }\n", "-O1 -s");
  REQUIRE(!program.empty());
  MappedFile p(program);
  REQUIRE(summarize_elf(p.bytes(), {}, StripMode::Unneeded, false));
  CHECK(summarize_elf(p.bytes(), {}, StripMode::Unneeded, false)->kind == 'p');

  // Strip would rewrite a file with symbols: its bytes are needed at the write.
  MappedFile g(symbols);
  CHECK(summarize_elf(g.bytes(), {}, StripMode::Unneeded, false) == nullptr);
  CHECK(summarize_elf(g.bytes(), {}, StripMode::Debug, false) == nullptr);
  CHECK(summarize_elf(g.bytes(), {}, StripMode::None, false) != nullptr);
  // GPU-code pruning reads every ELF file's fat binaries; anything not ELF is not summarized.
  CHECK(summarize_elf(bytes, {}, StripMode::None, true) == nullptr);
  const std::string text = "#!/bin/sh\n";
  CHECK(summarize_elf({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, {}, StripMode::None, false) == nullptr);
  // A malformed ELF file: summarized with parse_elf's error, which the passes warn with.
  std::string broken(bytes.begin(), bytes.begin() + 64);
  auto b = summarize_elf({reinterpret_cast<const uint8_t*>(broken.data()), broken.size()}, {}, StripMode::Unneeded, false);
  REQUIRE(b);
  std::string want;
  CHECK_FALSE(parse_elf({reinterpret_cast<const uint8_t*>(broken.data()), broken.size()}, &want));
  CHECK_FALSE(b->info);
  CHECK(b->parse_error == want);
  CHECK(b->strings.empty());
}

// Low-disk mode's pass 1 copies a big ELF file without its fat binaries
// (rootfs/sparse_spill.h ElfCopy): CUDA 13's own libraries, whose containers
// lie in .nv_fatbin and also in .rodata (cuSPARSE), .ldata (cuFFT) and
// .cask_resource (cuDNN), summarize from that copy exactly as from the file.
TEST_CASE("summarize_elf: a copy without its fat binaries gives the file's summary (CUDA libraries)" *
          doctest::skip(!slimage::test::have_path("/usr/local/cuda/lib64/libcusparse.so.12"))) {
  for (const char* name : {"libcusparse.so.12", "libcufft.so.12", "libcudnn_engines_precompiled.so.9"}) {
    CAPTURE(name);
    const std::string path = std::string("/usr/local/cuda/lib64/") + name;
    if (!slimage::test::have_path(path)) continue;
    MappedFile file(path);
    auto bytes = file.bytes();
    TempDir dir(scratch_parent(), "slimage-elf-copy-test-");
    ElfCopy copy(dir.path(), bytes.size());
    for (size_t i = 0; i < bytes.size(); i += 1 << 20)
      copy.write(reinterpret_cast<const char*>(bytes.data()) + i, std::min<size_t>(1 << 20, bytes.size() - i));
    copy.finish();
    uint64_t left_out = 0;
    for (auto& [b, e] : copy.zeroed()) left_out += e - b;
    MESSAGE(std::string(name) << ": " << left_out << " of " << bytes.size() << " bytes left out of the copy");
    CHECK(left_out > bytes.size() / 20);
    MappedFile copied(copy.file().path());
    auto want = summarize_elf(bytes, {}, StripMode::None, false);
    auto got = summarize_elf(copied.bytes(), copy.zeroed(), StripMode::None, false);
    REQUIRE(want);
    REQUIRE(got);
    REQUIRE(got->info);
    CHECK(got->kind == want->kind);
    CHECK(got->info->needed == want->info->needed);
    CHECK(got->info->soname == want->info->soname);
    CHECK(got->info->sections.size() == want->info->sections.size());
    CHECK(got->strings == want->strings);
    CHECK(!want->strings.empty());
  }
}

TEST_CASE("zeroed_unread: zeros only inside alloc data sections, never in what parse_elf reads") {
  TempDir dir{"/tmp", "slimage-summary-"};
  std::string lib = compile(dir.path(), "libz.so", kLibrary, "-O1 -shared -fPIC -Wl,-soname,libz.so.1 -s");
  REQUIRE(!lib.empty());
  MappedFile map(lib);
  auto bytes = map.bytes();
  std::string error;
  auto info = parse_elf(bytes, &error);
  REQUIRE(info);
  auto section = [&](const std::string& name) {
    for (auto& s : info->sections)
      if (s.name == name) return s;
    FAIL("no section " << name);
    return ElfSection{};
  };
  const ElfSection ro = section(".rodata"), dynstr = section(".dynstr"), text = section(".text");
  auto unread = [&](std::vector<FileRange> zeroed) { return zeroed_unread(bytes, *info, zeroed); };
  CHECK(unread({}));
  CHECK(unread({{ro.offset, ro.offset + ro.size}}));                         // all of .rodata
  CHECK(unread({{ro.offset + 8, ro.offset + 16}, {text.offset, text.offset + 4}}));  // .text: alloc PROGBITS
  CHECK_FALSE(unread({{dynstr.offset, dynstr.offset + 1}}));                 // a STRTAB parse_elf reads
  CHECK_FALSE(unread({{ro.offset + ro.size - 1, ro.offset + ro.size + 1}}));  // past .rodata's end
  CHECK_FALSE(unread({{0, 4}}));                                              // the ELF header
  const uint64_t shoff = bytes.size() - info->sections.size() * 64;           // the table ends the file (-s)
  CHECK_FALSE(unread({{shoff + 8, shoff + 9}}));
  ElfInfo bare = *info;
  bare.sections.clear();  // no section table: library_name_strings reads the whole file
  CHECK_FALSE(zeroed_unread(bytes, bare, std::vector<FileRange>{{ro.offset, ro.offset + 1}}));
  // summarize_elf declines where the zeros might matter.
  CHECK(summarize_elf(bytes, std::vector<FileRange>{{ro.offset, ro.offset + 1}}, StripMode::None, false));
  CHECK_FALSE(summarize_elf(bytes, std::vector<FileRange>{{dynstr.offset, dynstr.offset + 1}}, StripMode::None, false));
}
