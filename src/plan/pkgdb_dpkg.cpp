// The dpkg database (dpkg(1) "FILES"; deb-md5sums(5); deb822(5)):
// var/lib/dpkg/status (or distroless's status.d/NAME, one record per file),
// info/PKG[:ARCH].list (every path the package installed, absolute, through
// symlinked directories under usrmerge) and info/PKG[:ARCH].md5sums
// ("<md5>  <path>" relative to the root, files only). A removed package's
// record and info/ files go; another's lists lose the dropped paths and its
// md5sums get the stripped files' new checksums; Conffiles lose dropped ones.
#include <algorithm>
#include <sstream>

#include "pkgdb.h"
#include "slimage/util/hash.h"

namespace slimage::plan_detail {

namespace {

constexpr const char* kInfo = "var/lib/dpkg/info";

struct Package {
  std::string source;  // the status file holding its record
  size_t index = 0;    // its record there
  std::string name, arch, version;
  std::string info_base;  // "libc6:amd64": info/<base>.list …
  size_t files = 0, dropped = 0;
  bool emptied() const { return files > 0 && dropped == files; }
};

// Package names a Depends-like field mentions: "a (>= 1) | b:any, c" -> a, b, c.
std::vector<std::string> names_in(const std::string& field) {
  std::vector<std::string> out;
  for (auto& alt : split_any(field, ",|\n")) {
    size_t start = alt.find_first_not_of(" \t");
    if (start == std::string::npos) continue;
    size_t end = alt.find_first_of(" \t(:[", start);
    out.push_back(alt.substr(start, end == std::string::npos ? std::string::npos : end - start));
  }
  return out;
}

std::string render(const std::vector<Stanza>& records, const std::vector<bool>& keep) {
  std::string out;
  for (size_t i = 0; i < records.size(); ++i) {
    if (!keep[i]) continue;
    for (auto& line : records[i].lines) out += line + "\n";
    out += "\n";
  }
  return out;
}

class Dpkg {
 public:
  explicit Dpkg(PackageDb& db) : db_(db) {}

  void load(const std::string& source) {
    std::string text;
    if (!db_.read(source, &text)) return;
    auto& records = records_[source];
    records = parse_stanzas(text);
    for (size_t i = 0; i < records.size(); ++i) {
      const Stanza& r = records[i];
      std::string status = r.field("Status");
      if (status.size() < 10 || status.compare(status.size() - 10, 10, " installed") != 0) continue;
      Package p{source, i, r.field("Package"), r.field("Architecture"), r.field("Version"), {}};
      if (p.name.empty()) continue;
      std::string qualified = p.name + ":" + p.arch;
      p.info_base = has_info(qualified) ? qualified : p.name;
      packages_.push_back(p);
    }
  }

  void edit() {
    warm_changed_sums();
    for (auto& p : packages_) trim_lists(p);
    decide();
    for (auto& [source, records] : records_) rewrite_status(source, records);
  }

 private:
  bool has_info(const std::string& base) const {
    return db_.state(std::string(kInfo) + "/" + base + ".list") != Listed::Absent ||
           db_.state(std::string(kInfo) + "/" + base + ".md5sums") != Listed::Absent;
  }
  std::string md5sums_path(const Package& p) const {
    if (p.source == "var/lib/dpkg/status") return std::string(kInfo) + "/" + p.info_base + ".md5sums";
    return p.source + ".md5sums";  // distroless: status.d/NAME.md5sums
  }

  // The new MD5 of every changed file an md5sums lists, on all cores at
  // once, before trim_lists asks for them one package at a time.
  void warm_changed_sums() {
    std::vector<const Node*> changed;
    for (auto& p : packages_) {
      std::string sums;
      if (!db_.read(md5sums_path(p), &sums)) continue;
      std::istringstream in(sums);
      for (std::string line; std::getline(in, line);) {
        size_t sep = line.find("  ");
        const Node* n = nullptr;
        if (sep != std::string::npos && db_.state(line.substr(sep + 2), &n) == Listed::Changed) changed.push_back(n);
      }
    }
    db_.warm_sums(changed, SumKind::Md5);
  }

  // Counts the package's files and rewrites its .list and .md5sums.
  void trim_lists(Package& p) {
    std::string list_path = std::string(kInfo) + "/" + p.info_base + ".list", text;
    bool have_list = p.source == "var/lib/dpkg/status" && db_.read(list_path, &text);
    if (have_list) {
      std::string out;
      size_t removed = 0;
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) {
        const Node* n = nullptr;
        Listed s = db_.state(line, &n);
        bool file = n && n->type != FileType::Directory;
        p.files += file;
        if (s == Listed::Dropped) {
          p.dropped += file;
          ++removed;
          continue;
        }
        out += line + "\n";
      }
      db_.replace(list_path, out, std::to_string(removed) + " dropped paths of " + p.name + " removed");
    }
    std::string sums;
    if (!db_.read(md5sums_path(p), &sums)) return;
    std::string out;
    size_t removed = 0, updated = 0;
    std::istringstream in(sums);
    for (std::string line; std::getline(in, line);) {
      size_t sep = line.find("  ");
      if (sep == std::string::npos) {
        out += line + "\n";
        continue;
      }
      std::string path = line.substr(sep + 2);
      const Node* n = nullptr;
      Listed s = db_.state(path, &n);
      if (!have_list) p.files += s != Listed::Absent, p.dropped += s == Listed::Dropped;
      if (s == Listed::Dropped) {
        ++removed;
        continue;
      }
      if (s == Listed::Changed) {
        out += hex_encode(db_.new_sums(*n, SumKind::Md5).md5) + "  " + path + "\n";
        ++updated;
        continue;
      }
      out += line + "\n";
    }
    db_.replace(md5sums_path(p), out,
                p.name + ": " + std::to_string(removed) + " dropped files removed, " +
                    std::to_string(updated) + " checksums of stripped or pruned files updated");
  }

  const Stanza& record(const Package& p) const { return records_.at(p.source)[p.index]; }

  // Emptied packages stay listed while a staying package depends on them.
  void decide() {
    std::vector<PackageDeps> deps;
    for (auto& p : packages_) {
      const Stanza& r = record(p);
      PackageDeps d{p.name, p.emptied(), names_in(r.field("Provides")), names_in(r.field("Depends"))};
      d.answers_to.push_back(p.name);
      for (auto& n : names_in(r.field("Pre-Depends"))) d.depends.push_back(n);
      deps.push_back(std::move(d));
    }
    auto staying = staying_packages(deps);
    stays_ = std::move(staying.stays);
    kept_by_ = std::move(staying.kept_by);
    for (size_t i = 0; i < packages_.size(); ++i) {
      const Package& p = packages_[i];
      if (stays_[i]) {
        std::string copyright;
        db_.read_input("usr/share/doc/" + p.name + "/copyright", &copyright);
        db_.stays({"dpkg", p.name, p.version, p.arch, debian_copyright_licenses(copyright), p.dropped});
      }
      if (!p.emptied()) continue;
      db_.note({"dpkg", p.name, p.version, stays_[i] ? "needed by " + kept_by_[i] : ""});
      if (stays_[i]) continue;
      std::string why = "package " + p.name + " removed from the dpkg database: every file it installed is dropped";
      if (p.source == "var/lib/dpkg/status") {
        for (auto& name : db_.files_in(kInfo)) {
          if (name.size() <= p.info_base.size() + 1 || name.compare(0, p.info_base.size() + 1, p.info_base + ".") != 0)
            continue;
          if (name.find('.', p.info_base.size() + 1) == std::string::npos)  // "<base>.list", not "<base>.0-1.list"
            db_.drop(std::string(kInfo) + "/" + name, why);
        }
      } else {
        db_.drop(p.source, why);
        db_.drop(md5sums_path(p), why);
      }
    }
  }

  // Drops removed packages' records and conffiles that are gone.
  void rewrite_status(const std::string& source, std::vector<Stanza>& records) {
    std::vector<bool> keep(records.size(), true);
    size_t removed = 0, conffiles = 0;
    for (size_t i = 0; i < packages_.size(); ++i)
      if (packages_[i].source == source && !stays_[i]) keep[packages_[i].index] = false, ++removed;
    for (size_t i = 0; i < records.size(); ++i) {
      if (!keep[i]) continue;
      auto& lines = records[i].lines;
      bool in_conffiles = false;
      std::vector<std::string> out;
      for (auto& line : lines) {
        bool continuation = !line.empty() && line[0] == ' ';
        if (!continuation) in_conffiles = line.rfind("Conffiles:", 0) == 0;
        if (in_conffiles && continuation) {
          std::istringstream words(line);
          std::string path;
          words >> path;
          if (db_.state(path) == Listed::Dropped) {
            ++conffiles;
            continue;
          }
        }
        out.push_back(line);
      }
      // A Conffiles field left empty goes too.
      for (size_t k = 0; k < out.size(); ++k)
        if (out[k].rfind("Conffiles:", 0) == 0 && out[k].size() <= 11 &&
            (k + 1 == out.size() || out[k + 1].empty() || out[k + 1][0] != ' '))
          out.erase(out.begin() + k--);
      lines = out;
    }
    if (removed == 0 && conffiles == 0) return;
    db_.replace(source, render(records, keep),
                std::to_string(removed) + " emptied packages removed, " + std::to_string(conffiles) +
                    " dropped conffiles unlisted");
  }

  PackageDb& db_;
  std::map<std::string, std::vector<Stanza>> records_;
  std::vector<Package> packages_;
  std::vector<bool> stays_;
  std::vector<std::string> kept_by_;
};

}  // namespace

void dpkg_database(PackageDb& db) {
  Dpkg dpkg(db);
  dpkg.load("var/lib/dpkg/status");
  for (auto& name : db.files_in("var/lib/dpkg/status.d"))
    if (!name.ends_with(".md5sums")) dpkg.load("var/lib/dpkg/status.d/" + name);
  dpkg.edit();
}

}  // namespace slimage::plan_detail
