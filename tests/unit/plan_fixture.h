// Shared by the plan and report unit tests: a small image root built in a
// temp dir at test time — gcc-compiled stub CUDA libraries with soname
// symlink chains, an executable linking libcudart through RUNPATH, an apt
// cache, Python packages with tests dirs — and the plan over it.
#pragma once
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "slimage/plan/plan.h"
#include "slimage/rootfs/dir_fs.h"
#include "slimage/util/file.h"

namespace slimage::plan_test {

struct PlanFixture {
  TempDir tmp{"/tmp", "slimage-plan-"};
  std::string root = tmp.path() + "/root";
  bool ok = true;

  std::string at(const std::string& p) const { return root + "/" + p; }
  void mkdirs(const std::string& p) { std::filesystem::create_directories(at(p)); }
  void write(const std::string& p, const std::string& text) {
    mkdirs(dirname_of(p));
    std::ofstream(at(p)) << text;
  }
  void link(const std::string& target, const std::string& p) {
    mkdirs(dirname_of(p));
    REQUIRE(::symlink(target.c_str(), at(p).c_str()) == 0);
  }
  void gcc(const std::string& out, const std::string& source, const std::string& flags) {
    std::string src = tmp.path() + "/" + basename_of(out) + ".c";
    write_file_atomic(src, source);
    mkdirs(dirname_of(out));
    std::string cmd = "gcc -o '" + at(out) + "' '" + src + "' " + flags + " 2>'" + src + ".log'";
    if (std::system(cmd.c_str()) != 0) ok = false;
  }

  PlanFixture() {
    const std::string cuda = "usr/local/cuda/lib64";
    gcc(cuda + "/libcudart.so.13.0.1", "int cudart_version(void) { return 13; }",
        "-shared -fPIC -g -Wl,-soname,libcudart.so.13");
    link("libcudart.so.13.0.1", cuda + "/libcudart.so.13");
    link("libcudart.so.13", cuda + "/libcudart.so");
    gcc(cuda + "/libcufft.so.12.0.0", "int cufft_version(void) { return 12; }",
        "-shared -fPIC -Wl,-soname,libcufft.so.12");
    link("libcufft.so.12.0.0", cuda + "/libcufft.so.12");
    gcc("usr/local/cuda/nvvm/libnvrtc-builtins.so.13.0", "int builtins(void) { return 1; }",
        "-shared -fPIC");
    gcc("usr/bin/app", "int cudart_version(void);\nint main(void) { return cudart_version() - 13; }",
        "-g -L'" + at(cuda) + "' -lcudart -Wl,--enable-new-dtags,-rpath,/" + cuda);
    REQUIRE(::link(at("usr/bin/app").c_str(), at("usr/bin/app-hardlink").c_str()) == 0);
    write("var/cache/apt/archives/x.deb", std::string(3000, 'd'));
    link("../../var/cache/apt/archives/x.deb", "usr/share/cached.deb");
    const std::string dist = "usr/lib/python3/dist-packages";
    write(dist + "/pkg/__init__.py", "import os\n");
    write(dist + "/pkg/tests/__init__.py", "");
    write(dist + "/pkg/tests/test_x.py", "import pkg\n" + std::string(500, '#') + "\n");
    write(dist + "/numpy/__init__.py", "from . import core\n");
    write(dist + "/numpy/testing/__init__.py", "def assert_equal(a, b): pass\n");
    write(dist + "/numpy/core/tests/test_core.py", "from numpy.testing import assert_equal\n");
    write(dist + "/mod/__init__.py", "from . import (\n    util,\n    test,\n)\n");
    write(dist + "/mod/util.py", "");
    write(dist + "/mod/test/__init__.py", "def helper(): pass\n");
    mkdirs("opt/empty");
  }

  std::unique_ptr<DirFs> fs() const { return std::make_unique<DirFs>(root); }

  ImageRuntime runtime() const {
    ImageRuntime r;
    r.entrypoint = {"/usr/bin/app"};
    r.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
    return r;
  }

  // Regular-file bytes counted once per inode, straight from the host.
  uint64_t host_bytes() const {
    std::set<std::pair<uint64_t, uint64_t>> seen;
    uint64_t total = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
      struct stat st;
      if (::lstat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (seen.insert({st.st_dev, st.st_ino}).second) total += st.st_size;
    }
    return total;
  }
};

inline PlanOptions default_options() {
  PlanOptions o;
  o.profile = load_profile("default");
  o.jobs = 2;
  return o;
}

// The plan's action for `path`; fails the case if the plan has none.
inline const Action& get(const Plan& plan, const std::string& path) {
  const Action* a = plan.find(path);
  INFO(path);
  REQUIRE(a != nullptr);
  return *a;
}

inline bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

}  // namespace slimage::plan_test
