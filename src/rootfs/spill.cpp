// Decoding a layer blob into the scratch dir (see include/slimage/rootfs/merged_fs.h).
// One pass: blob bytes + digest check | decoder | diff_id hash + tar parser
// | scratch file writes, on four threads. The decoded tar on disk is what
// every later stage reads.
// $SLIMAGE_MAX_LAYER_BYTES lowers the per-layer decode limit (bomb guard).

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

#include "slimage/layer/compression.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/budget.h"
#include "slimage/util/direct_writer.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"
#include "slimage/util/progress.h"
#include "slimage/util/read_ahead.h"
#include "slimage/util/scratch_meter.h"
#include "sparse_filter.h"

namespace slimage {

namespace {

// Passes bytes through while writing them to a file and hashing them.
class TeeReader : public Reader {
  struct Fan : Writer {
    Fan(Writer& a, Writer* b) : a(a), b(b) {}
    void write(const void* data, size_t n) override {
      a.write(data, n);
      if (b) b->write(data, n);
    }
    Writer& a;
    Writer* b;
  };

 public:
  TeeReader(Reader& in, Writer& out) : in_(in), out_(out) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_.read(buf, n);
    if (k) out_.write(buf, k);
    return k;
  }
  // In place: the tar parser skips file contents through here.
  size_t pass(Writer* out, size_t n) override {
    Fan fan{out_, out};
    return in_.pass(&fan, n);
  }

 private:
  Reader& in_;
  Writer& out_;
};

// The limit to decode under: the caller's, lowered by $SLIMAGE_MAX_LAYER_BYTES.
uint64_t max_layer_bytes(const SpillLimits& limits) {
  const char* env = std::getenv("SLIMAGE_MAX_LAYER_BYTES");
  if (!env || !*env) return limits.max_layer_bytes;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(env, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || env[0] == '-')
    fail(std::string("SLIMAGE_MAX_LAYER_BYTES=") + env + ": not a positive byte count");
  return std::min<uint64_t>(limits.max_layer_bytes, v);
}

// Counts compressed bytes for the progress line, into the counter of the
// run that opened it (whichever thread reads).
class ProgressReader : public Reader {
 public:
  explicit ProgressReader(std::unique_ptr<Reader> in) : in_(std::move(in)) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_->read(buf, n);
    counter_.done.fetch_add(k, std::memory_order_relaxed);
    return k;
  }

 private:
  std::unique_ptr<Reader> in_;
  ByteCounter& counter_ = current_progress();
};

// Path depth budget: later stages walk a path's parents, so depth is bounded at the door.
void check_path_depth(const std::string& path) {
  uint64_t depth = 1 + static_cast<uint64_t>(std::count(path.begin(), path.end(), '/'));
  if (depth <= budget(Budget::PathDepth)) return;
  std::string shown = path.size() > 64 ? path.substr(0, 64) + "…" : path;
  budget_exceeded(Budget::PathDepth, shown, depth);
}

}  // namespace

std::string SpilledLayer::where() const { return "layer " + short_digest(descriptor.digest); }

std::unique_ptr<SpilledLayer> spill_layer(Source& source, const Descriptor& descriptor,
                                          const std::string& diff_id, const std::string& dir,
                                          size_t index, const SpillLimits& limits) {
  auto layer = std::make_unique<SpilledLayer>();
  layer->descriptor = descriptor;
  (void)index;
  // No name: a SIGKILL or crash mid-run leaves nothing in the scratch dir.
  layer->file = std::make_shared<ScratchFile>(dir);
  layer->tar_path = layer->file->path();
  std::string where = layer->where();
  try {
    // Four threads per layer: blob read + digest ahead, inflate ahead of
    // that, diff_id + tar parse here (contents pass through in place),
    // scratch writes behind. Reading and hashing the blob on the inflating
    // thread made it the decode's bottleneck (a 10 GB layer: 46 s of its
    // 50 s busy, the other core half idle).
    auto decoder = read_ahead(open_decoder(
        read_ahead(std::make_unique<ProgressReader>(source.open_blob(descriptor))),
        max_layer_bytes(limits)));
    DirectWriter file(layer->tar_path, layer->file->name());
    // Low-disk mode: content nothing reads before the write stays a hole.
    SparseFilter sparse(file, layer->tar_path, where, dir, limits.summarize);
    HashingWriter hashed(limits.sparse ? static_cast<Writer*>(&sparse) : &file);
    TeeReader tee(*decoder, hashed);
    TarReader tar(tee);
    auto headers = std::make_shared<PackedHeaders>();
    TarEntry entry;
    while (tar.next(entry)) {
      if (entry.type == TarType::Regular && entry.size >= limits.direct_min_bytes)
        file.cold(entry.data_offset, entry.data_offset + entry.size);
      if (limits.sparse && entry.type == TarType::Regular && entry.size > kSparseKeepMax)
        sparse.candidate(entry.path, entry.data_offset, entry.size);
      check_path_depth(entry.path);
      check_budget(Budget::Entries, where,
                   limits.entries ? limits.entries->fetch_add(1, std::memory_order_relaxed) + 1
                                  : layer->entries.size() + 1);
      layer->entries.emplace_back(entry, headers->add(entry));
      entry = TarEntry();
    }
    layer->headers = std::move(headers);
    layer->pax_global_header = tar.saw_global_header();
    // The diff_id covers the whole stream, trailing blocks included.
    char buf[65536];
    while (tee.read(buf, sizeof buf)) {
    }
    hashed.finish();
    layer->tar_size = hashed.bytes();
    layer->diff_id = hashed.digest();
    if (limits.sparse) layer->holes = sparse.holes();
  } catch (const Error& e) {
    layer->file.reset();  // frees the bytes and the meter's charge
    std::string msg = e.what();
    if (msg.rfind(where, 0) == 0 || msg.find("blob " + short_digest(descriptor.digest)) != std::string::npos)
      throw;
    fail(where + ": " + msg);
  }
  if (!diff_id.empty() && layer->diff_id != diff_id)
    fail(where + ": diff_id mismatch: config says " + diff_id + ", layer decodes to " +
         layer->diff_id);
  layer->map = MappedFile(layer->tar_path);
  return layer;
}

}  // namespace slimage
