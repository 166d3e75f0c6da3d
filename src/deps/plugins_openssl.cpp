// OpenSSL's config as plugin roots (see include/slimage/deps/plugins.h).
// Reads $OPENSSL_CONF from the image's Env, else the usual openssl.cnf
// places, following `.include` (a file, or every *.cnf/*.conf of a dir;
// relative to the including file's dir). Roots: the module of every provider
// named in a `providers` section (`module = PATH`, else NAME.so in the
// ossl-modules dir; default and base are built in), the `dynamic_path` of
// every engine (else ID.so in engines-3/engines-1.1), and any other
// `module =` / `dynamic_path =` value. `$ENV::` values are skipped.
#include <map>

#include "plugin_config.h"
#include "slimage/deps/plugins.h"
#include "slimage/util/strings.h"

namespace slimage {
namespace {
using namespace plugin_detail;

struct Entry {
  std::string section, key, value, file;
  size_t line = 0;
  std::string text;
};

std::string unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

struct OpensslConfig {
  const FsView& fs;
  std::vector<Entry> entries;
  std::set<std::string> read;  // real paths, against include loops

  void parse(const std::string& path, int depth) {
    std::string real;
    const Node* n = fs.resolve(path, true, &real);
    if (!n || depth > 8 || !read.insert(real).second) return;
    if (n->type == FileType::Directory) {
      for (const Node* child : fs.list_dir(real)) {
        std::string base = basename_of(child->path);
        if (base.ends_with(".cnf") || base.ends_with(".conf")) parse(join_path(path, base), depth + 1);
      }
      return;
    }
    auto text = text_of(fs, path);
    if (!text) return;
    std::string section = "default";
    for (auto& [number, line] : config_lines(*text)) {
      if (line.front() == '[') {
        size_t close = line.find(']');
        section = trim(line.substr(1, close == std::string::npos ? std::string::npos : close - 1));
        continue;
      }
      if (line.starts_with(".include")) {
        std::string target = trim(line.substr(8));
        if (!target.empty() && target.front() == '=') target = trim(target.substr(1));
        target = unquote(target);
        if (!target.empty() && target.find('$') == std::string::npos)
          parse(join_path(dirname_of(real), target), depth + 1);
        continue;
      }
      size_t eq = line.find('=');
      if (eq == std::string::npos) continue;
      entries.push_back({section, trim(line.substr(0, eq)), unquote(trim(line.substr(eq + 1))),
                         real, number, line});  // named by its real path: a symlink reads the same
    }
  }

  std::vector<const Entry*> section(const std::string& name) const {
    std::vector<const Entry*> out;
    for (auto& e : entries)
      if (e.section == name) out.push_back(&e);
    return out;
  }
};

}  // namespace

std::vector<Root> openssl_plugin_roots(const FsView& fs, const ImageRuntime& runtime) {
  OpensslConfig config{fs, {}, {}};
  std::string env = runtime.env_value("OPENSSL_CONF");
  if (!env.empty()) config.parse(normalize_path(env), 0);
  for (const char* p : {"usr/lib/ssl/openssl.cnf", "etc/ssl/openssl.cnf", "etc/pki/tls/openssl.cnf",
                        "usr/local/ssl/openssl.cnf", "usr/local/etc/openssl/openssl.cnf"})
    config.parse(p, 0);
  if (config.entries.empty()) return {};
  auto dirs = lib_dirs(fs);
  Collector c;
  auto path_value = [&](const Entry& e) {
    if (e.value.find('$') != std::string::npos || e.value.empty()) return;
    if (e.value.find('/') != std::string::npos) {
      if (is_file(fs, e.value)) c.add(normalize_path(e.value), e.file, e.line, e.text);
    } else {
      c.add(find_in_lib_dirs(fs, dirs, "ossl-modules", e.value), e.file, e.line, e.text);
    }
  };
  for (auto& e : config.entries) {
    if (e.key == "providers") {
      for (const Entry* p : config.section(e.value)) {
        bool module = false;
        for (const Entry* s : config.section(p->value))
          if (s->key == "module") path_value(*s), module = true;
        if (!module && p->key != "default" && p->key != "base")
          c.add(find_in_lib_dirs(fs, dirs, "ossl-modules", p->key + ".so"), p->file, p->line, p->text);
      }
    } else if (e.key == "engines") {
      for (const Entry* en : config.section(e.value)) {
        bool dynamic = false;
        for (const Entry* s : config.section(en->value))
          if (s->key == "dynamic_path") path_value(*s), dynamic = true;
        if (!dynamic)
          for (const char* sub : {"engines-3", "engines-1.1"})
            c.add(find_in_lib_dirs(fs, dirs, sub, en->key + ".so"), en->file, en->line, en->text);
      }
    } else if (e.key == "module" || e.key == "dynamic_path") {
      path_value(e);
    }
  }
  return std::move(c.roots);
}

}  // namespace slimage
