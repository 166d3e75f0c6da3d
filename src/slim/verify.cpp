// The slimmed-closure check shared by `slim` and `plan`, and the closure
// walks it is made of (include/slimage/slim/verify.h).
#include "slimage/slim/verify.h"

#include <chrono>
#include <set>

#include "slimage/elf/elf.h"
#include "slimage/plan/profile.h"
#include "slimage/rootfs/sparse_spill.h"

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

std::vector<Root> closure_roots(const FsView& fs, const ImageRuntime& runtime,
                                Diagnostics& diagnostics) {
  auto is_elf_file = [&](const Node& n) {
    if (n.type != FileType::Regular) return false;
    if (fs.elf_summary(n)) return true;  // low-disk mode, a big ELF file
    if (fs.unspilled_digest(n)) return false;  // not ELF: low-disk mode spills the rest
    bool elf = is_elf(fs.content(n));
    fs.release(n);
    return elf;
  };
  return find_roots(fs, runtime, {}, is_elf_file, [](const std::string&) { return false; },
                    diagnostics);
}

Graph closure_of(const FsView& fs, const ImageRuntime& runtime, const Profile* profile,
                 Diagnostics& diagnostics, std::shared_ptr<ElfFacts> facts) {
  return closure_from(fs, closure_roots(fs, runtime, diagnostics), runtime, profile, diagnostics,
                      std::move(facts));
}

Graph closure_from(const FsView& fs, const std::vector<Root>& roots, const ImageRuntime& runtime,
                   const Profile* profile, Diagnostics& diagnostics,
                   std::shared_ptr<ElfFacts> facts) {
  ResolveOptions options = resolve_options_for(runtime);
  if (profile) {
    options.dlopen_families = profile->dlopen;
    options.host_provided = profile->host_provided;
    options.string_heuristic = profile->string_heuristic;
  } else {
    Profile def = load_profile("default");
    options.dlopen_families = def.dlopen;
    options.host_provided = def.host_provided;
  }
  options.facts = std::move(facts);
  return resolve_graph(fs, roots, options, diagnostics);
}

}  // namespace slimage
