// The gate's metrics and verdicts (include/slimage/report/gate.h).
// Wasted bytes are the copies an upper layer hides — the bytes a pull
// downloads and the container never sees — computed from the merge itself
// (MergedFs::entry_visible), so overwrites, whiteouts, opaque directories
// and a path written twice in one layer count alike. dive counts every copy
// of a path seen in two layers, the one the image keeps included, and a
// deleted file's whiteout as 0 bytes; its efficiency divides the smallest
// copy, not the kept one, by all copies. Comparisons follow dive's code:
// lowestEfficiency fails below the threshold, the "highest" rules above it.
#include <algorithm>
#include <cstdio>
#include <map>

#include "slimage/report/gate.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

void add_layer_entries(const MergedFs& fs, size_t index, bool user, GateMetrics& m,
                       std::map<std::string, WastedPath>* paths) {
  const SpilledLayer& layer = *fs.layers()[index];
  for (auto& e : layer.entries) {
    if (e.kind != LayerEntry::Kind::File || e.type != TarType::Regular) continue;
    m.layer_bytes += e.size;
    if (user) m.user_bytes += e.size;
    bool hidden = !fs.entry_visible(index, e);
    if (hidden) m.wasted_bytes += e.size;
    if (paths) {
      WastedPath& p = (*paths)[e.path];
      p.copies++;
      if (hidden) p.bytes += e.size;
    }
  }
}

void keep_largest(std::map<std::string, WastedPath>& paths, GateMetrics& m) {
  for (auto& [path, p] : paths)
    if (p.bytes > 0) m.wasted_paths.push_back({"/" + path, p.copies, p.bytes});
  std::sort(m.wasted_paths.begin(), m.wasted_paths.end(), [](const WastedPath& a, const WastedPath& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.path < b.path;
  });
  if (m.wasted_paths.size() > 10) m.wasted_paths.resize(10);
}

// Content bytes a kept node is written with (stripped, edited, or none for a link).
uint64_t kept_bytes(const Plan& plan, const Node& n) {
  const Action* a = plan.find(n.path);
  if (!a) return n.size;
  switch (a->fate) {
    case Fate::Drop:
    case Fate::Link: return 0;
    case Fate::Strip: return a->bytes_after;
    default: return plan.replacement(n.path) ? a->bytes_after : n.size;
  }
}

std::string bytes_text(uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + human_bytes(bytes) + ")";
}

std::string ratio_text(double ratio) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", ratio);
  return buf;
}

GateVerdict verdict(const GateRule& rule, bool failed, const std::string& value, const std::string& op_fail,
                    const std::string& op_pass, const std::string& threshold) {
  GateVerdict v{rule.key, failed ? GateVerdict::Status::Fail : GateVerdict::Status::Pass, ""};
  v.line = std::string(failed ? "FAIL " : "PASS ") + rule.key + ": " + value + " " + (failed ? op_fail : op_pass) +
           " " + threshold;
  return v;
}

const char* status_name(GateVerdict::Status s) {
  switch (s) {
    case GateVerdict::Status::Pass: return "pass";
    case GateVerdict::Status::Fail: return "fail";
    case GateVerdict::Status::Disabled: return "disabled";
    case GateVerdict::Status::NotApplicable: return "not_applicable";
  }
  return "";
}

}  // namespace

double GateMetrics::efficiency() const {
  return layer_bytes == 0 ? 1.0 : static_cast<double>(layer_bytes - wasted_bytes) / static_cast<double>(layer_bytes);
}

double GateMetrics::user_wasted_ratio() const {
  return user_bytes == 0 ? 0.0 : static_cast<double>(wasted_bytes) / static_cast<double>(user_bytes);
}

std::optional<double> GateMetrics::reduction() const {
  if (!before_bytes || !after_bytes) return std::nullopt;
  if (*before_bytes == 0) return 0.0;
  return 1.0 - static_cast<double>(*after_bytes) / static_cast<double>(*before_bytes);
}

GateMetrics measure_image(const MergedFs& fs, uint64_t compressed_bytes) {
  GateMetrics m;
  m.compressed_bytes = compressed_bytes;
  m.layers = fs.layers().size();
  std::map<std::string, WastedPath> paths;
  for (size_t i = 0; i < fs.layers().size(); i++) add_layer_entries(fs, i, i > 0, m, &paths);
  keep_largest(paths, m);
  return m;
}

GateMetrics measure_slimmed(const MergedFs& fs, const Plan& plan, const std::vector<GateOutputLayer>& layers,
                            bool squash, uint64_t before_bytes, uint64_t after_bytes) {
  // A rewritten layer holds the kept files its source layer shows in the
  // merge (squash: all of them), and nothing hidden.
  std::vector<uint64_t> kept(fs.layers().size() + 1, 0);
  fs.for_each([&](const Node& n) {
    if (n.path.empty() || n.type != FileType::Regular) return;
    kept[squash ? 0 : std::min<size_t>(n.layer, fs.layers().size())] += kept_bytes(plan, n);
  });
  GateMetrics m;
  m.layers = layers.size();
  m.before_bytes = before_bytes;
  m.after_bytes = after_bytes;
  std::map<std::string, WastedPath> paths;
  for (size_t k = 0; k < layers.size(); k++) {
    const GateOutputLayer& l = layers[k];
    m.compressed_bytes += l.compressed_bytes;
    if (l.reused) {
      add_layer_entries(fs, l.source_index, k > 0, m, &paths);
    } else {
      uint64_t bytes = kept[std::min(l.source_index, fs.layers().size())];
      m.layer_bytes += bytes;
      if (k > 0) m.user_bytes += bytes;
    }
  }
  keep_largest(paths, m);
  return m;
}

bool GateResult::passed() const {
  return std::none_of(verdicts.begin(), verdicts.end(),
                      [](const GateVerdict& v) { return v.status == GateVerdict::Status::Fail; });
}

GateResult evaluate_gate(const GateRules& rules, const GateMetrics& m) {
  GateResult result;
  for (const GateRule& r : rules) {
    if (!r.enabled) {
      result.verdicts.push_back({r.key, GateVerdict::Status::Disabled, "SKIP " + r.key + ": disabled"});
      continue;
    }
    if (r.key == "lowestEfficiency") {
      double e = m.efficiency();
      result.verdicts.push_back(verdict(r, r.ratio > e, ratio_text(e), "<", ">=", r.text));
    } else if (r.key == "highestWastedBytes") {
      std::string threshold = r.text + " (" + std::to_string(r.bytes) + " bytes)";
      result.verdicts.push_back(verdict(r, m.wasted_bytes > r.bytes, bytes_text(m.wasted_bytes), ">", "<=", threshold));
    } else if (r.key == "highestUserWastedPercent") {
      double u = m.user_wasted_ratio();
      result.verdicts.push_back(verdict(r, u > r.ratio, ratio_text(u), ">", "<=", r.text));
    } else if (r.key == "largestImage") {
      std::string threshold = r.text + " (" + std::to_string(r.bytes) + " bytes)";
      result.verdicts.push_back(
          verdict(r, m.compressed_bytes > r.bytes, bytes_text(m.compressed_bytes) + " compressed", ">", "<=", threshold));
    } else if (r.key == "leastReduction") {
      if (auto red = m.reduction())
        result.verdicts.push_back(verdict(r, *red < r.ratio, ratio_text(*red), "<", ">=", r.text));
      else
        result.verdicts.push_back({r.key, GateVerdict::Status::NotApplicable,
                                   "SKIP " + r.key + ": only slim --check has a reduction"});
    }
  }
  return result;
}

std::string gate_metrics_text(const GateMetrics& m) {
  std::string out;
  out += "  efficiency          " + ratio_text(m.efficiency()) + "\n";
  out += "  wastedBytes         " + bytes_text(m.wasted_bytes) + " of " + bytes_text(m.layer_bytes) + " in " +
         std::to_string(m.layers) + " layers\n";
  out += "  userWastedPercent   " + ratio_text(m.user_wasted_ratio()) + " (of " + bytes_text(m.user_bytes) +
         " above the first layer)\n";
  out += "  compressed          " + bytes_text(m.compressed_bytes) + "\n";
  if (auto red = m.reduction())
    out += "  reduction           " + ratio_text(*red) + " (" + bytes_text(*m.before_bytes) + " -> " +
           bytes_text(*m.after_bytes) + ")\n";
  for (auto& p : m.wasted_paths)
    out += "  wasted " + human_bytes(p.bytes) + " in " + std::to_string(p.copies) + " copies: " + p.path + "\n";
  return out;
}

nlohmann::json gate_json(const GateRules& rules, const GateMetrics& m, const GateResult& result) {
  nlohmann::json metrics = {{"efficiency", m.efficiency()},
                            {"layer_bytes", m.layer_bytes},
                            {"wasted_bytes", m.wasted_bytes},
                            {"user_bytes", m.user_bytes},
                            {"user_wasted_ratio", m.user_wasted_ratio()},
                            {"compressed_bytes", m.compressed_bytes},
                            {"layers", m.layers}};
  if (auto red = m.reduction()) {
    metrics["before_bytes"] = *m.before_bytes;
    metrics["after_bytes"] = *m.after_bytes;
    metrics["reduction"] = *red;
  }
  nlohmann::json paths = nlohmann::json::array();
  for (auto& p : m.wasted_paths) paths.push_back({{"path", p.path}, {"copies", p.copies}, {"wasted_bytes", p.bytes}});
  metrics["wasted_paths"] = paths;
  nlohmann::json out_rules = nlohmann::json::array();
  for (size_t i = 0; i < rules.size() && i < result.verdicts.size(); i++) {
    nlohmann::json r = {{"key", rules[i].key}, {"status", status_name(result.verdicts[i].status)},
                        {"threshold", rules[i].text}, {"line", result.verdicts[i].line}};
    if (rules[i].enabled) {
      if (rules[i].kind == GateRule::Kind::Bytes) r["threshold_bytes"] = rules[i].bytes;
      else r["threshold_ratio"] = rules[i].ratio;
    }
    out_rules.push_back(r);
  }
  return {{"passed", result.passed()}, {"metrics", metrics}, {"rules", out_rules}};
}

}  // namespace slimage
