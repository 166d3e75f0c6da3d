// The Python library scan: each loader form the scanner recognises, with the
// exact reason string, and build_plan over a generated root where a ctypes
// call keeps a CUDA library (and its DT_NEEDED closure), find_library keeps
// ldconfig, ld.so.cache and — for a name the cache lacks — gcc/ld/objdump,
// and a dropped tests dir's call or a .pyc shadowed by its source keeps nothing.
#include <doctest/doctest.h>

#include "deps_fixture.h"
#include "slimage/plan/plan.h"
#include "slimage/plan/python_loads.h"

using namespace slimage;
using test::Fixture;

namespace {

std::vector<std::string> reasons(const std::string& file, const std::vector<PythonLoad>& loads) {
  std::vector<std::string> out;
  for (auto& l : loads) out.push_back(python_load_reason(file, l));
  return out;
}

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

const Action& get(const Plan& plan, const std::string& path) {
  const Action* a = plan.find(path);
  INFO(path);
  REQUIRE(a != nullptr);
  return *a;
}

bool can_build_root() { return test::have("gcc") && test::have("ldconfig"); }

}  // namespace

TEST_CASE("plan: python scan recognises ctypes, cffi, find_library and lib*.so* literals") {
  const std::string text =
      "import ctypes, ctypes.util\n"                                     // 1
      "from cffi import FFI\n"                                           // 2
      "curand = ctypes.CDLL(\"libcurand.so.10\", mode=ctypes.RTLD_GLOBAL)\n"  // 3
      "lib = ctypes.cdll.LoadLibrary('libfoo.so.1')\n"                   // 4
      "m = ctypes.cdll.m\n"                                              // 5
      "z = ctypes.cdll[\"libz.so.1\"]\n"                                 // 6
      "h = FFI().dlopen(\n    \"libbar.so.2\")\n"                        // 7-8
      "p = ctypes.util.find_library(\"cudart\")\n"                       // 9
      "# libcomment.so.3 is only named in a comment\n"                   // 10
      "ver = \"libnvrtc.so.\" + v\n"                                     // 11
      "def find_library(name): pass\n"                                   // 12
      "q = ctypes.util.find_library(name)\n"                             // 13
      "n = ctypes.PyDLL(f\"libpy{ver}.so\")\n"                           // 14: names too little
      "again = ctypes.CDLL(\"libcurand.so.10\")\n"                       // 15: the same name again
      "x.sort(); self.libc.so_far = 1\n";                                // 16: not library names
  auto loads = scan_python_source(text);
  // Calls first, in file order, then bare literals; each name once. A name in
  // a comment keeps its library too: telling comments apart is not worth a
  // wrongly dropped library (the safe side).
  CHECK(reasons("app/x.py", loads) == std::vector<std::string>{
                                          "python ctypes: app/x.py:3 CDLL(\"libcurand.so.10\")",
                                          "python ctypes: app/x.py:4 LoadLibrary(\"libfoo.so.1\")",
                                          "python ctypes: app/x.py:5 cdll.m",
                                          "python ctypes: app/x.py:6 cdll[\"libz.so.1\"]",
                                          "python cffi: app/x.py:7 dlopen(\"libbar.so.2\")",
                                          "python ctypes: app/x.py:9 find_library(\"cudart\")",
                                          "python ctypes: app/x.py:13 find_library(…)",
                                          "python string: app/x.py:10 \"libcomment.so.3\"",
                                          "python string: app/x.py:11 \"libnvrtc.so.*\"",
                                      });
  REQUIRE(loads.size() == 9);
  CHECK(loads[2].name == "libm.so*");
  CHECK(loads[5].kind == PythonLoadKind::FindLibrary);
  CHECK(loads[5].name == "cudart");
  CHECK(loads[6].kind == PythonLoadKind::FindLibraryUnknown);
  CHECK(loads[8].name == "libnvrtc.so.*");

  // Format strings become globs; one naming too little is dropped.
  auto fmt = scan_python_source("ctypes.CDLL('libcudnn_ops.so.%d' % major)\nctypes.CDLL('lib%s.so' % n)\n");
  REQUIRE(fmt.size() == 1);
  CHECK(fmt[0].name == "libcudnn_ops.so.*");
  CHECK(python_may_load("import os\nprint(1)\n") == false);
  CHECK(scan_python_source("import os\nprint(1)\n").empty());
}

TEST_CASE("plan: python scan reads string constants of a .pyc") {
  // marshal: 'z'/0xda <len> bytes for short ASCII strings.
  std::string pyc = std::string("\x6f\x0d\x0d\x0a", 4) + std::string(12, '\0') + "\xe3" +
                    "z\x0f" "libcurand.so.10" + "\xda\x0c" "find_library" +
                    "\xdaZlibcufft.so.12" +  // a length byte that reads as a name character
                    "\x05" "/opt/x/libq.so";
  CHECK(reasons("p/m.pyc", scan_python_bytecode(bytes_of(pyc))) ==
        std::vector<std::string>{"python ctypes: p/m.pyc (.pyc constant) find_library (name in bytecode)",
                                 "python string: p/m.pyc (.pyc constant) \"libcurand.so.10\"",
                                 "python string: p/m.pyc (.pyc constant) \"libcufft.so.12\"",
                                 "python string: p/m.pyc (.pyc constant) \"/opt/x/libq.so\""});
}

namespace {

// A root with a python3 executable, CUDA-named stub libraries under
// LD_LIBRARY_PATH, ldconfig behind the merged-/usr sbin symlink, a toolchain
// (shell stubs), and Python files that load the libraries.
struct PythonRoot : Fixture {
  explicit PythonRoot(bool cuda_in_cache) {
    glibc();
    cc("usr/bin/python3", "int main(void) { return 0; }\n", "");
    const std::string cuda = "usr/local/cuda/lib64/";
    lib("usr/lib/x86_64-linux-gnu/libdep.so.1", "libdep.so.1", "dep");
    lib(cuda + "libcurand.so.10.4.1", "libcurand.so.10", "curand", "@usr/lib/x86_64-linux-gnu/libdep.so.1");
    link("libcurand.so.10.4.1", cuda + "libcurand.so.10");
    lib(cuda + "libcudart.so.13.0.1", "libcudart.so.13", "cudart");
    link("libcudart.so.13.0.1", cuda + "libcudart.so.13");
    link("libcudart.so.13", cuda + "libcudart.so");
    lib(cuda + "libcufft.so.12", "libcufft.so.12", "cufft");
    lib(cuda + "libnppc.so.12", "libnppc.so.12", "nppc");
    lib(cuda + "libnppitest.so.12", "libnppitest.so.12", "nppitest");
    const std::string pkg = "usr/lib/python3/dist-packages/pkg/";
    lib(pkg + "lib/libcublas.so.13", "libcublas.so.13", "cublas");
    write("opt/app/main.py",
          "import ctypes, ctypes.util\n"
          "curand = ctypes.CDLL(\"libcurand.so.10\")\n"
          "print(ctypes.util.find_library(\"cudart\"))\n");
    write(pkg + "__init__.py", "");
    write(pkg + "_load.py",
          "import ctypes, os\n"
          "_here = os.path.dirname(__file__)\n"
          "_lib = ctypes.CDLL(os.path.join(_here, 'lib', 'libcublas.so.13'))\n");
    write(pkg + "__pycache__/_load.cpython-311.pyc", "\xe3z\x0dlibnppc.so.12");
    write(pkg + "tests/test_load.py", "import ctypes\nctypes.CDLL('libnppitest.so.12')\n");
    write("usr/lib/python3/dist-packages/bin/__pycache__/only.cpython-311.pyc",
          "\xe3z\x0elibcufft.so.12");
    // CPython's own ctypes and test packages are not scanned: macOS-only names
    // there would keep the toolchain.
    write("usr/lib/python3.11/test/support/__init__.py", "find_library(\"ApplicationServices\")\n");
    write("usr/lib/python3.11/ctypes/util.py", "print(find_library(\"bz2\"))\n");
    // Nor the build configuration: the dev symlink in config-3.11 is not loaded.
    write("usr/lib/python3.11/_sysconfigdata__x86_64-linux-gnu.py", "'LDLIBRARY': 'libpython3.11.so',\n");
    lib("usr/lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.so", "libpython3.11.so.1.0", "py");
    mkdirs("usr/sbin");
    link("usr/sbin", "sbin");
    write("usr/sbin/ldconfig", "#!/bin/sh\n", 0755);
    for (auto tool : {"gcc", "ld", "objdump"}) write(std::string("usr/bin/") + tool, "#!/bin/sh\n", 0755);
    write("etc/ld.so.conf", cuda_in_cache ? "/usr/local/cuda/lib64\n" : "");
    test::sh("ldconfig -X -r '" + root + "'");
  }

  ImageRuntime runtime() const {
    ImageRuntime r;
    r.entrypoint = {"/usr/bin/python3", "/opt/app/main.py"};
    r.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LD_LIBRARY_PATH=/usr/local/cuda/lib64"};
    return r;
  }

  Plan plan(bool scan) const {
    PlanOptions o;
    o.profile = load_profile("default");
    o.profile.python_library_scan = scan;
    o.strip = StripMode::None;  // reasons stay "needed: …"
    o.jobs = 2;
    DirFs fs(root);
    Diagnostics diagnostics;
    return build_plan(fs, runtime(), o, diagnostics);
  }
};

}  // namespace

TEST_CASE("plan: libraries kept Python code loads are roots with file and line" *
          doctest::skip(!can_build_root())) {
  PythonRoot fx(false);
  Plan plan = fx.plan(true);
  const std::string cuda = "usr/local/cuda/lib64/";
  CHECK(get(plan, cuda + "libcurand.so.10.4.1").reason ==
        "needed: root (python load): python ctypes: opt/app/main.py:2 CDLL(\"libcurand.so.10\")");
  CHECK(get(plan, cuda + "libcurand.so.10").fate == Fate::Keep);
  // It is walked like any root: its DT_NEEDED is an edge.
  bool closure = false;
  for (auto& e : plan.graph.edges)
    closure = closure || (e.from == cuda + "libcurand.so.10.4.1" && e.to == "usr/lib/x86_64-linux-gnu/libdep.so.1");
  CHECK(closure);
  // find_library("cudart"): every libcudart.so* the loader could find.
  CHECK(get(plan, cuda + "libcudart.so.13.0.1").reason ==
        "needed: root (python load): python ctypes: opt/app/main.py:3 find_library(\"cudart\")");
  CHECK(get(plan, cuda + "libcudart.so").fate == Fate::Keep);
  // … and what find_library runs: ldconfig (through the sbin symlink) and the cache.
  const std::string call = "needed: root (python load): python ctypes: opt/app/main.py:3 find_library(\"cudart\")";
  CHECK(get(plan, "usr/sbin/ldconfig").reason == call + ": find_library runs /sbin/ldconfig -p");
  CHECK(plan.graph.needed.count("sbin"));
  CHECK(get(plan, "etc/ld.so.cache").reason == call + ": find_library reads it through ldconfig -p");
  // libcudart is not in the cache: gcc, ld and objdump are its fallback.
  for (auto tool : {"usr/bin/gcc", "usr/bin/ld", "usr/bin/objdump"})
    CHECK(get(plan, tool).reason ==
          call + ": libcudart is not in etc/ld.so.cache, so find_library runs gcc -Wl,-t, then ld -t, and objdump -p");
  // A path built from the package dir: the basename in the package's own tree.
  CHECK(get(plan, "usr/lib/python3/dist-packages/pkg/lib/libcublas.so.13").reason ==
        "needed: root (python load): python string: usr/lib/python3/dist-packages/pkg/_load.py:3 "
        "\"libcublas.so.13\"");
  // A .pyc whose source is not shipped is read; one beside its source is not.
  CHECK(get(plan, cuda + "libcufft.so.12").reason ==
        "needed: root (python load): python string: "
        "usr/lib/python3/dist-packages/bin/__pycache__/only.cpython-311.pyc (.pyc constant) \"libcufft.so.12\"");
  CHECK(get(plan, cuda + "libnppc.so.12").kind == ReasonKind::UnreachableCuda);
  // The dropped tests dir's call keeps nothing.
  CHECK(get(plan, "usr/lib/python3/dist-packages/pkg/tests").kind == ReasonKind::TestsDir);
  CHECK(get(plan, cuda + "libnppitest.so.12").kind == ReasonKind::UnreachableCuda);
}

TEST_CASE("plan: find_library of a name in ld.so.cache does not need the toolchain" *
          doctest::skip(!can_build_root())) {
  PythonRoot fx(true);
  Plan plan = fx.plan(true);
  CHECK(get(plan, "usr/sbin/ldconfig").kind == ReasonKind::Needed);
  CHECK(get(plan, "usr/lib/python3.11/config-3.11-x86_64-linux-gnu/libpython3.11.so").reason ==
        "needed: root (kept ELF): kept by the plan");
  for (auto tool : {"usr/bin/gcc", "usr/bin/ld", "usr/bin/objdump"}) {
    CHECK_MESSAGE(get(plan, tool).kind == ReasonKind::Kept, tool);
    CHECK_MESSAGE(!plan.graph.needed.count(tool), tool);
  }
}

TEST_CASE("plan: python_library_scan off keeps none of it" * doctest::skip(!can_build_root())) {
  PythonRoot fx(false);
  Plan plan = fx.plan(false);
  const std::string cuda = "usr/local/cuda/lib64/";
  for (auto lib : {"libcurand.so.10.4.1", "libcudart.so.13.0.1", "libcufft.so.12"})
    CHECK_MESSAGE(get(plan, cuda + lib).kind == ReasonKind::UnreachableCuda, lib);
  CHECK(!plan.graph.needed.count("usr/sbin/ldconfig"));
  CHECK(!plan.graph.needed.count("etc/ld.so.cache"));
}

TEST_CASE("plan: a profile drop of what find_library runs is overridden; --drop warns with the call" *
          doctest::skip(!can_build_root())) {
  PythonRoot fx(true);
  PlanOptions o;
  o.profile = load_profile("default");
  o.profile.drop = {"usr/sbin/ldconfig"};
  o.drop = {"etc/ld.so.cache"};
  o.strip = StripMode::None;
  o.jobs = 2;
  DirFs fs(fx.root);
  Diagnostics diagnostics;
  Plan plan = build_plan(fs, fx.runtime(), o, diagnostics);
  const std::string call = "root (python load): python ctypes: opt/app/main.py:3 find_library(\"cudart\")";
  const Action& ldconfig = get(plan, "usr/sbin/ldconfig");
  CHECK(ldconfig.fate == Fate::Keep);
  CHECK(ldconfig.reason == "needed: " + call +
                               ": find_library runs /sbin/ldconfig -p; overrides drop-glob (matches profile "
                               "drop glob usr/sbin/ldconfig)");
  CHECK(get(plan, "etc/ld.so.cache").fate == Fate::Drop);  // the command line wins, with a warning
  bool warned = false;
  for (auto& d : diagnostics.items())
    warned = warned || d.message == "dropped by --drop etc/ld.so.cache but it is needed (" + call +
                                        ": find_library reads it through ldconfig -p)";
  CHECK(warned);
}
