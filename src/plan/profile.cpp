// Profiles (see include/slimage/plan/profile.h, profiles/README.md): parse
// JSON with comments, check every field with FILE:LINE:COL errors, resolve
// `extends` (built-ins by name, files relative to the extending file), merge
// field by field with "field+" appending, then build the Profile struct.
#include "slimage/plan/profile.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "profile_json.h"
#include "slimage/elf/fatbin_prune.h"
#include "slimage/plan/embedded_profiles.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/strings.h"

namespace slimage {
namespace {

using nlohmann::json;

const std::set<std::string> kStringLists = {"cuda_libraries", "caches",     "tests_dirs",
                                            "dev_files",      "keep",       "drop",
                                            "entrypoints",    "host_provided",
                                            "toolchain",      "cuda_archs"};
const std::set<std::string> kBools = {"drop_unreachable_cuda", "drop_tests", "drop_pycache",
                                      "drop_dev_files", "string_heuristic",
                                      "drop_toolchain", "drop_unreachable_libraries",
                                      "config_plugins", "plugin_dirs", "dedupe",
                                      "python_library_scan"};
const std::set<std::string> kDlopenKeys = {"name", "triggers", "loads", "reason"};
const std::set<std::string> kCompilerKeys = {"name", "triggers", "keeps", "reason"};

// One profile text and how to name it.
struct ProfileSource {
  std::string id;     // "builtin:default" or an absolute path: identity for cycles
  std::string where;  // for messages
  std::string name;   // as the user wrote it
  std::string dir;    // for relative extends; empty for built-ins
  std::string text;
};

struct Parsed {
  json object;
  std::map<std::string, size_t> positions;
};

[[noreturn]] void fail_at(const ProfileSource& src, const Parsed& parsed, const std::string& pointer,
                          const std::string& message) {
  auto it = parsed.positions.find(pointer);
  size_t offset = it == parsed.positions.end() ? 0 : it->second;
  fail("profile " + src.where + ":" + plan_detail::line_col(src.text, offset) + ": " + message);
}

std::vector<std::string> all_fields() {
  std::vector<std::string> f = {"extends", "description", "name", "extends_chain", "strip", "dlopen", "dlopen+",
                                "runtime_compilers", "runtime_compilers+", "cuda_ptx"};
  for (auto& k : kStringLists) f.push_back(k), f.push_back(k + "+");
  for (auto& k : kBools) f.push_back(k);
  return f;
}

std::string suggestion(const std::string& key, const std::vector<std::string>& known) {
  std::string best = closest_word(key, known);
  return best.empty() ? "" : " (did you mean '" + best + "'?)";
}

void check_string_list(const ProfileSource& src, const Parsed& p, const json& v, const std::string& ptr,
                       const std::string& field) {
  if (!v.is_array()) fail_at(src, p, ptr, "field '" + field + "': expected a list of strings");
  for (size_t i = 0; i < v.size(); ++i)
    if (!v[i].is_string())
      fail_at(src, p, ptr + "/" + std::to_string(i), "field '" + field + "': expected a string");
}

void check_dlopen(const ProfileSource& src, const Parsed& p, const json& v, const std::string& ptr,
                  const std::string& field) {
  const bool compilers = field.starts_with("runtime_compilers");
  const std::set<std::string>& keys = compilers ? kCompilerKeys : kDlopenKeys;
  if (!v.is_array()) fail_at(src, p, ptr, "field '" + field + "': expected a list of families");
  for (size_t i = 0; i < v.size(); ++i) {
    std::string eptr = ptr + "/" + std::to_string(i);
    if (!v[i].is_object()) fail_at(src, p, eptr, "field '" + field + "': expected an object");
    for (auto& [k, val] : v[i].items()) {
      std::string kptr = eptr + "/" + k;
      if (!keys.count(k)) {
        fail_at(src, p, kptr,
                "unknown field '" + field + "[" + std::to_string(i) + "]." + k + "'" +
                    suggestion(k, {keys.begin(), keys.end()}));
      }
      if (k == "name" || k == "reason") {
        if (!val.is_string()) fail_at(src, p, kptr, "field '" + k + "': expected a string");
      } else {
        check_string_list(src, p, val, kptr, k);
      }
    }
    for (const char* required : {"name", "triggers", compilers ? "keeps" : "loads"})
      if (!v[i].contains(required))
        fail_at(src, p, eptr, std::string(compilers ? "runtime compiler" : "dlopen family") +
                                  " needs '" + required + "'");
  }
}

Parsed parse_and_check(const ProfileSource& src) {
  Parsed p;
  try {
    p.object = json::parse(src.text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    auto colon = what.find("column ");
    colon = colon == std::string::npos ? std::string::npos : what.find(": ", colon);
    if (colon == std::string::npos) colon = what.find("] ");
    std::string msg = colon == std::string::npos ? what : what.substr(colon + 2);
    size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    fail("profile " + src.where + ":" + plan_detail::line_col(src.text, offset) + ": " + msg);
  } catch (const json::exception& e) {  // e.g. out_of_range 406: a number too large
    std::string what = e.what();
    auto bracket = what.find("] ");
    fail("profile " + src.where + ": " + (bracket == std::string::npos ? what : what.substr(bracket + 2)));
  }
  p.positions = plan_detail::json_positions(src.text);
  if (!p.object.is_object()) fail_at(src, p, "", "a profile is a JSON object");
  static const std::vector<std::string> known = all_fields();
  for (auto& [key, v] : p.object.items()) {
    std::string ptr = "/" + key;
    std::string base = key.size() > 1 && key.back() == '+' ? key.substr(0, key.size() - 1) : key;
    if (std::find(known.begin(), known.end(), key) == known.end())
      fail_at(src, p, ptr, "unknown field '" + key + "'" + suggestion(key, known));
    if (key == "extends") {
      if (v.is_string()) continue;
      check_string_list(src, p, v, ptr, key);
    } else if (key == "description" || key == "name") {
      if (!v.is_string()) fail_at(src, p, ptr, "field '" + key + "': expected a string");
    } else if (key == "strip") {
      if (!v.is_string() || (v != "none" && v != "debug" && v != "unneeded"))
        fail_at(src, p, ptr, "field 'strip': expected \"none\", \"debug\" or \"unneeded\"");
    } else if (key == "cuda_ptx") {
      if (!v.is_string() || (v != "newest" && v != "none" && v != "all"))
        fail_at(src, p, ptr, "field 'cuda_ptx': expected \"newest\", \"none\" or \"all\"");
    } else if (kBools.count(key)) {
      if (!v.is_boolean()) fail_at(src, p, ptr, "field '" + key + "': expected true or false");
    } else if (base == "dlopen" || base == "runtime_compilers") {
      check_dlopen(src, p, v, ptr, key);
    } else {
      check_string_list(src, p, v, ptr, key);
    }
  }
  return p;
}

// Applies `delta` over a resolved `base`: plain fields replace, "field+"
// appends (for dlopen, a family with the same name replaces the parent's).
void apply_fields(json& base, const json& delta) {
  for (auto& [key, v] : delta.items()) {  // sorted: "keep" before "keep+"
    // name and extends_chain (written by `profiles show`) only say where a
    // resolved profile came from: the profile read is named by its file.
    if (key == "extends" || key == "name" || key == "extends_chain") continue;
    if (key.size() < 2 || key.back() != '+') {
      base[key] = v;
      continue;
    }
    std::string field = key.substr(0, key.size() - 1);
    json list = base.contains(field) ? base[field] : json::array();
    for (auto& item : v) {
      if (field == "dlopen" || field == "runtime_compilers") {
        auto same = std::find_if(list.begin(), list.end(),
                                 [&](const json& f) { return f["name"] == item["name"]; });
        if (same != list.end()) {
          *same = item;
          continue;
        }
      } else if (std::find(list.begin(), list.end(), item) != list.end()) {
        continue;
      }
      list.push_back(item);
    }
    base[field] = std::move(list);
  }
}

std::string builtin_names() {
  std::string s;
  for (auto& f : embedded_profiles()) s += (s.empty() ? "" : ", ") + std::string(f.name);
  return s;
}

const EmbeddedFile* find_builtin(std::string_view name) {
  for (auto& f : embedded_profiles())
    if (f.name == name) return &f;
  return nullptr;
}

ProfileSource builtin_source(const EmbeddedFile& f) {
  return {"builtin:" + std::string(f.name), "builtin:" + std::string(f.name) + ".json",
          std::string(f.name), "", std::string(f.text)};
}

ProfileSource file_source(const std::string& path, const std::string& name) {
  std::error_code ec;
  auto abs = std::filesystem::weakly_canonical(std::filesystem::absolute(path), ec);
  // Only regular files: never a device, FIFO or directory named by `extends`.
  std::error_code type_ec;
  if (!std::filesystem::is_regular_file(path, type_ec)) {
    fail("profile " + name + ": no such built-in profile or file (built-ins: " + builtin_names() +
         ")");
  }
  return {ec ? path : abs.string(), path, name, parent_dir(path), read_file(path)};
}

struct Resolver {
  std::vector<std::string> stack;  // ids being resolved, for cycles
  std::vector<std::string> chain;  // names applied, parents first

  // The profile's fields as set along its extends chain ("+" fields of a
  // profile with no parents are kept, so they append to whatever it is mixed into).
  json effective(const ProfileSource& src) {
    if (std::find(stack.begin(), stack.end(), src.id) != stack.end()) {
      std::string cycle;
      for (auto& id : stack) cycle += id + " -> ";
      fail("profile " + src.where + ": extends cycle: " + cycle + src.id);
    }
    Parsed p = parse_and_check(src);
    stack.push_back(src.id);
    json result = json::object();
    if (p.object.contains("extends")) {
      json ext = p.object["extends"];
      if (ext.is_string()) ext = json::array({ext});
      result = json::object();
      for (size_t i = 0; i < ext.size(); ++i) {
        std::string parent = ext[i];
        ProfileSource ps;
        if (parent.find('/') == std::string::npos && !parent.ends_with(".json")) {
          const EmbeddedFile* f = find_builtin(parent);
          if (!f) {
            std::string ptr = p.object["extends"].is_string() ? "/extends" : "/extends/" + std::to_string(i);
            fail_at(src, p, ptr,
                    "extends unknown built-in profile '" + parent + "' (built-ins: " +
                        builtin_names() + ")");
          }
          ps = builtin_source(*f);
        } else if (src.dir.empty() && src.id.starts_with("builtin:")) {
          fail_at(src, p, "/extends", "a built-in profile can only extend built-ins");
        } else {
          ps = file_source(join_dir(src.dir, parent), parent);
        }
        apply_fields(result, effective(ps));
      }
      apply_fields(result, p.object);
    } else {
      result = p.object;
    }
    stack.pop_back();
    if (std::find(chain.begin(), chain.end(), src.name) == chain.end()) chain.push_back(src.name);
    return result;
  }

  static std::string join_dir(const std::string& dir, const std::string& rel) {
    if (rel.starts_with("/") || dir.empty() || dir == ".") return rel;
    return dir + "/" + rel;
  }
};

std::vector<std::string> strings(const json& o, const char* key) {
  std::vector<std::string> out;
  if (o.contains(key))
    for (auto& s : o[key]) out.push_back(s.get<std::string>());
  return out;
}

Profile build(const json& fields, const std::string& name, std::vector<std::string> chain) {
  json o = json::object();
  apply_fields(o, fields);  // resolves "+" fields left by parentless mixins
  Profile p;
  p.name = name;
  p.extends_chain = std::move(chain);
  p.description = o.value("description", "");
  if (o.contains("strip")) p.strip = parse_strip_mode(o["strip"].get<std::string>());
  p.drop_unreachable_cuda = o.value("drop_unreachable_cuda", p.drop_unreachable_cuda);
  p.drop_tests = o.value("drop_tests", p.drop_tests);
  p.drop_pycache = o.value("drop_pycache", p.drop_pycache);
  p.drop_dev_files = o.value("drop_dev_files", p.drop_dev_files);
  p.string_heuristic = o.value("string_heuristic", p.string_heuristic);
  p.dedupe = o.value("dedupe", p.dedupe);
  p.python_library_scan = o.value("python_library_scan", p.python_library_scan);
  p.cuda_libraries = strings(o, "cuda_libraries");
  p.caches = strings(o, "caches");
  p.tests_dirs = strings(o, "tests_dirs");
  p.dev_files = strings(o, "dev_files");
  p.keep = strings(o, "keep");
  p.drop = strings(o, "drop");
  p.entrypoints = strings(o, "entrypoints");
  p.host_provided = strings(o, "host_provided");
  p.toolchain = strings(o, "toolchain");
  p.drop_toolchain = o.value("drop_toolchain", p.drop_toolchain);
  p.drop_unreachable_libraries = o.value("drop_unreachable_libraries", p.drop_unreachable_libraries);
  p.config_plugins = o.value("config_plugins", p.config_plugins);
  p.plugin_dirs = o.value("plugin_dirs", p.plugin_dirs);
  if (o.contains("runtime_compilers"))
    for (auto& f : o["runtime_compilers"])
      p.runtime_compilers.push_back({f["name"], strings(f, "triggers"), strings(f, "keeps"),
                                     f.value("reason", "")});
  p.cuda_archs = strings(o, "cuda_archs");
  for (auto& a : p.cuda_archs) {  // an invalid GPU fails here, naming the profile
    try {
      parse_cuda_archs(a);
    } catch (const Error& e) {
      fail("profile " + name + ": field 'cuda_archs': " + e.what());
    }
  }
  p.cuda_ptx = o.value("cuda_ptx", p.cuda_ptx);
  if (o.contains("dlopen")) {
    for (auto& f : o["dlopen"]) {
      DlopenFamily d;
      d.name = f["name"];
      d.triggers = strings(f, "triggers");
      d.loads = strings(f, "loads");
      d.reason = f.value("reason", "");
      p.dlopen.push_back(std::move(d));
    }
  }
  return p;
}

}  // namespace

Profile parse_profile_text(std::string_view text, const std::string& where) {
  ProfileSource src{"text:" + where, where, where, parent_dir(where), std::string(text)};
  Resolver r;
  json fields = r.effective(src);
  return build(fields, where, r.chain);
}

Profile none_profile() {
  Profile p;  // nothing dropped or stripped but what the command line asks for
  p.name = "none";
  p.description = "changes nothing but the layer encoding";
  p.strip = StripMode::None;
  p.drop_unreachable_cuda = false;
  p.drop_tests = false;
  p.dedupe = false;
  return p;
}

Profile load_profile(const std::string& name_or_path) {
  if (name_or_path == "none") return none_profile();
  const EmbeddedFile* f = find_builtin(name_or_path);
  ProfileSource src = f ? builtin_source(*f) : file_source(name_or_path, name_or_path);
  Resolver r;
  json fields = r.effective(src);
  return build(fields, name_or_path, r.chain);
}

std::vector<std::pair<std::string, std::string>> builtin_profiles() {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto& f : embedded_profiles()) {
    std::string name(f.name);
    out.emplace_back(name, load_profile(name).description);
  }
  return out;
}

nlohmann::json profile_to_json(const Profile& p) {
  json dlopen = json::array();
  for (auto& d : p.dlopen)
    dlopen.push_back({{"name", d.name}, {"triggers", d.triggers}, {"loads", d.loads},
                      {"reason", d.reason}});
  json compilers = json::array();
  for (auto& c : p.runtime_compilers)
    compilers.push_back({{"name", c.name}, {"triggers", c.triggers}, {"keeps", c.keeps},
                         {"reason", c.reason}});
  return {{"name", p.name},
          {"description", p.description},
          {"extends_chain", p.extends_chain},
          {"strip", strip_mode_name(p.strip)},
          {"drop_unreachable_cuda", p.drop_unreachable_cuda},
          {"cuda_libraries", p.cuda_libraries},
          {"caches", p.caches},
          {"drop_tests", p.drop_tests},
          {"tests_dirs", p.tests_dirs},
          {"drop_pycache", p.drop_pycache},
          {"drop_dev_files", p.drop_dev_files},
          {"dev_files", p.dev_files},
          {"keep", p.keep},
          {"drop", p.drop},
          {"entrypoints", p.entrypoints},
          {"dlopen", dlopen},
          {"host_provided", p.host_provided},
          {"string_heuristic", p.string_heuristic},
          {"toolchain", p.toolchain},
          {"drop_toolchain", p.drop_toolchain},
          {"drop_unreachable_libraries", p.drop_unreachable_libraries},
          {"config_plugins", p.config_plugins},
          {"plugin_dirs", p.plugin_dirs},
          {"runtime_compilers", compilers},
          {"dedupe", p.dedupe},
          {"python_library_scan", p.python_library_scan},
          {"cuda_archs", p.cuda_archs},
          {"cuda_ptx", p.cuda_ptx}};
}

}  // namespace slimage
