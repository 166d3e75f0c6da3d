// Profiles: what a slimming run may drop and what it must keep, as data.
// JSON with comments (profiles/README.md documents every field). A profile
// `extends` others ("default", a list, built-in names or paths relative to the
// extending file); its fields override theirs. For list fields, "keep": [...]
// replaces the inherited list and "keep+": [...] appends to it. Unknown fields
// are errors, so a typo is never silently ignored.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "slimage/deps/resolver.h"
#include "slimage/elf/strip.h"

namespace slimage {

struct Profile {
  std::string name, description;
  std::vector<std::string> extends_chain;  // every profile applied, parents first, this one last
  StripMode strip = StripMode::Unneeded;
  bool drop_unreachable_cuda = true;
  std::vector<std::string> cuda_libraries;  // basename globs: droppable when nothing reaches them
  std::vector<std::string> caches;          // path globs
  bool drop_tests = true;
  std::vector<std::string> tests_dirs;  // directory names, only inside Python packages
  bool drop_pycache = false;
  bool drop_dev_files = false;
  std::vector<std::string> dev_files;  // path globs
  std::vector<std::string> keep, drop, entrypoints;  // path globs; entrypoints are extra roots
  // Families loaded with dlopen. A `loads` glob containing '/' is a path
  // relative to the trigger's directory ("../../nvidia/*/lib/lib*.so*");
  // without '/', a basename searched like a DT_NEEDED of the trigger.
  std::vector<DlopenFamily> dlopen;
  std::vector<std::string> host_provided;  // basename globs (driver libraries)
  bool string_heuristic = true;
  // runtime profile (src/plan/runtime_pass.cpp): toolchain path globs dropped
  // unless needed; every unreachable shared library dropped, not only CUDA;
  // plugins named by the image's own config (NSS, gconv, PAM, OpenSSL…) as roots.
  std::vector<std::string> toolchain;
  bool drop_toolchain = false;
  bool drop_unreachable_libraries = false;
  bool config_plugins = true;
  // With drop_unreachable_libraries: a shared library outside the loader's
  // search dirs is a plugin, opened by full path, so a root (plan.cpp).
  bool plugin_dirs = true;
  // What compiles at run time: when a kept file matches a trigger, files
  // matching `keeps` stay (overriding drops; ELF ones become roots).
  struct RuntimeCompiler {
    std::string name;
    std::vector<std::string> triggers, keeps;  // path globs
    std::string reason;
  };
  std::vector<RuntimeCompiler> runtime_compilers;
  bool dedupe = true;  // identical files written once (plan/dedupe_pass.cpp)
  // Kept Python files are scanned for libraries they load by name (ctypes,
  // cffi, find_library, "lib….so…" literals): those become roots.
  bool python_library_scan = true;
  std::vector<std::string> cuda_archs;  // GPUs to keep code for ("sm_90"…); empty: no pruning
  std::string cuda_ptx = "newest";      // newest | none | all
};

// "none" (built in code: nothing dropped or stripped, only the layer encoding
// changes), a built-in name ("default", "pytorch"…), else a file. Errors read
// "profile FILE:LINE:COL: …"; an unknown field names itself; an extends cycle
// names the chain.
Profile load_profile(const std::string& name_or_path);

// Parses one profile text; `where` names it in errors ("my.json"). Relative
// `extends` paths are resolved against the directory of `where`.
Profile parse_profile_text(std::string_view text, const std::string& where);

// Every built-in profile: name, description.
std::vector<std::pair<std::string, std::string>> builtin_profiles();

nlohmann::json profile_to_json(const Profile& profile);

}  // namespace slimage
