// GPU code inventory for `slimage inspect` (src/cli/gpu_inventory.h): every
// regular ELF with fat binary sections is scanned (headers only, through the
// mapping), bytes summed per entry label ("sm_90 cubin", "compute_90 ptx").
#include "gpu_inventory.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "slimage/elf/fatbin.h"
#include "slimage/util/strings.h"
#include "slimage/util/thread_pool.h"

namespace slimage {

nlohmann::json gpu_inventory_json(const FsView& fs, unsigned jobs) {
  std::vector<const Node*> files;
  fs.for_each([&](const Node& n) {
    if (n.type == FileType::Regular && n.size > 64) files.push_back(&n);
  });
  std::mutex mu;
  std::map<std::string, uint64_t> total;
  std::vector<std::pair<uint64_t, nlohmann::json>> libs;
  std::vector<std::string> errors;
  parallel_for(files.size(), jobs ? jobs : kIoBoundJobs, [&](size_t i) {
    const Node& n = *files[i];
    auto bytes = fs.content(n);
    std::string error;
    std::optional<ElfInfo> info;
    if (is_elf(bytes)) info = parse_elf(bytes, &error);
    bool any = false;
    if (info)
      for (auto& s : info->sections) any |= s.name == ".nv_fatbin" || s.name == "__nv_relfatbin";
    if (!any) {
      fs.release(n);
      return;
    }
    FatbinScan scan = scan_fatbins(bytes, *info, false);
    fs.release(n);
    std::map<std::string, uint64_t> by;
    for (auto& c : scan.containers)
      for (auto& e : c.entries) by[e.label()] += e.size();
    std::lock_guard lock(mu);
    if (!scan.ok()) errors.push_back(n.path + ": " + scan.errors.front());
    for (auto& [k, v] : by) total[k] += v;
    libs.push_back({scan.gpu_bytes(), {{"path", n.path}, {"bytes", scan.gpu_bytes()}, {"by_code", by}}});
  });
  std::sort(libs.begin(), libs.end(), [](auto& a, auto& b) {
    return a.first != b.first ? a.first > b.first : a.second["path"] < b.second["path"];
  });
  uint64_t bytes = 0;
  for (auto& [k, v] : total) bytes += v;
  nlohmann::json largest = nlohmann::json::array();
  for (size_t i = 0; i < libs.size() && i < 15; ++i) largest.push_back(libs[i].second);
  std::sort(errors.begin(), errors.end());
  return {{"libraries", libs.size()}, {"bytes", bytes}, {"by_code", total}, {"largest", largest},
          {"errors", errors}};
}

std::string gpu_inventory_text(const nlohmann::json& j) {
  if (!j.is_object() || j.value("libraries", 0) == 0) return "";
  std::string out = "GPU code in " + std::to_string(j["libraries"].get<uint64_t>()) + " ELF files, " +
                    human_bytes(j["bytes"].get<uint64_t>()) + " (choose targets with --cuda-arch):\n";
  // By SM, newest first: "sm_90 cubin" and "compute_90 ptx" side by side.
  std::vector<std::pair<std::string, uint64_t>> rows;
  for (auto& [k, v] : j["by_code"].items()) rows.push_back({k, v.get<uint64_t>()});
  auto sm_of = [](const std::string& label) {
    size_t u = label.find('_');
    return u == std::string::npos ? 0 : std::atoi(label.c_str() + u + 1);
  };
  std::sort(rows.begin(), rows.end(), [&](auto& a, auto& b) {
    return sm_of(a.first) != sm_of(b.first) ? sm_of(a.first) > sm_of(b.first) : a.first < b.first;
  });
  char line[200];
  for (auto& [label, b] : rows) {
    snprintf(line, sizeof line, "  %-22s %10s\n", label.c_str(), human_bytes(b).c_str());
    out += line;
  }
  out += "largest holders of GPU code:\n";
  for (auto& l : j["largest"]) {
    snprintf(line, sizeof line, "  %10s  %s\n", human_bytes(l["bytes"].get<uint64_t>()).c_str(),
             l["path"].get<std::string>().c_str());
    out += line;
  }
  for (auto& e : j["errors"]) out += "  not parsed: " + e.get<std::string>() + "\n";
  return out;
}

}  // namespace slimage
