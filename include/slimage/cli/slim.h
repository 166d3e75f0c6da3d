// The main job as a function: slim one image (every selected platform) from
// a source to a destination. `slimage slim` prints its outcome; `slimage
// batch` runs many at once, sharing decoded layers and rewritten layers
// through the hooks.
#pragma once
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "slimage/cli/options.h"
#include "slimage/rewrite/layer_writer.h"
#include "slimage/rootfs/merged_fs.h"

namespace slimage {

struct SlimHooks {
  // Decodes one layer into `dir`; the default is spill_layer().
  std::function<std::unique_ptr<SpilledLayer>(Source&, const Descriptor&, const std::string& diff_id,
                                              const std::string& dir, size_t index)>
      spill;
  LayerCache* cache = nullptr;
  std::string log_prefix;  // progress lines start with it (batch: the image name)
};

struct SlimOutcome {
  int exit_code = 0;            // kExitOk, kExitVerifyFailed or kExitSmokeFailed
  nlohmann::json report;        // what --report writes
  std::string summary_text;     // the table `slim` prints
  std::string root_digest;      // of the committed root ("" if nothing written)
};

// Throws Error on a bad image or I/O failure (nothing written).
SlimOutcome slim_one(const SlimOptions& options, const CommonOptions& common, const SlimHooks& hooks);

}  // namespace slimage
