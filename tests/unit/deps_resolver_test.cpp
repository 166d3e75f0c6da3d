// resolve_graph against the real glibc loader: each fixture root is built
// from C stubs, resolved, and compared with `ld.so --list` run in a chroot.
#include "deps_fixture.h"

using namespace slimage;
using namespace slimage::test;

namespace {

const char* kMain = "int main(void) { return 0; }\n";

// Resolves `exe` and compares the needed ELF files with the oracle's.
Graph check(Fixture& f, const std::string& exe, ResolveOptions options = {},
            const std::string& env = "") {
  DirFs fs(f.root);
  Diagnostics diagnostics;
  options.string_heuristic = false;  // dlopen-only libraries are not in ldd output
  Graph g = resolve_graph(fs, {{exe, How::CliRoot, "test"}}, options, diagnostics);
  INFO(dump(g));
  std::set<std::string> not_found;
  auto expected = f.oracle(exe, fs, env, "/lib64/ld-linux-x86-64.so.2", &not_found);
  if (expected) {
    CHECK(needed_elves(fs, g, {exe}) == *expected);
    std::set<std::string> missing;
    for (auto& m : g.missing) missing.insert(m.needed);
    CHECK(missing == not_found);
  }
  return g;
}

}  // namespace

TEST_CASE("deps: RPATH beats the default dirs, RUNPATH disables RPATH") {
  Fixture f;
  f.glibc();
  for (auto dir : {"opt/rpath", "opt/runpath", "usr/lib"}) f.lib(std::string(dir) + "/libbase.so.1", "libbase.so.1", "base");
  f.cc("app/rpath", kMain, "@opt/rpath/libbase.so.1 -Wl,--disable-new-dtags,-rpath,/opt/rpath");
  f.cc("app/both", kMain,
       "@opt/rpath/libbase.so.1 -Wl,--disable-new-dtags,-rpath,/opt/rpath -Wl,-soname,/opt/runpath");
  f.soname_to_runpath("app/both");
  f.cc("app/plain", kMain, "@usr/lib/libbase.so.1");
  Graph g = check(f, "app/rpath");
  CHECK(g.needed.count("opt/rpath/libbase.so.1"));
  REQUIRE(edge_to(g, "opt/rpath/libbase.so.1", How::Rpath));
  CHECK(edge_to(g, "opt/rpath/libbase.so.1", How::Rpath)->detail ==
        "libbase.so.1 in opt/rpath (RPATH of app/rpath)");
  CHECK(edge_to(g, "lib64/ld-linux-x86-64.so.2", How::Interp));
  CHECK(edge_to(g, "lib/x86_64-linux-gnu/libc.so.6", How::DefaultDir));
  DirFs fs(f.root);
  auto info = parse_elf(fs.content(*fs.lookup("app/both")), nullptr);
  REQUIRE(info);
  CHECK(info->runpath);
  g = check(f, "app/both");
  CHECK(edge_to(g, "opt/runpath/libbase.so.1", How::Runpath));
  CHECK_FALSE(g.needed.count("opt/rpath/libbase.so.1"));
  g = check(f, "app/plain");
  CHECK(edge_to(g, "usr/lib/libbase.so.1", How::DefaultDir));
}

TEST_CASE("deps: RPATH is inherited by dependencies, RUNPATH is not") {
  Fixture f;
  f.glibc();
  f.lib("opt/inh/libleaf.so.1", "libleaf.so.1", "leaf");
  f.cc("usr/lib/libmid.so.1", "int leaf(void); int mid(void) { return leaf(); }\n",
       "-shared -fPIC -Wl,-soname,libmid.so.1 @opt/inh/libleaf.so.1");
  f.cc("app/rpath", "int mid(void); int main(void) { return mid(); }\n",
       "@usr/lib/libmid.so.1 -Wl,--disable-new-dtags,-rpath,/opt/inh -Wl,-rpath-link,@opt/inh");
  f.cc("app/runpath", "int mid(void); int main(void) { return mid(); }\n",
       "@usr/lib/libmid.so.1 -Wl,--enable-new-dtags,-rpath,/opt/inh -Wl,-rpath-link,@opt/inh");
  Graph g = check(f, "app/rpath");
  REQUIRE(edge_to(g, "opt/inh/libleaf.so.1", How::Rpath));
  CHECK(edge_to(g, "opt/inh/libleaf.so.1", How::Rpath)->detail ==
        "libleaf.so.1 in opt/inh (RPATH of app/rpath, inherited)");
  g = check(f, "app/runpath");
  REQUIRE(g.missing.size() == 1);
  CHECK(g.missing[0].needed == "libleaf.so.1");
  CHECK(g.missing[0].from == "usr/lib/libmid.so.1");
}

// glibc searches the RPATH of every object up the loader chain, nearest first:
// here past a loader whose own RPATH does not have it, to the executable's.
TEST_CASE("deps: RPATHs are inherited from every loader up the chain") {
  Fixture f;
  f.glibc();
  f.lib("opt/top/libleaf.so.1", "libleaf.so.1", "leaf");
  f.lib("opt/other/libother.so.1", "libother.so.1", "other");
  f.cc("usr/lib/libmid2.so.1", "int leaf(void); int mid2(void) { return leaf(); }\n",
       "-shared -fPIC -Wl,-soname,libmid2.so.1 @opt/top/libleaf.so.1");
  f.cc("usr/lib/libmid.so.1", "int mid2(void); int mid(void) { return mid2(); }\n",
       "-shared -fPIC -Wl,-soname,libmid.so.1 @usr/lib/libmid2.so.1 -Wl,--disable-new-dtags,-rpath,/opt/other "
       "-Wl,-rpath-link,@opt/top");
  f.cc("app/deep", "int mid(void); int main(void) { return mid(); }\n",
       "@usr/lib/libmid.so.1 -Wl,--disable-new-dtags,-rpath,/opt/top -Wl,-rpath-link,@usr/lib "
       "-Wl,-rpath-link,@opt/top");
  Graph g = check(f, "app/deep");
  REQUIRE(edge_to(g, "opt/top/libleaf.so.1", How::Rpath));
  CHECK(edge_to(g, "opt/top/libleaf.so.1", How::Rpath)->detail ==
        "libleaf.so.1 in opt/top (RPATH of app/deep, inherited)");
  CHECK(g.missing.empty());
}

TEST_CASE("deps: LD_LIBRARY_PATH from the image Env comes before RUNPATH") {
  Fixture f;
  f.glibc();
  f.lib("opt/llp/libbase.so.1", "libbase.so.1", "base");
  f.lib("opt/runpath/libbase.so.1", "libbase.so.1", "base");
  f.cc("app/exe", kMain, "@opt/runpath/libbase.so.1 -Wl,--enable-new-dtags,-rpath,/opt/runpath");
  ImageRuntime runtime;
  runtime.env = {"PATH=/bin", "LD_LIBRARY_PATH=/opt/llp"};
  ResolveOptions options = resolve_options_for(runtime);
  CHECK(options.ld_library_path == std::vector<std::string>{"/opt/llp"});
  Graph g = check(f, "app/exe", options, "LD_LIBRARY_PATH=/opt/llp");
  CHECK(edge_to(g, "opt/llp/libbase.so.1", How::LdLibraryPath));
}

TEST_CASE("deps: $ORIGIN is the directory the object was opened from, not its real dir") {
  Fixture f;
  f.glibc();
  f.lib("usr/lib/sub/libB.so.1", "libB.so.1", "b");
  f.cc("opt/pkg/lib/libA.so.1", "int b(void); int a(void) { return b(); }\n",
       "-shared -fPIC -Wl,-soname,libA.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/sub' "
       "@usr/lib/sub/libB.so.1");
  f.lib("opt/pkg/lib/sub/libB.so.1", "libB.so.1", "b");
  f.link("../../opt/pkg/lib/libA.so.1", "usr/lib/libA.so.1");
  f.cc("app/exe", "int a(void); int main(void) { return a(); }\n",
       "@usr/lib/libA.so.1 -Wl,-rpath-link,@usr/lib/sub");
  Graph g = check(f, "app/exe");
  CHECK(g.needed.count("usr/lib/libA.so.1"));  // the symlink the loader opened
  CHECK(g.needed.count("opt/pkg/lib/libA.so.1"));
  REQUIRE(edge_to(g, "usr/lib/sub/libB.so.1", How::Runpath));
  CHECK(edge_to(g, "usr/lib/sub/libB.so.1", How::Runpath)->detail ==
        "libB.so.1 in usr/lib/sub ($ORIGIN from RUNPATH of opt/pkg/lib/libA.so.1)");
  CHECK_FALSE(g.needed.count("opt/pkg/lib/sub/libB.so.1"));
}

TEST_CASE("deps: a whole soname symlink chain is needed") {
  Fixture f;
  f.glibc();
  f.lib("usr/lib/libfoo.so.1.2.3", "libfoo.so.1", "foo");
  f.link("libfoo.so.1.2", "usr/lib/libfoo.so.1");
  f.link("libfoo.so.1.2.3", "usr/lib/libfoo.so.1.2");
  f.link("libfoo.so.1", "usr/lib/libfoo.so");
  f.cc("app/exe", kMain, "@usr/lib/libfoo.so.1.2.3");
  Graph g = check(f, "app/exe");
  for (auto p : {"usr/lib/libfoo.so.1", "usr/lib/libfoo.so.1.2", "usr/lib/libfoo.so.1.2.3"})
    CHECK(g.needed.count(p));
  CHECK_FALSE(g.needed.count("usr/lib/libfoo.so"));  // the dev symlink is not on the way
  CHECK(edge_to(g, "usr/lib/libfoo.so.1.2", How::Symlink));
  auto chains = g.chains_to("usr/lib/libfoo.so.1.2.3");
  REQUIRE(!chains.empty());
  CHECK(chains[0].front()->from.empty());
  CHECK(chains[0].size() == 2);
}

TEST_CASE("deps: a candidate of another machine is skipped and the search goes on") {
  Fixture f;
  f.glibc();
  f.lib("opt/first/libwc.so.1", "libwc.so.1", "wc");
  f.lib("opt/second/libwc.so.1", "libwc.so.1", "wc");
  // e_machine (offset 18) := EM_AARCH64 (183).
  f.patch("opt/first/libwc.so.1", 18, std::string("\xb7\0", 2));
  f.cc("app/exe", kMain, "@opt/second/libwc.so.1 -Wl,--disable-new-dtags,-rpath,/opt/first:/opt/second");
  Graph g = check(f, "app/exe");
  CHECK(edge_to(g, "opt/second/libwc.so.1", How::Rpath));
  CHECK_FALSE(g.needed.count("opt/first/libwc.so.1"));
}

TEST_CASE("deps: DF_1_NODEFLIB skips ld.so.cache system entries and the default dirs") {
  Fixture f;
  f.glibc();
  f.lib("usr/lib/libnd.so.1", "libnd.so.1", "nd");
  f.lib("opt/nd/libnd2.so.1", "libnd2.so.1", "nd2");
  f.cc("opt/mid/libmid.so.1", "int mid(void) { return 0; }\n",
       "-shared -fPIC -Wl,-soname,libmid.so.1 -Wl,-z,nodefaultlib @usr/lib/libnd.so.1 @opt/nd/libnd2.so.1 "
       "-Wl,--enable-new-dtags,-rpath,/opt/nd");
  f.cc("app/exe", kMain, "@opt/mid/libmid.so.1 -Wl,--disable-new-dtags,-rpath,/opt/mid");
  Graph g = check(f, "app/exe");
  REQUIRE(g.missing.size() == 1);
  CHECK(g.missing[0].needed == "libnd.so.1");
  CHECK(g.missing[0].searched.find("DF_1_NODEFLIB") != std::string::npos);
  CHECK(edge_to(g, "opt/nd/libnd2.so.1", How::Runpath));
}

TEST_CASE("deps: shared ELF facts serve the same bytes only") {
  // Two roots with the same path holding different binaries: facts parsed in
  // the first walk must not answer for the second (slim shares facts between
  // the plan's walk and the verify closures, which see the same layers).
  Fixture a, b;
  for (Fixture* f : {&a, &b}) {
    f->glibc();
    f->lib("opt/one/libx.so.1", "libx.so.1", "x");
    f->lib("opt/two/libx.so.1", "libx.so.1", "x");
  }
  a.cc("app/main", kMain, "@opt/one/libx.so.1 -Wl,--enable-new-dtags,-rpath,/opt/one");
  b.cc("app/main", kMain, "@opt/two/libx.so.1 -Wl,--enable-new-dtags,-rpath,/opt/two");
  ResolveOptions options;
  options.facts = make_elf_facts();
  Graph ga = check(a, "app/main", options);
  Graph gb = check(b, "app/main", options);
  CHECK(edge_to(ga, "opt/one/libx.so.1", How::Runpath));
  CHECK(edge_to(gb, "opt/two/libx.so.1", How::Runpath));
  CHECK_FALSE(gb.needed.count("opt/one/libx.so.1"));
  // The same view walked again with the same facts gives the same graph.
  DirFs fs(a.root);
  Diagnostics d;
  Graph g1 = resolve_graph(fs, {{"app/main", How::CliRoot, "test"}}, options, d);
  Graph g2 = resolve_graph(fs, {{"app/main", How::CliRoot, "test"}}, options, d);
  CHECK(g1.needed == g2.needed);
  CHECK(g1.needed.count("opt/one/libx.so.1"));
}
