// How `check` and `slim --check` show a gate (src/cli/check.cpp): the
// metrics, one PASS/FAIL/SKIP line per rule, and the verdict line.
#pragma once
#include <string>
#include <vector>

#include "slimage/slim/pipeline.h"

namespace slimage {

// "check IMAGE (PLATFORM)" header, the metrics, then each rule's line.
std::string gate_report_text(const GateReport& gate, const std::string& image);
// "gate: FAIL (1 failed, 2 passed, 2 skipped)" over every platform.
std::string gate_verdict_text(const std::vector<GateReport>& gates);
// The `--json` / `--report` object of one platform's gate.
nlohmann::json gate_report_json(const GateReport& gate, const std::string& image);

}  // namespace slimage
