// `slimage slim SRC DST`: runs the pipeline (src/slim/pipeline.cpp) once,
// shows its stages on stderr, prints the refusal or the summary, writes
// --report (FILE, or - for stdout), --html and --sbom, and picks the exit code.
#include <cstdio>

#include "gate_output.h"
#include "session.h"
#include "slimage/report/html.h"
#include "slimage/report/sbom.h"
#include "slimage/util/file.h"

namespace slimage {

int run_slim(const Command& cmd) {
  Progress progress(cmd.common.quiet);
  SlimResult result = slim(cmd.slim, slim_context(cmd.common), progress);
  if (result.refusal) return print_refusal(*result.refusal, cmd.common.quiet);
  // --report -: stdout carries only the JSON; the summary goes to stderr.
  const bool report_to_stdout = cmd.slim.report == "-";
  for (auto& s : result.summaries) std::fputs(summary_text(s).c_str(), report_to_stdout ? stderr : stdout);
  // --check passed: its lines after the summary, its numbers in the report.
  if (!result.gates.empty()) {
    std::string text;
    nlohmann::json gates = nlohmann::json::array();
    for (auto& g : result.gates) {
      text += gate_report_text(g, cmd.slim.destination);
      gates.push_back(gate_report_json(g, cmd.slim.destination));
    }
    std::fputs((text + gate_verdict_text(result.gates)).c_str(), report_to_stdout ? stderr : stdout);
    result.report["gate"] = gates.size() == 1 ? gates[0] : gates;
  }
  if (report_to_stdout) std::fputs((result.report.dump(2) + "\n").c_str(), stdout);
  else if (!cmd.slim.report.empty()) write_file_atomic(cmd.slim.report, result.report.dump(2) + "\n");
  if (!cmd.slim.html.empty()) write_file_atomic(cmd.slim.html, render_html_report(result.report));
  // --sbom: after the commit, like --report (the format was checked at the door).
  if (!cmd.slim.sbom.empty()) {
    write_file_atomic(cmd.slim.sbom, render_sbom(result.sbom, sbom_format_of(cmd.slim.sbom_format, cmd.slim.sbom)));
  }
  return kExitOk;
}

}  // namespace slimage
