// `slimage check SRC`: the CI gate on an image as it is — dive's rules
// (lowestEfficiency, highestWastedBytes, highestUserWastedPercent, from
// --ci-config's .dive-ci or the flags) and largestImage, per platform.
// Exit 5 (kExitGateFailed) when a rule fails; `slim --check` shares the
// output (src/cli/slim.cpp).
#include <cstdio>

#include "gate_output.h"
#include "session.h"
#include "slimage/report/report.h"

namespace slimage {

std::string gate_report_text(const GateReport& gate, const std::string& image) {
  std::string out = "check " + image + " (" + gate.platform + ")\n" + gate_metrics_text(gate.metrics);
  for (auto& v : gate.result.verdicts) out += v.line + "\n";
  return out;
}

std::string gate_verdict_text(const std::vector<GateReport>& gates) {
  size_t failed = 0, passed = 0, skipped = 0;
  for (auto& g : gates)
    for (auto& v : g.result.verdicts)
      (v.status == GateVerdict::Status::Fail   ? failed
       : v.status == GateVerdict::Status::Pass ? passed
                                               : skipped)++;
  return std::string("gate: ") + (failed ? "FAIL" : "PASS") + " (" + std::to_string(failed) + " failed, " +
         std::to_string(passed) + " passed, " + std::to_string(skipped) + " skipped)\n";
}

nlohmann::json gate_report_json(const GateReport& gate, const std::string& image) {
  nlohmann::json j = gate_json(gate.rules, gate.metrics, gate.result);
  j["image"] = image;
  j["platform"] = gate.platform;
  return j;
}

int run_check(const Command& cmd) {
  Progress progress(cmd.common.quiet || cmd.common.json);
  Stages stages(progress);
  GateRules rules = gate_rules(cmd.slim.gate.config, cmd.slim.gate.flags);
  stages.begin("open");
  auto source = open_source(parse_image_ref(cmd.source), cmd.common.transport);
  std::vector<ImageManifest> images = load_images(*source, platform_option(cmd.common));
  stages.end(source->name());
  std::vector<GateReport> gates;
  nlohmann::json all = nlohmann::json::array();
  for (auto& image : images) {
    auto loaded = load_fs(*source, image, cmd.common.jobs, stages);
    uint64_t compressed = 0;
    for (auto& l : image.layers) compressed += static_cast<uint64_t>(l.size);
    GateReport gate{image.platform.to_string(), rules, measure_image(*loaded->fs, compressed), {}};
    gate.result = evaluate_gate(gate.rules, gate.metrics);
    if (cmd.common.json) all.push_back(gate_report_json(gate, source->name()));
    else std::fputs(gate_report_text(gate, source->name()).c_str(), stdout);
    print_diagnostics(loaded->diagnostics.items(), false);
    gates.push_back(std::move(gate));
  }
  if (cmd.common.json) std::printf("%s\n", json_text(all.size() == 1 ? all[0] : all).c_str());
  else std::fputs(gate_verdict_text(gates).c_str(), stdout);
  for (auto& g : gates)
    if (!g.result.passed()) return kExitGateFailed;
  return kExitOk;
}

}  // namespace slimage
