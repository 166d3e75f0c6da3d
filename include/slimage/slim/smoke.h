// `--test CMD`: runs CMD (with /bin/sh -c when the root has a shell, else as
// the words it splits into; with no CMD, the image's Entrypoint + Cmd) in the
// original root and in the slimmed root, each materialized in a scratch dir
// and started as the runtime would (src/slim/root_runner.h: the config's
// Env, WorkingDir and User), so a broken profile is caught before anything
// is written.
#pragma once
#include <string>

#include <vector>

#include "slimage/deps/resolver.h"
#include "slimage/elf/strip.h"
#include "slimage/plan/plan.h"
#include "slimage/rootfs/fs_view.h"

namespace slimage {

struct SmokeOptions {
  std::string command;   // "" = the image's Entrypoint + Cmd
  ImageRuntime runtime;  // Env, WorkingDir, Entrypoint, Cmd of the config
  std::string user;      // the config's User
  unsigned timeout_seconds = 300;
};

struct SmokeResult {
  int before_status = -1, after_status = -1;  // after: -1 when not run (the original failed)
  std::string before_output, after_output;
  std::vector<std::string> argv;  // what ran in the original
};

// Throws Error, before anything runs, when the command cannot run in the
// original (see prepare_run in smoke.cpp).
SmokeResult smoke_test(const FsView& before, const FsView& after, const Plan& plan, StripMode strip,
                       const SmokeOptions& options);

// Writes a view into `dir` (which must exist and be empty): directories,
// files (stripped where the plan says so, if `plan` is given), symlinks,
// hardlinks, fifos; owners and modes. Never follows a symlink it created.
void materialize(const FsView& fs, const std::string& dir, const Plan* plan, StripMode strip);

}  // namespace slimage
