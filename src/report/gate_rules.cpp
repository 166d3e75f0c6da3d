// The gate's rules (include/slimage/report/gate.h): dive's `.dive-ci` keys
// and value forms, read as dive reads them (wagoodman/dive
// cmd/dive/cli/internal/command/ci/rules.go): "disabled", "off", "false" or
// an empty value turn a rule off; ratios are 0-1; sizes are go-humanize's
// ParseBytes (SI "MB" = 10^6, IEC "MiB" = 2^20, case-insensitive, so dive's
// "20Mb" is 20 MB). YAML through libyaml-cpp (a .dive-ci is YAML); a file
// whose first character is `{` is JSON.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "slimage/report/gate.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

struct KeyInfo {
  const char* key;
  const char* kebab;  // dive's newer config names, also our flags
  GateRule::Kind kind;
  const char* default_value;
};

const KeyInfo kKeys[] = {
    {"lowestEfficiency", "lowest-efficiency", GateRule::Kind::Ratio, "0.9"},
    {"highestWastedBytes", "highest-wasted-bytes", GateRule::Kind::Bytes, "disabled"},
    {"highestUserWastedPercent", "highest-user-wasted-percent", GateRule::Kind::Ratio, "0.1"},
    {"largestImage", "largest-image", GateRule::Kind::Bytes, "disabled"},
    {"leastReduction", "least-reduction", GateRule::Kind::Ratio, "disabled"},
};

std::string trimmed(const std::string& text) {
  size_t b = text.find_first_not_of(" \t"), e = text.find_last_not_of(" \t");
  return b == std::string::npos ? "" : text.substr(b, e - b + 1);
}

std::string lower_trimmed(const std::string& text) {
  std::string out = trimmed(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool disabled_value(const std::string& text) {
  std::string v = lower_trimmed(text);
  return v.empty() || v == "disabled" || v == "off" || v == "false";
}

// A decimal number, all of `text` ("0.95", "12", "1.5"); nullopt otherwise.
std::optional<double> plain_number(const std::string& text) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return std::nullopt;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (*end != '\0' || !std::isfinite(v)) return std::nullopt;
  return v;
}

const KeyInfo* find_key(const std::string& key) {
  for (auto& k : kKeys)
    if (key == k.key || key == k.kebab) return &k;
  return nullptr;
}

std::string unknown_key_message(const std::string& key) {
  std::vector<std::string> names;
  for (auto& k : kKeys) names.push_back(k.key), names.push_back(k.kebab);
  std::string near = closest_word(key, names);
  std::string known;
  for (auto& k : kKeys) known += (known.empty() ? "" : ", ") + std::string(k.key);
  return key + ": unknown rule" + (near.empty() ? " (rules: " + known + ")" : "; did you mean " + near + "?");
}

// A YAML scalar or JSON value as the text dive would have read.
std::string json_scalar(const nlohmann::json& v, const std::string& where) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  fail(where + ": expected a value, not " + std::string(v.type_name()));
}

void apply_rule(GateRules& rules, const std::string& key, const std::string& value, const std::string& where) {
  try {
    set_gate_rule(rules, key, value);
  } catch (const Error& e) {
    fail(where + "rules." + e.what());
  }
}

void parse_json_config(GateRules& rules, const std::string& text, const std::string& where) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(where + ": not valid JSON: " + e.what());
  }
  if (!doc.is_object()) fail(where + ": expected an object with \"rules\"");
  for (auto& [key, value] : doc.items()) {
    if (key != "rules") {
      std::string near = closest_word(key, {"rules"});
      fail(where + ": " + key + ": unknown key" + (near.empty() ? " (expected rules)" : "; did you mean rules?"));
    }
    if (value.is_null()) continue;
    if (!value.is_object()) fail(where + ": rules: expected an object");
    for (auto& [rule, v] : value.items()) apply_rule(rules, rule, json_scalar(v, where + ": rules." + rule), where + ": ");
  }
}

void parse_yaml_config(GateRules& rules, const std::string& text, const std::string& where) {
  YAML::Node doc;
  try {
    doc = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    fail(where + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
  if (doc.IsNull()) return;  // an empty file: the defaults
  if (!doc.IsMap()) fail(where + ": expected a mapping with rules:");
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    std::string key = it->first.as<std::string>();
    if (key != "rules") {
      std::string near = closest_word(key, {"rules"});
      fail(where + ": " + key + ": unknown key" + (near.empty() ? " (expected rules)" : "; did you mean rules?"));
    }
    const YAML::Node value = it->second;  // a handle: it->second is a temporary proxy
    if (value.IsNull()) continue;
    if (!value.IsMap()) fail(where + ": rules: expected a mapping");
    for (auto r = value.begin(); r != value.end(); ++r) {
      std::string rule = r->first.as<std::string>();
      if (!r->second.IsNull() && !r->second.IsScalar()) fail(where + ": rules." + rule + ": expected a value");
      apply_rule(rules, rule, r->second.IsNull() ? "" : r->second.as<std::string>(), where + ": ");
    }
  }
}

}  // namespace

GateRules gate_defaults() {
  GateRules rules;
  for (auto& k : kKeys) {
    GateRule r;
    r.key = k.key;
    r.kind = k.kind;
    rules.push_back(r);
    set_gate_rule(rules, k.key, k.default_value);
  }
  return rules;
}

const std::vector<std::string>& gate_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (auto& k : kKeys) out.push_back(k.key);
    return out;
  }();
  return keys;
}

std::string gate_flag(const std::string& key) {
  const KeyInfo* k = find_key(key);
  return k ? std::string("--") + k->kebab : "";
}

uint64_t parse_gate_bytes(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.' || text[digits] == ','))
    digits++;
  std::string number = text.substr(0, digits);
  number.erase(std::remove(number.begin(), number.end(), ','), number.end());
  std::optional<double> value = plain_number(number);
  if (!value) fail("\"" + text + "\": not a size (e.g. 20MB, 1.5GiB, 512)");
  static const std::map<std::string, double> units = {
      {"", 1},        {"b", 1},       {"k", 1e3},     {"kb", 1e3},    {"ki", 1024.0},       {"kib", 1024.0},
      {"m", 1e6},     {"mb", 1e6},    {"mi", 1048576.0}, {"mib", 1048576.0}, {"g", 1e9}, {"gb", 1e9},
      {"gi", 1073741824.0}, {"gib", 1073741824.0}, {"t", 1e12}, {"tb", 1e12},
      {"ti", 1099511627776.0}, {"tib", 1099511627776.0}};
  auto unit = units.find(lower_trimmed(text.substr(digits)));
  if (unit == units.end())
    fail("\"" + text + "\": unknown size unit \"" + lower_trimmed(text.substr(digits)) + "\" (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  double bytes = *value * unit->second;
  if (bytes >= 18446744073709551615.0) fail("\"" + text + "\": too large");
  return static_cast<uint64_t>(bytes);
}

double parse_gate_ratio(const std::string& text) {
  std::string t = lower_trimmed(text);
  bool percent = !t.empty() && t.back() == '%';
  if (percent) t = lower_trimmed(t.substr(0, t.size() - 1));
  std::optional<double> v = plain_number(t);
  if (!v) fail("\"" + text + "\": not a ratio (0-1, e.g. 0.95) or a percentage (e.g. 95%)");
  double ratio = percent ? *v / 100 : *v;
  if (ratio < 0 || ratio > 1)
    fail("\"" + text + "\": outside 0-1" + std::string(percent ? "" : " (write a percentage as 30%)"));
  return ratio;
}

void set_gate_rule(GateRules& rules, const std::string& key, const std::string& value) {
  const KeyInfo* k = find_key(key);
  if (!k) fail(unknown_key_message(key));
  auto rule = std::find_if(rules.begin(), rules.end(), [&](const GateRule& r) { return r.key == k->key; });
  if (rule == rules.end()) fail(std::string(k->key) + ": not in this rule set");
  GateRule r = *rule;
  r.text = value;
  r.enabled = !disabled_value(value);
  if (r.enabled) {
    try {
      std::string v = trimmed(value);
      if (r.kind == GateRule::Kind::Ratio) r.ratio = parse_gate_ratio(v);
      else r.bytes = parse_gate_bytes(v);
    } catch (const Error& e) {
      fail(std::string(k->key) + ": " + e.what());
    }
  } else {
    r.text = "disabled";
  }
  *rule = r;
}

void parse_gate_config(GateRules& rules, const std::string& text, const std::string& where) {
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') parse_json_config(rules, text, where);
  else parse_yaml_config(rules, text, where);
}

void load_gate_config(GateRules& rules, const std::string& path) {
  if (!path_exists(path)) fail("--ci-config " + path + ": no such file");
  parse_gate_config(rules, read_file(path), path);
}

GateRules gate_rules(const std::string& config, const std::vector<std::pair<std::string, std::string>>& flags) {
  GateRules rules = gate_defaults();
  if (!config.empty()) load_gate_config(rules, config);
  for (auto& [key, value] : flags) {
    try {
      set_gate_rule(rules, key, value);
    } catch (const Error& e) {
      fail(gate_flag(key) + " " + value + ": " + e.what());
    }
  }
  return rules;
}

}  // namespace slimage
