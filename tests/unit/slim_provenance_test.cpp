// Provenance of a slimmed image (include/slimage/slim/provenance.h): the
// manifest annotations and the history line, exactly.
#include <doctest/doctest.h>

#include "slimage/slim/provenance.h"

using namespace slimage;

namespace {

std::pair<std::string, Action> action(const std::string& path, Fate fate, ReasonKind kind, uint64_t bytes,
                                      uint64_t after = 0) {
  Action a;
  a.fate = fate, a.kind = kind, a.bytes = bytes, a.bytes_after = after;
  return {path, a};
}

Plan sample_plan() {
  Plan plan;
  plan.profile.name = "default";
  for (auto a : {action("usr/lib/libcublas.so.12", Fate::Drop, ReasonKind::UnreachableCuda, 3 << 20),
                 action("usr/lib/libcufft.so.11", Fate::Drop, ReasonKind::UnreachableCuda, 1 << 20),
                 action("var/cache/apt/a.deb", Fate::Drop, ReasonKind::Cache, 5 << 20),
                 action("usr/bin/app", Fate::Strip, ReasonKind::Stripped, 4096, 1024),
                 action("etc/passwd", Fate::Keep, ReasonKind::Kept, 30, 30)})
    plan.actions[a.first] = a.second;
  return plan;
}

}  // namespace

TEST_CASE("report: output_options lists only what changes the output, in a fixed order") {
  SlimOptions o;
  o.source = "oci:/some/where:img", o.destination = "oci:/else/where:img", o.report = "/tmp/r.json";
  CHECK(output_options(o) == "");
  o.plan.drop = {"/junk/**", "/it's"};
  o.plan.keep = {"/usr/lib/keep.so"};
  o.force = true;
  o.layers = "squash";
  o.level = 9;
  CHECK(output_options(o) ==
        "--layers squash --level 9 --keep /usr/lib/keep.so --drop '/junk/**' --drop '/it'\\''s' --force");
}

TEST_CASE("report: provenance names the input by digest and registry name, and what was removed") {
  ImageManifest input;
  input.descriptor.digest = "sha256:1111";
  SlimOptions o;
  o.plan.drop = {"/junk/**"};
  o.force = true;
  Provenance p = describe_slim(input, parse_image_ref("docker://127.0.0.1:5000/team/app:1"), sample_plan(), o);
  std::map<std::string, std::string> want = {
      {"org.opencontainers.image.base.digest", "sha256:1111"},
      {"org.opencontainers.image.base.name", "127.0.0.1:5000/team/app"},
      {"io.slimage.version", SLIMAGE_VERSION},
      {"io.slimage.profile", "default"},
      {"io.slimage.options", "--drop '/junk/**' --force"},
      {"io.slimage.removed",
       R"({"cache":{"bytes":5242880,"files":1},"unreachable-cuda":{"bytes":4194304,"files":2}})"}};
  CHECK(p.annotations == want);
  CHECK(p.created_by ==
        "slimage: removed 9.0 MiB: cache 1 file (5.0 MiB), unreachable-cuda 2 files (4.0 MiB); "
        "stripped 1 file (-3.0 KiB); profile default --drop '/junk/**' --force");

  // A local layout is no reference: its path never reaches the manifest.
  Provenance local = describe_slim(input, parse_image_ref("oci:/tmp/x:img"), sample_plan(), SlimOptions{});
  CHECK(local.annotations.count("org.opencontainers.image.base.name") == 0);
  CHECK(local.annotations.count("io.slimage.options") == 0);
  CHECK(local.annotations.at("org.opencontainers.image.base.digest") == "sha256:1111");
}
