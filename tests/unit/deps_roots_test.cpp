// find_roots and DirFs: entrypoints through the image PATH, "#!" and
// `/usr/bin/env NAME`, `sh -c` command words, LD_PRELOAD, Python extension
// modules; DirFs never following symlinks and recording hardlinks.
#include "deps_fixture.h"

using namespace slimage;
using namespace slimage::test;

namespace {
const Root* find(const std::vector<Root>& roots, const std::string& path, How how) {
  for (auto& r : roots)
    if (r.path == path && r.how == how) return &r;
  return nullptr;
}
}  // namespace

TEST_CASE("deps: roots from a shebang script, env NAME, sh -c, preload and Python extensions") {
  Fixture f;
  f.glibc();
  const char* main_src = "int main(void) { return 0; }\n";
  f.cc("usr/bin/env", main_src, "");
  f.cc("usr/local/bin/python3.11", main_src, "");
  f.link("python3.11", "usr/local/bin/python3");
  f.cc("bin/sh", main_src, "");
  f.cc("usr/bin/myprog", main_src, "");
  f.lib("usr/lib/x86_64-linux-gnu/libpre.so.1", "libpre.so.1", "pre");
  f.write("app/run.py", "#!/usr/bin/env -S python3 -u\nprint('hi')\n", 0755);
  f.cc("usr/local/lib/python3.11/site-packages/pkg/_ext.cpython-311-x86_64-linux-gnu.so",
       "int ext(void) { return 0; }\n", "-shared -fPIC");
  f.cc("opt/tests/_skip.abi3.so", "int skip(void) { return 0; }\n", "-shared -fPIC");
  DirFs fs(f.root);
  ImageRuntime runtime;
  runtime.entrypoint = {"run.py"};
  runtime.env = {"PATH=/usr/local/bin:/usr/bin:/app:/bin", "LD_PRELOAD=libpre.so.1"};
  Diagnostics diagnostics;
  auto roots = find_roots(fs, runtime, {}, nullptr,
                          [](const std::string& p) { return p.rfind("opt/tests/", 0) == 0; }, diagnostics);
  std::string all;
  for (auto& r : roots) all += r.path + " [" + how_name(r.how) + "] " + r.detail + "\n";
  INFO(all);
  REQUIRE(find(roots, "app/run.py", How::Entrypoint));
  CHECK(find(roots, "app/run.py", How::Entrypoint)->detail == "Entrypoint[0] run.py via PATH /app");
  CHECK(find(roots, "usr/bin/env", How::Shebang));
  CHECK(find(roots, "usr/local/bin/python3", How::Shebang));
  CHECK(find(roots, "usr/local/lib/python3.11/site-packages/pkg/_ext.cpython-311-x86_64-linux-gnu.so",
             How::PythonExtension));
  CHECK_FALSE(find(roots, "opt/tests/_skip.abi3.so", How::PythonExtension));
  CHECK(find(roots, "usr/lib/x86_64-linux-gnu/libpre.so.1", How::Preload));
  Graph g = resolve_graph(fs, roots, resolve_options_for(runtime), diagnostics);
  CHECK(g.needed.count("usr/local/bin/python3"));     // the symlink
  CHECK(g.needed.count("usr/local/bin/python3.11"));  // and the file
  CHECK(g.needed.count("lib/x86_64-linux-gnu/libc.so.6"));

  runtime.entrypoint.clear();
  runtime.cmd = {"sh", "-c", "cd /app && FOO=1 exec myprog --flag | nosuch; echo done"};
  roots = find_roots(fs, runtime, {}, nullptr, nullptr, diagnostics);
  CHECK(find(roots, "bin/sh", How::Entrypoint));
  CHECK(find(roots, "usr/bin/myprog", How::ShellCommand));

  runtime.cmd = {"/app/missing"};
  Diagnostics d2;
  roots = find_roots(fs, runtime, {}, nullptr, nullptr, d2);
  CHECK(d2.items().size() == 1);
  g = resolve_graph(fs, roots, {}, d2);
  CHECK(g.warnings.size() == 1);
}

TEST_CASE("deps: DirFs records symlinks and hardlinks and never leaves the root") {
  Fixture f;
  f.write("a/file", "hello");
  REQUIRE(::link(f.at("a/file").c_str(), f.at("b").c_str()) == 0);
  f.link("/etc/passwd", "etc/passwd");  // absolute: inside the root, not the host's
  DirFs fs(f.root);
  const Node* b = fs.lookup("b");
  REQUIRE(b);
  CHECK(b->type == FileType::Hardlink);
  CHECK(b->link_target == "a/file");
  CHECK(fs.content(*b).size() == 5);
  const Node* passwd = fs.lookup("etc/passwd");
  REQUIRE(passwd);
  CHECK(passwd->type == FileType::Symlink);
  CHECK(fs.resolve("etc/passwd") == nullptr);
  CHECK(fs.list_dir("").size() == 3);
  f.write("other/x", "y");
  fs.mount("mnt/here", f.at("other"));
  CHECK(fs.lookup("mnt/here/x"));
  CHECK(fs.lookup("mnt")->type == FileType::Directory);
}
