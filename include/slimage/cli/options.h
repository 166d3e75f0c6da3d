// Command-line options as plain structs: CLI11 fills them (src/cli/app.cpp),
// the commands read them. Nothing here knows about CLI11.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "slimage/image/image.h"

namespace slimage {

// skopeo's per-side flags (--src-creds, --dest-tls-verify, …): unset ones
// fall back to the shared flag (--creds, --tls-verify, …).
struct SideTransportFlags {
  std::optional<std::string> creds, authfile, cert_dir;
  std::optional<bool> tls_verify;
};

struct CommonOptions {
  // After parsing (run_cli): `transport` is the source side's, with
  // --src-* applied over the shared flags; `destination_transport` the
  // destination's, with --dest-* applied. Read-only verbs use `transport`.
  TransportOptions transport;
  TransportOptions destination_transport;
  SideTransportFlags source_flags, destination_flags;
  std::string platform;  // "linux/amd64"; empty = every platform
  unsigned jobs = 0;     // 0 = cores
  bool quiet = false;
  bool json = false;
  std::string scratch;   // --scratch DIR; "" = $SLIMAGE_TMPDIR, $TMPDIR, /var/tmp
};

struct PlanSettings {
  std::string profile = "default";  // built-in name, file, or "none"
  std::vector<std::string> keep, drop, entrypoints;
  std::string strip;  // "" = the profile's
  bool no_dedupe = false;  // --no-dedupe
  std::string cuda_arch;  // --cuda-arch LIST; "" = the profile's cuda_archs
  std::string cuda_ptx;   // --cuda-ptx newest|none|all; "" = the profile's
};

struct SlimOptions {
  std::string source, destination;
  PlanSettings plan;
  std::string layers = "keep";        // keep | squash
  std::string compression;            // "" = gzip for new layers, reused layers keep theirs
  int level = -1;
  std::string report;                 // --report FILE.json
  std::string test_command;           // --test 'CMD'
  bool force = false;
  bool remove_signatures = false;     // write a signed/attested input without its signatures
  bool test = false;                  // --test given; with no CMD, runs Entrypoint + Cmd
  unsigned test_timeout = 300;        // --test-timeout S: then the test's process group is killed
};

// `slimage batch`: many SRC DST pairs, sharing decoded and rewritten layers.
struct BatchOptions {
  std::string list;             // LIST file, "-" for stdin
  std::string from, to;         // --from/--to docker://HOST/REPO with --all-tags
  bool all_tags = false;
  std::string shard;            // "I/N"; "" = every job
  unsigned parallel = 2;        // images at once
  std::string report;           // --report FILE.json
  std::string cache_dir;        // "" = DiskLayerCache::default_dir()
  bool no_cache = false;
};

struct Command {
  std::string name;  // slim, inspect, plan, why, verify, profiles, batch, diff, completion
  CommonOptions common;
  SlimOptions slim;
  std::string source;      // inspect/plan/why/verify; diff's A
  std::string other;       // diff's B
  std::string path;        // why PATH
  std::string profile_to_show;  // profiles show NAME
  BatchOptions batch;
};

// Runs a parsed command; returns the exit code. Throws Error for failures
// that main() reports.
int run(const Command& command);

}  // namespace slimage
