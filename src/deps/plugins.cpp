// Config-driven plugin roots (see include/slimage/deps/plugins.h). Each
// parser reads the image's own files, keeps the first config line naming a
// plugin as its reason, and roots only plugins the image holds. Library dirs
// are searched the way the loader's default and multiarch dirs go, real
// paths first so a usrmerge'd /lib adds nothing twice.
#include "slimage/deps/plugins.h"

#include <optional>
#include <set>

#include "plugin_config.h"
#include "slimage/deps/ld_cache.h"
#include "slimage/util/strings.h"

namespace slimage {
namespace plugin_detail {

std::optional<std::string> text_of(const FsView& fs, const std::string& path) {
  const Node* n = fs.resolve(path);
  if (!n || !n->is_file()) return std::nullopt;
  auto bytes = fs.content(*n);
  std::string text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  fs.release(*n);
  return text;
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

// Lines with their 1-based numbers, comments ('#' to end of line) removed.
std::vector<std::pair<size_t, std::string>> config_lines(const std::string& text) {
  std::vector<std::pair<size_t, std::string>> out;
  size_t start = 0, number = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++number;
    std::string_view line(text.data() + start, end - start);
    line = line.substr(0, line.find('#'));
    std::string t = trim(line);
    if (!t.empty()) out.emplace_back(number, std::move(t));
    start = end + 1;
  }
  return out;
}

std::string real_dir(const FsView& fs, const std::string& path) {
  std::string real;
  const Node* n = fs.resolve(path, true, &real);
  return n && n->type == FileType::Directory ? real : "";
}

// Library dirs in search order, real paths, each once.
std::vector<std::string> lib_dirs(const FsView& fs) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& dir) {
    std::string real = real_dir(fs, dir);
    if (!real.empty() && seen.insert(real).second) out.push_back(real);
  };
  for (const char* base : {"usr/lib", "lib"}) {
    std::string real = real_dir(fs, base);
    if (real.empty()) continue;
    for (const Node* child : fs.list_dir(real))
      if (basename_of(child->path).find("-linux-") != std::string::npos) add(child->path);
  }
  for (const char* dir : {"usr/lib64", "lib64", "usr/lib", "lib", "usr/local/lib", "usr/local/lib64"})
    add(dir);
  return out;
}

// "dir/name" for the first dir holding a file `sub/name`; "" if none.
std::string find_in_lib_dirs(const FsView& fs, const std::vector<std::string>& dirs,
                             const std::string& sub, const std::string& name) {
  for (auto& dir : dirs) {
    std::string p = join_path(dir, sub.empty() ? name : sub + "/" + name);
    const Node* n = fs.resolve(p);
    if (n && n->is_file()) return normalize_path(p);
  }
  return "";
}

bool is_file(const FsView& fs, const std::string& path) {
  const Node* n = fs.resolve(path);
  return n && n->is_file();
}

void Collector::add(const std::string& path, const std::string& file, size_t line,
                    const std::string& text) {
  if (path.empty() || !seen.insert(path).second) return;
  std::string squeezed;  // runs of blanks as one space: "module ISO-8859-1// INTERNAL ISO8859-1 1"
  for (auto& w : split_any(text, " \t")) squeezed += (squeezed.empty() ? "" : " ") + w;
  roots.push_back({path, How::ConfigPlugin, file + ":" + std::to_string(line) + " " + squeezed});
}

std::vector<std::string> words(const std::string& line) { return split_any(line, " \t"); }

}  // namespace plugin_detail

using namespace plugin_detail;

std::vector<Root> nss_plugin_roots(const FsView& fs) {
  Collector c;
  const std::string conf = "etc/nsswitch.conf";
  auto text = text_of(fs, conf);
  if (!text) return {};
  auto dirs = lib_dirs(fs);
  for (auto& [number, line] : config_lines(*text)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    bool in_action = false;
    for (auto& w : words(line.substr(colon + 1))) {
      // "[NOTFOUND=return]" (possibly split on spaces) is an action, not a service.
      if (w.front() == '[') in_action = true;
      bool action = in_action;
      if (w.back() == ']') in_action = false;
      if (action) continue;
      c.add(find_in_lib_dirs(fs, dirs, "", "libnss_" + w + ".so.2"), conf, number, line);
    }
  }
  return std::move(c.roots);
}

std::vector<Root> gconv_plugin_roots(const FsView& fs) {
  Collector c;
  for (auto& lib : lib_dirs(fs)) {
    std::string dir = join_path(lib, "gconv");
    if (real_dir(fs, dir).empty()) continue;
    std::vector<std::string> confs = {dir + "/gconv-modules"};
    std::string d = real_dir(fs, dir + "/gconv-modules.d");
    if (!d.empty())
      for (const Node* n : fs.list_dir(d))
        if (n->path.ends_with(".conf")) confs.push_back(dir + "/gconv-modules.d/" + basename_of(n->path));
    for (auto& conf : confs) {
      auto text = text_of(fs, conf);
      if (!text) continue;
      for (auto& [number, line] : config_lines(*text)) {
        auto w = words(line);
        if (w.size() < 4 || w[0] != "module") continue;
        std::string file = w[3] + ".so";
        std::string path = normalize_path(file.front() == '/' ? file : dir + "/" + file);
        if (is_file(fs, path)) c.add(path, conf, number, line);
      }
    }
  }
  return std::move(c.roots);
}

std::vector<Root> pam_plugin_roots(const FsView& fs) {
  Collector c;
  auto dirs = lib_dirs(fs);
  auto scan = [&](const std::string& conf, bool with_service) {
    auto text = text_of(fs, conf);
    if (!text) return;
    for (auto& [number, line] : config_lines(*text)) {
      auto w = words(line);
      size_t i = with_service ? 1 : 0;
      if (w.size() < i + 3 || w[i].front() == '@') continue;  // "@include common-auth"
      ++i;  // the type (auth, -session, …)
      if (w[i].front() == '[')  // "[success=1 default=ignore]"
        while (i < w.size() && w[i].back() != ']') ++i;
      if (++i >= w.size()) continue;
      const std::string& module = w[i];
      if (module.find('/') != std::string::npos) {
        if (is_file(fs, module)) c.add(normalize_path(module), conf, number, line);
      } else {
        c.add(find_in_lib_dirs(fs, dirs, "security", module), conf, number, line);
      }
    }
  };
  std::string pam_d = real_dir(fs, "etc/pam.d");
  if (!pam_d.empty())
    for (const Node* n : fs.list_dir(pam_d)) scan("etc/pam.d/" + basename_of(n->path), false);
  scan("etc/pam.conf", true);
  return std::move(c.roots);
}

std::vector<Root> config_plugin_roots(const FsView& fs, const ImageRuntime& runtime) {
  std::vector<Root> out;
  for (auto* part : {&nss_plugin_roots, &gconv_plugin_roots, &pam_plugin_roots}) {
    auto roots = (*part)(fs);
    out.insert(out.end(), roots.begin(), roots.end());
  }
  auto ssl = openssl_plugin_roots(fs, runtime);
  out.insert(out.end(), ssl.begin(), ssl.end());
  return out;
}

std::set<std::string> loader_search_dirs(const FsView& fs, const ImageRuntime& runtime) {
  std::set<std::string> dirs;
  auto add = [&](std::string_view dir) {
    if (dir.empty() || dir.find('$') != std::string_view::npos) return;  // $ORIGIN: one program's
    std::string real = real_dir(fs, normalize_path(dir));
    if (real.empty() || !dirs.insert(real).second) return;
    std::string hwcaps = real_dir(fs, join_path(real, "glibc-hwcaps"));
    if (!hwcaps.empty())
      for (const Node* level : fs.list_dir(hwcaps))
        if (level->type == FileType::Directory) dirs.insert(level->path);
  };
  for (auto& dir : lib_dirs(fs)) add(dir);
  for (const char* dir : {"usr/lib32", "lib32", "usr/libx32", "libx32"}) add(dir);
  for (auto& dir : read_ld_so_conf(fs, "etc/ld.so.conf", nullptr)) add(dir);
  if (const Node* n = fs.resolve("etc/ld.so.cache"); n && n->is_file()) {
    std::string error;
    auto cache = LdCache::parse(fs.content(*n), &error);
    fs.release(*n);
    std::set<std::string> seen;  // thousands of entries, a few dirs
    if (cache)
      for (auto& e : cache->entries())
        if (std::string dir = dirname_of(normalize_path(e.path)); seen.insert(dir).second) add(dir);
  }
  if (std::string etc = real_dir(fs, "etc"); !etc.empty())
    for (const Node* n : fs.list_dir(etc)) {
      std::string base = basename_of(n->path);
      if (!base.starts_with("ld-musl-") || !base.ends_with(".path")) continue;
      if (auto text = text_of(fs, n->path))
        for (auto& dir : split_any(*text, ":\n")) add(dir);
    }
  for (auto& dir : split_any(runtime.env_value("LD_LIBRARY_PATH"), ":")) add(dir);
  return dirs;
}

std::vector<DlopenFamily> plugin_dir_families() {
  return {
      {"mesa-drivers",
       {"libGL.so.1*", "libEGL.so.1*", "libgbm.so.1*", "libGLX.so.0*", "libOpenGL.so.0*",
        "libGLESv2.so.2*", "libva.so.2*", "libvdpau.so.1*", "libEGL_mesa.so.0*", "libGLX_mesa.so.0*"},
       {"dri/*.so", "dri/**/*.so", "gbm/*.so", "vdpau/*.so*", "libEGL_mesa.so.0", "libGLX_mesa.so.0"},
       "Mesa, GBM, VA-API and VDPAU load their drivers from the dri, gbm and vdpau dirs"},
      {"gstreamer", {"libgstreamer-1.0.so.0*"}, {"gstreamer-1.0/*.so"},
       "GStreamer loads every plugin in its plugin dir"},
      {"qt5-plugins", {"libQt5Core.so.5*"}, {"qt5/plugins/**/*.so"}, "Qt 5 loads plugins from qt5/plugins"},
      {"qt6-plugins", {"libQt6Core.so.6*"}, {"qt6/plugins/**/*.so"}, "Qt 6 loads plugins from qt6/plugins"},
      {"gtk-modules", {"libgtk-3.so.0*", "libgtk-x11-2.0.so.0*", "libgtk-4.so.1*"},
       {"gtk-3.0/**/*.so", "gtk-2.0/**/*.so", "gtk-4.0/**/*.so"}, "GTK loads input-method and print modules"},
      {"gdk-pixbuf-loaders", {"libgdk_pixbuf-2.0.so.0*"}, {"gdk-pixbuf-2.0/**/*.so"},
       "gdk-pixbuf loads its image loaders"},
      {"gio-modules", {"libgio-2.0.so.0*"}, {"gio/modules/*.so"}, "GIO loads its modules"},
      {"sasl2", {"libsasl2.so.2*"}, {"sasl2/*.so*"}, "Cyrus SASL loads its mechanism plugins"},
      {"krb5", {"libkrb5.so.3*"}, {"krb5/plugins/**/*.so"}, "MIT krb5 loads its plugins"},
      {"openssl-modules", {"libcrypto.so.3*"}, {"ossl-modules/*.so", "engines-3/*.so"},
       "OpenSSL 3 loads providers and engines from its modules dirs"},
      {"openssl-engines-1.1", {"libcrypto.so.1.1*"}, {"engines-1.1/*.so"}, "OpenSSL 1.1 loads its engines"},
  };
}

}  // namespace slimage
