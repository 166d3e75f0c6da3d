// Writes the slimmed layer set from the merged view and the plan.
//  --layers keep: each surviving file goes in the layer that last wrote it;
//    a layer that no action touches (nothing in it dropped or stripped, no
//    whiteout, nothing skipped) is reused byte-for-byte; other layers are
//    rewritten holding only what the merged view shows from them, so no
//    whiteout is needed except over a reused lower layer; emptied layers
//    are dropped.
//  --layers squash: one layer with the whole merged view.
// Tar is deterministic (sorted entries, PAX, fixed fields); hardlinks are
// kept within a layer (first path in sort order carries the content).
#pragma once
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "slimage/elf/strip.h"
#include "slimage/image/image.h"
#include "slimage/layer/compression.h"
#include "slimage/plan/plan.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/rootfs/sparse_spill.h"

namespace slimage {

enum class LayerMode { Keep, Squash };

struct LayerOutput;

// Rewritten layers by fingerprint (everything that determines the bytes:
// slimage version, write options, and each entry's metadata, fate and
// content identity — source diff_id + offset). Lets a batch rewrite a layer
// shared by many images once, and a later run reuse it.
class LayerCache {
 public:
  virtual ~LayerCache() = default;
  // A cached blob for `key`, handed out as the staged file (the cache's own
  // file, opened read-only: the sink links or copies it, never moves it;
  // descriptor, diff_id, sizes filled); nullopt on a miss.
  virtual std::optional<LayerOutput> find(const std::string& key) = 0;
  virtual void store(const std::string& key, const LayerOutput& output) = 0;

  // Held from find() to store(): a second writer of the same key in this
  // process waits, then finds the first one's entry, so images of a batch
  // that share a rewritten layer encode it once.
  class Claim {
   public:
    Claim(LayerCache& cache, std::string key);
    ~Claim();
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;

   private:
    LayerCache& cache_;
    std::string key_;
  };

 private:
  std::mutex claims_mu_;
  std::condition_variable claims_cv_;
  std::set<std::string> claimed_;
};

struct WriteOptions {
  LayerMode layers = LayerMode::Keep;
  EncoderOptions encoder;
  StripMode strip = StripMode::Unneeded;   // the mode the plan used
  std::optional<int64_t> source_date_epoch;
  bool docker_media_types = false;  // Docker v2 schema 2 manifest (gzip/plain only)
  // --compression was given: a layer stored in another encoding is
  // re-encoded even if the plan leaves it untouched.
  bool recompress_other_encodings = false;
  LayerCache* cache = nullptr;
  // Low-disk mode (rootfs/sparse_spill.h): a rewritten layer first calls
  // `stream` with the nodes whose content it is about to read and whether it
  // copies a node byte for byte; the HoleStream it returns serves some of them
  // straight from a re-decode of their input layer. It calls `before` with the
  // rest (the refill), and `after` with all of them once its tar is written
  // (punched again). A layer reused byte for byte, or found in the cache,
  // reads none.
  struct ContentHooks {
    std::function<std::unique_ptr<HoleStream>(const std::vector<const Node*>&,
                                              const std::function<bool(const Node&)>& plain)>
        stream;
    std::function<void(const std::vector<const Node*>&)> before, after;
  } content;
  // Called with each layer write_layers encoded (not a reused one), once its
  // blob is staged, before the next layer is written. Low-disk mode, staging
  // at a local destination, hands the blob to the sink here and releases it
  // (staged_file null): the sink links it into place at once.
  std::function<void(LayerOutput&)> staged;
  // write_layers' staging_dir is the destination's, not scratch: the staged
  // blobs are not charged to the scratch meter.
  bool staging_at_destination = false;
};

struct LayerOutput {
  bool reused = false;         // the source blob, byte-for-byte
  size_t source_index = 0;     // which input layer it comes from (squash: 0)
  Descriptor descriptor;       // of the blob
  std::string diff_id;
  std::shared_ptr<ScratchFile> staged_file;  // the new blob, unnamed (null if reused or handed over)
  std::string staged_path;     // staged_file->path(), while it lives ("" if reused or handed over)
  uint64_t uncompressed_size = 0;
  uint64_t entries = 0;
  std::string fingerprint;     // the LayerCache key ("" if reused)
  bool from_cache = false;
};

// Writes new blobs as unnamed scratch files in `staging_dir`. Reused layers are returned with the
// source descriptor (the caller copies the blob).
std::vector<LayerOutput> write_layers(const MergedFs& fs, const Plan& plan,
                                      const WriteOptions& options, const std::string& staging_dir);

// What write_layers will read, per output layer in order, decided as it
// decides it: the input layer it comes from, whether it is reused byte for
// byte, and the nodes whose content it reads (none when reused).
struct LayerReads {
  size_t source_index = 0;
  bool reused = false;
  std::vector<const Node*> content;
};
std::vector<LayerReads> layer_reads(const MergedFs& fs, const Plan& plan, const WriteOptions& options);

// Whether the writer copies `node`'s content byte for byte (neither stripped
// nor GPU-pruned): what a HoleStream may serve.
bool copied_plain(const Plan& plan, const Node& node);

// SOURCE_DATE_EPOCH from the environment, if set and valid.
std::optional<int64_t> source_date_epoch_from_env();

}  // namespace slimage
