// Internal to src/plan: what the package-database editors (pkgdb_dpkg.cpp,
// pkgdb_apk.cpp, pkgdb_python.cpp) share — the fate of a listed path after
// the plan, the new checksums of files the writer changes, and the edits
// themselves (a database file's new content, a removed package's files).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "plan_internal.h"

namespace slimage::plan_detail {

enum class Listed {
  Absent,     // not in the image (it was not there before slimming either)
  Directory,  // a directory that stays
  Kept,       // stays, same bytes
  Changed,    // stays, stripped or GPU-pruned: new checksums
  Dropped,
};

// The checksums of the bytes the writer emits for a changed file: each
// computed when a database first asks for it (dpkg md5, apk sha1, Python
// RECORD sha256), so a file pays for the one its database keeps.
enum class SumKind { Md5, Sha1, Sha256 };
struct NewSums {
  std::string md5, sha1, sha256;  // raw digests; empty until asked for
  uint64_t size = 0;
};

class PackageDb {
 public:
  PackageDb(PlanBuilder& b, Plan& plan) : b_(b), plan_(plan) {}

  // `path` as a database lists it, relative to the root or absolute; it may
  // pass through symlinked directories (usrmerge's /lib). `node` gets the
  // node it names (nullptr when Absent).
  Listed state(const std::string& path, const Node** node = nullptr) const;
  const NewSums& new_sums(const Node& node, SumKind kind);
  // Computes `kind` for these nodes up front, in parallel (a database that
  // knows which of its files changed, before it rewrites them one by one).
  void warm_sums(const std::vector<const Node*>& nodes, SumKind kind);

  // A database file that stays as a regular file: its content; else false.
  bool read(const std::string& path, std::string* text) const;
  // A regular file of the input, dropped or not, through symlinks (a
  // package's copyright file under usr/share/doc, which profiles drop).
  bool read_input(const std::string& path, std::string* text) const;
  // Kept regular files directly in `dir`, by name.
  std::vector<std::string> files_in(const std::string& dir) const;
  const std::vector<const Node*>& nodes() const { return b_.nodes; }  // sorted by path

  // Edits. replace(): the file's new content (ignored when unchanged).
  void replace(const std::string& path, std::string content, const std::string& what);
  // Drops `path` and everything below it (a removed package's files).
  void drop(const std::string& path, const std::string& why);
  // Records an emptied package: removed, or kept listed because of `kept_by`.
  void note(PackageNote note);
  // Records a package that stays in its database (for the SBOM).
  void stays(InstalledPackage package);

 private:
  void compute_sum(const Node& node, SumKind kind, NewSums& sums) const;

  PlanBuilder& b_;
  Plan& plan_;
  std::map<const Node*, NewSums> sums_;
};

// A database's records share this grammar: "Field: value" lines, a leading
// space continuing the previous field, records separated by blank lines
// (deb822 for dpkg; apk's installed db uses "K:value" and is parsed apart).
struct Stanza {
  std::vector<std::string> lines;
  std::string field(const std::string& name) const;  // "" when absent; continuations joined by \n
};
std::vector<Stanza> parse_stanzas(const std::string& text);

// Which packages stay listed: every one not emptied, and every emptied one
// that a staying package depends on (transitively). Per package: its name,
// the names it answers to (its own, what it provides), the names it depends on.
struct PackageDeps {
  std::string name;
  bool emptied = false;
  std::vector<std::string> answers_to, depends;
};
struct Staying {
  std::vector<bool> stays;
  std::vector<std::string> kept_by;  // for an emptied one that stays: a dependent's name
};
Staying staying_packages(const std::vector<PackageDeps>& packages);

// The licenses a Debian machine-readable copyright file names
// (copyright-format/1.0: every paragraph's License: short name), each once;
// none for a file in another format.
std::vector<std::string> debian_copyright_licenses(const std::string& text);

using slimage::normalize_python_name;  // plan.h

void dpkg_database(PackageDb& db);
void apk_database(PackageDb& db);
void python_databases(PackageDb& db);

}  // namespace slimage::plan_detail
