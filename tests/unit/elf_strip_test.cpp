// The strip writer on gcc-built executables and libraries (run after
// stripping, program headers and dynamic section compared with readelf, size
// compared with GNU strip), on synthetic 32-bit/big-endian files, and its
// refusals.
#include <LIEF/ELF.hpp>
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>

#include "elf_test_support.h"
#include "slimage/elf/strip.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "test_skip.h"

using namespace slimage;
using namespace slimage::elf_test;
namespace fs = std::filesystem;

namespace {

const char* kProgram =
    "#include <stdio.h>\n"
    "static int square(int x) { return x * x; }\n"
    "int main(void) { printf(\"square=%d\\n\", square(7)); return 0; }\n";

// Strips `in` into `out`; returns the plan, or nullopt with *why.
std::optional<StripResult> strip_file(const std::string& in, const std::string& out,
                                      StripMode mode, std::string* why = nullptr) {
  MappedFile file(in);
  std::string error, ignored;
  auto info = parse_elf(file.bytes(), &error);
  REQUIRE_MESSAGE(info, error);
  auto result = plan_strip(file.bytes(), *info, mode, why ? why : &ignored);
  if (!result) return result;
  StringWriter w;
  write_stripped(file.bytes(), *result, w);
  CHECK(w.str().size() == result->output_size);
  write_file_atomic(out, w.str());
  ::chmod(out.c_str(), 0755);
  return result;
}

uint64_t file_size(const std::string& path) { return fs::file_size(path); }

// Program headers, dynamic section and the bytes of every alloc section are
// the same before and after.
void check_loader_view_unchanged(const std::string& before, const std::string& after) {
  CHECK(run_output("readelf -lW " + before) == run_output("readelf -lW " + after));
  CHECK(run_output("readelf -dW " + before) == run_output("readelf -dW " + after));
  CHECK(run_output("readelf -SW " + after + " 2>&1 >/dev/null").empty());  // no warnings
  MappedFile a(before), b(after);
  std::string error;
  auto info = parse_elf(a.bytes(), &error);
  auto stripped = parse_elf(b.bytes(), &error);
  REQUIRE_MESSAGE(stripped, error);
  CHECK(stripped->needed == info->needed);
  for (const ElfSection& s : info->sections) {
    if (!(s.flags & 2) || s.type == 8) continue;
    CAPTURE(s.name);
    REQUIRE(s.offset + s.size <= b.bytes().size());
    CHECK(std::equal(a.bytes().begin() + s.offset, a.bytes().begin() + s.offset + s.size,
                     b.bytes().begin() + s.offset));
  }
  auto lief = LIEF::ELF::Parser::parse(after);
  CHECK(lief);
}

struct Dir {
  TempDir dir{fs::temp_directory_path().string(), "elf-strip-"};
  std::string path(const std::string& name) const { return dir.path() + "/" + name; }
};

}  // namespace

TEST_CASE("elf: stripped executable still runs and matches GNU strip's size") {
  Dir d;
  std::string exe = compile(d.dir.path(), "prog", kProgram, "-g -O1");
  REQUIRE(!exe.empty());
  for (StripMode mode : {StripMode::Debug, StripMode::Unneeded}) {
    CAPTURE(strip_mode_name(mode));
    std::string ours = d.path(std::string("ours-") + strip_mode_name(mode));
    std::string theirs = d.path(std::string("gnu-") + strip_mode_name(mode));
    auto result = strip_file(exe, ours, mode);
    REQUIRE(result);
    CHECK(std::find(result->removed_sections.begin(), result->removed_sections.end(),
                    ".debug_info") != result->removed_sections.end());
    CHECK(run_output(ours) == "square=49\n");
    check_loader_view_unchanged(exe, ours);
    std::string flag = mode == StripMode::Debug ? "--strip-debug" : "--strip-unneeded";
    REQUIRE(run_ok("strip " + flag + " -o " + theirs + " " + exe));
    CHECK(file_size(ours) < file_size(exe));
    CHECK(file_size(ours) <= file_size(theirs) * 105 / 100);
    std::string sections = run_output("readelf -SW " + ours);
    CHECK(sections.find(".debug_") == std::string::npos);
    CHECK(sections.find(".comment") != std::string::npos);  // GNU strip keeps it too
    CHECK((sections.find(".symtab") != std::string::npos) == (mode == StripMode::Debug));
    if (mode == StripMode::Debug) {
      // Symbols survive with the right section indices; GNU strip -g also drops STT_FILE.
      std::string symbols = " | grep -v ' FILE ' | awk 'NF >= 8 {print $2, $3, $4, $5, $6, $7, $8}'";
      CHECK(run_output("readelf -sW " + ours + symbols) == run_output("readelf -sW " + theirs + symbols));
    }
  }
}

TEST_CASE("elf: stripped shared library links, loads and runs") {
  Dir d;
  std::string lib = compile(d.dir.path(), "libsq.so", "int square(int x) { return x * x; }\n",
                            "-g -shared -fPIC -Wl,-soname,libsq.so");
  REQUIRE(!lib.empty());
  fs::create_directories(d.path("stripped"));
  std::string stripped = d.path("stripped/libsq.so");
  REQUIRE(strip_file(lib, stripped, StripMode::Unneeded));
  check_loader_view_unchanged(lib, stripped);
  std::string exe = compile(d.dir.path(), "use",
                            "#include <stdio.h>\nint square(int);\n"
                            "int main(void){printf(\"%d\\n\", square(9));return 0;}\n",
                            "-L" + d.path("stripped") + " -lsq -Wl,-rpath," + d.path("stripped"));
  REQUIRE(!exe.empty());
  CHECK(run_output(exe) == "81\n");
  std::string loader = compile_dlopen_call(d.dir.path(), "dl", "square");
  REQUIRE(!loader.empty());
  CHECK(run_output(loader + " " + stripped + " 5") == "25\n");
}

TEST_CASE("elf: static executable: .rela.plt loses its link to the removed .symtab" *
          doctest::skip(!slimage::test::have_static_libc())) {
  Dir d;
  std::string exe = compile(d.dir.path(), "static", kProgram, "-g -static");
  REQUIRE(!exe.empty());
  std::string ours = d.path("ours");
  REQUIRE(strip_file(exe, ours, StripMode::Unneeded));
  CHECK(run_output(ours) == "square=49\n");
  check_loader_view_unchanged(exe, ours);
  std::string gnu = d.path("gnu");
  REQUIRE(run_ok("strip --strip-unneeded -o " + gnu + " " + exe));
  CHECK(file_size(ours) <= file_size(gnu) * 105 / 100);
}

TEST_CASE("elf: strip refuses what it must not touch") {
  Dir d;
  std::string why;
  std::string obj = d.path("obj.o");
  write_file_atomic(d.path("obj.c"), kProgram);
  REQUIRE(run_ok("gcc -g -c -o " + obj + " " + d.path("obj.c")));
  CHECK(!strip_file(obj, d.path("x"), StripMode::Unneeded, &why));
  CHECK(why == "relocatable object (ET_REL) is never stripped");

  std::string exe = compile(d.dir.path(), "plain", kProgram, "");
  REQUIRE(!exe.empty());
  CHECK(!strip_file(exe, d.path("y"), StripMode::Debug, &why));
  CHECK(why == "nothing to strip");
  CHECK(!strip_file(exe, d.path("y"), StripMode::None, &why));

  std::string payload = d.path("payload");
  std::string debug_exe = compile(d.dir.path(), "dbg", kProgram, "-g");
  write_file_atomic(payload, read_file(debug_exe) + "APPENDED-ARCHIVE");
  CHECK(!strip_file(payload, d.path("z"), StripMode::Debug, &why));
  CHECK(why == "data after the last section (an appended payload?)");

  CHECK(parse_strip_mode("unneeded") == StripMode::Unneeded);
  CHECK_THROWS_AS(parse_strip_mode("all"), Error);
}

TEST_CASE("elf: strip synthetic files of every class and byte order") {
  for (bool is64 : {false, true})
    for (bool big : {false, true})
      for (bool extended : {false, true}) {
        CAPTURE(is64);
        CAPTURE(big);
        CAPTURE(extended);
        SyntheticElf s;
        s.is64 = is64, s.big_endian = big, s.extended_numbering = extended;
        auto bytes = s.build();
        std::string error, why;
        auto info = parse_elf(bytes, &error);
        REQUIRE_MESSAGE(info, error);
        auto result = plan_strip(bytes, *info, StripMode::Debug, &why);
        REQUIRE_MESSAGE(result, why);
        CHECK(result->removed_sections == std::vector<std::string>{".debug_info"});
        StringWriter w;
        write_stripped(bytes, *result, w);
        auto out = to_bytes(w.str());
        CHECK(out.size() < bytes.size());
        auto stripped = parse_elf(out, &error);
        REQUIRE_MESSAGE(stripped, error);
        REQUIRE(stripped->sections.size() == info->sections.size() - 1);
        CHECK(stripped->sections.back().name == ".shstrtab");
        CHECK(stripped->soname == info->soname);
        CHECK(stripped->runpath == info->runpath);
        const size_t ehsize = is64 ? 64 : 52, mapped = info->sections[4].offset + info->sections[4].size;
        CHECK(std::equal(bytes.begin() + ehsize, bytes.begin() + mapped,
                         out.begin() + ehsize));  // everything else the loader maps
        // e_shnum 0 / SHN_XINDEX is only needed at 0xff00 sections: written plainly.
        CHECK(out[is64 ? (big ? 61 : 60) : (big ? 49 : 48)] == stripped->sections.size());
      }
}

TEST_CASE("elf: strip keeps every PT_LOAD at its offset modulo a 64 KiB p_align") {
  // Linked for 64 KiB pages (arm64/ppc64le kernels): each PT_LOAD's p_align is
  // 0x10000 and the segments sit 64 KiB apart in the file. The loader maps
  // p_offset rounded down to p_align at p_vaddr rounded down, so after the
  // strip every segment must start at the same offset (congruent to p_vaddr
  // modulo p_align) with the same bytes, and no page-size guess may move or
  // pad it.
  Dir d;
  std::string lib = compile(d.dir.path(), "libsq64k.so",
                            "int square(int x) { return x * x; }\nint table[64] = {1};\n",
                            "-g -shared -fPIC -Wl,-soname,libsq64k.so -Wl,-z,max-page-size=0x10000 "
                            "-Wl,-z,common-page-size=0x10000 -Wl,-z,separate-code");
  REQUIRE(!lib.empty());
  auto before = LIEF::ELF::Parser::parse(lib);
  REQUIRE(before);
  struct Load { uint64_t offset, vaddr, filesz, align; };
  auto loads = [](LIEF::ELF::Binary& b) {
    std::vector<Load> out;
    for (const auto& s : b.segments())
      if (s.type() == LIEF::ELF::SEGMENT_TYPES::PT_LOAD)
        out.push_back({s.file_offset(), s.virtual_address(), s.physical_size(), s.alignment()});
    return out;
  };
  std::vector<Load> in = loads(*before);
  REQUIRE(in.size() >= 2);
  uint64_t far = 0;
  for (const Load& l : in) {
    CHECK(l.align == 0x10000);
    far = std::max(far, l.offset);
  }
  REQUIRE(far >= 0x10000);  // a segment past the first 64 KiB: a 4 KiB layout would differ

  fs::create_directories(d.path("stripped"));
  std::string stripped = d.path("stripped/libsq64k.so");
  auto result = strip_file(lib, stripped, StripMode::Unneeded);
  REQUIRE(result);
  CHECK(std::find(result->removed_sections.begin(), result->removed_sections.end(), ".debug_info") !=
        result->removed_sections.end());
  CHECK(file_size(stripped) < file_size(lib));
  check_loader_view_unchanged(lib, stripped);
  auto after = LIEF::ELF::Parser::parse(stripped);
  REQUIRE(after);
  std::vector<Load> out = loads(*after);
  REQUIRE(out.size() == in.size());
  MappedFile a(lib), b(stripped);
  for (size_t i = 0; i < in.size(); ++i) {
    CAPTURE(i);
    CHECK(out[i].offset == in[i].offset);
    CHECK(out[i].align == 0x10000);
    CHECK(out[i].offset % out[i].align == out[i].vaddr % out[i].align);
    REQUIRE(out[i].offset + out[i].filesz <= b.bytes().size());
    // The same bytes, but for the ELF header's section table fields.
    const uint64_t from = std::max<uint64_t>(in[i].offset, 64);
    CHECK(std::equal(a.bytes().begin() + from, a.bytes().begin() + in[i].offset + in[i].filesz,
                     b.bytes().begin() + from));
  }
  std::string loader = compile_dlopen_call(d.dir.path(), "dl", "square");
  REQUIRE(!loader.empty());
  CHECK(run_output(loader + " " + stripped + " 6") == "36\n");
}
