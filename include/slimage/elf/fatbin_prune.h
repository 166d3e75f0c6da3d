// GPU architecture pruning of the fat binaries inside an ELF (--cuda-arch):
// which entries each listed GPU can run, as the CUDA driver selects code,
// the rewrite as patches over the input (composable with the strip writer),
// and the run-time proof that the written bytes keep what was promised.
//
// Keep rule, per listed GPU (sm = major*10 + minor):
//  - a cubin sm_XY loads on sm_XZ when Z >= Y (same major); an `a` cubin only
//    on its exact SM, an `f` cubin on its family (same major, Z >= Y); every
//    cubin a listed GPU loads is kept, `a` and `f` ones too, since the driver
//    prefers them (sm_90a over sm_90 on an H100); `sm_90a` and `sm_100f` in
//    the list name the same GPU as `sm_90` and `sm_100`;
//  - PTX JIT-compiles for any GPU at or above its SM (`a` PTX: exact SM only);
//  - a GPU that loads no cubin here keeps the newest PTX it can JIT;
//  - --cuda-ptx newest also keeps the newest plain PTX at or below the
//    highest listed GPU; none keeps only the fallback above; all keeps all;
//  - other kinds (LTO-IR, unknown) stay as they are;
//  - a container where a listed GPU ran something before and would run
//    nothing after is left whole (reported).
// Rewrite: kept entries move to the front of their container in order (their
// 8-byte alignment unchanged), the fat size shrinks, the tail is zeros. No
// container moves and the file keeps its length.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "slimage/elf/fatbin.h"
#include "slimage/elf/strip.h"
#include "slimage/util/io.h"

namespace slimage {

struct CudaTarget {
  uint32_t sm = 0;    // 90, 100, 103, 120…
  char variant = 0;   // 0, 'a' (arch-specific), 'f' (family-specific)
  std::string name() const;  // "sm_90a"
  bool operator==(const CudaTarget&) const = default;
};

enum class PtxPolicy { Newest, None, All };

struct GpuSelection {
  std::vector<CudaTarget> targets;  // empty: no pruning
  PtxPolicy ptx = PtxPolicy::Newest;
  bool active() const { return !targets.empty(); }
  std::string describe() const;  // "sm_80,sm_90 ptx=newest"
};

// "sm_90", "sm_80,sm_90", "9.0", "90", "sm_90a", "sm_100f" (comma or space
// separated). Throws Error listing the accepted forms otherwise.
std::vector<CudaTarget> parse_cuda_archs(const std::string& list);
PtxPolicy parse_cuda_ptx(const std::string& text);  // newest | none | all; throws Error
const char* ptx_policy_name(PtxPolicy policy);
extern const char* const kCudaArchForms;  // the accepted forms, for messages

// Whether `gpu`'s driver can run `entry` (cubin load or PTX JIT), whatever was listed.
bool runs_on(const FatbinEntry& entry, uint32_t gpu);

// One replaced range of the input and what replaces it, as pieces: input
// ranges (nothing copied), literal bytes, or zeros.
struct PatchPiece {
  enum class Kind { Input, Bytes, Zeros } kind = Kind::Input;
  uint64_t offset = 0, length = 0;  // Input: range of the input; Zeros: length
  std::string bytes;                // Bytes
};
struct FilePatch {
  uint64_t offset = 0, length = 0;  // replaced range; the pieces sum to `length`
  std::vector<PatchPiece> pieces;
};

struct GpuCodeBytes {
  uint64_t before = 0, after = 0;
};

struct FatbinPrune {
  std::vector<FilePatch> patches;              // sorted by offset, one per changed container
  std::vector<std::vector<char>> keep;         // per container, per entry (1 = kept)
  std::map<std::string, GpuCodeBytes> by_label;  // "sm_90 cubin" -> bytes before/after
  std::map<std::string, uint64_t> why;         // "removed sm_75 cubin: no listed GPU loads it" -> count
  std::vector<std::string> notes;              // containers left whole, stray magics
  uint64_t before = 0, after = 0;              // GPU code bytes
  size_t containers = 0, changed = 0, left_whole = 0;
  bool changed_any() const { return !patches.empty(); }
};

// Decides every entry and builds the patches. `scan` must be ok().
FatbinPrune plan_fatbin_prune(std::span<const uint8_t> bytes, const FatbinScan& scan,
                              const GpuSelection& selection);

// Writes input [begin, end) with the patches that start in it applied. A
// patch must lie wholly inside the range (they cover alloc sections, which
// stripping never moves); throws Error otherwise.
void write_patched_range(std::span<const uint8_t> bytes, uint64_t begin, uint64_t end,
                         const std::vector<FilePatch>& patches, Writer& out);

// The stripped file (plan_strip's pieces) with the patches applied: strip
// and prune compose. `result` may be null (the whole file, patched).
void write_stripped_patched(std::span<const uint8_t> bytes, const StripResult* result,
                            const std::vector<FilePatch>& patches, Writer& out);

// The second path: a Writer that forwards the output file and, as the bytes
// of each changed container pass (containers keep their offsets), re-parses
// them and checks that they hold exactly the kept entries, each equal to the
// original byte for byte, a zero tail, and runnable code for every listed GPU
// that had it. finish() throws Error (prefixed with `where`) on any mismatch.
class FatbinVerifier : public Writer {
 public:
  FatbinVerifier(Writer& out, std::span<const uint8_t> original, const FatbinScan& scan,
                 const FatbinPrune& prune, const GpuSelection& selection, std::string where);
  void write(const void* data, size_t n) override;
  void finish() override;  // every changed container seen and proven

 private:
  void check(size_t index);
  Writer& out_;
  std::span<const uint8_t> original_;
  const FatbinScan& scan_;
  const FatbinPrune& prune_;
  const GpuSelection& selection_;
  std::string where_;
  std::vector<size_t> pending_;  // indexes of changed containers, by offset
  size_t next_ = 0;
  uint64_t pos_ = 0;
  std::string buffer_;
};

// Verifies a whole written file at once (tests, and callers holding the output).
void verify_fatbin_prune(std::span<const uint8_t> original, const FatbinScan& scan,
                         const FatbinPrune& prune, const GpuSelection& selection,
                         std::span<const uint8_t> written, const std::string& where);

}  // namespace slimage
