// The HTML report page (include/slimage/report/html.h), from the report
// JSON alone: totals, the before/after treemaps, bytes removed by reason,
// per-layer sizes, the largest kept files with their chains, GPU code by
// architecture. Self-contained: inline CSS and SVG (tooltips are SVG
// <title>s), no script, no font or image fetched. Every string from the
// report is escaped (file names are chosen by whoever built the image).
// Exact byte counts sit in cells with data-k="…" for tests to read back.
#include <map>
#include <sstream>

#include "slimage/report/html.h"
#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

namespace {

const char* kStyle = R"(body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;max-width:1040px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:4px 0}td,th{padding:2px 10px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}td.h{color:#666;text-align:right}
tr:nth-child(even) td{background:#fafafa}.meta{color:#555}.meta code{color:#222}
svg.treemap{display:block;border:1px solid #ccc;margin:6px 0}svg.treemap text{font-size:11px;fill:#111;pointer-events:none}
svg.treemap rect.dir{fill:none;stroke:#fff}.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.bar{display:inline-block;height:10px;background:#d9534f}ol.chain{margin:0;padding-left:18px}code{font-size:12px}
)";

// 1234567 -> "1,234,567": exact, and readable.
std::string grouped(uint64_t v) {
  std::string s = std::to_string(v), out;
  for (size_t i = 0; i < s.size(); i++) {
    if (i && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

uint64_t u64(const nlohmann::json& j, const char* key) { return j.at(key).get<uint64_t>(); }

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

class Page {
 public:
  explicit Page(std::string prefix) : prefix_(std::move(prefix)) {}
  std::ostringstream out;
  // An exact byte (or file) count and, for bytes, its human size beside it.
  std::string bytes(const std::string& key, uint64_t v) {
    return number(key, v) + "<td class=\"h\">" + human_bytes(v) + "</td>";
  }
  std::string number(const std::string& key, uint64_t v) {
    return "<td class=\"n\" data-k=\"" + html_escape(prefix_ + key) + "\">" + grouped(v) + "</td>";
  }

 private:
  std::string prefix_;
};

void totals(Page& p, const nlohmann::json& r) {
  const auto &b = r.at("before"), &a = r.at("after");
  p.out << "<h2>Totals</h2><table><tr><th></th><th colspan=2>before</th><th colspan=2>after</th></tr>\n";
  p.out << "<tr><td>files</td>" << p.number("before.files", u64(b, "files")) << "<td></td>"
        << p.number("after.files", u64(a, "files")) << "<td></td></tr>\n";
  p.out << "<tr><td>bytes (file content)</td>" << p.bytes("before.bytes", u64(b, "bytes"))
        << p.bytes("after.bytes", u64(a, "bytes")) << "</tr>\n";
  p.out << "<tr><td>compressed (pulled)</td>" << p.bytes("before.compressed_bytes", u64(b, "compressed_bytes"))
        << p.bytes("after.compressed_bytes", u64(a, "compressed_bytes")) << "</tr>\n";
  p.out << "<tr><td>layers</td>" << p.number("before.layers", u64(b, "layers")) << "<td></td>"
        << p.number("after.layers", u64(a, "layers")) << "<td></td></tr>\n";
  p.out << "<tr><td>saved</td>" << p.bytes("saved_bytes", u64(r, "saved_bytes")) << "<td></td><td></td></tr></table>\n";
}

void legend(Page& p, const nlohmann::json& tree) {
  p.out << "<p class=\"legend\">";
  for (auto& [fate, v] : tree.at("fates").items())
    p.out << "<span><i style=\"background:" << fate_colour(fate) << "\"></i>" << html_escape(fate) << " "
          << human_bytes(v.get<uint64_t>()) << "</span>";
  p.out << "</p>\n";
}

void treemaps(Page& p, const nlohmann::json& r) {
  p.out << "<h2>Where the bytes were and went</h2>\n";
  if (!r.contains("tree")) {
    p.out << "<p>This report has no directory tree (written by an older slimage).</p>\n";
    return;
  }
  const nlohmann::json& tree = r.at("tree");
  legend(p, tree);
  uint64_t before = u64(tree, "bytes"), after = u64(tree, "bytes_after");
  const double width = 1000, height = 560;
  p.out << "<p>Before: " << human_bytes(before) << ", nested by directory (every directory of at least 0.1% of "
        << "the image), area proportional to bytes, coloured by fate. Hover for names and sizes.</p>\n"
        << treemap_svg(tree, false, width, height);
  // The same scale: the after map's area is to the before map's as the bytes are.
  double h = before ? height * static_cast<double>(after) / static_cast<double>(before) : 0;
  p.out << "<p>After: " << human_bytes(after) << " (GPU code pruned to zeros still counts here; it compresses away).</p>\n"
        << (h >= 1 ? treemap_svg(tree, true, width, h) : "");
}

void removed(Page& p, const nlohmann::json& r) {
  p.out << "<h2>Bytes removed by reason</h2><table><tr><th>reason</th><th>files</th><th colspan=2>bytes</th><th></th></tr>\n";
  uint64_t before = std::max<uint64_t>(1, u64(r.at("before"), "bytes"));
  auto row = [&](const std::string& name, const std::string& key, uint64_t files, bool has_files, uint64_t bytes) {
    p.out << "<tr><td><i style=\"display:inline-block;width:10px;height:10px;background:" << fate_colour(name)
          << "\"></i> " << html_escape(name) << "</td>" << (has_files ? p.number(key + ".files", files) : "<td></td>")
          << p.bytes(key + ".bytes", bytes) << "<td><span class=\"bar\" style=\"width:"
          << static_cast<unsigned>(300.0 * static_cast<double>(bytes) / static_cast<double>(before))
          << "px;background:" << fate_colour(name) << "\"></span></td></tr>\n";
  };
  for (auto& [kind, v] : r.at("removed").items()) row("removed:" + kind, "removed." + kind, u64(v, "files"), true, u64(v, "bytes"));
  row("stripped", "stripped", u64(r.at("stripped"), "files"), true, u64(r.at("stripped"), "bytes_saved"));
  row("deduped", "deduped", u64(r.at("deduped"), "files"), true, u64(r.at("deduped"), "bytes_saved"));
  if (r.contains("package_db") && r["package_db"].contains("bytes_saved"))
    row("package-db", "package_db", 0, false, u64(r["package_db"], "bytes_saved"));
  p.out << "</table>\n";
}

void layer_table(Page& p, const nlohmann::json& layers, const std::string& side) {
  p.out << "<h3>" << side << "</h3><table><tr><th>#</th><th>digest</th><th colspan=2>compressed</th><th colspan=2>"
        << "uncompressed</th>" << (side == "after" ? "<th></th>" : "") << "</tr>\n";
  for (size_t i = 0; i < layers.size(); i++) {
    const auto& l = layers[i];
    std::string key = "layers." + side + "." + std::to_string(i);
    p.out << "<tr><td>" << i << "</td><td><code title=\"" << html_escape(str(l, "digest")) << "\">"
          << html_escape(str(l, "digest").substr(0, 19)) << "</code></td>" << p.bytes(key + ".size", u64(l, "size"))
          << p.bytes(key + ".uncompressed_size", u64(l, "uncompressed_size"));
    if (side == "after") p.out << "<td>" << (l.value("reused", false) ? "reused as is" : "rewritten") << "</td>";
    p.out << "</tr>\n";
  }
  p.out << "</table>\n";
}

void layers(Page& p, const nlohmann::json& r) {
  p.out << "<h2>Layers</h2>\n";
  if (!r.contains("layer_sizes")) {
    p.out << "<p>This report has no per-layer sizes (written by an older slimage).</p>\n";
    return;
  }
  layer_table(p, r.at("layer_sizes").at("before"), "before");
  layer_table(p, r.at("layer_sizes").at("after"), "after");
}

void largest(Page& p, const nlohmann::json& r) {
  if (!r.contains("largest_kept")) return;
  p.out << "<h2>Largest kept files, and what keeps them</h2><table><tr><th>path</th><th colspan=2>bytes after</th>"
        << "<th>why (the chains <code>slimage why</code> prints)</th></tr>\n";
  size_t i = 0;
  for (auto& f : r.at("largest_kept")) {
    p.out << "<tr><td><code>/" << html_escape(str(f, "path")) << "</code></td>"
          << p.bytes("largest." + std::to_string(i++) + ".bytes_after", u64(f, "bytes_after")) << "<td>"
          << html_escape(str(f, "fate") + " (" + str(f, "kind") + "): " + str(f, "reason"));
    for (auto& chain : f.at("chains")) {
      p.out << "<ol class=\"chain\">";
      for (auto& e : chain) {
        std::string from = e.at("from").is_string() ? "/" + e.at("from").get<std::string>() + " → " : "root ";
        p.out << "<li><code>" << html_escape(from + "/" + str(e, "to")) << "</code> [" << html_escape(str(e, "how"))
              << "]" << (str(e, "detail").empty() ? "" : " " + html_escape(str(e, "detail"))) << "</li>";
      }
      p.out << "</ol>";
    }
    p.out << "</td></tr>\n";
  }
  p.out << "</table>\n";
}

void gpu(Page& p, const nlohmann::json& r) {
  if (!r.contains("gpu_code")) return;
  const auto& g = r.at("gpu_code");
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_code;
  for (auto& [lib, l] : g.at("by_library").items())
    if (l.contains("by_code"))
      for (auto& [label, b] : l.at("by_code").items())
        by_code[label].first += u64(b, "before"), by_code[label].second += u64(b, "after");
  p.out << "<h2>GPU code by architecture (--cuda-arch " << html_escape(str(g, "cuda_arch")) << ")</h2>\n"
        << "<p>In " << u64(g, "libraries") << " libraries; pruned code becomes zeros (files keep their length).</p>"
        << "<table><tr><th>code</th><th colspan=2>before</th><th colspan=2>after</th></tr>\n<tr><td>all</td>"
        << p.bytes("gpu.bytes_before", u64(g, "bytes_before")) << p.bytes("gpu.bytes_after", u64(g, "bytes_after"))
        << "</tr>\n";
  for (auto& [label, b] : by_code)
    p.out << "<tr><td>" << html_escape(label) << "</td>" << p.bytes("gpu." + label + ".before", b.first)
          << p.bytes("gpu." + label + ".after", b.second) << "</tr>\n";
  p.out << "</table>\n";
}

void image_section(const nlohmann::json& r, const std::string& prefix, std::ostringstream& out) {
  Page p(prefix);
  p.out << "<p class=\"meta\">" << html_escape(str(r, "source")) << " → " << html_escape(str(r, "destination"))
        << " · platform <code>" << html_escape(str(r, "platform")) << "</code> · profile <code>"
        << html_escape(str(r, "profile")) << "</code> · manifest <code>" << html_escape(str(r, "manifest_digest"))
        << "</code></p>\n";
  totals(p, r);
  treemaps(p, r);
  removed(p, r);
  layers(p, r);
  largest(p, r);
  gpu(p, r);
  out << p.out.str();
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_html_report(const nlohmann::json& report) {
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      << "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
      << "<title>slimage report</title>\n<style>" << kStyle << "</style></head><body>\n<h1>slimage report</h1>\n";
  try {
    if (!report.is_object()) throw Error("not a JSON object");
    if (report.contains("images")) {
      size_t i = 0;
      for (auto& image : report.at("images")) {
        out << "<h2 class=\"image\">" << html_escape(str(image, "platform")) << "</h2>\n<section data-image=\"" << i
            << "\">\n";
        image_section(image, "images." + std::to_string(i++) + ".", out);
        out << "</section>\n";
      }
    } else {
      image_section(report, "", out);
    }
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();  // "[json.exception.out_of_range.403] key 'before' not found"
    if (auto close = what.find("] "); what.starts_with("[json.") && close != std::string::npos) what = what.substr(close + 2);
    throw Error("not a slimage report: " + what);
  } catch (const Error& e) {
    throw Error(std::string("not a slimage report: ") + e.what());
  }
  out << "<p class=\"meta\">root digest <code>" << html_escape(str(report, "root_digest"))
      << "</code> · written by slimage " << SLIMAGE_VERSION << "</p>\n</body></html>\n";
  return out.str();
}

}  // namespace slimage
