// What DT_NEEDED cannot show: glibc-hwcaps builds beside a kept library, the
// string heuristic (a dlopen("libplugin.so.1") literal), dlopen families,
// musl's search order, and the real CUDA libraries when the host has them.
#include <chrono>

#include "deps_fixture.h"
#include "test_skip.h"

using namespace slimage;
using namespace slimage::test;

TEST_CASE("deps: glibc-hwcaps builds beside a kept library are needed") {
  Fixture f;
  f.glibc();
  f.lib("usr/lib/libhw.so.1", "libhw.so.1", "hw");
  f.lib("usr/lib/glibc-hwcaps/x86-64-v2/libhw.so.1", "libhw.so.1", "hw");
  f.cc("app/exe", "int main(void) { return 0; }\n", "@usr/lib/libhw.so.1");
  DirFs fs(f.root);
  Diagnostics diagnostics;
  Graph g = resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, {}, diagnostics);
  INFO(dump(g));
  CHECK(edge_to(g, "usr/lib/libhw.so.1", How::DefaultDir));
  REQUIRE(edge_to(g, "usr/lib/glibc-hwcaps/x86-64-v2/libhw.so.1", How::Hwcaps));
  // The loader picks one of the two, by CPU; both are kept.
  if (auto expected = f.oracle("app/exe", fs))
    for (auto& p : *expected) CHECK_MESSAGE(g.needed.count(p), p);
}

TEST_CASE("deps: a library named only by a string in rodata is needed (string heuristic)") {
  Fixture f;
  f.glibc();
  f.lib("usr/lib/libplugin.so.1", "libplugin.so.1", "plugin");
  f.lib("usr/lib/libunrelated.so.1", "libunrelated.so.1", "unrelated");
  f.cc("usr/lib/libloader.so.1",
       "#include <dlfcn.h>\nvoid* load(void) { return dlopen(\"libplugin.so.1\", RTLD_NOW); }\n",
       "-shared -fPIC -Wl,-soname,libloader.so.1");
  f.cc("app/exe", "void* load(void); int main(void) { return load() != 0; }\n", "@usr/lib/libloader.so.1");
  DirFs fs(f.root);
  Diagnostics diagnostics;
  ResolveOptions options;
  Graph g = resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, options, diagnostics);
  INFO(dump(g));
  REQUIRE(edge_to(g, "usr/lib/libplugin.so.1", How::StringHeuristic));
  CHECK(edge_to(g, "usr/lib/libplugin.so.1", How::StringHeuristic)->detail ==
        "libplugin.so.1: string in usr/lib/libloader.so.1");
  CHECK_FALSE(g.needed.count("usr/lib/libunrelated.so.1"));
  options.string_heuristic = false;
  g = resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, options, diagnostics);
  CHECK_FALSE(g.needed.count("usr/lib/libplugin.so.1"));
  // A profile family finds it too, and a host-provided glob never counts.
  options.dlopen_families = {{"plugins", {"libloader.so.*"}, {"libplug*.so.1"}, "loads plugins"}};
  options.host_provided = {"libunrelated.so*"};
  g = resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, options, diagnostics);
  REQUIRE(edge_to(g, "usr/lib/libplugin.so.1", How::DlopenFamily));
  CHECK(edge_to(g, "usr/lib/libplugin.so.1", How::DlopenFamily)->detail ==
        "libplugin.so.1 in usr/lib (plugins: loads plugins)");
}

TEST_CASE("deps: musl searches LD_LIBRARY_PATH, inherited rpaths, then /usr/local/lib" *
          doctest::skip(!slimage::test::have_tool("musl-gcc") ||
                        !slimage::test::have_path("/lib/ld-musl-x86_64.so.1"))) {
  Fixture f;
  f.mkdirs("lib");
  sh("cp /lib/ld-musl-x86_64.so.1 '" + f.at("lib/") + "'");
  f.cc("usr/local/lib/libm1.so", "int m1(void) { return 1; }\n", "-shared -fPIC -Wl,-soname,libm1.so", "musl-gcc");
  f.cc("opt/inh/libm2.so", "int m2(void) { return 1; }\n", "-shared -fPIC -Wl,-soname,libm2.so", "musl-gcc");
  f.cc("usr/lib/libmid.so", "int m2(void); int mid(void) { return m2(); }\n",
       "-shared -fPIC -Wl,-soname,libmid.so @opt/inh/libm2.so", "musl-gcc");
  // RUNPATH is inherited under musl (unlike glibc).
  f.cc("app/exe", "int m1(void); int mid(void); int main(void) { return m1() + mid(); }\n",
       "@usr/local/lib/libm1.so @usr/lib/libmid.so -Wl,--enable-new-dtags,-rpath,/opt/inh "
       "-Wl,-rpath-link,@opt/inh", "musl-gcc");
  DirFs fs(f.root);
  Diagnostics diagnostics;
  ResolveOptions options;
  options.string_heuristic = false;
  Graph g = resolve_graph(fs, {{"app/exe", How::CliRoot, "test"}}, options, diagnostics);
  INFO(dump(g));
  CHECK(g.missing.empty());
  CHECK(edge_to(g, "usr/local/lib/libm1.so", How::DefaultDir));
  CHECK(edge_to(g, "opt/inh/libm2.so", How::Runpath));
  CHECK(edge_to(g, "lib/ld-musl-x86_64.so.1", How::Interp));
  if (auto expected = f.oracle("app/exe", fs, "", "/lib/ld-musl-x86_64.so.1"))
    CHECK(needed_elves(fs, g, {"app/exe"}) == *expected);
}

TEST_CASE("deps: real CUDA libraries: cuDNN keeps its sub-libraries, cuBLAS keeps cuBLASLt" *
          doctest::skip(!slimage::test::have_path("/usr/local/cuda/lib64/libcudnn.so.9") ||
                        !slimage::test::have_path("/usr/local/cuda/lib64/libcublas.so.13"))) {
  const std::string cuda = "/usr/local/cuda/lib64";
  Fixture f;
  DirFs fs(f.root);
  fs.mount("usr/local/cuda/lib64", cuda);
  std::vector<Root> roots{{"usr/local/cuda/lib64/libcudnn.so.9", How::CliRoot, "test"},
                          {"usr/local/cuda/lib64/libcublas.so.13", How::CliRoot, "test"}};
  const char* subs[] = {"graph", "ops", "cnn", "adv", "heuristic", "engines_precompiled",
                        "engines_runtime_compiled"};
  for (int mode = 0; mode < 2; mode++) {  // 0: builtin families only, 1: string heuristic only
    ResolveOptions options = resolve_options_for({});
    options.string_heuristic = mode == 1;
    if (mode == 1) options.dlopen_families.clear();
    Diagnostics diagnostics;
    auto start = std::chrono::steady_clock::now();
    Graph g = resolve_graph(fs, roots, options, diagnostics);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    MESSAGE("CUDA resolve, mode " << mode << ": " << ms << " ms, " << g.needed.size() << " needed");
    INFO(dump(g));
    for (auto s : subs) {
      std::string p = "usr/local/cuda/lib64/libcudnn_" + std::string(s) + ".so.9";
      CHECK_MESSAGE(g.needed.count(p), p);
    }
    CHECK(edge_to(g, "usr/local/cuda/lib64/libcublasLt.so.13", How::Runpath));
    CHECK_FALSE(g.needed.count("usr/local/cuda/lib64/libcufft.so.12"));
  }
}
