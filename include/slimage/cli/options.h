// Command-line options as plain structs: CLI11 fills them (src/cli/app.cpp),
// the commands read them. Nothing here knows about CLI11.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "slimage/cli/exit_codes.h"
#include "slimage//image/image.h"
#include "slimage/slim/options.h"

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
  std::string sbom_dir;         // --sbom DIR: one SBOM per image, named by batch_sbom_file
  std::string html_dir;         // --html DIR: one HTML report per image, named by batch_output_file
};

struct Command {
  std::string name;  // slim, inspect, plan, why, verify, profiles, batch, diff, report, completion
  CommonOptions common;
  SlimOptions slim;
  std::string source;      // inspect/plan/why/verify; diff's A; report's REPORT
  std::string other;       // diff's B
  std::string path;        // why PATH
  std::string profile_to_show;  // profiles show NAME
  bool slim_diff = false;  // slim --diff: print (and report) DST's diff against SRC
  BatchOptions batch;
};

// Runs a parsed command; returns the exit code. Throws Error for failures
// that main() reports.
int run(const Command& command);

}  // namespace slimage
