// A LayerCache on disk: rewritten layer blobs by fingerprint, shared by the
// images of one `slimage batch` run and by later runs (and by several
// processes, e.g. the pods of an Indexed Job sharing a volume).
//   <dir>/<key>/blob        the compressed layer, byte for byte
//   <dir>/<key>/meta.json   {"version":1,"media_type","digest","size","diff_id",
//                            "uncompressed_size","entries"}
// An entry is written whole into a temp dir beside it and renamed into place,
// so a reader sees all of an entry or none. An entry whose blob does not match
// its meta.json (size or digest) is a miss and is removed. The cache only
// saves work: its first problem is kept as a warning (warnings()) for the
// caller to show, and the run goes on.
#pragma once
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "slimage/rewrite/layer_writer.h"
#include "slimage/util/error.h"

namespace slimage {

class DiskLayerCache : public LayerCache {
 public:
  explicit DiskLayerCache(std::string dir);  // created if missing

  // $XDG_CACHE_HOME/slimage/layers, else $HOME/.cache/slimage/layers.
  static std::string default_dir();

  std::optional<LayerOutput> find(const std::string& key) override;
  void store(const std::string& key, const LayerOutput& output) override;

  const std::string& dir() const { return dir_; }
  uint64_t hits() const { return hits_; }
  uint64_t misses() const { return misses_; }
  uint64_t stores() const { return stores_; }
  uint64_t corrupt() const { return corrupt_; }  // entries found bad and removed
  std::vector<Diagnostic> warnings() const { return warnings_.items(); }  // at most one

 private:
  std::string entry_dir(const std::string& key) const;
  void discard(const std::string& entry, const std::string& why);
  void warn_once(std::string where, std::string message);

  std::string dir_;
  std::atomic<uint64_t> hits_{0}, misses_{0}, stores_{0}, corrupt_{0};
  std::once_flag warned_;
  Diagnostics warnings_;
};

}  // namespace slimage
