// `slimage slim SRC DST`: runs the pipeline (src/slim/pipeline.cpp) once,
// shows its stages on stderr, prints the refusal or the summary (and with
// --diff, DST's diff against SRC), writes --report (FILE, or - for stdout),
// --html and --sbom, and picks the exit code.
#include <cstdio>

#include "gate_output.h"
#include "session.h"
#include "slimage/report/html.h"
#include "slimage/report/report.h"
#include "slimage/report/sbom.h"
#include "slimage/util/file.h"

namespace slimage {

namespace {

// The report's entries, one per platform: the report itself for one image,
// its "images" for several (src/slim/stages_write.cpp: finish_report).
std::vector<nlohmann::json*> image_reports(nlohmann::json& report) {
  std::vector<nlohmann::json*> out;
  if (report.contains("images") && report["images"].is_array())
    for (auto& one : report["images"]) out.push_back(&one);
  else
    out.push_back(&report);
  return out;
}

}  // namespace

int run_slim(const Command& cmd) {
  Progress progress(cmd.common.quiet);
  SlimResult result = slim(cmd.slim, slim_context(cmd.common), progress);
  if (result.refusal) return print_refusal(*result.refusal, cmd.common.quiet);
  // --diff: the written image read back and compared with the input, as
  // `slimage diff SRC DST`; each platform's report gets it as "diff".
  std::vector<ImagePairDiff> diffs;
  if (cmd.slim_diff) {
    Stages stages(progress);
    diffs = diff_images(cmd.slim.source, cmd.common.transport, cmd.slim.destination,
                        cmd.common.destination_transport, platform_option(cmd.common), cmd.common.jobs,
                        stages);
    for (auto& d : diffs)
      for (nlohmann::json* one : image_reports(result.report))
        if (one->value("platform", "") == d.platform) (*one)["diff"] = d.json;
  }
  // --report -: stdout carries only the JSON; the summary goes to stderr.
  const bool report_to_stdout = cmd.slim.report == "-";
  // A multi-platform image: one table per platform, headed by its platform.
  std::FILE* table_to = report_to_stdout ? stderr : stdout;
  std::vector<nlohmann::json*> reports = image_reports(result.report);
  for (size_t i = 0; i < result.summaries.size(); i++) {
    if (result.summaries.size() > 1 && i < reports.size())
      std::fprintf(table_to, "%s%s:\n", i ? "\n" : "", reports[i]->value("platform", "").c_str());
    std::fputs(summary_text(result.summaries[i]).c_str(), table_to);
  }
  // --check passed: its lines after the summary, its numbers in the report.
  if (!result.gates.empty()) {
    std::string text;
    nlohmann::json gates = nlohmann::json::array();
    for (auto& g : result.gates) {
      text += gate_report_text(g, cmd.slim.destination);
      gates.push_back(gate_report_json(g, cmd.slim.destination));
    }
    std::fputs((text + gate_verdict_text(result.gates)).c_str(), table_to);
    result.report["gate"] = gates.size() == 1 ? gates[0] : gates;
  }
  for (auto& d : diffs) std::fprintf(table_to, "\n%s", d.text.c_str());
  if (report_to_stdout) std::fputs((json_text(result.report) + "\n").c_str(), stdout);
  else if (!cmd.slim.report.empty()) write_file_atomic(cmd.slim.report, json_text(result.report) + "\n");
  if (!cmd.slim.html.empty()) write_file_atomic(cmd.slim.html, render_html_report(result.report));
  // --sbom: after the commit, like --report (the format was checked at the door).
  if (!cmd.slim.sbom.empty()) {
    write_file_atomic(cmd.slim.sbom, render_sbom(result.sbom, sbom_format_of(cmd.slim.sbom_format, cmd.slim.sbom)));
  }
  return kExitOk;
}

}  // namespace slimage
