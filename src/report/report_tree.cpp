// What the HTML report draws, computed from the plan into the report JSON
// (include/slimage/report/html.h): the directory tree by fate, the largest
// kept files with their chains, and the squarified treemap layout. Bytes by
// fate follow summarize() (summary.cpp) action by action, so the root's
// "removed:<reason>" equal the report's "removed" and kept + gpu-pruned its
// after.bytes.
#include <algorithm>
#include <map>

#include "slimage/report/html.h"

namespace slimage {

namespace {

using Fates = std::map<std::string, uint64_t>;

// One action's bytes before, split by fate (summarize()'s cases, in its order).
void add_fates(const Plan& plan, const std::string& path, const Action& a, Fates& f) {
  if (a.fate == Fate::Drop) {
    if (a.bytes) f[std::string("removed:") + reason_kind_name(a.kind)] += a.bytes;
    return;
  }
  uint64_t kept = a.bytes;
  if (a.fate == Fate::Link) {
    kept = a.bytes_after;
    f["deduped"] += a.bytes_deduped;
    f["stripped"] += a.bytes - a.bytes_after - a.bytes_deduped;
  } else if (a.fate == Fate::Strip) {
    kept = a.bytes_after;
    f["stripped"] += a.bytes - a.bytes_after;
  } else if (plan.replacement(path)) {
    kept = a.bytes_after;
    f["package-db"] += a.bytes - a.bytes_after;
  }
  // A pruned library keeps its length: the freed GPU code is zeros.
  if (a.bytes > 0)
    if (const GpuLibrary* lib = plan.gpu_prune(path)) {
      uint64_t pruned = std::min(kept, lib->prune.before - std::min(lib->prune.before, lib->prune.after));
      f["gpu-pruned"] += pruned;
      kept -= pruned;
    }
  f["kept"] += kept;
}

uint64_t sum(const Fates& f) {
  uint64_t s = 0;
  for (auto& [k, v] : f) s += v;
  return s;
}

nlohmann::json node_json(const std::string& path, const std::map<std::string, Fates>& dirs,
                         const std::map<std::string, std::vector<std::string>>& children) {
  const Fates& f = dirs.at(path);
  nlohmann::json fates = nlohmann::json::object();
  for (auto& [k, v] : f)
    if (v) fates[k] = v;
  uint64_t after = (f.count("kept") ? f.at("kept") : 0) + (f.count("gpu-pruned") ? f.at("gpu-pruned") : 0);
  nlohmann::json kids = nlohmann::json::array();
  if (auto it = children.find(path); it != children.end()) {
    std::vector<std::string> order = it->second;
    std::sort(order.begin(), order.end(), [&](const std::string& x, const std::string& y) {
      uint64_t bx = sum(dirs.at(x)), by = sum(dirs.at(y));
      return bx != by ? bx > by : x < y;
    });
    for (auto& c : order) kids.push_back(node_json(c, dirs, children));
  }
  return {{"path", path}, {"bytes", sum(f)}, {"bytes_after", after}, {"fates", fates}, {"children", kids}};
}

// The tree stops at this depth: a deeper directory's bytes count in its
// ancestor at this depth. No real image comes near it; a hostile one (a chain
// of 1,000 nested directories) would otherwise make the report's JSON nest
// 1,000 deep and its indentation alone gigabytes.
constexpr size_t kMaxTreeDepth = 64;

// The directory `path` is counted in: its parent, cut to kMaxTreeDepth components.
std::string tree_dir(const std::string& path) {
  std::string d = dirname_of(path);
  size_t slashes = 0;
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i] == '/' && ++slashes == kMaxTreeDepth) return d.substr(0, i);
  return d;
}

}  // namespace

nlohmann::json report_tree_json(const Plan& plan, double min_share) {
  std::map<std::string, Fates> dirs;  // "" is the root
  dirs[""];
  for (auto& [key, a] : plan.actions) {
    if (key.empty() || a.type == FileType::Directory) continue;
    const std::string path(key);
    Fates f;
    add_fates(plan, path, a, f);
    for (auto& [k, v] : f) dirs[tree_dir(path)][k] += v;
  }
  // Each directory adds its totals to its parent, children first: a parent
  // sorts before everything beneath it, so in reverse order every directory is
  // complete when reached (a parent inserted here sorts earlier: reached later).
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    if (it->first.empty()) continue;
    Fates& parent = dirs[dirname_of(it->first)];
    for (auto& [k, v] : it->second) parent[k] += v;
  }
  // A directory's bytes are at most its parent's: every kept one's parent is kept.
  const double floor = min_share * static_cast<double>(sum(dirs[""]));
  std::map<std::string, std::vector<std::string>> children;
  for (auto it = dirs.begin(); it != dirs.end();) {
    if (!it->first.empty() && (static_cast<double>(sum(it->second)) < floor || sum(it->second) == 0)) {
      it = dirs.erase(it);
      continue;
    }
    if (!it->first.empty()) children[dirname_of(it->first)].push_back(it->first);
    ++it;
  }
  return node_json("", dirs, children);
}

nlohmann::json largest_kept_json(const Plan& plan, const FsView& fs, size_t count) {
  std::vector<std::pair<uint64_t, std::string_view>> files;
  for (auto& [path, a] : plan.actions) {
    if (a.fate == Fate::Drop || a.type != FileType::Regular || a.bytes == 0) continue;
    uint64_t after = a.fate == Fate::Keep && !plan.replacement(path) ? a.bytes : a.bytes_after;
    files.push_back({after, path});
  }
  std::sort(files.begin(), files.end(), [](auto& x, auto& y) {
    return x.first != y.first ? x.first > y.first : x.second < y.second;
  });
  if (files.size() > count) files.resize(count);
  nlohmann::json out = nlohmann::json::array();
  for (auto& [after, path] : files) {
    nlohmann::json why = explain_json(plan, fs, std::string(path));
    nlohmann::json row = {{"path", path},      {"bytes", why["bytes"]},   {"bytes_after", after},
                          {"fate", why["fate"]}, {"kind", why["kind"]},     {"reason", why["reason"]},
                          {"chains", why["chains"]}};
    out.push_back(row);
  }
  return out;
}

namespace {

// The worst aspect ratio of a row of areas laid along a side of length `side`.
double worst(double row_sum, double row_min, double row_max, double side) {
  if (row_sum <= 0 || row_min <= 0) return 1e300;
  double s2 = side * side, r2 = row_sum * row_sum;
  return std::max(s2 * row_max / r2, r2 / (s2 * row_min));
}

}  // namespace

std::vector<TreemapRect> squarify(const std::vector<double>& values, TreemapRect area) {
  std::vector<TreemapRect> out(values.size(), TreemapRect{area.x, area.y, 0, 0});
  double total = 0;
  for (double v : values) total += std::max(v, 0.0);
  if (total <= 0 || area.w <= 0 || area.h <= 0) return out;
  const double scale = area.w * area.h / total;
  TreemapRect free = area;
  size_t start = 0;  // the row is [start, end)
  auto lay_row = [&](size_t end, double row_sum) {
    if (row_sum <= 0) return;
    bool column = free.w >= free.h;  // along the shorter side
    double thick = column ? row_sum / free.h : row_sum / free.w;
    double at = column ? free.y : free.x;
    for (size_t i = start; i < end; i++) {
      double a = std::max(values[i], 0.0) * scale, len = a / thick;
      out[i] = column ? TreemapRect{free.x, at, thick, len} : TreemapRect{at, free.y, len, thick};
      at += len;
    }
    if (column) free.x += thick, free.w = std::max(0.0, free.w - thick);
    else free.y += thick, free.h = std::max(0.0, free.h - thick);
  };
  double row_sum = 0, row_min = 0, row_max = 0;
  for (size_t i = 0; i < values.size(); i++) {
    double a = std::max(values[i], 0.0) * scale;
    if (a <= 0) continue;
    double side = std::min(free.w, free.h);
    if (row_sum > 0 && worst(row_sum + a, std::min(row_min, a), std::max(row_max, a), side) >
                           worst(row_sum, row_min, row_max, side)) {
      lay_row(i, row_sum);
      start = i;
      row_sum = 0;
    }
    if (row_sum == 0) start = i, row_min = row_max = a;
    row_sum += a, row_min = std::min(row_min, a), row_max = std::max(row_max, a);
  }
  lay_row(values.size(), row_sum);
  return out;
}

}  // namespace slimage
