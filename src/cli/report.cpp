// `slimage report REPORT.json [--json] [--html FILE]`: a report written by
// `slim --report` read back without the image — its summary table (as slim
// printed it), the JSON itself, or the HTML page (src/report/html.cpp).
#include <cstdio>

#include "slimage/cli/options.h"
#include "slimage/report/html.h"
#include "slimage/report/report.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"

namespace slimage {

namespace {

ImageStats stats_from(const nlohmann::json& j) {
  ImageStats s;
  s.files = j.at("files").get<uint64_t>();
  s.bytes = j.at("bytes").get<uint64_t>();
  s.compressed_bytes = j.value("compressed_bytes", uint64_t(0));
  s.layers = j.value("layers", size_t(0));
  return s;
}

// The Summary slim printed, from one image's report.
Summary summary_from(const nlohmann::json& r) {
  Summary s;
  s.before = stats_from(r.at("before"));
  s.after = stats_from(r.at("after"));
  for (auto& [kind, v] : r.at("removed").items())
    s.removed_by_reason[kind] = {v.at("files").get<uint64_t>(), v.at("bytes").get<uint64_t>()};
  s.stripped_files = r.at("stripped").at("files").get<uint64_t>();
  s.strip_saved_bytes = r.at("stripped").at("bytes_saved").get<uint64_t>();
  s.deduped_files = r.at("deduped").at("files").get<uint64_t>();
  s.dedupe_saved_bytes = r.at("deduped").at("bytes_saved").get<uint64_t>();
  if (r.contains("gpu_code")) {
    const auto& g = r.at("gpu_code");
    s.gpu_selection = g.at("cuda_arch").get<std::string>();
    s.gpu_libraries = g.at("libraries").get<uint64_t>();
    s.gpu_bytes_before = g.at("bytes_before").get<uint64_t>();
    s.gpu_bytes_after = g.at("bytes_after").get<uint64_t>();
    for (auto& [lib, l] : g.at("by_library").items())
      s.gpu_pruned_libraries += l.value("containers_pruned", uint64_t(0)) > 0;
  }
  return s;
}

std::string summary_text_of(const nlohmann::json& report) {
  if (!report.contains("images")) return summary_text(summary_from(report));
  std::string out;
  for (auto& image : report.at("images"))
    out += image.value("platform", "") + ":\n" + summary_text(summary_from(image));
  return out;
}

}  // namespace

int run_report(const Command& cmd) {
  const std::string& path = cmd.source;
  nlohmann::json report = nlohmann::json::parse(read_file(path), nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) fail_at(path, "not JSON");
  with_location(path, [&] {
    // Everything is checked before anything is written or printed.
    std::string html = cmd.slim.html.empty() ? "" : render_html_report(report);
    std::string text;
    if (!cmd.common.json) {
      try {
        text = summary_text_of(report);
      } catch (const nlohmann::json::exception& e) {
        fail(std::string("not a slimage report: ") + e.what());
      }
    }
    if (!html.empty()) write_file_atomic(cmd.slim.html, html);
    if (cmd.common.json) std::printf("%s\n", json_text(report).c_str());
    else std::fputs(text.c_str(), stdout);
    return 0;
  });
  return kExitOk;
}

}  // namespace slimage
