// The --cuda-arch part of reports (include/slimage/report/report.h): GPU code
// bytes before/after per library and by SM and kind ("sm_90 cubin",
// "compute_90 ptx"). Pruning keeps each file's length — the freed bytes are
// zeros — so it is counted apart from the before/after file bytes, whose
// invariant it leaves alone; it shows in the compressed size.
#include <algorithm>
#include <set>
#include <sstream>

#include "slimage/report/report.h"

namespace slimage {

namespace {

// Each content once (hardlinked names share one GpuLibrary).
template <typename F>
void each_library(const Plan& plan, F&& f) {
  std::set<const GpuLibrary*> seen;
  for (auto& [path, lib] : plan.gpu_libraries)
    if (seen.insert(lib.get()).second) f(path, *lib);
}

}  // namespace

void summarize_gpu(const Plan& plan, Summary& s) {
  if (!plan.gpu.active()) return;
  s.gpu_selection = plan.gpu.describe();
  each_library(plan, [&](const std::string&, const GpuLibrary& lib) {
    s.gpu_libraries++;
    uint64_t before = lib.scan.gpu_bytes();
    s.gpu_bytes_before += before;
    if (lib.error.empty() && lib.prune.changed_any()) {
      s.gpu_pruned_libraries++;
      s.gpu_bytes_after += lib.prune.after;
    } else {
      s.gpu_bytes_after += before;
    }
  });
}

nlohmann::json gpu_code_json(const Plan& plan) {
  nlohmann::json libs = nlohmann::json::object();
  uint64_t before = 0, after = 0, count = 0;
  each_library(plan, [&](const std::string& path, const GpuLibrary& lib) {
    count++;
    nlohmann::json l;
    if (!lib.error.empty()) {
      l = {{"error", lib.error}, {"bytes_before", lib.scan.gpu_bytes()}, {"bytes_after", lib.scan.gpu_bytes()}};
      before += lib.scan.gpu_bytes(), after += lib.scan.gpu_bytes();
    } else {
      nlohmann::json by = nlohmann::json::object();
      for (auto& [label, b] : lib.prune.by_label) by[label] = {{"before", b.before}, {"after", b.after}};
      l = {{"bytes_before", lib.prune.before},
           {"bytes_after", lib.prune.after},
           {"containers", lib.prune.containers},
           {"containers_pruned", lib.prune.changed},
           {"containers_left_whole", lib.prune.left_whole},
           {"by_code", by},
           {"notes", lib.prune.notes}};
      before += lib.prune.before, after += lib.prune.after;
    }
    libs[path] = l;
  });
  return {{"cuda_arch", plan.gpu.describe()},
          {"libraries", count},
          {"bytes_before", before},
          {"bytes_after", after},
          {"file_lengths_unchanged", true},
          {"by_library", libs}};
}

std::string gpu_summary_text(const Summary& s) {
  if (s.gpu_selection.empty()) return "";
  std::ostringstream out;
  out << "  GPU code (--cuda-arch " << s.gpu_selection << "): " << human_bytes(s.gpu_bytes_before)
      << " -> " << human_bytes(s.gpu_bytes_after) << " in " << s.gpu_pruned_libraries << " of "
      << s.gpu_libraries << " libraries with GPU code\n"
      << "    pruning keeps each file's length (freed GPU code becomes zeros): the bytes above\n"
      << "    do not count it; the compressed (pulled) size does\n";
  return out.str();
}

std::string gpu_plan_text(const Plan& plan) {
  if (!plan.gpu.active()) return "";
  std::vector<std::pair<uint64_t, std::string>> rows;
  uint64_t before = 0, after = 0;
  each_library(plan, [&](const std::string& path, const GpuLibrary& lib) {
    uint64_t b = lib.scan.gpu_bytes(), a = lib.error.empty() ? lib.prune.after : b;
    before += b, after += a;
    std::string what = human_bytes(b) + " -> " + human_bytes(a);
    if (!lib.error.empty()) what += " (left as is: " + lib.error + ")";
    else if (lib.prune.left_whole) what += " (" + std::to_string(lib.prune.left_whole) + " containers left whole)";
    rows.push_back({b - a, path + "  " + what});
  });
  std::sort(rows.rbegin(), rows.rend());
  std::ostringstream out;
  out << "GPU code (--cuda-arch " << plan.gpu.describe() << "): " << human_bytes(before) << " -> "
      << human_bytes(after) << " in " << rows.size()
      << " libraries; files keep their length (freed code is zeros), the compressed size shrinks\n";
  for (auto& [saved, line] : rows) out << "  " << line << "\n";
  return out.str();
}

}  // namespace slimage
