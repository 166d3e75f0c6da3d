// The closure check that `slim` runs before writing and `plan` runs to
// predict it: what the output keeps is walked in the output and in the
// input; a need that resolved in the input and does not in the output is
// what slimming broke. (The input's other ELFs are dropped; their needs do
// not matter.) One function, so `plan` cannot predict something else than
// what `slim` refuses. Also the plain closure of a view (`slimage verify`).
#pragma once
#include <memory>
#include <vector>

#include "slimage/deps/graph.h"
#include "slimage/deps/resolver.h"
#include "slimage/plan/plan.h"
#include "slimage/rootfs/filtered_fs.h"

namespace slimage {

struct VerifyResult {
  Graph before, after;          // the kept roots' closures in the input and in the output
  std::vector<Missing> broken;  // missing in `after`, not already missing in `before`
  double seconds = 0;
};

// `fs` without the files the plan drops: the output's view.
FilteredFs slimmed_view(const FsView& fs, const Plan& plan);

// Libraries missing in `after` that were not already missing in `before`.
std::vector<Missing> new_missing(const Graph& before, const Graph& after);

// `profile` is null for `--profile none`. `facts` are shared with the plan's walk.
VerifyResult verify_slimmed(const FsView& fs, const FsView& slimmed, const ImageRuntime& runtime,
                            const Profile* profile, Diagnostics& diagnostics,
                            std::shared_ptr<ElfFacts> facts);

// Closure of a view: every ELF in it is a root. `facts` carries parsed ELF
// facts between walks over views of the same layers.
Graph closure_of(const FsView& fs, const ImageRuntime& runtime, const Profile* profile,
                 Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts = nullptr);
// The two halves of closure_of: its roots (entrypoint, every ELF, …), and the
// walk from given roots, which verify_slimmed runs on the input and on the
// output from the output's roots.
std::vector<Root> closure_roots(const FsView& fs, const ImageRuntime& runtime,
                                Diagnostics& diagnostics);
Graph closure_from(const FsView& fs, const std::vector<Root>& roots, const ImageRuntime& runtime,
                   const Profile* profile, Diagnostics& diagnostics,
                   std::shared_ptr<ElfFacts> facts);

}  // namespace slimage
