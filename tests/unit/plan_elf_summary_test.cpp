// summarize_elf (plan/plan.h): each fact what the pass that reads it would
// compute from the same bytes, and null where a pass will need the bytes.
#include <doctest/doctest.h>

#include "elf_test_support.h"
#include "slimage/elf/elf.h"
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

  auto s = summarize_elf(bytes, StripMode::Debug, false);
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
  REQUIRE(summarize_elf(p.bytes(), StripMode::Unneeded, false));
  CHECK(summarize_elf(p.bytes(), StripMode::Unneeded, false)->kind == 'p');

  // Strip would rewrite a file with symbols: its bytes are needed at the write.
  MappedFile g(symbols);
  CHECK(summarize_elf(g.bytes(), StripMode::Unneeded, false) == nullptr);
  CHECK(summarize_elf(g.bytes(), StripMode::Debug, false) == nullptr);
  CHECK(summarize_elf(g.bytes(), StripMode::None, false) != nullptr);
  // GPU-code pruning reads every ELF file's fat binaries; anything not ELF is not summarized.
  CHECK(summarize_elf(bytes, StripMode::None, true) == nullptr);
  const std::string text = "#!/bin/sh\n";
  CHECK(summarize_elf({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, StripMode::None, false) == nullptr);
  // A malformed ELF file: summarized with parse_elf's error, which the passes warn with.
  std::string broken(bytes.begin(), bytes.begin() + 64);
  auto b = summarize_elf({reinterpret_cast<const uint8_t*>(broken.data()), broken.size()}, StripMode::Unneeded, false);
  REQUIRE(b);
  std::string want;
  CHECK_FALSE(parse_elf({reinterpret_cast<const uint8_t*>(broken.data()), broken.size()}, &want));
  CHECK_FALSE(b->info);
  CHECK(b->parse_error == want);
  CHECK(b->strings.empty());
}
