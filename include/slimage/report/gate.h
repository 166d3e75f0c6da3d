// The CI gate (`slimage check SRC`, `slimage slim --check`): rules in dive's
// words (lowestEfficiency, highestWastedBytes, highestUserWastedPercent, as
// dive's `.dive-ci` writes them) plus largestImage and leastReduction, the
// image's metrics, and each rule's verdict. No printing: the CLI shows the
// lines this returns and picks the exit code.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slimage/plan/plan.h"
#include "slimage/rootfs/merged_fs.h"

namespace slimage {

// One rule as configured. `text` is the value as the user wrote it
// ("20MB", "0.95", "30%"); disabled rules ("disabled", "off", "false", "")
// are kept so the output can say so.
struct GateRule {
  enum class Kind { Ratio, Bytes };
  std::string key;  // dive's camelCase name
  Kind kind = Kind::Ratio;
  bool enabled = false;
  std::string text;
  double ratio = 0;    // Kind::Ratio: 0..1
  uint64_t bytes = 0;  // Kind::Bytes
};

// Every rule, in a fixed order; start from gate_defaults().
using GateRules = std::vector<GateRule>;

// dive's defaults: lowestEfficiency 0.9, highestWastedBytes disabled,
// highestUserWastedPercent 0.1; slimage's largestImage and leastReduction
// disabled.
GateRules gate_defaults();

// The rule keys (camelCase) and the flag of each (--lowest-efficiency …).
const std::vector<std::string>& gate_keys();
std::string gate_flag(const std::string& key);

// Sets `key` (camelCase, or dive's newer kebab-case) from `value`. Throws
// Error naming the key and value: unknown key (with a did-you-mean), a
// ratio outside 0-1, a size go-humanize would not parse.
void set_gate_rule(GateRules& rules, const std::string& key, const std::string& value);

// go-humanize's ParseBytes, as dive reads highestWastedBytes: "20MB" =
// 20000000, "20MiB" = 20971520, "1.5 GB", "512" (bytes), case-insensitive.
uint64_t parse_gate_bytes(const std::string& text);
// A ratio 0-1 ("0.95") or a percentage ("95%").
double parse_gate_ratio(const std::string& text);

// A `.dive-ci` YAML file (or JSON: `{"rules": {...}}`) applied over `rules`.
// Throws Error "FILE: rules.highestWastedBytse: unknown rule; did you mean
// highestWastedBytes?" for anything it does not know.
void load_gate_config(GateRules& rules, const std::string& path);
// The same from text (`where` names it in errors).
void parse_gate_config(GateRules& rules, const std::string& text, const std::string& where);

// The defaults, then `config` (if not ""), then each {key, value} flag.
GateRules gate_rules(const std::string& config, const std::vector<std::pair<std::string, std::string>>& flags);

// What the rules measure. Wasted bytes: every copy of a path that an upper
// layer hides (overwrites, deletes, or empties with an opaque directory) —
// all copies minus the one the merged image shows. dive counts every copy of
// a path seen in two or more layers, the visible one included.
struct WastedPath {
  std::string path;
  uint32_t copies = 0;  // regular-file entries of this path, in all layers
  uint64_t bytes = 0;   // of those, the hidden ones
};
struct GateMetrics {
  uint64_t layer_bytes = 0;       // regular-file content in every layer, every copy
  uint64_t wasted_bytes = 0;      // of that, hidden by an upper layer
  uint64_t user_bytes = 0;        // content of the layers above the first (dive's "user" bytes)
  uint64_t compressed_bytes = 0;  // the layer blobs: what a pull downloads
  size_t layers = 0;
  // slim --check: content bytes before and after slimming (the summary's).
  std::optional<uint64_t> before_bytes, after_bytes;
  std::vector<WastedPath> wasted_paths;  // largest first, at most 10

  // (layer_bytes - wasted_bytes) / layer_bytes; 1 for an empty image.
  double efficiency() const;
  // wasted_bytes / user_bytes; 0 when no upper layer holds content.
  double user_wasted_ratio() const;
  // 1 - after/before; nullopt outside slim.
  std::optional<double> reduction() const;
};

// An image as it is: every layer's entries against the merged view.
GateMetrics measure_image(const MergedFs& fs, uint64_t compressed_bytes);

// The image slim would write, from the input, the plan and the output
// layers (in order: each reused byte for byte, or rewritten from the
// visible kept files of its source layer; `squash`: one rewritten layer).
struct GateOutputLayer {
  bool reused = false;
  size_t source_index = 0;
  uint64_t compressed_bytes = 0;
};
GateMetrics measure_slimmed(const MergedFs& fs, const Plan& plan, const std::vector<GateOutputLayer>& layers,
                            bool squash, uint64_t before_bytes, uint64_t after_bytes);

struct GateVerdict {
  std::string key;
  enum class Status { Pass, Fail, Disabled, NotApplicable } status = Status::Disabled;
  std::string line;  // "FAIL highestWastedBytes: 4194304 bytes (4.0 MiB) > 1MB (1000000 bytes)"
};
struct GateResult {
  std::vector<GateVerdict> verdicts;
  bool passed() const;
};
GateResult evaluate_gate(const GateRules& rules, const GateMetrics& metrics);

// The metrics block of the text output and the `--json` object.
std::string gate_metrics_text(const GateMetrics& metrics);
nlohmann::json gate_json(const GateRules& rules, const GateMetrics& metrics, const GateResult& result);

}  // namespace slimage
