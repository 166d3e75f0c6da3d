// ActionMap and Action's stored-apart fields (include/slimage/plan/plan.h).
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "slimage/plan/plan.h"

using namespace slimage;

namespace {

std::vector<std::string> keys(const ActionMap& m) {
  std::vector<std::string> out;
  for (auto& [path, a] : m) out.emplace_back(path);
  return out;
}

}  // namespace

TEST_CASE("plan: ActionMap keeps path order, one entry per path, whatever the insertion order") {
  ActionMap m;
  m.reserve(2, 4);
  CHECK(m.emplace("b/c", Action{.fate = Fate::Drop}).second);
  CHECK(m.emplace("d", Action{}).second);
  CHECK(m.emplace("a", Action{.fate = Fate::Strip}).second);        // before all
  CHECK(m.emplace("b", Action{}).second);                           // in the middle
  CHECK_FALSE(m.emplace("b/c", Action{.fate = Fate::Keep}).second);  // there: kept as it was
  m["c"].fate = Fate::Link;                                         // inserts
  CHECK(keys(m) == std::vector<std::string>{"a", "b", "b/c", "c", "d"});
  CHECK(m.size() == 5);
  CHECK(m.at("b/c").fate == Fate::Drop);
  CHECK(m.at("c").fate == Fate::Link);
  CHECK(m.count("a") == 1);
  CHECK(m.count("b/") == 0);
  CHECK(m.find("zz") == m.end());
  CHECK_THROWS_AS(m.at("nope"), std::out_of_range);
}

TEST_CASE("plan: a copied ActionMap owns its keys; an Action's copy owns its link targets") {
  auto original = std::make_unique<ActionMap>();
  std::string long_path(300, 'x');  // past a block's worth of small keys, and past SSO
  (*original)[long_path].reason = "kept for the test";
  (*original)["short"].set_link("../x", "x");
  ActionMap copy = *original;
  (*original)["short"].set_link("../y", "y");  // the copy's targets are its own
  original.reset();                            // the copy's keys outlive the original's arena
  CHECK(keys(copy) == std::vector<std::string>{"short", long_path});
  CHECK(copy.at(long_path).reason == "kept for the test");
  CHECK(copy.at("short").link_to() == "../x");
  CHECK(copy.at("short").link_copy() == "x");
  CHECK(copy.at(long_path).link_to().empty());
}

TEST_CASE("plan: an untouched action's reason is not stored, and reads as 'no rule drops it'") {
  Action a;
  CHECK(a.reason.empty());
  CHECK(a.why() == "no rule drops it");
  a.add_reason("not deduplicated with x: owners differ");
  CHECK(a.why() == "no rule drops it; not deduplicated with x: owners differ");
  Action b{.reason = "needed: by bin/app"};
  b.add_reason("pruned");
  CHECK(b.why() == "needed: by bin/app; pruned");
}
