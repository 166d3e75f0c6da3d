// build_plan over a generated root (tests/unit/plan_fixture.h): every fate and
// reason, the keep/drop overrides, and explain().
#include <doctest/doctest.h>

#include "plan_fixture.h"
#include "slimage/plan/plan.h"

using namespace slimage;
using plan_test::PlanFixture;
using plan_test::get;
using plan_test::has;

TEST_CASE("plan: fates and reasons over a generated root") {
  PlanFixture fx;
  REQUIRE_MESSAGE(fx.ok, "gcc failed");
  auto fs = fx.fs();
  Diagnostics diagnostics;
  Plan plan = build_plan(*fs, fx.runtime(), plan_test::default_options(), diagnostics);

  // Reached from the entrypoint through RUNPATH, with its soname chain.
  const Action& cudart = get(plan, "usr/local/cuda/lib64/libcudart.so.13.0.1");
  CHECK(cudart.fate != Fate::Drop);
  CHECK(plan.graph.needed.count("usr/local/cuda/lib64/libcudart.so.13.0.1"));
  const Action& cudart_link = get(plan, "usr/local/cuda/lib64/libcudart.so.13");
  CHECK(cudart_link.fate == Fate::Keep);
  CHECK(cudart_link.kind == ReasonKind::Needed);
  CHECK(get(plan, "usr/local/cuda/lib64/libcudart.so").fate == Fate::Keep);

  // Nothing loads cuFFT: the file and its symlink go.
  for (auto p : {"usr/local/cuda/lib64/libcufft.so.12.0.0", "usr/local/cuda/lib64/libcufft.so.12"}) {
    const Action& a = get(plan, p);
    CHECK_MESSAGE(a.fate == Fate::Drop, p);
    CHECK_MESSAGE(a.kind == ReasonKind::UnreachableCuda, p);
    CHECK(has(a.reason, "no kept ELF loads it"));
  }
  // Its only file dropped, the nvvm dir goes too; a pre-existing empty dir stays.
  CHECK(get(plan, "usr/local/cuda/nvvm/libnvrtc-builtins.so.13.0").kind == ReasonKind::UnreachableCuda);
  CHECK(get(plan, "usr/local/cuda/nvvm").kind == ReasonKind::EmptyDir);
  CHECK(get(plan, "usr/local/cuda/nvvm").reason == "empty after drops");
  CHECK(get(plan, "opt/empty").fate == Fate::Keep);

  // Caches: the contents go, the directory the glob hangs from stays.
  CHECK(get(plan, "var/cache/apt/archives/x.deb").fate == Fate::Drop);
  CHECK(get(plan, "var/cache/apt/archives/x.deb").kind == ReasonKind::Cache);
  CHECK(get(plan, "var/cache/apt/archives").kind == ReasonKind::Cache);
  CHECK(get(plan, "var/cache/apt").fate == Fate::Keep);
  const Action& cached = get(plan, "usr/share/cached.deb");
  CHECK(cached.fate == Fate::Drop);
  CHECK(cached.kind == ReasonKind::DanglingSymlink);

  // Tests dirs: only inside packages, never an imported module.
  const std::string dist = "usr/lib/python3/dist-packages/";
  CHECK(get(plan, dist + "pkg/tests").kind == ReasonKind::TestsDir);
  CHECK(get(plan, dist + "pkg/tests/test_x.py").fate == Fate::Drop);
  CHECK(has(get(plan, dist + "pkg/tests").reason, "best effort"));
  CHECK(get(plan, dist + "pkg/__init__.py").fate == Fate::Keep);
  CHECK(get(plan, dist + "numpy/testing/__init__.py").fate == Fate::Keep);
  CHECK(get(plan, dist + "numpy/core/tests").kind == ReasonKind::TestsDir);
  const Action& mod_test = get(plan, dist + "mod/test");
  CHECK(mod_test.fate == Fate::Keep);
  CHECK(has(mod_test.reason, "imports mod.test"));
  CHECK(get(plan, dist + "mod/test/__init__.py").fate == Fate::Keep);

  // Strip: the executable has debug info; its hardlink follows its decision.
  const Action& app = get(plan, "usr/bin/app");
  CHECK(app.fate == Fate::Strip);
  CHECK(app.kind == ReasonKind::Stripped);
  CHECK(app.bytes_after < app.bytes);
  CHECK(has(app.reason, ".debug"));
  const Action& hard = get(plan, "usr/bin/app-hardlink");
  CHECK(hard.fate == Fate::Strip);
  CHECK(hard.bytes == 0);  // content counted once
}

TEST_CASE("plan: keep globs override drops; --drop of a needed file warns") {
  PlanFixture fx;
  REQUIRE(fx.ok);
  auto fs = fx.fs();
  Diagnostics diagnostics;
  PlanOptions o = plan_test::default_options();
  o.keep = {"var/cache/apt/archives/x.deb", "libcufft.so.12*"};
  o.drop = {"usr/local/cuda/lib64/libcudart.so.13.0.1"};
  o.strip = StripMode::None;
  Plan plan = build_plan(*fs, fx.runtime(), o, diagnostics);
  CHECK(get(plan, "var/cache/apt/archives/x.deb").kind == ReasonKind::KeepGlob);
  CHECK(has(get(plan, "var/cache/apt/archives/x.deb").reason, "overrides"));
  CHECK(get(plan, "var/cache/apt/archives").fate == Fate::Keep);  // holds a kept file
  CHECK(get(plan, "usr/local/cuda/lib64/libcufft.so.12.0.0").fate == Fate::Keep);
  CHECK(get(plan, "usr/bin/app").fate == Fate::Keep);  // strip none
  const Action& cudart = get(plan, "usr/local/cuda/lib64/libcudart.so.13.0.1");
  CHECK(cudart.fate == Fate::Drop);
  CHECK(cudart.kind == ReasonKind::DropGlob);
  bool warned = false;
  for (auto& d : diagnostics.items())
    warned = warned || (has(d.where, "libcudart.so.13.0.1") && has(d.message, "needed"));
  CHECK(warned);
  // A profile drop glob never removes a needed file.
  PlanOptions p = plan_test::default_options();
  p.profile.drop = {"libcudart.so.13*"};
  Plan plan2 = build_plan(*fs, fx.runtime(), p, diagnostics);
  CHECK(get(plan2, "usr/local/cuda/lib64/libcudart.so.13.0.1").fate != Fate::Drop);
  CHECK(has(get(plan2, "usr/local/cuda/lib64/libcudart.so.13").reason, "overrides drop-glob"));
}

TEST_CASE("plan: conservative profile keeps CUDA and tests dirs, strips debug only") {
  PlanFixture fx;
  REQUIRE(fx.ok);
  auto fs = fx.fs();
  Diagnostics diagnostics;
  PlanOptions o;
  o.profile = load_profile("conservative");
  Plan plan = build_plan(*fs, fx.runtime(), o, diagnostics);
  CHECK(get(plan, "usr/local/cuda/lib64/libcufft.so.12.0.0").fate != Fate::Drop);
  CHECK(get(plan, "usr/lib/python3/dist-packages/pkg/tests").fate == Fate::Keep);
  CHECK(get(plan, "var/cache/apt/archives/x.deb").kind == ReasonKind::Cache);
}

TEST_CASE("plan: explain shows chains with how each edge was found, or the drop reason") {
  PlanFixture fx;
  REQUIRE(fx.ok);
  auto fs = fx.fs();
  Diagnostics diagnostics;
  Plan plan = build_plan(*fs, fx.runtime(), plan_test::default_options(), diagnostics);
  std::string why = explain(plan, *fs, "/usr/local/cuda/lib64/libcudart.so.13.0.1");
  INFO(why);
  CHECK(has(why, "usr/local/cuda/lib64/libcudart.so.13.0.1: "));
  CHECK(has(why, "usr/bin/app"));
  CHECK(has(why, "[entrypoint]"));
  CHECK(has(why, "[runpath]"));
  std::string drop = explain(plan, *fs, "usr/local/cuda/lib64/libcufft.so.12");
  CHECK(has(drop, "drop (unreachable-cuda)"));
  CHECK(has(drop, "symlink -> libcufft.so.12.0.0"));
  CHECK(has(explain(plan, *fs, "no/such/file"), "not in the image"));
}
