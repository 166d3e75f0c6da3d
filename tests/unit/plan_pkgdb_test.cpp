// Plan pass (g), package databases: synthetic dpkg, apk and Python databases
// in a temp root, files dropped with --drop globs, and the exact new contents
// the plan hands the layer writer.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "slimage/elf/elf.h"
#include "slimage/elf/strip.h"
#include "slimage/plan/plan.h"
#include "slimage/registry/auth.h"
#include "slimage/rootfs/dir_fs.h"
#include "slimage/util/file.h"
#include "slimage/util/hash.h"
#include "test_skip.h"

namespace slimage {
namespace {

struct Root {
  TempDir tmp{"/tmp", "slimage-pkgdb-"};
  std::string root = tmp.path() + "/root";
  void write(const std::string& p, const std::string& text) {
    std::filesystem::create_directories(root + "/" + dirname_of(p));
    std::ofstream(root + "/" + p) << text;
  }
  Plan plan(std::vector<std::string> drop, StripMode strip = StripMode::None, unsigned jobs = 1) {
    DirFs fs(root);
    PlanOptions o;
    o.profile.name = "test";
    o.profile.strip = strip;
    o.profile.dedupe = false;
    o.drop = std::move(drop);
    o.jobs = jobs;
    Diagnostics d;
    return build_plan(fs, ImageRuntime{}, o, d);
  }
};

std::string replaced(const Plan& plan, const std::string& path) {
  const std::string* r = plan.replacement(path);
  INFO(path);
  REQUIRE(r != nullptr);
  return *r;
}

Fate fate(const Plan& plan, const std::string& path) {
  const Action* a = plan.find(path);
  INFO(path);
  REQUIRE(a != nullptr);
  return a->fate;
}

std::string stanza(const std::string& name, const std::string& extra = "") {
  return "Package: " + name + "\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n" + extra;
}

TEST_CASE("pkgdb: dpkg drops emptied packages, keeps depended-on ones listed, trims lists") {
  Root r;
  r.write("usr/lib/liba/a1", "a1");
  r.write("usr/lib/libb/b1", "b1");
  r.write("usr/share/app/keep", "keep");
  r.write("usr/share/app/drop", "drop");
  r.write("usr/share/gtk/x", "x");
  std::filesystem::create_directory_symlink("usr/lib", r.root + "/lib");
  r.write("var/lib/dpkg/status",
          stanza("liba", "Multi-Arch: same\n") + "\n" + stanza("libb", "Provides: libb-virt\n") + "\n" +
              stanza("app", "Depends: libc6 (>= 2), libb-virt | libx\nConffiles:\n /usr/share/app/drop 0123\n") +
              "\n" + stanza("libgtk2") + "\n" + stanza("libgtk2.0-0") + "\n");
  const std::string info = "var/lib/dpkg/info/";
  r.write(info + "liba:amd64.list", "/.\n/lib\n/lib/liba\n/lib/liba/a1\n");  // usrmerge: through /lib
  r.write(info + "liba:amd64.md5sums", "11111111111111111111111111111111  usr/lib/liba/a1\n");
  r.write(info + "liba:amd64.postinst", "#!/bin/sh\n");
  r.write(info + "libb.list", "/usr/lib/libb\n/usr/lib/libb/b1\n");
  r.write(info + "app.list", "/usr/share/app\n/usr/share/app/keep\n/usr/share/app/drop\n");
  r.write(info + "app.md5sums", "aa  usr/share/app/keep\nbb  usr/share/app/drop\n");
  r.write(info + "libgtk2.list", "/usr/share/gtk/gone\n");  // nothing of it in the image: not emptied
  r.write(info + "libgtk2.0-0.list", "/usr/share/gtk/x\n");
  Plan plan = r.plan({"usr/lib/liba/**", "usr/lib/libb/**", "usr/share/app/drop"});

  CHECK(replaced(plan, "var/lib/dpkg/status") ==
        stanza("libb", "Provides: libb-virt\n") + "\n" +
            stanza("app", "Depends: libc6 (>= 2), libb-virt | libx\n") + "\n" + stanza("libgtk2") + "\n" +
            stanza("libgtk2.0-0") + "\n");
  CHECK(fate(plan, info + "liba:amd64.list") == Fate::Drop);
  CHECK(fate(plan, info + "liba:amd64.md5sums") == Fate::Drop);
  CHECK(fate(plan, info + "liba:amd64.postinst") == Fate::Drop);
  CHECK(plan.find(info + "liba:amd64.list")->kind == ReasonKind::PackageDb);
  CHECK(fate(plan, info + "libgtk2.0-0.list") == Fate::Keep);
  CHECK(plan.replacement(info + "libgtk2.0-0.list") == nullptr);
  CHECK(replaced(plan, info + "libb.list") == "/usr/lib/libb\n");  // the dir stays (a "dir/**" drop)
  CHECK(replaced(plan, info + "app.list") == "/usr/share/app\n/usr/share/app/keep\n");
  CHECK(replaced(plan, info + "app.md5sums") == "aa  usr/share/app/keep\n");
  REQUIRE(plan.packages_removed.size() == 1);
  CHECK(plan.packages_removed[0].name == "liba");
  REQUIRE(plan.packages_listed_files_removed.size() == 1);
  CHECK(plan.packages_listed_files_removed[0].name == "libb");
  CHECK(plan.packages_listed_files_removed[0].kept_by == "needed by app");
  // The new content is what the summary counts.
  const Action& status = *plan.find("var/lib/dpkg/status");
  CHECK(status.bytes_after == replaced(plan, "var/lib/dpkg/status").size());
}

TEST_CASE("pkgdb: nothing dropped, nothing edited") {
  Root r;
  r.write("usr/share/app/keep", "keep");
  r.write("var/lib/dpkg/status", stanza("app") + "\n");
  r.write("var/lib/dpkg/info/app.list", "/usr/share/app/keep\n");
  Plan plan = r.plan({});
  CHECK(plan.replaced.empty());
  CHECK(plan.packages_removed.empty());
}

TEST_CASE("pkgdb: distroless status.d records and their md5sums") {
  Root r;
  r.write("usr/lib/a/x", "x");
  r.write("usr/lib/b/y", "y");
  r.write("usr/lib/b/z", "z");
  r.write("var/lib/dpkg/status.d/a", stanza("a"));
  r.write("var/lib/dpkg/status.d/a.md5sums", "00  usr/lib/a/x\n");
  r.write("var/lib/dpkg/status.d/b", stanza("b"));
  r.write("var/lib/dpkg/status.d/b.md5sums", "01  usr/lib/b/y\n02  usr/lib/b/z\n");
  Plan plan = r.plan({"usr/lib/a/**", "usr/lib/b/z"});
  CHECK(fate(plan, "var/lib/dpkg/status.d/a") == Fate::Drop);
  CHECK(fate(plan, "var/lib/dpkg/status.d/a.md5sums") == Fate::Drop);
  CHECK(replaced(plan, "var/lib/dpkg/status.d/b.md5sums") == "01  usr/lib/b/y\n");
}

TEST_CASE("pkgdb: stripped files get their new md5 and RECORD sha256" *
          doctest::skip(!test::have_tool("gcc"))) {
  Root r;
  // Two stripped files in one md5sums: their MD5s are computed at once, on
  // the plan's threads (PackageDb::warm_sums), each into its own line.
  std::filesystem::create_directories(r.root + "/usr/lib/python3/dist-packages/m");
  auto build = [&](const std::string& name, const std::string& code) {
    std::string src = r.tmp.path() + "/" + name + ".c";
    write_file_atomic(src, code);
    std::string so = r.root + "/usr/lib/python3/dist-packages/m/" + name + ".so";
    REQUIRE(std::system(("gcc -g -shared -fPIC -o '" + so + "' '" + src + "'").c_str()) == 0);
    return so;
  };
  std::string so = build("x", "int f(void) { return 1; }\n");
  std::string so_y = build("y", "int g(void) { return 2; }\nint h(void) { return 3; }\n");
  r.write("usr/lib/python3/dist-packages/m-1.0.dist-info/METADATA", "Name: m\nVersion: 1.0\n\nbody\n");
  r.write("usr/lib/python3/dist-packages/m-1.0.dist-info/RECORD",
          "m/x.so,sha256=old,1\nm-1.0.dist-info/RECORD,,\n");
  r.write("var/lib/dpkg/status", stanza("m") + "\n");
  r.write("var/lib/dpkg/info/m.md5sums",
          "00  usr/lib/python3/dist-packages/m/x.so\n01  usr/lib/python3/dist-packages/m/y.so\n");
  Plan plan = r.plan({}, StripMode::Debug, /*jobs=*/2);
  REQUIRE(fate(plan, "usr/lib/python3/dist-packages/m/x.so") == Fate::Strip);
  REQUIRE(fate(plan, "usr/lib/python3/dist-packages/m/y.so") == Fate::Strip);
  // The expected bytes, from the strip planner directly.
  auto stripped_of = [](const std::string& path, Writer& a, Writer& b) {
    std::string bytes = read_file(path);
    std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    std::string error, why;
    auto info = parse_elf(span, &error);
    REQUIRE(info);
    auto stripped = plan_strip(span, *info, StripMode::Debug, &why);
    REQUIRE(stripped);
    write_stripped(span, *stripped, a);
    write_stripped(span, *stripped, b);
    return stripped->output_size;
  };
  DigestWriter md5("md5"), sha("sha256"), md5_y("md5"), unused("sha256");
  uint64_t size = stripped_of(so, md5, sha);
  stripped_of(so_y, md5_y, unused);
  const std::string md5_x = hex_encode(md5.raw()), md5_of_y = hex_encode(md5_y.raw());  // raw() finalizes: once
  CHECK(md5_x != md5_of_y);
  std::string b64 = registry::base64_encode(sha.raw());  // RECORD's form: urlsafe, no padding
  while (b64.back() == '=') b64.pop_back();
  for (char& c : b64) c = c == '+' ? '-' : c == '/' ? '_' : c;
  CHECK(replaced(plan, "var/lib/dpkg/info/m.md5sums") ==
        md5_x + "  usr/lib/python3/dist-packages/m/x.so\n" + md5_of_y + "  usr/lib/python3/dist-packages/m/y.so\n");
  CHECK(replaced(plan, "usr/lib/python3/dist-packages/m-1.0.dist-info/RECORD") ==
        "m/x.so,sha256=" + b64 + "," + std::to_string(size) + "\nm-1.0.dist-info/RECORD,,\n");
}

TEST_CASE("pkgdb: Python distributions uninstalled, kept for a requirement, RECORD trimmed") {
  Root r;
  const std::string site = "usr/lib/python3/dist-packages/";
  r.write(site + "foo/__init__.py", "");
  r.write(site + "foo/__pycache__/__init__.cpython-311.pyc", "pyc");
  r.write(site + "foo-1.0.dist-info/METADATA",
          "Name: foo\nVersion: 1.0\nRequires-Dist: Baz_Lib (>=1)\nRequires-Dist: bar; extra == \"x\"\n\n");
  r.write(site + "foo-1.0.dist-info/RECORD",
          "foo/__init__.py,sha256=a,0\nfoo/__pycache__/__init__.cpython-311.pyc,,\n"
          "foo-1.0.dist-info/RECORD,,\n");
  r.write(site + "bar/b.py", "b");
  r.write(site + "bar-2.0.dist-info/METADATA", "Name: bar\nVersion: 2.0\n\n");
  r.write(site + "bar-2.0.dist-info/RECORD", "bar/b.py,sha256=b,1\nbar-2.0.dist-info/RECORD,,\n");
  r.write(site + "baz_lib/z.py", "z");
  r.write(site + "baz_lib-3.0.dist-info/METADATA", "Name: baz-lib\nVersion: 3.0\n\n");
  r.write(site + "baz_lib-3.0.dist-info/RECORD", "baz_lib/z.py,sha256=c,1\n");
  r.write(site + "old.egg-info/installed-files.txt", "../old/o.py\n../old/p.py\nPKG-INFO\n");
  r.write(site + "old.egg-info/PKG-INFO", "Name: old\nVersion: 0.1\n\n");
  r.write(site + "old/o.py", "o");
  r.write(site + "old/p.py", "p");
  Plan plan = r.plan({"**/__pycache__", site + "bar/**", site + "baz_lib/**", site + "old/p.py"});
  CHECK(replaced(plan, site + "foo-1.0.dist-info/RECORD") ==
        "foo/__init__.py,sha256=a,0\nfoo-1.0.dist-info/RECORD,,\n");
  CHECK(fate(plan, site + "bar-2.0.dist-info") == Fate::Drop);
  CHECK(fate(plan, site + "bar-2.0.dist-info/METADATA") == Fate::Drop);
  CHECK(fate(plan, site + "baz_lib-3.0.dist-info/RECORD") == Fate::Keep);
  CHECK(replaced(plan, site + "baz_lib-3.0.dist-info/RECORD") == "");
  CHECK(replaced(plan, site + "old.egg-info/installed-files.txt") == "../old/o.py\nPKG-INFO\n");
  REQUIRE(plan.packages_removed.size() == 1);
  CHECK(plan.packages_removed[0].name == "bar");
  REQUIRE(plan.packages_listed_files_removed.size() == 1);
  CHECK(plan.packages_listed_files_removed[0].name == "baz-lib");
  CHECK(plan.packages_listed_files_removed[0].kept_by == "needed by foo");
}

TEST_CASE("pkgdb: apk installed database") {
  Root r;
  r.write("usr/lib/libz.so.1", "z");
  r.write("usr/bin/tool", "t");
  r.write("usr/share/tool/data", "d");
  r.write("lib/apk/db/installed",
          "P:zlib\nV:1.3\nD:so:libc.musl-x86_64.so.1\np:so:libz.so.1=1.3\nF:usr/lib\nR:libz.so.1\nZ:Q1aaa=\n\n"
          "P:tool\nV:2\nD:zlib>=1\nF:usr/bin\nR:tool\nZ:Q1bbb=\nF:usr/share/tool\nM:0:0:755\nR:data\na:0:0:644\nZ:Q1ccc=\n\n"
          "P:gone\nV:3\nF:usr/lib/gone\nR:g\n\n");
  r.write("usr/lib/gone/g", "g");
  Plan plan = r.plan({"usr/lib/libz.so.1", "usr/share/tool/**", "usr/lib/gone/**"});
  CHECK(replaced(plan, "lib/apk/db/installed") ==
        "P:zlib\nV:1.3\nD:so:libc.musl-x86_64.so.1\np:so:libz.so.1=1.3\nF:usr/lib\n\n"
        "P:tool\nV:2\nD:zlib>=1\nF:usr/bin\nR:tool\nZ:Q1bbb=\nF:usr/share/tool\nM:0:0:755\n\n");
  REQUIRE(plan.packages_listed_files_removed.size() == 1);
  CHECK(plan.packages_listed_files_removed[0].name == "zlib");
  REQUIRE(plan.packages_removed.size() == 1);
  CHECK(plan.packages_removed[0].name == "gone");
}

// What an SBOM of the slimmed image lists (src/report/sbom.cpp).
std::string describe(const InstalledPackage& p) {
  std::string licenses;
  for (auto& l : p.licenses) licenses += (licenses.empty() ? "" : "|") + l;
  return p.database + " " + p.name + " " + p.version + " " + p.arch + " [" + licenses + "]" +
         (p.license_is_spdx ? " spdx" : "") + " removed=" + std::to_string(p.files_removed);
}

TEST_CASE("pkgdb: the packages that stay, with versions, architectures and licenses") {
  Root r;
  r.write("usr/share/keep/a", "a");
  r.write("usr/share/keep/b", "b");
  r.write("usr/share/gone/c", "c");
  r.write("var/lib/dpkg/status", stanza("keep") + "\n" + stanza("gone") + "\n" + stanza("plain") + "\n");
  r.write("var/lib/dpkg/info/keep.list", "/usr/share/keep/a\n/usr/share/keep/b\n");
  r.write("var/lib/dpkg/info/gone.list", "/usr/share/gone/c\n");
  // Machine-readable: each License once, in order; the doc dir itself is dropped.
  r.write("usr/share/doc/keep/copyright",
          "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
          "Files: *\nCopyright: x\nLicense: GPL-2+\n\nFiles: d/*\nLicense: MIT\n\n"
          "License: GPL-2+\n text\n .\n more\n");
  r.write("usr/share/doc/plain/copyright", "This is free software.\nLicense: not parsed\n");  // not machine-readable
  const std::string site = "usr/lib/python3/dist-packages/";
  r.write(site + "Foo_Bar-1.0.dist-info/METADATA", "Name: Foo_Bar\nVersion: 1.0\nLicense-Expression: MIT\n\nbody\n");
  r.write(site + "Foo_Bar-1.0.dist-info/RECORD", "foo/x.py,,\n");
  r.write(site + "foo/x.py", "x");
  r.write(site + "old-2.dist-info/METADATA", "Name: old\nVersion: 2\nLicense: BSD\n");
  r.write(site + "old-2.dist-info/RECORD", "old/y.py,,\n");
  r.write(site + "old/y.py", "y");
  r.write("lib/apk/db/installed", "P:zlib\nV:1.3\nA:x86_64\nL:Zlib\nF:usr/share/keep\nR:a\n\n");
  Plan plan = r.plan({"usr/share/keep/b", "usr/share/gone/**", "usr/share/doc/**"});
  std::vector<std::string> got;
  for (auto& p : plan.packages) got.push_back(describe(p));
  CHECK(got == std::vector<std::string>{
                   "apk zlib 1.3 x86_64 [Zlib] spdx removed=0",
                   "dpkg keep 1.0 amd64 [GPL-2+|MIT] removed=1",
                   "dpkg plain 1.0 amd64 [] removed=0",
                   "python Foo_Bar 1.0  [MIT] spdx removed=0",
                   "python old 2  [BSD] removed=0",
               });
}

}  // namespace
}  // namespace slimage
