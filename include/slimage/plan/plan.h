// The plan: one Action per node of the root filesystem — keep, drop or strip —
// each with a reason a person can read. Built in passes: pre-drops (globs,
// caches, tests dirs, __pycache__, dev files; keep globs override), the
// dependency walk, unreachable CUDA libraries and dangling symlinks, strip,
// then directories left empty. `slimage why PATH` is explain().
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "slimage/deps/graph.h"
#include "slimage/deps/resolver.h"
#include "slimage/elf/fatbin_prune.h"
#include "slimage/elf/strip.h"
#include "slimage/plan/profile.h"
#include "slimage/rootfs/fs_view.h"
#include "slimage/util/error.h"

namespace slimage {

// Link: kept, but written as a link to an identical copy (dedupe_pass.cpp).
enum class Fate : uint8_t { Keep, Drop, Strip, Link };
const char* fate_name(Fate fate);  // "keep", "drop", "strip", "link"

enum class ReasonKind : uint8_t {
  Needed,           // in the dependency closure
  Kept,             // no rule drops it
  KeepGlob,         // a keep glob (profile or --keep) overrides a drop
  UnreachableCuda,  // a CUDA library nothing loads
  DanglingSymlink,  // its target is dropped
  Cache,
  TestsDir,
  Pycache,
  DevFile,
  DropGlob,  // profile drop glob or --drop
  Stripped,
  EmptyDir,  // a directory left empty by drops
  Toolchain,           // compilers, binutils, CUDA compilers (profile `toolchain`), unless needed
  UnreachableLibrary,  // any shared library nothing reaches (drop_unreachable_libraries)
  Dedupe,    // identical to a kept copy: written as a link to it
  GpuPruned,  // kept, its fat binaries pruned to the --cuda-arch GPUs
  PackageDb,  // a package database edited to match (its file rewritten, or a removed package's entry)
};
const char* reason_kind_name(ReasonKind kind);  // "unreachable-cuda", "cache", "tests-dir", …

// One per node, under its path in Plan::actions (the key is its only copy of
// the path): a layer of a million files holds a million, so the small fields
// are packed together.
struct Action {
  FileType type = FileType::Regular;
  Fate fate = Fate::Keep;
  ReasonKind kind = ReasonKind::Kept;
  // Fate::Link (dedupe): how the writer emits it instead of its bytes (link_to below).
  enum class LinkKind : uint8_t { None, Hardlink, Symlink };
  LinkKind link = LinkKind::None;
  std::string reason;
  // Regular-file content bytes this entry accounts for. Hardlinked names share
  // one content: it is counted once, on the first name that stays (else the first name).
  uint64_t bytes = 0;
  uint64_t bytes_after = 0;  // after strip; 0 if dropped
  // Fate::Link: Hardlink: link_to is the copy's path, in the same output
  // layer. Symlink: link_to is the relative target ("../../x"), bytes_after its length.
  std::string link_to = {};
  std::string link_copy = {};  // the copy's normalized path (both kinds)
  uint64_t bytes_deduped = 0;  // emitted bytes (after strip) the link saves
};

// One library's fat binaries under --cuda-arch: containers and decisions.
struct GpuLibrary {
  FatbinScan scan;
  FatbinPrune prune;
  std::string error;  // the scan's first error: the file is left untouched
};

// A package the slimming emptied (every file it installed is dropped), in
// one of the image's package databases (src/plan/pkgdb*.cpp).
struct PackageNote {
  std::string database;  // "dpkg", "apk", "python"
  std::string name, version;
  // Why it stays listed: "needed by NAME" ("" when it left the database).
  std::string kept_by = {};
};

// A package that stays in one of the image's package databases after the
// pass (src/plan/pkgdb*.cpp): what an SBOM of the slimmed image lists.
struct InstalledPackage {
  std::string database;  // "dpkg", "apk", "python"
  std::string name, version;
  std::string arch = {};                   // dpkg Architecture, apk A:; "" for python
  std::vector<std::string> licenses = {};  // deduplicated, in the order found
  size_t files_removed = 0;                // of the files it installed, how many are dropped
  bool license_is_spdx = false;            // licenses[0] is an SPDX expression (apk L:, License-Expression)
};

// PEP 503: "Foo_Bar.baz" -> "foo-bar-baz".
std::string normalize_python_name(const std::string& name);

struct PlanOptions {
  Profile profile;
  std::vector<std::string> keep, drop, entrypoints;  // from the command line
  std::optional<StripMode> strip;                    // overrides the profile's
  unsigned jobs = 0;                                 // parallel ELF checks; 0 = all cores
  std::shared_ptr<ElfFacts> facts;                   // shared with later walks (verify)
  bool no_dedupe = false;                            // --no-dedupe: overrides the profile's
  std::optional<GpuSelection> gpu;                   // --cuda-arch/--cuda-ptx; overrides the profile's
};

struct Plan {
  std::map<std::string, Action> actions;  // one per node of the fs, keyed by normalized path
  Graph graph;
  Profile profile;
  const Action* find(const std::string& path) const;
  // --cuda-arch: the GPUs, and per kept ELF holding fat binaries (every name
  // of its content) what the prune found and decided (src/plan/gpu_prune_pass.cpp).
  GpuSelection gpu;
  std::map<std::string, std::shared_ptr<const GpuLibrary>> gpu_libraries;
  // The library's prune when it changes any byte, else nullptr.
  const GpuLibrary* gpu_prune(const std::string& path) const;
  // Package databases told the truth (src/plan/pkgdb.cpp): each edited
  // database file's new content, which the layer writer emits in place of
  // the old (its action: Fate::Keep, ReasonKind::PackageDb, bytes_after the
  // new size). Packages the slimming emptied: removed from the database, or
  // still listed, files removed, because a package that stays depends on them.
  std::map<std::string, std::string> replaced;
  const std::string* replacement(const std::string& path) const;
  std::vector<PackageNote> packages_removed, packages_listed_files_removed;
  std::vector<InstalledPackage> packages;  // those that stay, by database, name, version
};

Plan build_plan(const FsView& fs, const ImageRuntime& runtime, const PlanOptions& options,
                Diagnostics& diagnostics);

// For `slimage why PATH`: the chains from roots with how each edge was found,
// or the rule that drops it.
std::string explain(const Plan& plan, const FsView& fs, const std::string& path);
// The same as JSON (`why --json`): path, fate, kind, reason, bytes, link,
// symlink, gpu (explain's GPU lines), chains of {from, to, how, detail}, missing.
nlohmann::json explain_json(const Plan& plan, const FsView& fs, const std::string& path);

}  // namespace slimage
