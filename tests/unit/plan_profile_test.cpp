// Profiles: extends, overrides, "field+" appends, error locations, cycles,
// and every built-in profile loading (include/slimage/plan/profile.h).
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>

#include "slimage/plan/glob.h"
#include "slimage/plan/profile.h"
#include "slimage/util/file.h"

using namespace slimage;

namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

TEST_CASE("plan: every built-in profile loads and validates") {
  auto builtins = builtin_profiles();
  std::vector<std::string> names;
  for (auto& builtin : builtins) {
    // Not a structured binding: clang (the TSan build) cannot capture one in
    // doctest's assertion lambdas.
    const auto& name = builtin.first;
    const auto& description = builtin.second;
    names.push_back(name);
    CHECK_MESSAGE(!description.empty(), name);
    Profile p = load_profile(name);
    CHECK(p.name == name);
    CHECK(p.extends_chain.back() == name);
    for (auto& f : p.dlopen) {
      CHECK_MESSAGE(!f.triggers.empty(), f.name);
      CHECK_MESSAGE(!f.loads.empty(), f.name);
    }
    // profile_to_json round-trips the fields a user can set.
    auto j = profile_to_json(p);
    CHECK(j["strip"] == strip_mode_name(p.strip));
  }
  for (auto n : {"default", "conservative", "python", "pytorch", "tensorflow", "cuda", "aggressive"})
    CHECK_MESSAGE(contains(names, n), n);
}

TEST_CASE("plan: the \"none\" profile changes nothing but the encoding") {
  Profile none = load_profile("none");
  CHECK(none.name == "none");
  CHECK(none.description == "changes nothing but the layer encoding");
  CHECK(none.strip == StripMode::None);
  CHECK_FALSE(none.drop_unreachable_cuda);
  CHECK_FALSE(none.drop_tests);
  CHECK_FALSE(none.dedupe);
}

TEST_CASE("plan: built-in profiles say what they promise") {
  Profile d = load_profile("default");
  CHECK(d.strip == StripMode::Unneeded);
  CHECK(d.drop_unreachable_cuda);
  CHECK(d.drop_tests);
  CHECK_FALSE(d.drop_pycache);
  CHECK(contains(d.host_provided, "libcuda.so*"));
  CHECK(contains(d.tests_dirs, "tests"));
  bool cudnn = false;
  for (auto& f : d.dlopen) cudnn = cudnn || (f.name == "cudnn9" && glob_match(f.triggers[0], "libcudnn.so.9"));
  CHECK(cudnn);
  // No CUDA glob may catch an unrelated library.
  for (auto& g : d.cuda_libraries) {
    CHECK_MESSAGE(!glob_match(g, "libcurl.so.4"), g);
    CHECK_MESSAGE(!glob_match(g, "libnvpair.so.3"), g);
  }

  Profile c = load_profile("conservative");
  CHECK(c.strip == StripMode::Debug);
  CHECK_FALSE(c.drop_unreachable_cuda);
  CHECK_FALSE(c.drop_tests);
  CHECK(c.caches == d.caches);

  Profile torch = load_profile("pytorch");
  CHECK(torch.drop_pycache);
  CHECK(torch.extends_chain == std::vector<std::string>{"default", "python", "runtime", "pytorch"});
  CHECK(torch.dlopen.size() > d.dlopen.size());  // dlopen+ appended
  Profile aggressive = load_profile("aggressive");
  CHECK(aggressive.drop_dev_files);
  CHECK(aggressive.drop_pycache);
}

TEST_CASE("plan: profile extends a file, overrides fields and appends with field+") {
  TempDir tmp("/tmp", "slimage-profile-");
  write_file_atomic(tmp.path() + "/base.json", R"({
    // a mixin with no parents: its "+" appends to whatever it is mixed into
    "keep+": ["opt/mixin/**"]
  })");
  write_file_atomic(tmp.path() + "/child.json", R"({
    "extends": ["default", "base.json"],   /* file path relative to this file */
    "description": "child",
    "strip": "debug",
    "keep+": ["opt/app/**"],
    "caches": ["only/this/**"],
    "dlopen+": [{"name": "cublas", "triggers": ["libcublas.so.*"], "loads": ["libcublasLt.so.*", "x.so"]}]
  })");
  Profile p = load_profile(tmp.path() + "/child.json");
  CHECK(p.description == "child");
  CHECK(p.strip == StripMode::Debug);
  CHECK(p.keep == std::vector<std::string>{"opt/mixin/**", "opt/app/**"});
  CHECK(p.caches == std::vector<std::string>{"only/this/**"});
  CHECK(p.drop_unreachable_cuda);  // inherited from default
  auto cublas = std::find_if(p.dlopen.begin(), p.dlopen.end(), [](auto& f) { return f.name == "cublas"; });
  REQUIRE(cublas != p.dlopen.end());
  CHECK(cublas->loads.size() == 2);  // same name replaces the parent's family
  CHECK(std::count_if(p.dlopen.begin(), p.dlopen.end(), [](auto& f) { return f.name == "cublas"; }) == 1);
  CHECK(p.extends_chain.front() == "default");
}

TEST_CASE("plan: profile unknown field is an error naming it, with line and column") {
  std::string e = error_of([] { parse_profile_text("{\n  \"extends\": \"default\",\n  \"kep\": []\n}", "my.json"); });
  CHECK(e.find("profile my.json:3:3:") == 0);
  CHECK(e.find("unknown field 'kep'") != std::string::npos);
  CHECK(e.find("did you mean 'keep'") != std::string::npos);
  e = error_of([] {
    parse_profile_text(R"({"dlopen": [{"name": "x", "triggers": ["a"], "loads": ["b"], "resaon": ""}]})", "d.json");
  });
  CHECK(e.find("resaon") != std::string::npos);
  e = error_of([] { parse_profile_text("{\"drop_tests\": \"yes\"}", "t.json"); });
  CHECK(e.find("profile t.json:1:2: field 'drop_tests'") == 0);
}

TEST_CASE("plan: profile syntax error has line and column") {
  std::string e = error_of([] { parse_profile_text("{\n  // comment\n  \"keep\": [,]\n}", "bad.json"); });
  CHECK(e.find("profile bad.json:3:12:") == 0);
  e = error_of([] { parse_profile_text("{\"x\": 1e999999999999}", "big.json"); });  // found by the fuzzer
  CHECK(e.find("profile big.json") == 0);
  e = error_of([] { parse_profile_text("[1, 2]", "arr.json"); });
  CHECK(e.find("profile arr.json:1:1: a profile is a JSON object") == 0);
}

TEST_CASE("plan: profile extends cycle and unknown parents are errors") {
  TempDir tmp("/tmp", "slimage-profile-");
  write_file_atomic(tmp.path() + "/a.json", R"({"extends": "b.json"})");
  write_file_atomic(tmp.path() + "/b.json", R"({"extends": ["default", "./a.json"]})");
  std::string e = error_of([&] { load_profile(tmp.path() + "/a.json"); });
  CHECK(e.find("extends cycle") != std::string::npos);
  e = error_of([] { parse_profile_text(R"({"extends": "defualt"})", "x.json"); });
  CHECK(e.find("unknown built-in profile 'defualt'") != std::string::npos);
  e = error_of([] { load_profile("/nonexistent/profile.json"); });
  CHECK(e.find("no such built-in profile or file") != std::string::npos);
}

TEST_CASE("plan: profiles show output read back is the same profile, for every built-in") {
  std::vector<std::string> names = {"none"};
  for (auto& [name, description] : builtin_profiles()) names.push_back(name);
  for (auto& name : names) {
    CAPTURE(name);
    nlohmann::json shown = profile_to_json(load_profile(name));
    nlohmann::json again = profile_to_json(parse_profile_text(shown.dump(2), "saved.json"));
    CHECK(again["name"] == "saved.json");  // named by its file, not by what show wrote
    shown.erase("name"), shown.erase("extends_chain");
    again.erase("name"), again.erase("extends_chain");
    CHECK(again == shown);
  }
}

TEST_CASE("plan: profile name and extends_chain must be a string and a list") {
  CHECK(error_of([] { parse_profile_text("{\"name\": 3}", "p.json"); }) ==
        "profile p.json:1:2: field 'name': expected a string");
}
