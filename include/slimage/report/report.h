// Reports: what a plan does and what a run saved, as JSON and as text. Every
// byte is accounted for (bloaty's rule):
//   before.bytes == after.bytes + Σ removed_by_reason bytes + strip_saved_bytes
//                   + dedupe_saved_bytes + package_db_saved_bytes
// where bytes count regular-file content, a hardlinked content once.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "slimage/plan/plan.h"
#include "slimage/util/strings.h"

namespace slimage {

struct ImageStats {
  uint64_t files = 0;             // non-directory entries (files, symlinks, hardlinks, devices)
  uint64_t bytes = 0;             // regular-file content, hardlinked content once
  uint64_t compressed_bytes = 0;  // layer blobs; filled by the caller
  size_t layers = 0;              // filled by the caller
};

struct Summary {
  ImageStats before, after;
  std::map<std::string, std::pair<uint64_t, uint64_t>> removed_by_reason;  // kind name -> files, bytes
  uint64_t stripped_files = 0, strip_saved_bytes = 0;
  uint64_t deduped_files = 0, dedupe_saved_bytes = 0;  // written as links (Fate::Link)
  uint64_t package_db_saved_bytes = 0;  // package database files edited to match (lines trimmed)
  // --cuda-arch: GPU code in kept libraries (files keep their length; the
  // freed bytes are zeros, which shrinks the compressed layers only).
  std::string gpu_selection;  // "" without --cuda-arch
  uint64_t gpu_libraries = 0, gpu_pruned_libraries = 0, gpu_bytes_before = 0, gpu_bytes_after = 0;
  // What the run cost (slim only; 0 / "" where unknown): scratch bytes at
  // their peak (util/scratch_meter.h), peak RSS and the stage that raised it.
  uint64_t scratch_peak_bytes = 0, peak_rss_bytes = 0;
  std::string scratch_mode;  // "" (normal) or "low-disk mode: why"
  std::string peak_rss_stage;
};

// Fills removed/stripped and before/after files and bytes from the plan.
Summary summarize(const Plan& plan);

// Every non-Keep action ({path, fate, kind, reason, bytes, bytes_after}),
// as `plan --json` and the `--report` JSON list them.
nlohmann::json actions_json(const Plan& plan);

// `slimage plan --json`: every non-Keep action, counts per reason, the
// graph's missing libraries and warnings.
nlohmann::json plan_json(const Plan& plan);

// Human: actions grouped by reason, largest first, with sizes; a dropped
// directory is listed once with the total below it.
std::string plan_text(const Plan& plan);

// Package databases edited to match (plan/pkgdb.cpp): the report's
// "package_db" object (packages removed; packages "listed, files removed",
// with the package that keeps them), and plan_text's lines about it.
nlohmann::json package_db_json(const Plan& plan);
std::string package_db_text(const Plan& plan);

// The run's report: the summary, the plan's counts, `extra` (source,
// destination, timings…) merged in last.
nlohmann::json report_json(const Summary& summary, const Plan& plan, const nlohmann::json& extra);

// JSON text as slimage prints and writes it (reports, --json, SBOMs): two-space
// indent. Tar paths may hold any bytes; a byte that is not UTF-8 comes out as
// U+FFFD rather than failing the run after the image was written.
std::string json_text(const nlohmann::json& j);

// The table `slimage slim` prints at the end.
std::string summary_text(const Summary& summary);

// --cuda-arch (src/report/gpu_report.cpp): the Summary's gpu_* fields, the
// report's "gpu_code" object (per library, GPU bytes before/after by SM and
// kind), and the summary's lines about it.
void summarize_gpu(const Plan& plan, Summary& summary);
nlohmann::json gpu_code_json(const Plan& plan);
std::string gpu_summary_text(const Summary& summary);
std::string gpu_plan_text(const Plan& plan);  // `slimage plan`: each library's GPU bytes


}  // namespace slimage
