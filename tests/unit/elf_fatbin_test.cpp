// Fat binary reader and GPU pruning on synthetic containers written here:
// the 64/80/112-byte entry headers, compressed and arch-specific flags, both
// byte orders, zero gaps after a shrunk container, hostile sizes; the keep
// rule per listed GPU; the patches (packed entries, zero tail, same length),
// their idempotence and the verifier that re-reads the written bytes.
#include <doctest/doctest.h>

#include <cstring>

#include "slimage/elf/fatbin_prune.h"
#include "slimage/util/error.h"
#include "slimage/util/io.h"

using namespace slimage;

namespace {

struct Ent {
  uint16_t kind = 2;
  uint32_t sm = 90;
  uint64_t flags = 0x11;
  uint32_t header = 64;
  uint64_t payload = 64;
};

void put(std::string& s, size_t at, uint64_t v, unsigned n, bool be) {
  for (unsigned i = 0; i < n; ++i) s[at + i] = char(v >> (be ? 8 * (n - 1 - i) : 8 * i));
}

// One container; payload bytes are a pattern of the entry's index.
std::string container(const std::vector<Ent>& es, bool be = false) {
  std::string body;
  for (size_t i = 0; i < es.size(); ++i) {
    std::string h(es[i].header, '\0');
    put(h, 0, es[i].kind, 2, be);
    put(h, 2, 0x0101, 2, be);
    put(h, 4, es[i].header, 4, be);
    put(h, 8, es[i].payload, 8, be);
    put(h, 28, es[i].sm, 4, be);
    put(h, 40, es[i].flags, 8, be);
    body += h;
    for (uint64_t k = 0; k < es[i].payload; ++k) body += char('A' + i + k % 7);
  }
  std::string c(16, '\0');
  put(c, 0, kFatbinMagic, 4, be);
  put(c, 4, 1, 2, be);
  put(c, 6, 16, 2, be);
  put(c, 8, body.size(), 8, be);
  return c + body;
}

std::span<const uint8_t> span_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A FatbinScan of a whole buffer treated as one .nv_fatbin region.
FatbinScan scan_of(const std::string& s, bool be = false) {
  FatbinScan scan;
  std::string error;
  if (!parse_fatbin_region(span_of(s), 0, s.size(), be, ".nv_fatbin", scan.containers, &error))
    scan.errors.push_back(error);
  return scan;
}

std::string region_error(const std::string& s) {
  std::vector<FatbinContainer> out;
  std::string error;
  CHECK_FALSE(parse_fatbin_region(span_of(s), 0, s.size(), false, ".nv_fatbin", out, &error));
  return error;
}

GpuSelection sel(const std::string& archs, PtxPolicy ptx = PtxPolicy::Newest) {
  return {parse_cuda_archs(archs), ptx};
}

// Labels of the entries kept in container 0.
std::string kept(const FatbinScan& scan, const FatbinPrune& p, size_t c = 0) {
  std::string s;
  for (size_t i = 0; i < scan.containers[c].entries.size(); ++i)
    if (p.keep[c][i]) s += (s.empty() ? "" : ", ") + scan.containers[c].entries[i].label();
  return s;
}

std::string apply_patches(const std::string& s, const FatbinPrune& p) {
  StringWriter out;
  write_stripped_patched(span_of(s), nullptr, p.patches, out);
  return out.str();
}

const uint64_t kA = 0x100000, kF = 0x200000, kZ = 0x8000;

// sm_75, 80, 86, 90, 90a cubins, compute_80 and compute_90 PTX, an LTO-IR entry.
std::vector<Ent> mixed() {
  return {{2, 75}, {2, 80}, {2, 86, 0x11 | kZ}, {2, 90}, {2, 90, 0x11 | kA, 112},
          {1, 80, 0x11 | kZ, 80}, {1, 90, 0x11, 80}, {4, 90, 0x11, 64}};
}

}  // namespace

TEST_CASE("fatbin: reader lists every entry of back-to-back containers with a zero gap") {
  std::string s = container(mixed()) + std::string(40, '\0') + container({{2, 100, 0x1000011 | kF, 112, 32}, {1, 120, 0x11, 80, 8}});
  FatbinScan scan = scan_of(s);
  REQUIRE(scan.ok());
  REQUIRE(scan.containers.size() == 2);
  auto& a = scan.containers[0].entries;
  REQUIRE(a.size() == 8);
  CHECK(a[0].label() == "sm_75 cubin");
  CHECK(a[2].compressed());
  CHECK_FALSE(a[3].compressed());
  CHECK(a[4].label() == "sm_90a cubin");
  CHECK(a[4].header_size == 112);
  CHECK(a[5].label() == "compute_80 ptx");
  CHECK(a[5].header_size == 80);
  CHECK(a[7].label() == "sm_90 kind 4");
  CHECK(a[1].offset == 16 + 128);
  auto& b = scan.containers[1];
  CHECK(b.offset == container(mixed()).size() + 40);
  CHECK(b.entries[0].label() == "sm_100f cubin");
  CHECK(b.entries[1].label() == "compute_120 ptx");
  // Big-endian files store the same fields the other way round.
  std::string be = container(mixed(), true);
  FatbinScan sb = scan_of(be, true);
  REQUIRE(sb.ok());
  CHECK(sb.containers[0].entries[4].label() == "sm_90a cubin");
}

TEST_CASE("fatbin: hostile containers are refused with where and why") {
  std::string good = container({{2, 80}, {2, 90}});
  std::string past = good;
  put(past, 16 + 8, 1 << 20, 8, false);  // entry payload past the container
  CHECK(region_error(past) == "section .nv_fatbin offset 0x0: entry 0 at 0x10: payload of 1048576 bytes runs past the end of the container");
  std::string fat = good;
  put(fat, 8, 1 << 20, 8, false);  // container past the section
  CHECK(region_error(fat).find("container size 1048576 runs past the end of its region") != std::string::npos);
  std::string zero_header = good;
  put(zero_header, 16 + 4, 0, 4, false);
  CHECK(region_error(zero_header).find("entry 0 at 0x10: header size 0") != std::string::npos);
  std::string zero_payload = good;
  put(zero_payload, 16 + 8, 0, 8, false);
  CHECK(region_error(zero_payload).find("zero-size payload") != std::string::npos);
  std::string wrap = good;  // a size that would wrap the offset around (a loop)
  put(wrap, 16 + 8, ~uint64_t(0) - 70, 8, false);
  CHECK(region_error(wrap).find("runs past the end of the container") != std::string::npos);
  std::string junk = good + std::string(8, '\0') + "garbage!";
  CHECK(region_error(junk) == "section .nv_fatbin offset 0x118: unexpected bytes (no container magic)");
  std::string version = good;
  put(version, 4, 2, 2, false);
  CHECK(region_error(version).find("container version 2") != std::string::npos);
}

TEST_CASE("fatbin: --cuda-arch forms and errors") {
  auto t = parse_cuda_archs("sm_80, 9.0,90,sm_90a,sm_100f,121");
  REQUIRE(t.size() == 5);  // 9.0 and 90 are one GPU
  CHECK(t[0].name() == "sm_80");
  CHECK(t[1].name() == "sm_90");
  CHECK(t[2].name() == "sm_90a");
  CHECK(t[3].name() == "sm_100f");
  CHECK(t[4].name() == "sm_121");
  for (const char* bad : {"sm_8x", "compute_90", "9", "9.10", "sm_", "", "sm_90b", "0.9"})
    CHECK_THROWS_WITH_AS(parse_cuda_archs(bad), doctest::Contains("accepted: sm_XY (sm_90)"), Error);
  CHECK(parse_cuda_ptx("none") == PtxPolicy::None);
  CHECK_THROWS_AS(parse_cuda_ptx("some"), Error);
}

TEST_CASE("fatbin: keep rule per listed GPU, as the driver selects code") {
  std::string s = container(mixed());
  FatbinScan scan = scan_of(s);
  auto k = [&](const std::string& archs, PtxPolicy ptx = PtxPolicy::Newest) {
    return kept(scan, plan_fatbin_prune(span_of(s), scan, sel(archs, ptx)));
  };
  CHECK(k("sm_86") == "sm_80 cubin, sm_86 cubin, compute_80 ptx, sm_90 kind 4");
  // An H100 loads sm_90a as well as sm_90 (its driver picks sm_90a): both stay,
  // whether the list says sm_90 or sm_90a.
  CHECK(k("sm_90") == "sm_90 cubin, sm_90a cubin, compute_90 ptx, sm_90 kind 4");
  CHECK(k("sm_90a") == k("sm_90"));
  CHECK(k("sm_90", PtxPolicy::None) == "sm_90 cubin, sm_90a cubin, sm_90 kind 4");
  CHECK(k("sm_90", PtxPolicy::All) == "sm_90 cubin, sm_90a cubin, compute_80 ptx, compute_90 ptx, sm_90 kind 4");
  CHECK(k("sm_100", PtxPolicy::None) == "compute_90 ptx, sm_90 kind 4");  // no cubin: JIT
  CHECK(k("sm_75,sm_80", PtxPolicy::None) == "sm_75 cubin, sm_80 cubin, sm_90 kind 4");
  CHECK(k("sm_70") == "sm_90 kind 4");  // nothing ran there before: nothing to protect
  // A GPU that only loads arch-specific code here keeps it (the driver
  // would pick it), and nothing else; PTX only where no cubin loads.
  std::string only_a = container({{2, 90, 0x11 | kA}, {2, 80}, {1, 80, 0x11, 80}});
  FatbinScan sa = scan_of(only_a);
  FatbinPrune p = plan_fatbin_prune(span_of(only_a), sa, sel("sm_90", PtxPolicy::None));
  CHECK(kept(sa, p) == "sm_90a cubin");
  CHECK(p.left_whole == 0);
  CHECK(p.why.count("kept sm_90a cubin: sm_90 loads it") == 1);
  // Family code: sm_100f runs on 10.0 and 10.3, listed with f or not; not on 12.0.
  std::string fam = container({{2, 100, 0x11 | kF}, {2, 90}});
  FatbinScan sf = scan_of(fam);
  CHECK(kept(sf, plan_fatbin_prune(span_of(fam), sf, sel("sm_103f"))) == "sm_100f cubin");
  CHECK(kept(sf, plan_fatbin_prune(span_of(fam), sf, sel("sm_103"))) == "sm_100f cubin");
  CHECK(kept(sf, plan_fatbin_prune(span_of(fam), sf, sel("sm_90,sm_120"))) == "sm_90 cubin");
  // No cubin loads: the newest PTX the GPU can JIT, arch-specific PTX included.
  std::string ptx_a = container({{2, 80}, {1, 90, 0x11 | kA, 80}, {1, 80, 0x11, 80}});
  FatbinScan sp = scan_of(ptx_a);
  CHECK(kept(sp, plan_fatbin_prune(span_of(ptx_a), sp, sel("sm_90", PtxPolicy::None))) == "compute_90a ptx");
  CHECK(kept(sp, plan_fatbin_prune(span_of(ptx_a), sp, sel("sm_100", PtxPolicy::None))) == "compute_80 ptx");
}

TEST_CASE("fatbin: the verifier refuses a write that removed a cubin a listed GPU loads") {
  std::string s = container(mixed());
  FatbinScan scan = scan_of(s);
  REQUIRE(scan.ok());
  // Pruned for sm_80, then checked as if sm_90 had been listed: sm_90 still has
  // compute_80 PTX to JIT, but its two cubins are gone.
  FatbinPrune p80 = plan_fatbin_prune(span_of(s), scan, sel("sm_80"));
  std::string out = apply_patches(s, p80);
  CHECK_NOTHROW(verify_fatbin_prune(span_of(s), scan, p80, sel("sm_80"), span_of(out), "x.so"));
  CHECK_THROWS_WITH_AS(verify_fatbin_prune(span_of(s), scan, p80, sel("sm_90"), span_of(out), "x.so"),
                       doctest::Contains("x.so: fat binary verification failed: container at 0x0 (.nv_fatbin): "
                                         "sm_90 loads entry 3 (sm_90 cubin), which was removed"),
                       Error);
}

TEST_CASE("fatbin: rewrite packs kept entries, zero tail, same length, idempotent, verified") {
  for (bool be : {false, true}) {
    std::string s = container(mixed(), be) + container({{2, 75}, {2, 90, 0x11, 112, 24}}, be);
    FatbinScan scan = scan_of(s, be);
    REQUIRE(scan.ok());
    GpuSelection g = sel("sm_90", PtxPolicy::None);
    FatbinPrune p = plan_fatbin_prune(span_of(s), scan, g);
    REQUIRE(p.patches.size() == 2);
    std::string out = apply_patches(s, p);
    REQUIRE(out.size() == s.size());
    CHECK_NOTHROW(verify_fatbin_prune(span_of(s), scan, p, g, span_of(out), "x.so"));
    FatbinScan again = scan_of(out, be);
    REQUIRE(again.ok());
    REQUIRE(again.containers.size() == 2);
    CHECK(again.containers[1].offset == scan.containers[1].offset);  // no container moves
    REQUIRE(again.containers[0].entries.size() == 3);
    CHECK(again.containers[0].entries[0].label() == "sm_90 cubin");
    CHECK(again.containers[0].entries[1].label() == "sm_90a cubin");
    CHECK(again.containers[0].entries[2].label() == "sm_90 kind 4");
    const FatbinEntry& was = scan.containers[0].entries[3];
    const FatbinEntry& now = again.containers[0].entries[0];
    CHECK(std::memcmp(out.data() + now.offset, s.data() + was.offset, was.size()) == 0);
    CHECK(now.offset % 8 == was.offset % 8);
    uint64_t end = now.offset + now.size() + again.containers[0].entries[1].size() +
                   again.containers[0].entries[2].size();
    CHECK(out.substr(end, scan.containers[1].offset - end) == std::string(scan.containers[1].offset - end, '\0'));
    CHECK(again.gpu_bytes() == p.after);
    // Slimming the slimmed bytes changes nothing.
    FatbinPrune twice = plan_fatbin_prune(span_of(out), again, g);
    CHECK_FALSE(twice.changed_any());
    CHECK(apply_patches(out, twice) == out);
    // The verifier sees a flipped byte in a kept entry, and a non-zero tail.
    std::string bad = out;
    bad[now.offset + now.header_size + 3] ^= 1;
    CHECK_THROWS_WITH_AS(verify_fatbin_prune(span_of(s), scan, p, g, span_of(bad), "x.so"),
                         doctest::Contains("x.so: fat binary verification failed: container at 0x0 (.nv_fatbin): entry 0 (sm_90 cubin) differs"), Error);
    bad = out;
    bad[end + 1] = 1;
    CHECK_THROWS_WITH_AS(verify_fatbin_prune(span_of(s), scan, p, g, span_of(bad), "x.so"),
                         doctest::Contains("non-zero byte after the container"), Error);
  }
}

TEST_CASE("fatbin: an entry whose alignment would change keeps its container whole") {
  std::string s = container({{2, 75, 0x11, 64, 12}, {2, 90, 0x11, 64, 16}});
  FatbinScan scan = scan_of(s);
  REQUIRE(scan.ok());
  FatbinPrune p = plan_fatbin_prune(span_of(s), scan, sel("sm_90"));
  CHECK_FALSE(p.changed_any());
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0] == "container at 0x0 (.nv_fatbin) left whole: entry alignment would change");
  CHECK(p.left_whole == 1);
  CHECK(p.by_label["sm_75 cubin"].after == p.by_label["sm_75 cubin"].before);
}

TEST_CASE("fatbin: scan finds sections, follows wrappers, reports stray magics") {
  // A fake file: [0,64) .nv_fatbin, [64, 160) .rodata with a wrapped
  // container, [160, 184) .nvFatBinSegment, [200, …) a stray magic in .data.
  std::string nv = container({{2, 90, 0x11, 64, 8}});
  std::string ro = container({{2, 80, 0x11, 64, 8}});
  std::string file(512, '\0');
  file.replace(0, nv.size(), nv);
  file.replace(96, ro.size(), ro);
  put(file, 256, kFatbinWrapperMagic, 4, false);
  put(file, 260, 1, 4, false);
  put(file, 264, 0x10000 + 96, 8, false);  // the VA of .rodata's container
  put(file, 400, kFatbinMagic, 4, false);
  ElfInfo info;
  info.elf_class = 2, info.data = 1;
  info.sections = {{".nv_fatbin", 1, 2, 0x10000, 0, 96, 0, 0, 8, 0},
                   {".rodata", 1, 2, 0x10000 + 96, 96, 160, 0, 0, 8, 0},
                   {".nvFatBinSegment", 1, 3, 0x20000, 256, 24, 0, 0, 8, 0},
                   {".data", 1, 3, 0x30000, 280, 232, 0, 0, 8, 0}};
  FatbinScan scan = scan_fatbins(span_of(file), info, true);
  REQUIRE(scan.ok());
  REQUIRE(scan.containers.size() == 2);
  CHECK(scan.containers[0].section == ".nv_fatbin");
  CHECK(scan.containers[1].section == ".rodata");
  CHECK(scan.containers[1].offset == 96);
  REQUIRE(scan.stray_magics.size() == 1);
  CHECK(scan.stray_magics[0] == 400);
  FatbinPrune p = plan_fatbin_prune(span_of(file), scan, sel("sm_90"));
  CHECK(p.notes.front() == "1 container magic(s) in .data, outside any fat binary section: not rewritten");
  CHECK(p.patches.size() == 1);  // the wrapped sm_80-only container empties
  CHECK(p.patches[0].offset == 96);
}

TEST_CASE("fatbin: patches compose with the strip writer's pieces") {
  std::string fb = container({{2, 75}, {2, 90}});
  std::string file = std::string(32, 'h') + fb + std::string(64, 't');  // header, .nv_fatbin, the rest
  FatbinScan scan;
  std::string error;
  REQUIRE(parse_fatbin_region(span_of(file), 32, 32 + fb.size(), false, ".nv_fatbin", scan.containers, &error));
  GpuSelection g = sel("sm_90");
  FatbinPrune p = plan_fatbin_prune(span_of(file), scan, g);
  REQUIRE(p.patches.size() == 1);
  // What plan_strip returns: ranges of the input (alloc bytes at their
  // offsets) and new bytes (a section table), here dropping the last 32 bytes.
  StripResult strip;
  strip.pieces.push_back({0, 32 + fb.size() + 32, {}});
  strip.pieces.push_back({0, 0, "SHDRS"});
  strip.output_size = 32 + fb.size() + 32 + 5;
  StringWriter out;
  FatbinVerifier v(out, span_of(file), scan, p, g, "lib.so");
  write_stripped_patched(span_of(file), &strip, p.patches, v);
  v.finish();
  const std::string& s = out.str();
  REQUIRE(s.size() == strip.output_size);
  CHECK(s.substr(0, 32) == file.substr(0, 32));
  CHECK(s.substr(s.size() - 37) == std::string(32, 't') + "SHDRS");
  FatbinScan again;
  REQUIRE(parse_fatbin_region(span_of(s), 32, 32 + fb.size(), false, ".nv_fatbin", again.containers, &error));
  REQUIRE(again.containers[0].entries.size() == 1);
  CHECK(again.containers[0].entries[0].label() == "sm_90 cubin");
  // A patch that a strip range would cut is refused, never half-applied.
  StripResult cut;
  cut.pieces.push_back({0, 40, {}});
  StringWriter out2;
  CHECK_THROWS_WITH_AS(write_stripped_patched(span_of(file), &cut, p.patches, out2),
                       doctest::Contains("crosses the end of a written range"), Error);
}

TEST_CASE("fatbin: the scan tells what it is done with every 64 MiB, to the end, and still finds a stray past it") {
  std::vector<uint8_t> bytes((size_t(130) << 20) + 64, 0);
  const uint64_t stray = uint64_t(100) << 20;  // 8-aligned, as nvcc places containers
  for (int i = 0; i < 4; ++i) bytes[stray + i] = uint8_t(kFatbinMagic >> (8 * i));
  ElfInfo info;  // no sections: every byte is outside a fatbin region
  info.data = 1;
  std::vector<std::pair<uint64_t, uint64_t>> behind;
  FatbinScan scan = scan_fatbins(bytes, info, true, [&](uint64_t offset, uint64_t length) {
    behind.push_back({offset, length});
  });
  const uint64_t mib64 = uint64_t(64) << 20, last = bytes.size() - 16;  // the scan's last offset
  CHECK(behind == std::vector<std::pair<uint64_t, uint64_t>>{{0, mib64}, {mib64, mib64}, {2 * mib64, last - 2 * mib64}});
  CHECK(scan.stray_magics == std::vector<uint64_t>{stray});
}
