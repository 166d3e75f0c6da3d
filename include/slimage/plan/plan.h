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
#include <span>
#include <string>
#include <string_view>
#include <utility>
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

// One per node, under its path in Plan::actions (ActionMap holds the path):
// a layer of a million files holds a million, so the small fields are packed
// together and the reason every untouched node shares is not stored.
struct Action {
  FileType type = FileType::Regular;
  Fate fate = Fate::Keep;
  ReasonKind kind = ReasonKind::Kept;
  // Fate::Link (dedupe): how the writer emits it instead of its bytes (link_to below).
  enum class LinkKind : uint8_t { None, Hardlink, Symlink };
  LinkKind link = LinkKind::None;
  // What a person reads (`why()`); "" stands for kNoRuleDrops, the reason of
  // every node no pass touched.
  std::string reason = {};
  static constexpr std::string_view kNoRuleDrops = "no rule drops it";
  std::string why() const { return reason.empty() ? std::string(kNoRuleDrops) : reason; }
  // Appends "; MORE" to why().
  void add_reason(std::string_view more) { reason = why() + "; " + std::string(more); }
  // Regular-file content bytes this entry accounts for. Hardlinked names share
  // one content: it is counted once, on the first name that stays (else the first name).
  uint64_t bytes = 0;
  uint64_t bytes_after = 0;  // after strip; 0 if dropped
  uint64_t bytes_deduped = 0;  // emitted bytes (after strip) the link saves
  // Fate::Link: Hardlink: link_to() is the copy's path, in the same output
  // layer. Symlink: link_to() is the relative target ("../../x"), bytes_after
  // its length. link_copy(): the copy's normalized path (both kinds). "" else.
  const std::string& link_to() const { return targets.get().to; }
  const std::string& link_copy() const { return targets.get().copy; }
  void set_link(std::string to, std::string copy) { targets.set({std::move(to), std::move(copy)}); }

  // Held apart, as most actions have none: 8 bytes of each Action, not 64.
  struct LinkTargets {
    std::string to, copy;
  };
  class LinkSlot {
   public:
    LinkSlot() = default;
    LinkSlot(const LinkSlot& o) : p_(o.p_ ? std::make_unique<LinkTargets>(*o.p_) : nullptr) {}
    LinkSlot& operator=(const LinkSlot& o) {
      p_ = o.p_ ? std::make_unique<LinkTargets>(*o.p_) : nullptr;
      return *this;
    }
    LinkSlot(LinkSlot&&) = default;
    LinkSlot& operator=(LinkSlot&&) = default;
    const LinkTargets& get() const {
      static const LinkTargets kNone;
      return p_ ? *p_ : kNone;
    }
    void set(LinkTargets t) { p_ = std::make_unique<LinkTargets>(std::move(t)); }

   private:
    std::unique_ptr<LinkTargets> p_;
  };
  LinkSlot targets = {};
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

// Plan::actions: an Action per normalized path, iterated in path order, as a
// sorted vector whose keys are copied into one arena. A map would cost a node,
// a key string and three allocations per entry: 320 bytes of a million-file
// image's plan where this costs the Action, its key view and the path bytes.
// Entries are added in path order (build_plan's node order appends); an
// insertion anywhere else moves the entries after it, and every insertion may
// move all of them: hold no Action reference across one.
class ActionMap {
 public:
  struct Entry {
    std::string_view first;  // the path, in this map's arena
    Action second;
  };
  using iterator = std::vector<Entry>::iterator;
  using const_iterator = std::vector<Entry>::const_iterator;

  ActionMap() = default;
  ActionMap(ActionMap&&) = default;
  ActionMap& operator=(ActionMap&&) = default;
  ActionMap(const ActionMap& other) { *this = other; }
  ActionMap& operator=(const ActionMap& other);

  // Room for `entries` entries whose paths have `path_bytes` bytes in all.
  void reserve(size_t entries, size_t path_bytes);
  // Adds `path` -> `action` unless `path` is there; returns its entry and
  // whether it was added.
  std::pair<iterator, bool> emplace(std::string_view path, Action action);
  Action& operator[](std::string_view path) { return emplace(path, Action{}).first->second; }
  iterator find(std::string_view path);
  const_iterator find(std::string_view path) const;
  Action& at(std::string_view path);  // throws std::out_of_range naming the path
  const Action& at(std::string_view path) const;
  size_t count(std::string_view path) const { return find(path) != end() ? 1 : 0; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }

 private:
  std::string_view intern(std::string_view path);
  std::vector<Entry> entries_;
  std::vector<std::unique_ptr<char[]>> blocks_;  // the arena: keys never move
  char* next_ = nullptr;
  size_t left_ = 0;
};

struct Plan {
  ActionMap actions;  // one per node of the fs, keyed by normalized path
  Graph graph;
  Profile profile;
  const Action* find(const std::string& path) const;
  // --cuda-arch: the GPUs, and per kept ELF holding fat binaries (every name
  // of its content) what the prune found and decided (src/plan/gpu_prune_pass.cpp).
  GpuSelection gpu;
  std::map<std::string, std::shared_ptr<const GpuLibrary>, std::less<>> gpu_libraries;
  // The library's prune when it changes any byte, else nullptr.
  const GpuLibrary* gpu_prune(std::string_view path) const;
  // Package databases told the truth (src/plan/pkgdb.cpp): each edited
  // database file's new content, which the layer writer emits in place of
  // the old (its action: Fate::Keep, ReasonKind::PackageDb, bytes_after the
  // new size). Packages the slimming emptied: removed from the database, or
  // still listed, files removed, because a package that stays depends on them.
  std::map<std::string, std::string, std::less<>> replaced;
  const std::string* replacement(std::string_view path) const;
  std::vector<PackageNote> packages_removed, packages_listed_files_removed;
  std::vector<InstalledPackage> packages;  // those that stay, by database, name, version
};

Plan build_plan(const FsView& fs, const ImageRuntime& runtime, const PlanOptions& options,
                Diagnostics& diagnostics);

// Low-disk mode's pass 1 (rootfs/sparse_spill.h ElfSummary): what the plan
// passes read of one big ELF file's `bytes`, when that is all they will read
// of it. Null (keep it spilled) for a file strip in mode `strip` would
// rewrite (the writer needs its bytes, pkgdb its new digests), with
// `gpu_pruning` (that pass reads the fat binaries), for bytes that are
// not ELF at all, or where `zeroed` (fat binaries pass 1 did not copy, as
// zeros) might hold something these passes read (elf/fatbin.h zeroed_unread).
std::shared_ptr<const ElfSummary> summarize_elf(std::span<const uint8_t> bytes, std::span<const FileRange> zeroed,
                                                StripMode strip, bool gpu_pruning);

// For `slimage why PATH`: the chains from roots with how each edge was found,
// or the rule that drops it.
std::string explain(const Plan& plan, const FsView& fs, const std::string& path);
// The same as JSON (`why --json`): path, fate, kind, reason, bytes, link,
// symlink, gpu (explain's GPU lines), chains of {from, to, how, detail}, missing.
nlohmann::json explain_json(const Plan& plan, const FsView& fs, const std::string& path);

}  // namespace slimage
