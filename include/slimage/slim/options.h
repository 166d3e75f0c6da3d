// What the pipeline is asked to do, as plain structs: the command line
// fills them (src/cli/app.cpp), `slimage batch` copies them per image.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace slimage {

struct PlanSettings {
  std::string profile = "default";  // built-in name, file, or "none"
  std::vector<std::string> keep, drop, entrypoints;
  std::string strip;  // "" = the profile's
  bool no_dedupe = false;  // --no-dedupe
  std::string cuda_arch;  // --cuda-arch LIST; "" = the profile's cuda_archs
  std::string cuda_ptx;   // --cuda-ptx newest|none|all; "" = the profile's
};

// The CI gate (`check`, `slim --check`): rules from --ci-config FILE, then
// the rule flags over it (include/slimage/report/gate.h).
struct GateSettings {
  bool check = false;       // slim --check (or any rule flag / --ci-config)
  std::string config;       // --ci-config FILE ("" = dive's defaults)
  std::vector<std::pair<std::string, std::string>> flags;  // {camelCase key, value}
};

struct SlimOptions {
  std::string source, destination;
  PlanSettings plan;
  std::string layers = "keep";        // keep | squash
  std::string compression;            // "" = gzip for new layers, reused layers keep theirs
  int level = -1;
  std::string report;                 // --report FILE.json (written by the CLI)
  std::string html;                   // --html FILE (written by the CLI; also `slimage report`)
  std::string sbom;                   // --sbom FILE (written by the CLI)
  std::string sbom_format;            // --sbom-format spdx|cyclonedx; "" = from FILE's extension
  bool sbom_attach = false;           // --sbom-attach: the SBOM also as an OCI 1.1 referrer of each image
  std::string test_command;           // --test 'CMD'
  bool force = false;
  bool remove_signatures = false;     // write a signed/attested input without its signatures
  bool test = false;                  // --test given; with no CMD, runs Entrypoint + Cmd
  unsigned test_timeout = 300;        // --test-timeout S: then the test's process group is killed
  GateSettings gate;                  // --check: the output must pass it before anything is written
  std::optional<uint64_t> scratch_budget;  // --scratch-budget SIZE: low-disk mode (rootfs/sparse_spill.h)
};

}  // namespace slimage
