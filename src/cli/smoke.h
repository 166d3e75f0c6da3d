// `--test CMD`: runs CMD with /bin/sh in the original root and in the slimmed
// root, each materialized in a scratch dir and entered with chroot inside a
// private mount namespace (unshare), so a broken profile is caught before
// anything is written.
#pragma once
#include <string>

#include "slimage/elf/strip.h"
#include "slimage/plan/plan.h"
#include "slimage/rootfs/fs_view.h"

namespace slimage {

struct SmokeResult {
  int before_status = -1, after_status = -1;
  std::string before_output, after_output;
};

SmokeResult smoke_test(const FsView& before, const FsView& after, const Plan& plan, StripMode strip,
                       const std::string& command);

// Writes a view into `dir` (which must exist and be empty): directories,
// files (stripped where the plan says so, if `plan` is given), symlinks,
// hardlinks, fifos; owners and modes. Never follows a symlink it created.
void materialize(const FsView& fs, const std::string& dir, const Plan* plan, StripMode strip);

}  // namespace slimage
