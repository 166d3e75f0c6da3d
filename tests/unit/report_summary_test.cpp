// Reports over a generated root: every byte accounted for, and the JSON and
// text outputs say what the plan does (include/slimage/report/report.h).
#include <doctest/doctest.h>

#include "plan_fixture.h"
#include "slimage/report/report.h"

using namespace slimage;
using plan_test::PlanFixture;

TEST_CASE("report: bytes before equal bytes after plus removed plus strip savings") {
  PlanFixture fx;
  REQUIRE_MESSAGE(fx.ok, "gcc failed");
  auto fs = fx.fs();
  Diagnostics diagnostics;
  Plan plan = build_plan(*fs, fx.runtime(), plan_test::default_options(), diagnostics);
  Summary s = summarize(plan);
  uint64_t removed = 0;
  for (auto& [kind, r] : s.removed_by_reason) removed += r.second;
  CHECK(s.before.bytes == fx.host_bytes());  // a hardlinked content once
  CHECK(s.before.bytes == s.after.bytes + removed + s.strip_saved_bytes + s.dedupe_saved_bytes);
  CHECK(s.removed_by_reason.count("unreachable-cuda"));
  CHECK(s.removed_by_reason.at("cache").second == 3000);
  CHECK(s.removed_by_reason.at("dangling-symlink").first == 1);
  CHECK(s.stripped_files >= 1);
  CHECK(s.strip_saved_bytes > 0);
  CHECK(s.after.files < s.before.files);

  std::string table = summary_text(s);
  CHECK(table.find("unreachable-cuda") != std::string::npos);
  CHECK(table.find("saved") != std::string::npos);
  // One of a kind reads "1 file", not "1 files".
  INFO(table);
  CHECK(table.find("    dangling-symlink          1 file           0 B\n") != std::string::npos);
}

TEST_CASE("report: plan JSON lists every non-keep action; text groups them by reason") {
  PlanFixture fx;
  REQUIRE(fx.ok);
  auto fs = fx.fs();
  Diagnostics diagnostics;
  Plan plan = build_plan(*fs, fx.runtime(), plan_test::default_options(), diagnostics);
  auto j = plan_json(plan);
  size_t non_keep = 0;
  for (auto& [path, a] : plan.actions) non_keep += a.fate != Fate::Keep;
  CHECK(j["actions"].size() == non_keep);
  bool found = false;
  for (auto& a : j["actions"])
    found = found || (a["path"] == "var/cache/apt/archives/x.deb" && a["kind"] == "cache" &&
                      a["fate"] == "drop" && a["bytes"] == 3000);
  CHECK(found);
  CHECK(j["counts"]["cache"]["bytes"] == 3000);
  CHECK(j.contains("missing"));
  CHECK(j["profile"] == "default");

  std::string text = plan_text(plan);
  INFO(text);
  CHECK(text.find("drop cache:") != std::string::npos);
  // A dropped directory is listed once, with the bytes below it.
  CHECK(text.find("var/cache/apt/archives/  (") != std::string::npos);
  CHECK(text.find("archives/x.deb  (") == std::string::npos);
  CHECK(text.find("strip stripped:") != std::string::npos);

  Summary s = summarize(plan);
  s.before.compressed_bytes = 1000;
  auto r = report_json(s, plan, {{"source", "oci:x"}, {"profile", "overridden"}});
  CHECK(r["source"] == "oci:x");
  CHECK(r["profile"] == "overridden");
  CHECK(r["before"]["bytes"] == s.before.bytes);
  CHECK(r["before"]["compressed_bytes"] == 1000);
}
