// The treemap of the HTML report (include/slimage/report/html.h): the
// report's "tree" drawn as nested squarified rectangles, area proportional
// to bytes (before: every fate; after: kept and pruned-to-zeros). Each
// directory's own pieces are its fates less its children's (files directly
// in it and in directories under 0.1%). Directory outlines are strokes over
// the pieces, never padding, so no area is lost to them.
#include <algorithm>
#include <cstdio>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "slimage/report/html.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

struct Item {
  double value;
  std::string label;             // the fate, or the child's path
  const nlohmann::json* child;   // nullptr for a fate piece
};

std::string fmt(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string rect_attrs(const TreemapRect& r) {
  return "x=\"" + fmt(r.x) + "\" y=\"" + fmt(r.y) + "\" width=\"" + fmt(r.w) + "\" height=\"" + fmt(r.h) + "\"";
}

std::string shown_path(const std::string& path) { return "/" + path; }

// Label anchors in use: nested directories share a top-left corner, so a
// child's label goes below its parent's.
using Anchors = std::set<std::pair<long, long>>;

void draw(const nlohmann::json& node, TreemapRect area, bool after, int depth, std::string& pieces,
          std::string& outlines, Anchors& anchors) {
  const std::string path = node.at("path").get<std::string>();
  // The label is placed before the children claim the corner, drawn over them.
  std::string label;
  double label_y = area.y + 12;
  while (anchors.count({std::lround(area.x), std::lround(label_y)})) label_y += 12;
  if (area.w > 60 && label_y + 4 < area.y + area.h && depth <= 3) {
    anchors.insert({std::lround(area.x), std::lround(label_y)});
    std::string name = path.empty() ? "/" : path.substr(path.rfind('/') + 1);
    size_t room = static_cast<size_t>(area.w / 7);
    if (name.size() > room) name = name.substr(0, room > 1 ? room - 1 : 0) + "…";
    label = "<text x=\"" + fmt(area.x + 3) + "\" y=\"" + fmt(label_y) + "\">" + html_escape(name) + "</text>\n";
  }
  std::vector<Item> items;
  std::map<std::string, uint64_t> own;
  for (auto& [fate, v] : node.at("fates").items()) own[fate] = v.get<uint64_t>();
  for (auto& c : node.at("children")) {
    items.push_back({static_cast<double>(c.at(after ? "bytes_after" : "bytes").get<uint64_t>()),
                     c.at("path").get<std::string>(), &c});
    for (auto& [fate, v] : c.at("fates").items()) own[fate] -= std::min(own[fate], v.get<uint64_t>());
  }
  for (auto& [fate, v] : own)
    if (v && (!after || fate == "kept" || fate == "gpu-pruned")) items.push_back({static_cast<double>(v), fate, nullptr});
  std::sort(items.begin(), items.end(), [](const Item& x, const Item& y) {
    return x.value != y.value ? x.value > y.value : x.label < y.label;
  });
  std::vector<double> values;
  for (auto& it : items) values.push_back(it.value);
  std::vector<TreemapRect> rects = squarify(values, area);
  for (size_t i = 0; i < items.size(); i++) {
    if (rects[i].w <= 0 || rects[i].h <= 0) continue;
    if (items[i].child) {
      draw(*items[i].child, rects[i], after, depth + 1, pieces, outlines, anchors);
      continue;
    }
    pieces += "<rect " + rect_attrs(rects[i]) + " fill=\"" + fate_colour(items[i].label) + "\"><title>" +
              html_escape(shown_path(path) + " (files here): " + items[i].label + " " +
                          human_bytes(static_cast<uint64_t>(items[i].value))) +
              "</title></rect>\n";
  }
  uint64_t bytes = node.at(after ? "bytes_after" : "bytes").get<uint64_t>();
  double stroke = std::max(0.5, 2.5 - 0.5 * depth);
  outlines += "<rect class=\"dir\" " + rect_attrs(area) + " stroke-width=\"" + fmt(stroke) + "\"><title>" +
              html_escape(shown_path(path) + ": " + human_bytes(bytes)) + "</title></rect>\n";
  outlines += label;
}

}  // namespace

std::string fate_colour(const std::string& fate) {
  static const std::map<std::string, std::string> fixed = {
      {"kept", "#5b9a68"}, {"gpu-pruned", "#e3c044"}, {"stripped", "#ef9a48"},
      {"deduped", "#9b7fd1"}, {"package-db", "#a0785a"}};
  if (auto it = fixed.find(fate); it != fixed.end()) return it->second;
  static const char* reds[] = {"#d9534f", "#b03a5b", "#e57373", "#8e2430", "#f06292",
                               "#c0392b", "#ad5d7d", "#e8867c", "#7b1f3a", "#d4708f"};
  uint32_t h = 2166136261u;  // FNV-1a: the same reason, the same colour
  for (unsigned char c : fate) h = (h ^ c) * 16777619u;
  return reds[h % (sizeof reds / sizeof *reds)];
}

std::string treemap_svg(const nlohmann::json& tree, bool after, double width, double height) {
  std::string pieces, outlines;
  Anchors anchors;
  draw(tree, {0, 0, width, height}, after, 0, pieces, outlines, anchors);
  return "<svg class=\"treemap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(width) + "\" height=\"" +
         fmt(height) + "\" viewBox=\"0 0 " + fmt(width) + " " + fmt(height) + "\">\n" + pieces + outlines +
         "</svg>\n";
}

}  // namespace slimage
