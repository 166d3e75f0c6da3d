// Internal to src/plan: dedupe's check that a shared library may be reached
// through one file from two directories (dedupe_origin.cpp), used by
// dedupe_pass.cpp. docs/dedupe.md says why this check is the one that matters.
#pragma once
#include <map>
#include <string>

#include "plan_internal.h"
#include "slimage/elf/elf.h"

namespace slimage::plan_detail {

struct DedupeContext {
  PlanBuilder& b;
  // Emitted-bytes digest by normalized path, for the candidates hashed.
  std::map<std::string, std::string> digest_of;
  // Whether the files at two raw paths are the same in the output: both
  // absent (or dropped), or both present with identical content.
  bool same_file(const std::string& raw_a, const std::string& raw_b);
};

// ET_DYN with a soname or named lib*.so*: something loaded by name, not run.
bool is_shared_library(const ElfInfo& info, const std::string& path);

struct OriginCheck {
  bool safe = false;
  std::string detail;  // what was compared, or the first difference
};

// A shared library `info` (its strings in `strings`) at `path`, identical to
// the one at `copy`: whether everything it finds relative to its own
// directory — DT_NEEDED (and dlopen family names) through RPATH/RUNPATH
// entries with $ORIGIN, dlopen family loads and string-heuristic names next
// to it — is the same file from both directories.
OriginCheck check_origin(DedupeContext& ctx, const ElfInfo& info,
                         const std::vector<std::string>& strings, const std::string& path,
                         const std::string& copy);

}  // namespace slimage::plan_detail
