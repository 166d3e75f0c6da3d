// The system's plugin mechanisms as roots read from the image's own
// configuration, so a walk that keeps only what is reached loses none of
// them: glibc NSS (etc/nsswitch.conf -> libnss_<service>.so.2), gconv
// (gconv-modules, gconv-modules.d/*.conf -> module .so files), PAM
// (etc/pam.d/*, etc/pam.conf -> security/pam_*.so) and OpenSSL (openssl.cnf:
// .include, providers, engines, `module =`, `dynamic_path =`). Each root's
// detail names the config file and line ("etc/nsswitch.conf:7 hosts: files
// myhostname"). Plugin directories loaded when a library is kept (Mesa DRI,
// GStreamer, Qt, GTK, SASL, krb5, OpenSSL's ossl-modules) are dlopen families.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "slimage/deps/resolver.h"
#include "slimage/rootfs/fs_view.h"

namespace slimage {

// Roots for every plugin the image's config names and the image holds.
// Never throws: unreadable or odd config lines are skipped.
std::vector<Root> config_plugin_roots(const FsView& fs, const ImageRuntime& runtime);

// Each mechanism alone (the unit tests call these).
std::vector<Root> nss_plugin_roots(const FsView& fs);
std::vector<Root> gconv_plugin_roots(const FsView& fs);
std::vector<Root> pam_plugin_roots(const FsView& fs);
std::vector<Root> openssl_plugin_roots(const FsView& fs, const ImageRuntime& runtime);

// Plugin directories loaded when a library is kept: dlopen families whose
// loads are relative to the trigger's directory ("dri/*.so").
std::vector<DlopenFamily> plugin_dir_families();

// The directories the loader searches by name, as real paths ("usr/lib/x86_64-linux-gnu"):
// the default dirs (lib, usr/lib, their lib64 and multiarch siblings, usr/local/lib),
// their glibc-hwcaps/<level> subdirs, etc/ld.so.conf's, the dirs of etc/ld.so.cache's
// entries, musl's etc/ld-musl-<arch>.path and the config Env's LD_LIBRARY_PATH. RPATH and
// RUNPATH dirs are not among them: they are one program's. A shared library anywhere else
// is opened by its full path (ImageMagick's coders, sudo's sudoers.so, a JVM's libjvm.so,
// Ruby and Lua modules), by code that scans a directory or reads its own config.
std::set<std::string> loader_search_dirs(const FsView& fs, const ImageRuntime& runtime);

}  // namespace slimage
