// Decoded layers shared by the images of one `slimage batch` run, by blob
// digest: the first job that needs a layer decodes it (spill_layer) into the
// shared scratch dir; a job that needs it meanwhile waits for that decode
// instead of starting its own; later jobs get their own SpilledLayer over the
// same decoded tar (read-only, mapped again) with a copy of the entries as
// first recorded — MergedFs rewrites LayerEntry.path/kind, so each job needs
// its own. A failed decode is forgotten, so the next job tries with its own
// source (the failure may be that source's alone).
#pragma once
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "slimage/rootfs/merged_fs.h"

namespace slimage {

class SpillCache {
 public:
  explicit SpillCache(std::string dir) : dir_(std::move(dir)) {}

  // `*shared` (if given) is set to true when the layer came from another job's decode.
  std::unique_ptr<SpilledLayer> get(Source& source, const Descriptor& descriptor,
                                    const std::string& diff_id, bool* shared = nullptr);

  uint64_t decoded() const { return decoded_; }  // decodes that ran (and succeeded)
  uint64_t reused() const { return reused_; }    // layers handed out without decoding

 private:
  struct Slot {
    bool ready = false;
    std::unique_ptr<SpilledLayer> layer;  // pristine entries; never merged
  };
  std::unique_ptr<SpilledLayer> copy_of(const SpilledLayer& layer, const Descriptor& descriptor,
                                        const std::string& diff_id) const;

  std::string dir_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;  // by digest
  size_t next_index_ = 0;
  std::atomic<uint64_t> decoded_{0}, reused_{0};
};

}  // namespace slimage
