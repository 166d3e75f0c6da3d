// The HTML report (`slim --html FILE`, `slimage report R.json --html FILE`):
// one self-contained page — inline CSS and SVG, no script, no network —
// drawn from the report JSON alone, so a saved report renders without the
// image. What the page needs beyond the summary travels in the report:
//   "tree"          directories of at least 0.1% of the image, nested, with
//                   bytes before/after and bytes by fate (report_tree_json)
//   "largest_kept"  the largest kept files with `slimage why`'s chains
//   "layer_sizes"   each layer's compressed and uncompressed size, before/after
// Numbers a test reads back sit in elements with data-k="…" (exact bytes).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "slimage/plan/plan.h"

namespace slimage {

// A rectangle of a treemap, in SVG user units.
struct TreemapRect {
  double x = 0, y = 0, w = 0, h = 0;
};

// Squarified treemap (Bruls, Huizing, van Wijk 2000): `values` (sorted
// largest first, none negative) tiled into `area`, each rectangle's area
// proportional to its value, in the order given. Deterministic.
std::vector<TreemapRect> squarify(const std::vector<double>& values, TreemapRect area);

// The report's "tree": the root and every directory holding at least
// `min_share` of the image's bytes, nested, each {path, bytes, bytes_after,
// fates, children}. `fates` splits `bytes` by what became of them: "kept",
// "stripped", "deduped", "gpu-pruned" (zeros left in kept libraries),
// "package-db", "removed:<reason>"; kept + gpu-pruned = bytes_after. It stops
// 64 directories deep (what lies deeper counts in its ancestor there).
nlohmann::json report_tree_json(const Plan& plan, double min_share = 0.001);

// The report's "largest_kept": the `count` largest kept files (by bytes
// after), each with fate, reason and the chains `slimage why` prints.
nlohmann::json largest_kept_json(const Plan& plan, const FsView& fs, size_t count = 20);

// The tree as an SVG treemap, `width` x `height`: before (area = bytes,
// coloured by fate) or after (area = bytes_after: kept and gpu-pruned).
std::string treemap_svg(const nlohmann::json& tree, bool after, double width, double height);
// The colour of a fate ("kept", "removed:cache", …); removed reasons in reds.
std::string fate_colour(const std::string& fate);

// &, <, >, " and ' as entities: text and attribute values alike.
std::string html_escape(std::string_view text);

// The page for a report (one image, or several under "images"). Throws
// Error naming the key when the JSON is not a slimage report.
std::string render_html_report(const nlohmann::json& report);

}  // namespace slimage
