// The runtime profile over a generated root (tests/unit/plan_fixture.h):
// unreachable shared libraries go (not only CUDA) but stay in `default`; a
// toolchain file a kept ELF needs stays; a Triton-like package keeps gcc;
// config plugins are roots, and gone with config_plugins off; `extends`
// lists apply in order.
#include <doctest/doctest.h>

#include "plan_fixture.h"
#include "slimage/plan/plan.h"

using namespace slimage;
using plan_test::PlanFixture;
using plan_test::get;
using plan_test::has;

namespace {

const std::string kLib = "usr/lib/x86_64-linux-gnu";

// The fixture plus: an unreachable non-CUDA library, a program whose library
// lives in a toolchain dir, a fake gcc, an NSS plugin named by nsswitch.conf.
struct RuntimeFixture : PlanFixture {
  RuntimeFixture() {
    gcc(kLib + "/libunused.so.1", "int unused(void) { return 1; }", "-shared -fPIC -Wl,-soname,libunused.so.1");
    link("libunused.so.1", kLib + "/libunused.so");
    const std::string rt = "usr/lib/gcc/x86_64-linux-gnu/12";
    gcc(rt + "/libtoolrt.so.1", "int toolrt(void) { return 0; }", "-shared -fPIC -Wl,-soname,libtoolrt.so.1");
    gcc("usr/bin/tool", "int toolrt(void);\nint main(void) { return toolrt(); }",
        "-L'" + at(rt) + "' -l:libtoolrt.so.1 -Wl,--enable-new-dtags,-rpath,/" + rt);
    gcc("usr/bin/gcc-12", "int main(void) { return 0; }", "");
    link("gcc-12", "usr/bin/gcc");
    gcc(rt + "/cc1", "int main(void) { return 0; }", "");
    gcc(kLib + "/libnss_myhost.so.2", "int nss(void) { return 0; }", "-shared -fPIC");
    write("etc/nsswitch.conf", "passwd: files\nhosts: files myhost dns\n");
  }
};

PlanOptions options_for(const std::string& profile_text) {
  PlanOptions o;
  o.profile = parse_profile_text(profile_text, "test.json");
  o.strip = StripMode::None;
  o.jobs = 2;
  return o;
}

PlanOptions runtime_options() {
  PlanOptions o = plan_test::default_options();
  o.profile = load_profile("runtime");
  o.strip = StripMode::None;  // reasons stay readable (strip would replace them)
  return o;
}

}  // namespace

TEST_CASE("plan: runtime drops an unreachable non-CUDA library that default keeps") {
  RuntimeFixture fx;
  REQUIRE_MESSAGE(fx.ok, "gcc failed");
  auto fs = fx.fs();
  Diagnostics d1, d2;
  Plan def = build_plan(*fs, fx.runtime(), plan_test::default_options(), d1);
  CHECK(get(def, kLib + "/libunused.so.1").fate != Fate::Drop);

  Plan rt = build_plan(*fs, fx.runtime(), runtime_options(), d2);
  const Action& unused = get(rt, kLib + "/libunused.so.1");
  CHECK(unused.fate == Fate::Drop);
  CHECK(unused.kind == ReasonKind::UnreachableLibrary);
  CHECK(std::string(reason_kind_name(unused.kind)) == "unreachable-library");
  CHECK(get(rt, kLib + "/libunused.so").kind == ReasonKind::DanglingSymlink);
  // The entrypoint's CUDA library and the entrypoint stay.
  CHECK(get(rt, "usr/local/cuda/lib64/libcudart.so.13.0.1").fate != Fate::Drop);
  CHECK(get(rt, "usr/bin/app").fate != Fate::Drop);
}

TEST_CASE("plan: runtime drops the toolchain, but a toolchain file a kept program needs stays") {
  RuntimeFixture fx;
  REQUIRE_MESSAGE(fx.ok, "gcc failed");
  auto fs = fx.fs();
  Diagnostics d;
  Plan rt = build_plan(*fs, fx.runtime(), runtime_options(), d);
  const Action& gcc = get(rt, "usr/bin/gcc-12");
  CHECK(gcc.fate == Fate::Drop);
  CHECK(gcc.kind == ReasonKind::Toolchain);
  CHECK(gcc.reason == "toolchain: matches usr/bin/gcc-[0-9]*");
  CHECK(get(rt, "usr/bin/gcc").fate == Fate::Drop);
  CHECK(get(rt, "usr/lib/gcc/x86_64-linux-gnu/12/cc1").kind == ReasonKind::Toolchain);
  // usr/bin/tool (a kept program) needs libtoolrt from usr/lib/gcc/**.
  const Action& toolrt = get(rt, "usr/lib/gcc/x86_64-linux-gnu/12/libtoolrt.so.1");
  CHECK(toolrt.fate != Fate::Drop);
  CHECK(toolrt.kind == ReasonKind::Needed);
  CHECK(has(toolrt.reason, "from usr/bin/tool"));
  CHECK(has(toolrt.reason, "overrides toolchain (below dropped usr/lib/gcc/"));
  CHECK(has(toolrt.reason, "(toolchain: matches usr/lib/gcc/**)"));
  CHECK(get(rt, "usr/lib/gcc/x86_64-linux-gnu/12").fate == Fate::Keep);  // holds it
}

TEST_CASE("plan: a Triton-like package keeps gcc and cc1 with the trigger in the reason") {
  RuntimeFixture fx;
  REQUIRE_MESSAGE(fx.ok, "gcc failed");
  fx.write("usr/local/lib/python3.11/dist-packages/triton/__init__.py", "");
  auto fs = fx.fs();
  Diagnostics d;
  Plan rt = build_plan(*fs, fx.runtime(), runtime_options(), d);
  const Action& gcc = get(rt, "usr/bin/gcc-12");
  CHECK(gcc.fate != Fate::Drop);
  CHECK(gcc.kind == ReasonKind::KeepGlob);
  CHECK(has(gcc.reason, "runtime compiler triton: "));
  CHECK(has(gcc.reason, "(usr/local/lib/python3.11/dist-packages/triton/__init__.py is kept)"));
  CHECK(has(gcc.reason, "overrides toolchain"));
  CHECK(get(rt, "usr/bin/gcc").fate != Fate::Drop);
  CHECK(get(rt, "usr/lib/gcc/x86_64-linux-gnu/12/cc1").fate != Fate::Drop);
  CHECK(get(rt, "usr/lib/gcc/x86_64-linux-gnu/12").fate == Fate::Keep);
}

TEST_CASE("plan: config plugins are roots in runtime; off, an NSS plugin is unreachable") {
  RuntimeFixture fx;
  REQUIRE_MESSAGE(fx.ok, "gcc failed");
  auto fs = fx.fs();
  Diagnostics d1, d2;
  Plan on = build_plan(*fs, fx.runtime(), runtime_options(), d1);
  const Action& nss = get(on, kLib + "/libnss_myhost.so.2");
  CHECK(nss.fate != Fate::Drop);
  CHECK(nss.reason == "needed: root (config plugin): etc/nsswitch.conf:2 hosts: files myhost dns");

  Plan off = build_plan(*fs, fx.runtime(),
                        options_for("{\"extends\": \"runtime\", \"config_plugins\": false}"), d2);
  CHECK(get(off, kLib + "/libnss_myhost.so.2").kind == ReasonKind::UnreachableLibrary);
}

TEST_CASE("profile: extends lists apply in order; pytorch and tensorflow are runtime profiles") {
  Profile a = parse_profile_text("{\"extends\": [\"python\", \"runtime\"]}", "a.json");
  CHECK(a.drop_unreachable_libraries);
  CHECK_FALSE(a.drop_pycache);  // runtime (over default) applied after python
  CHECK(a.extends_chain == std::vector<std::string>{"default", "python", "runtime", "a.json"});
  Profile b = parse_profile_text("{\"extends\": [\"runtime\", \"python\"]}", "b.json");
  CHECK(b.drop_pycache);
  CHECK_FALSE(b.drop_dev_files);              // python (over default) reset what runtime set…
  CHECK(b.drop_unreachable_libraries);        // …but not fields default does not name
  for (const char* name : {"pytorch", "tensorflow"}) {
    Profile p = load_profile(name);
    INFO(name);
    CHECK(p.drop_unreachable_libraries);
    CHECK(p.drop_toolchain);
    CHECK(p.drop_pycache);
    CHECK(p.runtime_compilers.size() == 4);
  }
  Profile d = load_profile("default");
  CHECK_FALSE(d.drop_unreachable_libraries);
  CHECK_FALSE(d.drop_toolchain);
  CHECK(d.config_plugins);
  CHECK(d.runtime_compilers.empty());
  CHECK_THROWS_WITH(parse_profile_text("{\"runtime_compilers\": [{\"name\": \"x\", \"triggers\": []}]}", "c.json"),
                    "profile c.json:1:24: runtime compiler needs 'keeps'");
}
