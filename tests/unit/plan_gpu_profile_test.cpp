// Profile fields for GPU pruning: cuda_archs and cuda_ptx parse, inherit and
// fail with where and why (the --cuda-arch forms are tested in elf_fatbin_test).
#include <doctest/doctest.h>

#include "slimage/plan/profile.h"
#include "slimage/util/error.h"

using namespace slimage;

TEST_CASE("plan: profile cuda_archs and cuda_ptx") {
  Profile p = parse_profile_text(R"({"extends": "default", "cuda_archs": ["sm_80", "9.0"], "cuda_ptx": "none"})",
                                 "gpu.json");
  CHECK(p.cuda_archs == std::vector<std::string>{"sm_80", "9.0"});
  CHECK(p.cuda_ptx == "none");
  CHECK(profile_to_json(p)["cuda_archs"] == nlohmann::json::array({"sm_80", "9.0"}));
  Profile d = load_profile("default");
  CHECK(d.cuda_archs.empty());  // nothing pruned unless asked
  CHECK(d.cuda_ptx == "newest");
  CHECK_THROWS_WITH_AS(parse_profile_text(R"({"cuda_archs": ["sm_8x"]})", "bad.json"),
                       doctest::Contains("profile bad.json: field 'cuda_archs': --cuda-arch: 'sm_8x' is not a GPU"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_profile_text(R"({"cuda_ptx": "some"})", "ptx.json"),
                       doctest::Contains("profile ptx.json:1:2: field 'cuda_ptx': expected"), Error);
}
