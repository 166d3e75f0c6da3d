// Budgets (util/budget.h): defaults, SLIMAGE_MAX_* overrides, and the exact error
// that names the budget and how to raise it.
#include <doctest/doctest.h>

#include <cstdlib>

#include "slimage/util/budget.h"
#include "slimage/util/error.h"

using namespace slimage;

namespace {
struct EnvGuard {
  const char* name;
  explicit EnvGuard(const char* n, const char* value) : name(n) {
    ::setenv(name, value, 1);
    reset_budgets_for_test();
  }
  ~EnvGuard() {
    ::unsetenv(name);
    reset_budgets_for_test();
  }
};
}  // namespace

TEST_CASE("budget: defaults name their variable") {
  reset_budgets_for_test();
  CHECK(budget(Budget::PathDepth) == 1024);
  CHECK(budget(Budget::SearchPaths) == 1024);
  CHECK(budget(Budget::Includes) == 1024);
  CHECK(budget(Budget::CacheEntries) == 50000);
  CHECK(budget(Budget::Manifests) == 4096);
  CHECK(budget(Budget::Needed) == 4096);
  CHECK(budget(Budget::SearchProbes) == 500000);
  CHECK(budget(Budget::ShellCommands) == 100000);
  CHECK(budget(Budget::PathBytes) == uint64_t{64} << 20);
  CHECK(budget_info(Budget::PathDepth).env == "SLIMAGE_MAX_PATH_DEPTH");
  CHECK(budget_info(Budget::SearchProbes).env == "SLIMAGE_MAX_SEARCH_PROBES");
}

TEST_CASE("budget: the error names where, the count, the budget and how to raise it") {
  reset_budgets_for_test();
  CHECK(budget_message(Budget::SearchPaths, "bin/ok: libx.so", 20000) ==
        "bin/ok: libx.so: 20000 search-path entries exceed the budget of 1024 "
        "(raise it with SLIMAGE_MAX_SEARCH_PATHS=N)");
  CHECK_NOTHROW(check_budget(Budget::Needed, "x", 4096));
  CHECK_THROWS_WITH_AS(check_budget(Budget::Needed, "bin/ok", 4097),
                       "bin/ok: 4097 DT_NEEDED entries exceed the budget of 4096 "
                       "(raise it with SLIMAGE_MAX_NEEDED=N)",
                       Error);
}

TEST_CASE("budget: SLIMAGE_MAX_* raises or lowers a budget; junk is an error naming it") {
  {
    EnvGuard env("SLIMAGE_MAX_MANIFESTS", "7");
    CHECK(budget(Budget::Manifests) == 7);
    CHECK_THROWS_WITH_AS(check_budget(Budget::Manifests, "index", 8),
                         "index: 8 manifests and indexes exceed the budget of 7 "
                         "(raise it with SLIMAGE_MAX_MANIFESTS=N)",
                         Error);
  }
  CHECK(budget(Budget::Manifests) == 4096);
  for (const char* junk : {"0", "-3", "lots", "12x"}) {
    EnvGuard env("SLIMAGE_MAX_PATH_DEPTH", junk);
    CHECK_THROWS_WITH_AS(budget(Budget::PathDepth),
                         (std::string("SLIMAGE_MAX_PATH_DEPTH=") + junk + ": not a positive integer").c_str(),
                         Error);
  }
}
