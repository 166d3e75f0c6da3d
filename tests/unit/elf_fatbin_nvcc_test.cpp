// GPU pruning on real nvcc output, built at test time (skipped when
// /usr/local/cuda/bin/nvcc is absent): a shared library with cubins for
// sm_75, sm_80, sm_90 plus compute_90 PTX, and the same with
// -Xfatbin -compress-all, pruned to sm_80 in process (scan, plan, patched
// write, verify). The reader then lists exactly the sm_80 cubins, LIEF and
// readelf parse the file with the same sections, the file keeps its length,
// a program dlopens it, and pruning twice gives the same bytes.
#include <doctest/doctest.h>

#include <LIEF/ELF.hpp>
#include <filesystem>

#include "elf_test_support.h"
#include "slimage/elf/fatbin_prune.h"
#include "slimage/util/file.h"

using namespace slimage;
using namespace slimage::elf_test;
namespace fs = std::filesystem;

namespace {

const char* kNvcc = "/usr/local/cuda/bin/nvcc";
bool have_nvcc() { return fs::exists(kNvcc); }

// Prunes `in` to `archs` into `out`; returns the pruned scan of `out`.
FatbinScan prune_file(const std::string& in, const std::string& out, const std::string& archs) {
  MappedFile m(in);
  std::string error;
  auto info = parse_elf(m.bytes(), &error);
  REQUIRE(info);
  FatbinScan scan = scan_fatbins(m.bytes(), *info, true);
  REQUIRE(scan.ok());
  GpuSelection sel{parse_cuda_archs(archs), PtxPolicy::Newest};
  FatbinPrune p = plan_fatbin_prune(m.bytes(), scan, sel);
  StringWriter w;
  FatbinVerifier v(w, m.bytes(), scan, p, sel, in);
  write_stripped_patched(m.bytes(), nullptr, p.patches, v);
  v.finish();
  write_file_atomic(out, w.str());
  MappedFile o(out);
  auto info2 = parse_elf(o.bytes(), &error);
  REQUIRE(info2);
  return scan_fatbins(o.bytes(), *info2, true);
}

std::string labels(const FatbinScan& scan) {
  std::string s;
  for (auto& c : scan.containers)
    for (auto& e : c.entries) s += e.label() + ";";
  return s;
}

}  // namespace

TEST_CASE("fatbin: nvcc libraries pruned to sm_80 keep exactly the sm_80 cubins" *
          doctest::skip(!have_nvcc())) {
  TempDir dir{fs::temp_directory_path().string(), "fatbin-nvcc-"};
  std::string cu = dir.path() + "/k.cu";
  write_file_atomic(cu, "__global__ void add(float* a, float b) { a[threadIdx.x] += b; }\n"
                        "extern \"C\" int launch(float* d) { add<<<1, 16>>>(d, 1.0f); return 0; }\n");
  std::string gencode =
      " -gencode arch=compute_75,code=sm_75 -gencode arch=compute_80,code=sm_80"
      " -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90";
  for (std::string extra : {"", " -Xfatbin -compress-all"}) {
    CAPTURE(extra);
    std::string lib = dir.path() + "/libk.so", out = dir.path() + "/libk.pruned.so",
                out2 = dir.path() + "/libk.twice.so";
    REQUIRE(run_ok(std::string(kNvcc) + " -shared -Xcompiler -fPIC" + gencode + extra + " -o " + lib +
                   " " + cu + " 2>" + dir.path() + "/nvcc.log"));
    MappedFile in(lib);
    std::string error;
    auto info = parse_elf(in.bytes(), &error);
    REQUIRE(info);
    FatbinScan before = scan_fatbins(in.bytes(), *info, true);
    REQUIRE(before.ok());
    CHECK(labels(before).find("sm_75 cubin") != std::string::npos);
    CHECK(labels(before).find("compute_90 ptx") != std::string::npos);
    bool compressed = false;
    for (auto& c : before.containers)
      for (auto& e : c.entries) compressed |= e.is_cubin() && e.compressed();
    CHECK(compressed == !extra.empty());

    FatbinScan after = prune_file(lib, out, "sm_80");
    REQUIRE(after.ok());
    std::string want;
    for (auto& c : before.containers)
      for (auto& e : c.entries)
        if (e.is_cubin() && e.sm == 80) want += e.label() + ";";
    CHECK(labels(after) == want);
    CHECK(after.containers.size() == before.containers.size());
    CHECK(fs::file_size(out) == fs::file_size(lib));
    CHECK(run_output("readelf -SW " + lib) == run_output("readelf -SW " + out));
    auto lief = LIEF::ELF::Parser::parse(out);
    REQUIRE(lief);
    CHECK(lief->sections().size() == info->sections.size());
    // The loader still loads it and finds its symbols.
    std::string loader = compile(dir.path(), "dl",
                                 "#include <dlfcn.h>\n#include <stdio.h>\n"
                                 "int main(int c, char** v){void* h = dlopen(v[1], RTLD_NOW);\n"
                                 "if (!h) { puts(dlerror()); return 1; }\n"
                                 "puts(dlsym(h, \"launch\") ? \"ok\" : \"no symbol\"); return 0; }\n",
                                 "-ldl");
    REQUIRE(!loader.empty());
    CHECK(run_output(loader + " " + out) == "ok\n");
    // Pruning the pruned file changes nothing.
    prune_file(out, out2, "sm_80");
    CHECK(read_file(out) == read_file(out2));
  }
}
