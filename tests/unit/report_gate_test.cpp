// The CI gate's rules (include/slimage/report/gate.h): dive's value forms,
// "disabled", bad values and keys, .dive-ci YAML and JSON files, and the
// exact verdict lines over known metrics.
#include <doctest/doctest.h>

#include <string>

#include "slimage/report/gate.h"
#include "slimage/util/error.h"

using namespace slimage;

namespace {

const GateRule& rule(const GateRules& rules, const std::string& key) {
  for (auto& r : rules)
    if (r.key == key) return r;
  FAIL("no rule " << key);
  return rules.front();
}

std::string error_of(GateRules rules, const std::string& key, const std::string& value) {
  try {
    set_gate_rule(rules, key, value);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string config_error(const std::string& text) {
  GateRules rules = gate_defaults();
  try {
    parse_gate_config(rules, text, ".dive-ci");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("gate: sizes parse as go-humanize's ParseBytes (dive's highestWastedBytes)") {
  CHECK(parse_gate_bytes("20MB") == 20000000);
  CHECK(parse_gate_bytes("20Mb") == 20000000);  // dive's own .dive-ci writes 20Mb
  CHECK(parse_gate_bytes("20MiB") == 20971520);
  CHECK(parse_gate_bytes("1.5 GB") == 1500000000);
  CHECK(parse_gate_bytes("512") == 512);
  CHECK(parse_gate_bytes("1,024 B") == 1024);
  CHECK(parse_gate_bytes("2k") == 2000);
  CHECK(parse_gate_bytes("2ki") == 2048);
}

TEST_CASE("gate: ratios are 0-1 or a percentage") {
  CHECK(parse_gate_ratio("0.95") == doctest::Approx(0.95));
  CHECK(parse_gate_ratio("0.20") == doctest::Approx(0.2));
  CHECK(parse_gate_ratio("30%") == doctest::Approx(0.3));
  CHECK(parse_gate_ratio("1") == doctest::Approx(1.0));
  CHECK(parse_gate_ratio("0") == doctest::Approx(0.0));
}

TEST_CASE("gate: dive's defaults, and 'disabled' in every spelling dive takes") {
  GateRules rules = gate_defaults();
  CHECK(rule(rules, "lowestEfficiency").enabled);
  CHECK(rule(rules, "lowestEfficiency").ratio == doctest::Approx(0.9));
  CHECK_FALSE(rule(rules, "highestWastedBytes").enabled);
  CHECK(rule(rules, "highestUserWastedPercent").ratio == doctest::Approx(0.1));
  CHECK_FALSE(rule(rules, "largestImage").enabled);
  CHECK_FALSE(rule(rules, "leastReduction").enabled);
  for (std::string off : {"disabled", "Disabled", "off", "false", "", "  "}) {
    set_gate_rule(rules, "lowestEfficiency", off);
    CHECK_FALSE(rule(rules, "lowestEfficiency").enabled);
    CHECK(rule(rules, "lowestEfficiency").text == "disabled");
  }
  set_gate_rule(rules, "highest-wasted-bytes", "20MB");  // dive's newer kebab-case key
  CHECK(rule(rules, "highestWastedBytes").enabled);
  CHECK(rule(rules, "highestWastedBytes").bytes == 20000000);
  CHECK(rule(rules, "highestWastedBytes").text == "20MB");
}

TEST_CASE("gate: bad values and keys name the rule and the value") {
  GateRules rules = gate_defaults();
  CHECK(error_of(rules, "lowestEfficiency", "1.5") ==
        "lowestEfficiency: \"1.5\": outside 0-1 (write a percentage as 30%)");
  CHECK(error_of(rules, "lowestEfficiency", "150%") == "lowestEfficiency: \"150%\": outside 0-1");
  CHECK(error_of(rules, "highestUserWastedPercent", "-0.1") ==
        "highestUserWastedPercent: \"-0.1\": not a ratio (0-1, e.g. 0.95) or a percentage (e.g. 95%)");
  CHECK(error_of(rules, "highestWastedBytes", "20XB") ==
        "highestWastedBytes: \"20XB\": unknown size unit \"xb\" (B, kB, MB, GB, TB, KiB, MiB, GiB, TiB)");
  CHECK(error_of(rules, "largestImage", "big") == "largestImage: \"big\": not a size (e.g. 20MB, 1.5GiB, 512)");
  CHECK(error_of(rules, "highestWastedByte", "1MB") ==
        "highestWastedByte: unknown rule; did you mean highestWastedBytes?");
  CHECK(error_of(rules, "color", "red") ==
        "color: unknown rule (rules: lowestEfficiency, highestWastedBytes, highestUserWastedPercent, "
        "largestImage, leastReduction)");
}

TEST_CASE("gate: a .dive-ci is read as dive writes it; JSON the same") {
  GateRules rules = gate_defaults();
  parse_gate_config(rules,
                    "rules:\n"
                    "  # If the efficiency is measured below X%, mark as failed.\n"
                    "  lowestEfficiency: 0.95\n"
                    "  highestWastedBytes: 20MB\n"
                    "  highestUserWastedPercent: 0.20\n",
                    ".dive-ci");
  CHECK(rule(rules, "lowestEfficiency").ratio == doctest::Approx(0.95));
  CHECK(rule(rules, "highestWastedBytes").bytes == 20000000);
  CHECK(rule(rules, "highestUserWastedPercent").text == "0.20");

  GateRules json = gate_defaults();
  parse_gate_config(json, R"({"rules": {"largestImage": "2GB", "leastReduction": "30%", "lowestEfficiency": 0.5,
                              "highestUserWastedPercent": false}})",
                    "gate.json");
  CHECK(rule(json, "largestImage").bytes == 2000000000);
  CHECK(rule(json, "leastReduction").ratio == doctest::Approx(0.3));
  CHECK(rule(json, "lowestEfficiency").ratio == doctest::Approx(0.5));
  CHECK_FALSE(rule(json, "highestUserWastedPercent").enabled);
  CHECK_FALSE(rule(json, "highestWastedBytes").enabled);  // the default stays
}

TEST_CASE("gate: unknown keys in a config file are errors with a did-you-mean") {
  CHECK(config_error("rules:\n  highestWastedBytse: 20MB\n") ==
        ".dive-ci: rules.highestWastedBytse: unknown rule; did you mean highestWastedBytes?");
  CHECK(config_error("rule:\n  lowestEfficiency: 0.9\n") == ".dive-ci: rule: unknown key; did you mean rules?");
  CHECK(config_error(R"({"rules": {"lowestEfficency": 0.9}})") ==
        ".dive-ci: rules.lowestEfficency: unknown rule; did you mean lowestEfficiency?");
  CHECK(config_error("rules:\n  lowestEfficiency: 2\n") ==
        ".dive-ci: rules.lowestEfficiency: \"2\": outside 0-1 (write a percentage as 30%)");
  CHECK(config_error("rules: [1, 2]\n") == ".dive-ci: rules: expected a mapping");
}

TEST_CASE("gate: verdict lines over known metrics") {
  GateMetrics m;
  m.layer_bytes = 8 << 20;
  m.wasted_bytes = 4 << 20;  // half of it hidden
  m.user_bytes = 4 << 20;
  m.compressed_bytes = 3000000;
  m.layers = 2;
  GateRules rules = gate_defaults();
  set_gate_rule(rules, "highestWastedBytes", "1MB");
  set_gate_rule(rules, "largestImage", "3MB");
  GateResult r = evaluate_gate(rules, m);
  REQUIRE(r.verdicts.size() == 5);
  CHECK(r.verdicts[0].line == "FAIL lowestEfficiency: 0.5000 < 0.9");
  CHECK(r.verdicts[1].line == "FAIL highestWastedBytes: 4194304 bytes (4.0 MiB) > 1MB (1000000 bytes)");
  CHECK(r.verdicts[2].line == "FAIL highestUserWastedPercent: 1.0000 > 0.1");
  CHECK(r.verdicts[3].line == "PASS largestImage: 3000000 bytes (2.9 MiB) compressed <= 3MB (3000000 bytes)");
  CHECK(r.verdicts[4].line == "SKIP leastReduction: disabled");
  CHECK_FALSE(r.passed());

  set_gate_rule(rules, "leastReduction", "25%");
  m.before_bytes = 1000;
  m.after_bytes = 760;
  r = evaluate_gate(rules, m);
  CHECK(r.verdicts[4].line == "FAIL leastReduction: 0.2400 < 25%");
  m.after_bytes = 750;
  CHECK(evaluate_gate(rules, m).verdicts[4].line == "PASS leastReduction: 0.2500 >= 25%");

  GateMetrics clean;  // no layers: nothing wasted, efficiency 1
  GateRules defaults = gate_defaults();
  CHECK(evaluate_gate(defaults, clean).passed());
  CHECK(evaluate_gate(defaults, clean).verdicts[0].line == "PASS lowestEfficiency: 1.0000 >= 0.9");
}
