// Runs one program in a materialized root as a container runtime would
// start it: a private mount namespace with /proc and a few /dev nodes
// mounted, chroot, the config's WorkingDir, the image user's uid, gid and
// groups, exactly the given environment (nothing from the host), argv[0]
// looked up in that environment's PATH inside the root. Output (stdout and
// stderr together) is captured; a run past its timeout has its whole
// process group killed.
#pragma once
#include <string>
#include <vector>

#include "slimage/slim/test_command.h"

namespace slimage {

struct RootRun {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in PATH
  std::vector<std::string> env;   // "NAME=value"
  std::string working_dir;        // "" = "/"
  ImageUser user;
  unsigned timeout_seconds = 300;
};

struct RootRunResult {
  int status = -1;  // exit code; 128+N for signal N; 124 after the timeout
  bool timed_out = false;
  std::string output;  // stdout and stderr interleaved; the middle of a huge output is cut
};

RootRunResult run_in_root(const std::string& root, const RootRun& run);

}  // namespace slimage
