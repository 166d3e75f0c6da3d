// Benchmark driver for GPU pruning (numbers for the --cuda-arch notes):
// for each FILE, maps it, scans its fat binaries, prunes to --cuda-arch LIST
// (--cuda-ptx P), writes the result through the verifier to OUTDIR/<name>,
// and prints GPU bytes before/after by code label with the times taken.
// Usage: fatbin_bench --cuda-arch sm_90 [--cuda-ptx newest] OUTDIR FILE...
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "slimage/elf/fatbin_prune.h"
#include "slimage/util/file.h"
#include "slimage/util/strings.h"

using namespace slimage;

int main(int argc, char** argv) {
  std::string archs = "sm_90", ptx = "newest";
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    std::string a = argv[i];
    if (a == "--cuda-arch") archs = argv[i + 1];
    else if (a == "--cuda-ptx") ptx = argv[i + 1];
  }
  if (argc - i < 2) {
    std::fprintf(stderr, "usage: fatbin_bench --cuda-arch LIST [--cuda-ptx P] OUTDIR FILE...\n");
    return 2;
  }
  GpuSelection sel{parse_cuda_archs(archs), parse_cuda_ptx(ptx)};
  std::string outdir = argv[i++];
  for (; i < argc; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    MappedFile m(argv[i]);
    std::string error;
    auto info = parse_elf(m.bytes(), &error);
    if (!info) {
      std::printf("%s: %s\n", argv[i], error.c_str());
      continue;
    }
    FatbinScan scan = scan_fatbins(m.bytes(), *info, true);
    if (!scan.ok()) {
      std::printf("%s: %s\n", argv[i], scan.errors.front().c_str());
      continue;
    }
    FatbinPrune p = plan_fatbin_prune(m.bytes(), scan, sel);
    auto t1 = std::chrono::steady_clock::now();
    std::string out = outdir + "/" + std::filesystem::path(argv[i]).filename().string();
    {
      FileWriter w(out);
      FatbinVerifier v(w, m.bytes(), scan, p, sel, argv[i]);
      write_stripped_patched(m.bytes(), nullptr, p.patches, v);
      v.finish();
      w.finish();
    }
    auto t2 = std::chrono::steady_clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::printf("%s: %zu containers (%zu pruned, %zu left whole), GPU code %s -> %s; scan+plan %.0f ms, write+verify %.0f ms, %zu stray magics\n",
                argv[i], p.containers, p.changed, p.left_whole, human_bytes(p.before).c_str(),
                human_bytes(p.after).c_str(), ms(t0, t1), ms(t1, t2), scan.stray_magics.size());
    for (auto& [label, b] : p.by_label)
      std::printf("  %-18s %12llu -> %12llu\n", label.c_str(), (unsigned long long)b.before,
                  (unsigned long long)b.after);
    for (size_t k = 0; k < p.notes.size() && k < 5; ++k) std::printf("  note: %s\n", p.notes[k].c_str());
    if (p.notes.size() > 5) std::printf("  … %zu notes\n", p.notes.size());
  }
  return 0;
}
