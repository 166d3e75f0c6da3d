// The apk database (Alpine wiki "Apk spec", installed database): records of
// "K:value" lines separated by blank lines. P name, V version, D depends
// ("so:libc.musl-x86_64.so.1 musl>=1.2"), p provides, F a directory (then its
// M/a attributes), R a file in the last F (then a, Z: "Q1" + base64 sha1 of
// its bytes). Dropped F and R lines go with their attribute lines; stripped
// files get a new Z; an emptied package no staying one depends on goes.
#include <sstream>

#include "pkgdb.h"
#include "slimage/registry/auth.h"

namespace slimage::plan_detail {

namespace {

constexpr const char* kInstalled = "lib/apk/db/installed";

struct ApkPackage {
  std::vector<std::string> lines;  // trimmed
  std::string name, version, arch, license;
  std::vector<std::string> depends, provides;
  size_t files = 0, dropped = 0;
  bool emptied() const { return files > 0 && dropped == files; }
};

// "so:libc.so=1", "musl>=1.2", "!foo" -> "so:libc.so", "musl", "" (a conflict).
std::string dependency_name(const std::string& word) {
  if (word.empty() || word[0] == '!') return "";
  return word.substr(0, word.find_first_of("<>=~"));
}

ApkPackage trim(PackageDb& db, const Stanza& record, size_t* removed, size_t* updated) {
  ApkPackage p;
  std::string dir;
  bool skipping = false;  // attribute lines of a dropped F or R
  const Node* last = nullptr;
  for (auto& line : record.lines) {
    char key = line.size() >= 2 && line[1] == ':' ? line[0] : 0;
    std::string value = key ? line.substr(2) : line;
    if (key == 'F' || key == 'R') {
      std::string path = key == 'F' ? value : join_path(dir, value);
      if (key == 'F') dir = value;
      const Node* n = nullptr;
      Listed s = db.state(path, &n);
      if (key == 'R') p.files += n != nullptr, p.dropped += s == Listed::Dropped;
      skipping = s == Listed::Dropped;
      last = key == 'R' && s == Listed::Changed ? n : nullptr;
      if (skipping) {
        ++*removed;
        continue;
      }
    } else if (key == 'a' || key == 'M' || key == 'Z') {
      if (skipping) continue;
      if (key == 'Z' && last) {
        p.lines.push_back("Z:Q1" + registry::base64_encode(db.new_sums(*last, SumKind::Sha1).sha1));
        ++*updated;
        continue;
      }
    } else {
      skipping = false;
      if (key == 'P') p.name = value;
      if (key == 'V') p.version = value;
      if (key == 'A') p.arch = value;
      if (key == 'L') p.license = value;
      if (key == 'D' || key == 'p')
        for (auto& w : split_any(value, " "))
          (key == 'D' ? p.depends : p.provides).push_back(dependency_name(w));
    }
    p.lines.push_back(line);
  }
  return p;
}

}  // namespace

void apk_database(PackageDb& db) {
  std::string text;
  if (!db.read(kInstalled, &text)) return;
  std::vector<ApkPackage> packages;
  size_t removed = 0, updated = 0;
  for (auto& record : parse_stanzas(text)) packages.push_back(trim(db, record, &removed, &updated));
  std::vector<PackageDeps> deps;
  for (auto& p : packages) {
    deps.push_back({p.name, p.emptied(), p.provides, p.depends});
    deps.back().answers_to.push_back(p.name);
  }
  auto [stays, kept_by] = staying_packages(deps);
  std::string out;
  size_t gone = 0;
  for (size_t i = 0; i < packages.size(); ++i) {
    if (packages[i].emptied())
      db.note({"apk", packages[i].name, packages[i].version, stays[i] ? "needed by " + kept_by[i] : ""});
    if (!stays[i]) {
      ++gone;
      continue;
    }
    const ApkPackage& p = packages[i];
    db.stays({"apk", p.name, p.version, p.arch,
              p.license.empty() ? std::vector<std::string>{} : std::vector<std::string>{p.license}, p.dropped,
              !p.license.empty()});
    for (auto& line : packages[i].lines) out += line + "\n";
    out += "\n";
  }
  db.replace(kInstalled, out,
             std::to_string(gone) + " emptied packages removed, " + std::to_string(removed) +
                 " dropped paths unlisted, " + std::to_string(updated) + " checksums updated");
}

}  // namespace slimage::plan_detail
