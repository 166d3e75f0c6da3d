// Summary and the end-of-run table (see include/slimage/report/report.h).
// The invariant holds by construction: each content's bytes sit on exactly
// one action (plan/strip_pass.cpp), and every action is either removed, kept
// whole, or kept stripped.
#include <cstdio>
#include <sstream>

#include "slimage/report/report.h"

namespace slimage {


Summary summarize(const Plan& plan) {
  Summary s;
  for (auto& [path, a] : plan.actions) {
    if (path.empty()) continue;
    bool file = a.type != FileType::Directory;
    s.before.bytes += a.bytes;
    s.before.files += file;
    if (a.fate == Fate::Drop) {
      auto& r = s.removed_by_reason[reason_kind_name(a.kind)];
      r.first += file;
      r.second += a.bytes;
      continue;
    }
    s.after.files += file;
    if (a.fate == Fate::Link) {  // its own strip savings stay "stripped"
      s.after.bytes += a.bytes_after;
      s.dedupe_saved_bytes += a.bytes_deduped;
      s.strip_saved_bytes += a.bytes - a.bytes_after - a.bytes_deduped;
      if (a.bytes > 0) ++s.deduped_files;
    } else if (a.fate == Fate::Strip) {
      s.after.bytes += a.bytes_after;
      s.strip_saved_bytes += a.bytes - a.bytes_after;
      if (a.bytes > 0) ++s.stripped_files;
    } else if (plan.replacement(path)) {  // a package database edited to match
      s.after.bytes += a.bytes_after;
      s.package_db_saved_bytes += a.bytes - a.bytes_after;
    } else {
      s.after.bytes += a.bytes;
    }
  }
  summarize_gpu(plan, s);
  return s;
}

std::string summary_text(const Summary& s) {
  std::ostringstream out;
  char line[160];
  auto row = [&](const char* what, const std::string& before, const std::string& after) {
    snprintf(line, sizeof line, "  %-18s %14s %14s\n", what, before.c_str(), after.c_str());
    out << line;
  };
  row("", "before", "after");
  row("files", std::to_string(s.before.files), std::to_string(s.after.files));
  row("bytes", human_bytes(s.before.bytes), human_bytes(s.after.bytes));
  if (s.before.compressed_bytes || s.after.compressed_bytes)
    row("compressed", human_bytes(s.before.compressed_bytes), human_bytes(s.after.compressed_bytes));
  if (s.before.layers || s.after.layers)
    row("layers", std::to_string(s.before.layers), std::to_string(s.after.layers));
  out << "  saved by reason:\n";
  // "    tests              1 file        2.0 KB": one line per reason.
  auto reason = [&](const std::string& what, uint64_t files, uint64_t bytes) {
    snprintf(line, sizeof line, "    %-18s %8llu %-5s %12s\n", what.c_str(), static_cast<unsigned long long>(files),
             files == 1 ? "file" : "files", human_bytes(bytes).c_str());
    out << line;
  };
  for (auto& [kind, r] : s.removed_by_reason) {
    if (r.first == 0 && r.second == 0) continue;  // e.g. only empty directories
    reason(kind, r.first, r.second);
  }
  if (s.stripped_files) reason("stripped", s.stripped_files, s.strip_saved_bytes);
  if (s.deduped_files) reason("dedupe", s.deduped_files, s.dedupe_saved_bytes);
  uint64_t saved = s.before.bytes - std::min(s.before.bytes, s.after.bytes);
  double pct = s.before.bytes ? 100.0 * saved / s.before.bytes : 0;
  snprintf(line, sizeof line, "  saved %s (%.1f%%)\n", human_bytes(saved).c_str(), pct);
  out << line;
  out << gpu_summary_text(s);
  if (s.scratch_peak_bytes || s.peak_rss_bytes) {
    snprintf(line, sizeof line, "  scratch peak %s, peak RSS %s (%s)\n", human_bytes(s.scratch_peak_bytes).c_str(),
             human_bytes(s.peak_rss_bytes).c_str(), s.peak_rss_stage.empty() ? "-" : s.peak_rss_stage.c_str());
    out << line;
  }
  if (!s.scratch_mode.empty()) out << "  scratch: " << s.scratch_mode << "\n";
  return out.str();
}

std::string json_text(const nlohmann::json& j) {
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace slimage
