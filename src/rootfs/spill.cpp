// Decoding a layer blob into the scratch dir (see include/slimage/rootfs/merged_fs.h).
// One pass: blob bytes -> digest check -> decoder | (scratch file + diff_id
// hash) -> tar parser, the two halves on two threads. The decoded tar on disk is what every later stage reads.
// $SLIMAGE_MAX_LAYER_BYTES lowers the per-layer decode limit (bomb guard).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "slimage/layer/compression.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"
#include "slimage/util/progress.h"
#include "slimage/util/read_ahead.h"

namespace slimage {

namespace {

// Passes bytes through while writing them to a file and hashing them.
class TeeReader : public Reader {
 public:
  TeeReader(Reader& in, Writer& out) : in_(in), out_(out) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_.read(buf, n);
    if (k) out_.write(buf, k);
    return k;
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

// Counts compressed bytes for the progress line.
class ProgressReader : public Reader {
 public:
  explicit ProgressReader(std::unique_ptr<Reader> in) : in_(std::move(in)) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_->read(buf, n);
    progress_add(k);
    return k;
  }

 private:
  std::unique_ptr<Reader> in_;
};

}  // namespace

std::string SpilledLayer::where() const { return "layer " + short_digest(descriptor.digest); }

std::unique_ptr<SpilledLayer> spill_layer(Source& source, const Descriptor& descriptor,
                                          const std::string& diff_id, const std::string& dir,
                                          size_t index, const SpillLimits& limits) {
  auto layer = std::make_unique<SpilledLayer>();
  layer->descriptor = descriptor;
  layer->tar_path = dir + "/layer-" + std::to_string(index) + ".tar";
  std::string where = layer->where();
  try {
    // Two threads per layer: blob digest + inflate ahead, diff_id + scratch
    // write + tar parse here.
    auto decoder = read_ahead(open_decoder(
        std::make_unique<ProgressReader>(source.open_blob(descriptor)), max_layer_bytes(limits)));
    FileWriter file(layer->tar_path, /*durable=*/false);
    HashingWriter hashed(&file);
    TeeReader tee(*decoder, hashed);
    TarReader tar(tee);
    TarEntry entry;
    while (tar.next(entry)) layer->entries.push_back({std::move(entry), {}, {}});
    // The diff_id covers the whole stream, trailing blocks included.
    char buf[65536];
    while (tee.read(buf, sizeof buf)) {
    }
    hashed.finish();
    layer->tar_size = hashed.bytes();
    layer->diff_id = hashed.digest();
  } catch (const Error& e) {
    ::unlink(layer->tar_path.c_str());
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
