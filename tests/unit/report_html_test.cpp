// The HTML report (include/slimage/report/html.h): the squarified treemap
// layout, the report's directory tree by fate, and a page that escapes
// every name an image can choose.
#include <doctest/doctest.h>

#include <cmath>

#include "slimage/report/html.h"
#include "slimage/report/report.h"

using namespace slimage;

namespace {

bool overlap(const TreemapRect& a, const TreemapRect& b) {
  const double e = 1e-9;
  return a.x + e < b.x + b.w && b.x + e < a.x + a.w && a.y + e < b.y + b.h && b.y + e < a.y + a.h;
}

Action& add(Plan& plan, const std::string& path, Fate fate, ReasonKind kind, uint64_t bytes, uint64_t after) {
  Action& a = plan.actions[path];
  a.fate = fate, a.kind = kind, a.bytes = bytes, a.bytes_after = after;
  return a;
}

}  // namespace

TEST_CASE("report: squarified treemap tiles the parent, each area proportional to its value") {
  // The paper's example (Bruls et al. 2000, figure 2): 6,6,4,3,2,2,1 in a 6x4 rectangle.
  std::vector<double> values = {6, 6, 4, 3, 2, 2, 1};
  auto rects = squarify(values, {0, 0, 6, 4});
  REQUIRE(rects.size() == values.size());
  double total = 0;
  for (size_t i = 0; i < rects.size(); i++) {
    CAPTURE(i);
    CHECK(rects[i].w * rects[i].h == doctest::Approx(values[i]));
    CHECK(rects[i].x >= -1e-9);
    CHECK(rects[i].y >= -1e-9);
    CHECK(rects[i].x + rects[i].w <= 6 + 1e-9);
    CHECK(rects[i].y + rects[i].h <= 4 + 1e-9);
    for (size_t j = 0; j < i; j++) CHECK_FALSE(overlap(rects[i], rects[j]));
    total += rects[i].w * rects[i].h;
  }
  CHECK(total == doctest::Approx(24));
  // The first row: 6 and 6 stacked along the short side, 3 wide.
  CHECK(rects[0].x == doctest::Approx(0));
  CHECK(rects[0].w == doctest::Approx(3));
  CHECK(rects[0].h == doctest::Approx(2));
  CHECK(rects[1].y == doctest::Approx(2));

  // Scaled: 1000 bytes in a 100x50 box; a zero gets no area.
  auto scaled = squarify({700, 200, 100, 0}, {10, 20, 100, 50});
  CHECK(scaled[0].w * scaled[0].h == doctest::Approx(3500));
  CHECK(scaled[1].w * scaled[1].h == doctest::Approx(1000));
  CHECK(scaled[2].w * scaled[2].h == doctest::Approx(500));
  CHECK(scaled[3].w * scaled[3].h == 0);
  CHECK(scaled[0].x == doctest::Approx(10));
  CHECK(scaled[0].y == doctest::Approx(20));
}

TEST_CASE("report: the tree holds directories of at least 0.1% with bytes by fate") {
  Plan plan;
  add(plan, "usr", Fate::Keep, ReasonKind::Kept, 0, 0).type = FileType::Directory;
  add(plan, "usr/lib/libbig.so", Fate::Strip, ReasonKind::Stripped, 600000, 400000);
  add(plan, "usr/lib/libc.so", Fate::Keep, ReasonKind::Needed, 300000, 300000);
  add(plan, "var/cache/apt/pkgcache.bin", Fate::Drop, ReasonKind::Cache, 99000, 0);
  add(plan, "etc/tiny", Fate::Keep, ReasonKind::Kept, 999, 999);
  add(plan, "etc/x", Fate::Keep, ReasonKind::Kept, 2, 2);

  nlohmann::json tree = report_tree_json(plan);
  CHECK(tree["path"] == "");
  CHECK(tree["bytes"] == 1000001);
  CHECK(tree["bytes_after"] == 701001);
  CHECK(tree["fates"] == nlohmann::json({{"kept", 701001}, {"stripped", 200000}, {"removed:cache", 99000}}));
  // etc (1001 bytes) is at least 0.1%; nothing inside it is a directory.
  std::vector<std::string> top;
  for (auto& c : tree["children"]) top.push_back(c["path"]);
  CHECK(top == std::vector<std::string>{"usr", "var", "etc"});
  CHECK(tree["children"][0]["children"][0]["path"] == "usr/lib");
  CHECK(tree["children"][0]["children"][0]["fates"] == nlohmann::json({{"kept", 700000}, {"stripped", 200000}}));
  CHECK(tree["children"][1]["children"][0]["children"][0]["path"] == "var/cache/apt");
  CHECK(tree["children"][2]["children"].empty());
  // The root's removed bytes are the report's.
  Summary s = summarize(plan);
  CHECK(tree["fates"]["removed:cache"] == s.removed_by_reason.at("cache").second);
  CHECK(tree["bytes_after"] == s.after.bytes);

  // A higher floor leaves etc out.
  nlohmann::json coarse = report_tree_json(plan, 0.01);
  CHECK(coarse["children"].size() == 2);
}

TEST_CASE("report: HTML escapes hostile names and carries exact numbers") {
  Plan plan;
  const std::string evil = "usr/<script>alert(1)</script>";
  add(plan, evil + "/lib.so", Fate::Keep, ReasonKind::Needed, 5000, 5000);
  add(plan, "x\"'><img src=y onerror=alert(2)>/a", Fate::Drop, ReasonKind::Cache, 1234567, 0);
  Summary s = summarize(plan);
  nlohmann::json extra = {{"tree", report_tree_json(plan)},
                          {"source", "oci:<b>src"},
                          {"largest_kept",
                           {{{"path", evil + "/lib.so"}, {"bytes", 5000}, {"bytes_after", 5000}, {"fate", "keep"},
                             {"kind", "needed"}, {"reason", "<needed>"},
                             {"chains", {{{{"from", nullptr}, {"to", evil + "/lib.so"}, {"how", "entrypoint"},
                                           {"detail", "<i>"}}}}}}}},
                          {"layer_sizes",
                           {{"before", {{{"digest", "sha256:<x>"}, {"size", 10}, {"uncompressed_size", 20}}}},
                            {"after", nlohmann::json::array()}}}};
  nlohmann::json report = report_json(s, plan, extra);
  report["removed"]["<script>"] = {{"files", 1}, {"bytes", 7}};  // a crafted report, too
  std::string html = render_html_report(report);
  CHECK(html.find("<script") == std::string::npos);
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<b>") == std::string::npos);
  CHECK(html.find("<i>") == std::string::npos);
  CHECK(html.find("/usr/&lt;script&gt;alert(1)&lt;/script&gt;/lib.so") != std::string::npos);
  CHECK(html.find("data-k=\"removed.&lt;script&gt;.bytes\">7<") != std::string::npos);
  CHECK(html.find("data-k=\"removed.cache.bytes\">1,234,567<") != std::string::npos);
  CHECK(html.find("data-k=\"before.bytes\">1,239,567<") != std::string::npos);
  CHECK(html.find("data-k=\"layers.before.0.uncompressed_size\">20<") != std::string::npos);
  // Nothing fetched: the only URL is SVG's namespace name.
  std::string rest = html;
  for (size_t at; (at = rest.find("http://www.w3.org/2000/svg")) != std::string::npos;) rest.erase(at, 26);
  CHECK(rest.find("://") == std::string::npos);
  CHECK(rest.find("url(") == std::string::npos);
}

TEST_CASE("report: HTML of a JSON that is no report names the missing key") {
  std::string message;
  try {
    render_html_report(nlohmann::json{{"after", 1}});
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message == "not a slimage report: key 'before' not found");
  try {
    render_html_report(nlohmann::json::array());
    message = "";
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message == "not a slimage report: not a JSON object");
}

TEST_CASE("report: HTML of a multi-platform report has one section per image, keys by index") {
  Plan plan;
  add(plan, "usr/bin/a", Fate::Keep, ReasonKind::Needed, 100, 100);
  nlohmann::json amd = report_json(summarize(plan), plan, {{"platform", "linux/amd64"}});
  add(plan, "var/cache/x", Fate::Drop, ReasonKind::Cache, 50, 0);
  nlohmann::json arm = report_json(summarize(plan), plan, {{"platform", "linux/arm64"}});
  std::string html = render_html_report({{"images", {amd, arm}}, {"root_digest", "sha256:ab"}});
  CHECK(html.find("<section data-image=\"0\">") != std::string::npos);
  CHECK(html.find("<section data-image=\"1\">") != std::string::npos);
  CHECK(html.find("data-k=\"images.0.before.bytes\">100<") != std::string::npos);
  CHECK(html.find("data-k=\"images.1.before.bytes\">150<") != std::string::npos);
  CHECK(html.find("data-k=\"images.1.removed.cache.bytes\">50<") != std::string::npos);
  CHECK(html.find("data-k=\"images.0.removed.cache.bytes\"") == std::string::npos);
  CHECK(html.find("linux/arm64</h2>") != std::string::npos);
}

TEST_CASE("report: HTML sums GPU code by architecture over libraries") {
  Plan plan;
  add(plan, "usr/lib/libk.so", Fate::Keep, ReasonKind::Needed, 1000, 1000);
  nlohmann::json r = report_json(summarize(plan), plan, nlohmann::json::object());
  auto lib = [](uint64_t cubin_before, uint64_t cubin_after) {
    return nlohmann::json{{"bytes_before", cubin_before + 10}, {"bytes_after", cubin_after + 10},
                          {"by_code", {{"sm_90 cubin", {{"before", cubin_before}, {"after", cubin_after}}},
                                       {"compute_90 ptx", {{"before", 10}, {"after", 10}}}}}};
  };
  r["gpu_code"] = {{"cuda_arch", "sm_90"}, {"libraries", 2}, {"bytes_before", 320}, {"bytes_after", 120},
                   {"by_library", {{"usr/lib/a.so", lib(100, 50)}, {"usr/lib/b.so", lib(200, 50)}}}};
  std::string html = render_html_report(r);
  CHECK(html.find("GPU code by architecture (--cuda-arch sm_90)") != std::string::npos);
  CHECK(html.find("data-k=\"gpu.bytes_before\">320<") != std::string::npos);
  CHECK(html.find("data-k=\"gpu.sm_90 cubin.before\">300<") != std::string::npos);
  CHECK(html.find("data-k=\"gpu.sm_90 cubin.after\">100<") != std::string::npos);
  CHECK(html.find("data-k=\"gpu.compute_90 ptx.after\">20<") != std::string::npos);
  r.erase("gpu_code");
  CHECK(render_html_report(r).find("GPU code") == std::string::npos);  // none: no section
}

TEST_CASE("report: the tree of a chain of 1,000 nested directories stops 64 deep, its bytes in the last one") {
  Plan plan;
  std::string dir = "d";
  for (int i = 1; i < 1000; ++i) dir += "/d";
  add(plan, dir + "/f", Fate::Keep, ReasonKind::Needed, 1000, 1000);
  add(plan, "top", Fate::Keep, ReasonKind::Needed, 1000, 1000);
  nlohmann::json tree = report_tree_json(plan);
  CHECK(tree["bytes"] == 2000);
  size_t depth = 0;
  const nlohmann::json* node = &tree;
  while (!(*node)["children"].empty()) {
    node = &(*node)["children"][0];
    ++depth;
  }
  CHECK(depth == 64);
  CHECK((*node)["path"].get<std::string>().size() == 64 * 2 - 1);  // d/d/…/d, 64 components
  CHECK((*node)["bytes"] == 1000);
  CHECK((*node)["fates"]["kept"] == 1000);
}
