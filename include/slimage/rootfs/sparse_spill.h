// Low-disk mode (`slim --scratch-budget SIZE`, or automatic when the scratch
// filesystem is short): the content nothing before the write stage reads is
// not spilled.
// Pass 1 (spill_layer with SpillLimits::sparse): the decoder writes every tar
// header and the content of the files the analysis reads (sparse_keeps_content:
// small files, ELF and "#!" files by their first bytes, Python, etc/, package
// databases) and leaves every other file's content as a hole in the scratch
// tar (seeked over: no blocks), hashing it on the way (the sha256 dedupe
// compares). A big ELF file goes to a scratch file of its own instead; once
// it is whole, SpillLimits::summarize takes from it every fact a plan pass
// reads of an ELF file (ElfSummary) and the file goes: it is a hole like the
// rest. Where it cannot (a file strip would rewrite, GPU-code pruning, a
// malformed file the summarizer declines) the bytes are copied into the
// tar's hole once the layer is decoded: spilled, as before. So scratch holds
// one big ELF file per decoding layer beyond the tar. MergedFs::content() of
// a hole throws an internal Error ("not spilled in low-disk mode"): never
// zeros; every ELF reader asks FsView::elf_summary() first.
// Pass 2: as the writer comes to each layer it rewrites, the input layers
// holding that layer's kept-but-unspilled content are decoded again (the
// same digest and diff_id checks; a docker:// source downloads the blob
// again). Content their tar holds in the order the writer reads it (by
// path: select_streamed) goes from that decode straight into the layer
// being written (HoleStream), never into scratch; the rest is refilled
// first (refill_nodes: written into its holes) and punched again once the
// layer is staged (release_refilled). So scratch holds at most one output
// layer's out-of-order content at a time, none for a layer reused byte for
// byte, and dropped content is never written.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slimage/elf/elf.h"
#include "slimage/elf/fatbin.h"
#include "slimage/image/image.h"
#include "slimage/util/direct_writer.h"
#include "slimage/util/file.h"

namespace slimage {

class MergedFs;
struct Node;

// What the analysis reads of a big ELF file low-disk mode left unspilled:
// each field what the reader named computes from its bytes, so a reader
// that finds a summary (FsView::elf_summary) gives the answer it would give
// reading the file. A new reader of ELF content adds its fact here, or the
// summarizer declines files it would read.
struct ElfSummary {
  char kind = 0;                        // plan's elf_kind_of: 'p', 's', 'o'
  std::optional<ElfInfo> info;          // parse_elf; nullopt: parse_error says why
  std::string parse_error;
  std::vector<std::string> strings;     // library_name_strings, when info
};
// Summarizes one whole ELF file's bytes, or returns null: keep it spilled
// (plan/plan.h summarize_elf decides what a summary may stand for). Its fat
// binaries may be zeros (`zeroed`, elf/fatbin.h): the summarizer checks
// that nothing it reads lies there, or declines.
using ElfSummarizer = std::function<std::shared_ptr<const ElfSummary>(std::span<const uint8_t> bytes,
                                                                        std::span<const FileRange> zeroed)>;

// A big ELF file's copy for its summarizer, written as the stream goes by,
// less its fat binaries: each container whose header passes
// (fatbin_container_at, at 8-aligned offsets as nvcc places them) leaves
// the whole 4 KiB blocks after its 16-byte header unwritten (zeros), e.g.
// 1.06 GB of libtorch_cuda's 1.12 GB. Except around library-name strings:
// for every ".so" in the file, the blocks holding [".so" − 260, the next
// NUL] are written, all the dlopen scan (library_name_strings) looks at
// from that hit (kLibraryNameMax back, the C string forward), so the scan
// finds on the copy what it finds on the file, in whatever section the
// container lies. The summarizer takes the file with the ranges left out
// (`zeroed`) and checks the rest of what it reads (elf/fatbin.h zeroed_unread).
class ElfCopy {
 public:
  ElfCopy(const std::string& dir, uint64_t size);
  void write(const char* p, size_t n);  // the file's next bytes
  void finish();                        // all `size` of them written
  const ScratchFile& file() const { return file_; }
  const std::vector<FileRange>& zeroed() const { return zeroed_; }

 private:
  void find_containers(uint64_t end);
  void find_strings(uint64_t end);
  void keep(uint64_t begin, uint64_t end);
  void emit(uint64_t until);  // pending_ up to file offset `until`

  ScratchFile file_;
  DirectWriter out_;
  uint64_t size_;
  std::string pending_;  // bytes from file offset at_ on, not yet written
  uint64_t at_ = 0;
  uint64_t scan_ = 0;    // the next 8-aligned offset a container header may start at
  uint64_t hit_ = 0;     // the next offset a ".so" may start at
  bool open_ = false;    // a string window waits for its NUL …
  uint64_t open_from_ = 0, nul_ = 0;  // … from here, looking from nul_ on
  std::vector<FileRange> containers_;  // block ranges to leave out, in order
  std::vector<FileRange> keeps_;       // block ranges of string windows, in order
  size_t next_container_ = 0, next_keep_ = 0;
  std::vector<FileRange> zeroed_;      // what was left out
};

// One file's content left out of the scratch tar.
struct Hole {
  std::string digest;  // "sha256:…" of its bytes, as HashingWriter gives it
  uint64_t size = 0;
  std::shared_ptr<const ElfSummary> elf;  // a big ELF file's facts, else null
  mutable std::atomic<bool> filled{false};  // written back by refill_nodes
  // A big ELF file the summarizer declined whose copy lacked its fat
  // binaries: refetch_holes fills it before the plan, and it stays spilled.
  bool refetch = false;
};

// A layer's holes by their content's offset in the decoded tar.
struct SparseHoles {
  std::map<uint64_t, Hole> by_offset;
  uint64_t bytes = 0;  // their content left unwritten (each one's hole_gap), all together
  // Big ELF files: summarized (holes, counted in `bytes` too), and declined
  // by the summarizer (spilled whole).
  uint64_t summarized_files = 0, summarized_bytes = 0, declined_files = 0, declined_bytes = 0;
  uint64_t refetch_files = 0, refetch_bytes = 0;  // declined, re-decoded whole (Hole::refetch)
  // Adds another layer's counts (not its holes): an image's totals.
  void count(const SparseHoles& o) {
    bytes += o.bytes;
    summarized_files += o.summarized_files, summarized_bytes += o.summarized_bytes;
    declined_files += o.declined_files, declined_bytes += o.declined_bytes;
    refetch_files += o.refetch_files, refetch_bytes += o.refetch_bytes;
  }
};

// Files up to this size are always spilled: a hole frees only the whole
// 4 KiB blocks inside a file's range of the tar (hole_gap), a few at most.
constexpr uint64_t kSparseKeepMax = 16 << 10;
// ELF files over this size are summarized (ElfSummarizer) rather than
// spilled; a smaller one is spilled (a scratch file each would cost more).
constexpr uint64_t kSummarizeMin = 256 << 10;

// Of a hole's range [begin, begin + size) of the tar, the whole file-system
// blocks: what pass 1 leaves unwritten (the partial blocks at its ends are
// written; they are allocated with their neighbours anyway). Empty (begin ==
// end) when the range covers no whole block.
struct HoleGap {
  uint64_t begin = 0, end = 0;
};
HoleGap hole_gap(uint64_t begin, uint64_t size);

// Whether a regular file's content is spilled in low-disk mode, from its tar
// path, size and first bytes (`head`: up to 4 of them): what some analysis
// pass may read. Everything else is read only by the layer writer.
bool sparse_keeps_content(std::string_view path, uint64_t size, std::string_view head);

// How a slim run uses scratch: "normal", or "low-disk" and why.
struct ScratchMode {
  bool low_disk = false;
  std::string reason;          // "--scratch-budget 0", "automatic: …"; "" for normal
  uint64_t budget = 0;         // --scratch-budget's bytes (0: as little as possible)
  uint64_t need = 0;           // the free scratch space required before decoding
  std::string need_why;
  std::string name() const { return low_disk ? "low-disk" : "normal"; }
};

// The estimate of a normal run's scratch (the layers' compressed size, which
// decoded they exceed) and of a low-disk one (a tenth of it: tar headers and
// the files the analysis reads; refilled kept content comes on top).
uint64_t normal_scratch_estimate(const ImageManifest& image);
uint64_t low_disk_scratch_estimate(const ImageManifest& image);

// Picks the mode: low-disk when `budget` is given (--scratch-budget), or
// when `free_bytes` is below the normal estimate. Throws nothing: the
// caller's require_free_space refuses with mode.need when even that is short.
ScratchMode choose_scratch_mode(const ImageManifest& image, std::optional<uint64_t> budget,
                                uint64_t free_bytes);

// Pass 2: writes back into their holes the content of `nodes` that was not
// spilled (one output layer's, as the writer reads it), re-decoding only the
// layers that hold some (in parallel, `jobs`). `before` (if given) gets the
// bytes about to be written first: it may refuse. Throws Error naming the
// layer if a re-decoded blob differs (digest, diff_id or a file's sha256).
// Returns the bytes written.
uint64_t refill_nodes(Source& source, const MergedFs& fs, const std::vector<const Node*>& nodes, unsigned jobs,
                      const std::function<void(uint64_t bytes)>& before = {});
// After pass 1 and the merge: writes into their holes, from a second decode
// of their layers, the big ELF files the summarizer declined whose copy
// lacked its fat binaries (Hole::refetch: a file strip rewrites, or zeros
// where parse_elf reads), so the plan reads them like any spilled file.
// They stay spilled (release_refilled leaves them). Returns the bytes written.
uint64_t refetch_holes(Source& source, const MergedFs& fs, unsigned jobs);
// The bytes refill_nodes would write for `nodes` now (unfilled holes, each once).
uint64_t unfilled_bytes(const MergedFs& fs, const std::vector<const Node*>& nodes);

// Which of one output layer's `reads` (the nodes it reads, in the writer's
// order: by path) pass 2 streams instead of refilling: per input layer, the
// holes (`is_hole`) the writer copies byte for byte (`plain`) at increasing
// tar offsets, taken greedily. A layer tar written in path order (Docker's
// and buildah's are, nearly) streams whole; a hole that comes before one
// already streamed from its layer, or one read twice, is refilled. Each
// streamed input layer is a decode open for the whole output layer (about
// 40 MiB of read-ahead and two threads), so at most `max_layers` of them
// stream: those with the most hole bytes (--layers squash of many layers;
// a layer written normally reads from its own input layer alone).
constexpr size_t kMaxStreamedLayers = 4;
std::vector<bool> select_streamed(const std::vector<const Node*>& reads,
                                  const std::function<bool(const Node&)>& is_hole,
                                  const std::function<bool(const Node&)>& plain,
                                  size_t max_layers = kMaxStreamedLayers);

// select_streamed as the writer runs it on `fs` now: the holes are the
// unfilled ones (HoleStream's choice, and the --scratch-budget floor's).
std::vector<bool> streamed_reads(const MergedFs& fs, const std::vector<const Node*>& reads,
                                 const std::function<bool(const Node&)>& plain);

// Pass 2, streamed: the selected holes of one output layer go straight from a
// re-decode of their input layer into the layer being written, never into
// scratch. One decode per input layer, opened at its first streamed read and
// read forward only; each file is checked against pass 1's sha256 as it goes
// out, and finish() decodes every opened layer to its end and checks its
// diff_id (the source checks the blob's digest as it streams). A mismatch
// throws Error naming the layer and the path: the layer being written is
// scratch (or unnamed in the sink's staging dir) and is thrown away.
class HoleStream {
 public:
  HoleStream(Source& source, const MergedFs& fs, const std::vector<const Node*>& reads,
             const std::function<bool(const Node&)>& plain);
  ~HoleStream();
  HoleStream(const HoleStream&) = delete;
  HoleStream& operator=(const HoleStream&) = delete;

  const std::vector<const Node*>& rest() const { return rest_; }  // reads less the streamed: refilled
  bool serves(const Node& node) const;
  uint64_t bytes() const { return bytes_; }  // the content it streams, all together
  void copy(const Node& node, Writer& out);  // node.size bytes, checked
  void finish();

 private:
  struct Decode;
  Source& source_;
  const MergedFs& fs_;
  std::vector<const Node*> rest_;
  std::set<const Node*> streamed_;
  std::map<size_t, std::unique_ptr<Decode>> open_;
  uint64_t bytes_ = 0;
};

// What low-disk mode would write to scratch for `fs` as decoded normally
// (`plan --json`): the spilled tar bytes (all less the would-be holes), and
// the content among those holes that pass 2 writes back, given the nodes
// each rewritten output layer reads (`written`, rewrite/layer_writer.h's
// layer_reads): in all, and the most for one layer (held at once); and the
// content it streams instead.
struct LowDiskEstimate {
  uint64_t spilled_bytes = 0, unspilled_bytes = 0, refill_bytes = 0, refill_peak_bytes = 0;
  uint64_t streamed_bytes = 0;  // the holes pass 2 streams (select_streamed): no scratch
};
// `summarize`: slim's (big ELF files it summarizes are holes too).
LowDiskEstimate estimate_low_disk(const MergedFs& fs, const std::vector<std::vector<const Node*>>& written,
                                  const ElfSummarizer& summarize);

// Once written: punches the refilled holes again (they read as unspilled
// from now on) — all of them, or those of `only`'s content. Returns the
// bytes freed (whole pages inside each file).
uint64_t release_refilled(const MergedFs& fs, const std::vector<const Node*>* only = nullptr);

}  // namespace slimage
