// Reports count what dedupe saves as its own reason, and a stripped duplicate's
// strip savings stay under "stripped", so before = after + removed +
// stripped + deduped still holds.
#include <doctest/doctest.h>

#include "slimage/report/report.h"

using namespace slimage;

TEST_CASE("report: dedupe savings are their own reason and keep the invariant") {
  Plan plan;
  auto add = [&](const std::string& path, Fate fate, uint64_t bytes, uint64_t after) -> Action& {
    Action& a = plan.actions[path];
    a.fate = fate, a.bytes = bytes, a.bytes_after = after;
    return a;
  };
  add("usr/local/cuda/lib64/libx.so.1", Fate::Strip, 1000, 800);
  // Stripped to 800, then written as a 38-byte symlink to the copy above.
  Action& sym = add("usr/lib/nvidia/x/lib/libx.so.1", Fate::Link, 1000, 38);
  sym.kind = ReasonKind::Dedupe;
  sym.link = Action::LinkKind::Symlink;
  sym.bytes_deduped = 800 - 38;
  sym.set_link("../../../../local/cuda/lib64/libx.so.1", "usr/local/cuda/lib64/libx.so.1");
  Action& hard = add("usr/share/b/data.bin", Fate::Link, 500, 0);
  hard.kind = ReasonKind::Dedupe;
  hard.link = Action::LinkKind::Hardlink;
  hard.bytes_deduped = 500;
  add("usr/share/a/data.bin", Fate::Keep, 500, 500);

  Summary s = summarize(plan);
  CHECK(s.before.bytes == 3000);
  CHECK(s.after.bytes == 800 + 38 + 0 + 500);
  CHECK(s.strip_saved_bytes == 200 + 200);
  CHECK(s.dedupe_saved_bytes == 762 + 500);
  CHECK(s.deduped_files == 2);
  CHECK(s.before.bytes == s.after.bytes + s.strip_saved_bytes + s.dedupe_saved_bytes);
  CHECK(summary_text(s).find("    dedupe                    2 files") != std::string::npos);

  auto j = report_json(s, plan, nlohmann::json::object());
  CHECK(j["deduped"]["bytes_saved"] == 1262);
  CHECK(j["counts"]["dedupe"]["entries"] == 2);
  auto first = plan_json(plan)["actions"][0];  // path order: usr/lib/… first
  CHECK(first["fate"] == "link");
  CHECK(first["kind"] == "dedupe");
  CHECK(first["link"]["to"] == "../../../../local/cuda/lib64/libx.so.1");
  CHECK(first["link"]["copy"] == "usr/local/cuda/lib64/libx.so.1");
}
