// Config plugin roots (src/deps/plugins*.cpp) over in-memory config files in
// a temp root: nsswitch.conf services, gconv-modules and gconv-modules.d,
// pam.d lines, openssl.cnf providers, engines and .include. Each root's
// detail names the config file and line; plugins the image lacks are no roots.
#include "deps_fixture.h"
#include "slimage/deps/plugins.h"

using namespace slimage;
using namespace slimage::test;

namespace {

std::vector<std::string> describe(const std::vector<Root>& roots) {
  std::vector<std::string> out;
  for (auto& r : roots) out.push_back(r.path + " <- " + std::string(how_name(r.how)) + ": " + r.detail);
  return out;
}

const std::string kLib = "usr/lib/x86_64-linux-gnu";

}  // namespace

TEST_CASE("deps: nsswitch.conf names libnss_<service>.so.2 plugins, with file and line") {
  Fixture f;
  f.link("usr/lib", "lib");  // usrmerge: found once, by its real path
  f.write(kLib + "/libnss_files.so.2", "x");
  f.write(kLib + "/libnss_myhostname.so.2", "x");
  f.write(kLib + "/libnss_extrausers.so.2", "x");
  f.write("etc/nsswitch.conf",
          "# comment line\n"
          "passwd:         files extrausers\n"
          "group:          files   # trailing comment\n"
          "\n"
          "hosts:          files myhostname [NOTFOUND=return] dns\n"
          "netgroup:       nis\n");
  DirFs fs(f.root);
  CHECK(describe(nss_plugin_roots(fs)) ==
        std::vector<std::string>{
            kLib + "/libnss_files.so.2 <- config plugin: etc/nsswitch.conf:2 passwd: files extrausers",
            kLib + "/libnss_extrausers.so.2 <- config plugin: etc/nsswitch.conf:2 passwd: files extrausers",
            kLib + "/libnss_myhostname.so.2 <- config plugin: etc/nsswitch.conf:5 hosts: files myhostname "
                   "[NOTFOUND=return] dns"});
}

TEST_CASE("deps: gconv-modules and gconv-modules.d name the gconv modules") {
  Fixture f;
  const std::string g = kLib + "/gconv";
  f.write(g + "/ISO8859-1.so", "x");
  f.write(g + "/UTF-16.so", "x");
  f.write(g + "/libJIS.so", "x");
  f.write(g + "/gconv-modules",
          "# from\tto\tmodule\tcost\n"
          "alias\tLATIN1//\tISO-8859-1//\n"
          "module\tISO-8859-1//\t\tINTERNAL\t\tISO8859-1\t1\n"
          "module\tINTERNAL\t\tISO-8859-1//\tISO8859-1\t1\n"
          "module\tEBCDIC-XX//\tINTERNAL\tEBCDIC-XX\t1\n");  // not in the image
  f.write(g + "/gconv-modules.d/extra.conf", "module\tEUC-JP//\tINTERNAL\t/" + g + "/libJIS\t1\n");
  f.write(g + "/gconv-modules.cache", "cache");
  DirFs fs(f.root);
  CHECK(describe(gconv_plugin_roots(fs)) ==
        std::vector<std::string>{
            g + "/ISO8859-1.so <- config plugin: " + g + "/gconv-modules:3 module ISO-8859-1// INTERNAL ISO8859-1 1",
            g + "/libJIS.so <- config plugin: " + g + "/gconv-modules.d/extra.conf:1 module EUC-JP// INTERNAL /" +
                g + "/libJIS 1"});
}

TEST_CASE("deps: pam.d lines name security/pam_*.so modules") {
  Fixture f;
  f.write(kLib + "/security/pam_unix.so", "x");
  f.write(kLib + "/security/pam_env.so", "x");
  f.write("opt/pam/pam_custom.so", "x");
  f.write("etc/pam.d/login",
          "@include common-auth\n"
          "auth [success=1 default=ignore] pam_unix.so nullok\n"
          "-session optional pam_systemd.so\n"
          "session required /opt/pam/pam_custom.so\n");
  f.write("etc/pam.d/other", "auth required pam_env.so readenv=1\n");
  DirFs fs(f.root);
  CHECK(describe(pam_plugin_roots(fs)) ==
        std::vector<std::string>{
            kLib + "/security/pam_unix.so <- config plugin: etc/pam.d/login:2 auth [success=1 "
                   "default=ignore] pam_unix.so nullok",
            "opt/pam/pam_custom.so <- config plugin: etc/pam.d/login:4 session required /opt/pam/pam_custom.so",
            kLib + "/security/pam_env.so <- config plugin: etc/pam.d/other:1 auth required pam_env.so readenv=1"});
}

TEST_CASE("deps: openssl.cnf providers, engines, module paths and .include") {
  Fixture f;
  f.write(kLib + "/ossl-modules/legacy.so", "x");
  f.write(kLib + "/ossl-modules/fips.so", "x");
  f.write(kLib + "/engines-3/afalg.so", "x");
  f.write("opt/prov/myprov.so", "x");
  f.link("../../../etc/ssl/openssl.cnf", "usr/lib/ssl/openssl.cnf");  // Debian's layout: read once
  f.write("etc/ssl/openssl.cnf",
          "openssl_conf = openssl_init\n"
          ".include /etc/ssl/conf.d\n"
          "[openssl_init]\n"
          "providers = provider_sect\n"
          "engines = engine_sect\n"
          "[provider_sect]\n"
          "default = default_sect\n"
          "legacy = legacy_sect\n"
          "mine = mine_sect\n"
          "[legacy_sect]\n"
          "activate = 1\n"
          "[mine_sect]\n"
          "module = /opt/prov/myprov.so\n"
          "[engine_sect]\n"
          "afalg = afalg_sect\n"
          "[afalg_sect]\n"
          "init = 1\n");
  f.write("etc/ssl/conf.d/fips.cnf", "[fips_sect]\nmodule = fips.so\n");
  DirFs fs(f.root);
  CHECK(describe(openssl_plugin_roots(fs, ImageRuntime{})) ==
        std::vector<std::string>{
            // The .include on line 2 is read where it stands, before the sections below it.
            kLib + "/ossl-modules/fips.so <- config plugin: etc/ssl/conf.d/fips.cnf:2 module = fips.so",
            kLib + "/ossl-modules/legacy.so <- config plugin: etc/ssl/openssl.cnf:8 legacy = legacy_sect",
            "opt/prov/myprov.so <- config plugin: etc/ssl/openssl.cnf:13 module = /opt/prov/myprov.so",
            kLib + "/engines-3/afalg.so <- config plugin: etc/ssl/openssl.cnf:15 afalg = afalg_sect"});

  // $OPENSSL_CONF from the image's Env replaces nothing, it is read first.
  f.write("app/ssl.cnf", "[x]\nmodule = /opt/prov/myprov.so\n");
  ImageRuntime rt;
  rt.env = {"OPENSSL_CONF=/app/ssl.cnf"};
  DirFs fs2(f.root);
  auto roots = describe(openssl_plugin_roots(fs2, rt));
  REQUIRE(roots.size() == 4);
  CHECK(roots[0] == "opt/prov/myprov.so <- config plugin: app/ssl.cnf:2 module = /opt/prov/myprov.so");
}

TEST_CASE("deps: plugin dir families cover Mesa, GStreamer, Qt, SASL, krb5 and OpenSSL modules") {
  std::set<std::string> names;
  for (auto& f : plugin_dir_families()) {
    names.insert(f.name);
    CHECK_FALSE(f.triggers.empty());
    for (auto& l : f.loads) CHECK_FALSE(l.empty());
  }
  for (const char* n : {"mesa-drivers", "gstreamer", "qt5-plugins", "qt6-plugins", "gtk-modules",
                        "sasl2", "krb5", "openssl-modules"})
    CHECK(names.count(n));
}

TEST_CASE("deps: loader_search_dirs: default, multiarch, hwcaps, ld.so.conf, ld.so.cache, musl and LD_LIBRARY_PATH dirs") {
  Fixture f;
  f.link("usr/lib", "lib");  // usrmerge: /lib is usr/lib
  for (const char* d : {"usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3", "usr/lib64", "usr/local/lib",
                        "opt/conf/lib", "opt/cached/lib", "opt/env/lib", "opt/musl/lib",
                        "usr/lib/x86_64-linux-gnu/plugins", "opt/app/lib", "opt/rpath/lib"})
    f.mkdirs(d);
  f.write("etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n");
  f.write("etc/ld.so.conf.d/app.conf", "/opt/conf/lib\n/opt/missing/lib\n");
  f.write("etc/ld-musl-x86_64.path", "/opt/musl/lib:/usr/lib\n");
  // A new-format ld.so.cache with one entry, in a dir no conf file names (a stale cache).
  auto put = [](std::string& b, size_t off, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; ++i) b[off + i] = static_cast<char>(v >> (8 * i));
  };
  std::string cache = "glibc-ld.so.cache1.1", strings;
  cache.resize(48 + 24, '\0');
  put(cache, 48, 0x0303, 4);
  put(cache, 52, cache.size(), 4);
  strings += std::string("libcached.so.1") + '\0';
  put(cache, 56, cache.size() + strings.size(), 4);
  strings += std::string("/opt/cached/lib/libcached.so.1") + '\0';
  put(cache, 20, 1, 4);
  put(cache, 24, strings.size(), 4);
  cache[28] = 2;  // little-endian
  f.write("etc/ld.so.cache", cache + strings);
  DirFs fs(f.root);
  ImageRuntime rt;
  rt.env = {"LD_LIBRARY_PATH=/opt/env/lib:$ORIGIN/../lib:/opt/none"};
  // Not opt/app/lib, opt/rpath/lib or the multiarch dir's plugins/: a library there is
  // opened by its full path. $ORIGIN is one program's; missing dirs are no dirs.
  CHECK(loader_search_dirs(fs, rt) ==
        std::set<std::string>{"opt/cached/lib", "opt/conf/lib", "opt/env/lib", "opt/musl/lib", "usr/lib",
                              "usr/lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3",
                              "usr/lib64", "usr/local/lib"});
  CHECK(loader_search_dirs(fs, ImageRuntime{}).count("opt/env/lib") == 0);
}
