// The slimmed-closure check shared by `slim` and `plan` (see verify.h).
#include "verify.h"

#include <chrono>
#include <set>

#include "session.h"

namespace slimage {

FilteredFs slimmed_view(const FsView& fs, const Plan& plan) {
  return FilteredFs(fs, [&plan](const std::string& p) {
    const Action* a = plan.find(p);
    return a && a->fate == Fate::Drop;
  });
}

std::vector<Missing> new_missing(const Graph& before, const Graph& after) {
  std::set<std::pair<std::string, std::string>> old;
  for (auto& m : before.missing) old.insert({m.from, m.needed});
  std::vector<Missing> out;
  for (auto& m : after.missing)
    if (!old.count({m.from, m.needed})) out.push_back(m);
  return out;
}

VerifyResult verify_slimmed(const FsView& fs, const FsView& slimmed, const ImageRuntime& runtime,
                            const Profile* profile, Diagnostics& diagnostics,
                            std::shared_ptr<ElfFacts> facts) {
  auto start = std::chrono::steady_clock::now();
  VerifyResult r;
  std::vector<Root> kept_roots = closure_roots(slimmed, runtime, diagnostics);
  r.before = closure_from(fs, kept_roots, runtime, profile, diagnostics, facts);
  r.after = closure_from(slimmed, kept_roots, runtime, profile, diagnostics, facts);
  r.broken = new_missing(r.before, r.after);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

}  // namespace slimage
