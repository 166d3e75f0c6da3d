// libFuzzer target for the whole pipeline (like bloaty's whole-tool target):
// fuzz bytes -> an in-memory image -> decode + merge -> plan (built-in
// "default" profile) -> write the layers into a scratch dir -> new config and
// manifest. Hostile input may only ever raise slimage::Error; anything else
// (another exception, a crash, a sanitizer report) is a bug.
//
// Input: byte 0 chooses the options (bit 0 squash, bits 1-2 compression,
// bits 3-4 the entrypoint, bit 5 the strip mode), the rest is split at
// "SLIMAGE-LAYER" into up to four layer blobs (plain, gzip or zstd tar; the
// decoder detects which). Each layer's diff_id is the digest of what it
// decodes to, so the merge sees the fuzz bytes, not a diff_id mismatch.
// Seeds: scripts/fuzz.sh (seed pipeline_fuzz).
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "slimage/deps/resolver.h"
#include "slimage/image/image.h"
#include "slimage/layer/compression.h"
#include "slimage/plan/plan.h"
#include "slimage/plan/profile.h"
#include "slimage/rewrite/image_writer.h"
#include "slimage/rewrite/layer_writer.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"
#include "slimage/util/io.h"

#include "../unit/memory_source.h"
#include "fuzz_budgets.h"

using namespace slimage;
using test::MemorySource;

namespace {

constexpr std::string_view kSeparator = "SLIMAGE-LAYER";
constexpr size_t kMaxLayers = 4;
constexpr uint64_t kMaxDecoded = 16 << 20;

// What the blob decodes to (capped), for its diff_id; the raw bytes' digest
// when it does not decode (the spill then reports the layer, as it should).
std::string diff_id_of(const std::string& blob) {
  try {
    auto in = open_decoder(std::make_unique<MemoryReader>(std::string_view(blob)), kMaxDecoded);
    Sha256 hash;
    char buf[65536];
    while (size_t n = in->read(buf, sizeof buf)) hash.update(buf, n);
    return hash.digest();
  } catch (const Error&) {
    return sha256_digest(blob);
  }
}

std::vector<std::string> split_layers(std::string_view rest) {
  std::vector<std::string> out;
  while (out.size() + 1 < kMaxLayers) {
    size_t at = rest.find(kSeparator);
    if (at == std::string_view::npos) break;
    out.emplace_back(rest.substr(0, at));
    rest.remove_prefix(at + kSeparator.size());
  }
  out.emplace_back(rest);
  return out;
}

const Profile& default_profile() {
  static const Profile p = load_profile("default");
  return p;
}

void run(const uint8_t* data, size_t size) {
  if (size == 0) return;
  const uint8_t flags = data[0];
  MemorySource source;
  ImageManifest image;
  nlohmann::json diff_ids = nlohmann::json::array();
  for (std::string& blob : split_layers(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1))) {
    std::string diff_id = diff_id_of(blob);
    image.layers.push_back(source.add(std::move(blob)));
    image.diff_ids.push_back(diff_id);
    diff_ids.push_back(diff_id);
  }
  static const std::vector<std::vector<std::string>> kEntrypoints = {
      {"/bin/ok"}, {"/bin/sh", "-c", "exec /usr/bin/app"}, {}, {"/usr/bin/python3", "app.py"}};
  ImageRuntime runtime;
  runtime.entrypoint = kEntrypoints[(flags >> 3) & 3];
  runtime.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LD_LIBRARY_PATH=/opt/lib"};
  image.config = {{"architecture", "amd64"},
                  {"os", "linux"},
                  {"config", {{"Entrypoint", runtime.entrypoint}, {"Env", runtime.env}}},
                  {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  image.config_descriptor.media_type = media_type::kOciConfig;
  image.manifest = {{"schemaVersion", 2}, {"mediaType", media_type::kOciManifest}};

  TempDir scratch(scratch_parent(), "slimage-fuzz-");
  std::vector<std::unique_ptr<SpilledLayer>> spilled;
  SpillLimits limits;
  limits.max_layer_bytes = kMaxDecoded;
  for (size_t i = 0; i < image.layers.size(); ++i)
    spilled.push_back(spill_layer(source, image.layers[i], image.diff_ids[i], scratch.path(), i, limits));
  Diagnostics diagnostics;
  MergedFs fs(std::move(spilled), diagnostics);

  PlanOptions plan_options;
  plan_options.profile = default_profile();
  plan_options.jobs = 1;
  plan_options.facts = make_elf_facts();
  if (flags & 0x20) plan_options.strip = StripMode::Debug;
  Plan plan = build_plan(fs, runtime, plan_options, diagnostics);

  WriteOptions write;
  write.layers = (flags & 1) ? LayerMode::Squash : LayerMode::Keep;
  static constexpr Compression kCompressions[] = {Compression::Gzip, Compression::Zstd,
                                                  Compression::None, Compression::Gzip};
  write.encoder.compression = kCompressions[(flags >> 1) & 3];
  write.encoder.jobs = 1;
  write.encoder.level = 1;
  write.strip = plan_options.strip.value_or(plan.profile.strip);
  write.source_date_epoch = 0;
  TempDir staging(scratch_parent(), "slimage-fuzz-out-");
  auto layers = write_layers(fs, plan, write, staging.path());
  RewrittenImage out = rewrite_image(image, layers, write, "slimage fuzz");
  // The new config must name one diff_id per written layer.
  auto config = nlohmann::json::parse(out.config_bytes);
  if (config["rootfs"]["diff_ids"].size() != out.layers.size()) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  slimage::fuzz::use_small_budgets();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    run(data, size);
  } catch (const Error&) {
  }
  return 0;
}
