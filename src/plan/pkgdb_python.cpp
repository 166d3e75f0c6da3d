// Python distributions (PyPA "Recording installed projects"):
// NAME-VER.dist-info/RECORD is CSV "path,sha256=<urlsafe b64, no padding>,size",
// paths relative to the directory holding the .dist-info (may climb out of it:
// "../../../bin/x"); METADATA names the project and its Requires-Dist.
// NAME.egg-info/installed-files.txt lists paths relative to the .egg-info,
// requires.txt its requirements ("[extra]" sections after the plain ones).
// An emptied distribution nothing that stays requires loses its whole
// metadata directory; another's RECORD loses dropped rows (the __pycache__
// .pyc files, mostly) and stripped or pruned files get their new hash and size.
#include <algorithm>
#include <span>
#include <sstream>

#include "pkgdb.h"
#include "slimage/registry/auth.h"

namespace slimage::plan_detail {

namespace {

struct Distribution {
  std::string dir;         // "usr/lib/python3/dist-packages/foo-1.0.dist-info"
  std::string list;        // RECORD or installed-files.txt
  std::string name, version;
  std::vector<std::string> requires_;  // normalized names
  std::string license;                 // License-Expression, else a one-line License
  bool license_is_spdx = false;
  size_t files = 0, dropped = 0;
  bool emptied() const { return files > 0 && dropped == files; }
};

// One CSV field list (RFC 4180 quoting, as the csv module writes RECORD).
std::vector<std::string> csv_row(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string urlsafe_b64_nopad(const std::string& raw) {
  std::string s = registry::base64_encode(raw);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return s;
}

// "requests[socks] (>=2); python_version<'3.8'" -> "requests"; "" for an extra's.
std::string requirement_name(const std::string& spec) {
  auto semi = spec.find(';');
  if (semi != std::string::npos && spec.find("extra", semi) != std::string::npos) return "";
  size_t start = spec.find_first_not_of(" \t");
  if (start == std::string::npos) return "";
  size_t end = start;
  while (end < spec.size() && (std::isalnum(static_cast<unsigned char>(spec[end])) || spec[end] == '-' ||
                               spec[end] == '_' || spec[end] == '.'))
    ++end;
  return normalize_python_name(spec.substr(start, end - start));
}

class Python {
 public:
  explicit Python(PackageDb& db) : db_(db) {}

  void load(const Node& n) {
    bool record = n.path.ends_with(".dist-info/RECORD");
    if (!record && !n.path.ends_with(".egg-info/installed-files.txt")) return;
    Distribution d;
    d.dir = dirname_of(n.path);
    d.list = n.path;
    std::string meta, text;
    db_.read(d.dir + (record ? "/METADATA" : "/PKG-INFO"), &meta);
    auto headers = parse_stanzas(meta);  // METADATA: headers, a blank line, the description
    for (auto& s : std::span(headers).first(std::min<size_t>(headers.size(), 1))) {
      d.name = s.field("Name"), d.version = s.field("Version");
      d.license = s.field("License-Expression");
      d.license_is_spdx = !d.license.empty();
      if (std::string l = s.field("License"); d.license.empty() && l.find('\n') == std::string::npos && l != "UNKNOWN")
        d.license = l;
      for (auto& line : s.lines)
        if (line.rfind("Requires-Dist:", 0) == 0)
          if (auto r = requirement_name(line.substr(14)); !r.empty()) d.requires_.push_back(r);
    }
    if (!record && db_.read(d.dir + "/requires.txt", &text)) {
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) {
        if (line.rfind("[", 0) == 0) break;  // extras follow
        if (auto r = requirement_name(line); !r.empty()) d.requires_.push_back(r);
      }
    }
    if (d.name.empty()) d.name = basename_of(d.dir).substr(0, basename_of(d.dir).find('-'));
    dists_.push_back(std::move(d));
  }

  void edit() {
    for (auto& d : dists_) trim(d);
    std::vector<PackageDeps> deps;
    for (auto& d : dists_) deps.push_back({d.name, d.emptied(), {normalize_python_name(d.name)}, d.requires_});
    auto [stays, kept_by] = staying_packages(deps);
    for (size_t i = 0; i < dists_.size(); ++i) {
      const Distribution& d = dists_[i];
      if (stays[i])
        db_.stays({"python", d.name, d.version, "", d.license.empty() ? std::vector<std::string>{}
                                                                      : std::vector<std::string>{d.license},
                   d.dropped, d.license_is_spdx});
      if (!d.emptied()) continue;
      db_.note({"python", d.name, d.version, stays[i] ? "needed by " + kept_by[i] : ""});
      if (!stays[i])
        db_.drop(d.dir, "distribution " + d.name + " uninstalled: every file it installed is dropped");
    }
    for (size_t i = 0; i < dists_.size(); ++i)
      if (stays[i]) db_.replace(dists_[i].list, std::move(new_lists_[i]), what_[i]);
  }

 private:
  void trim(Distribution& d) {
    std::string text, out;
    db_.read(d.list, &text);
    bool record = d.list.ends_with("/RECORD");
    std::string base = record ? dirname_of(d.dir) : d.dir;
    size_t removed = 0, updated = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto row = record ? csv_row(line) : std::vector<std::string>{line};
      if (row[0].empty()) {
        out += line + "\n";
        continue;
      }
      std::string path = join_path(base, row[0]);
      const Node* n = nullptr;
      Listed s = db_.state(path, &n);
      bool own = path == d.dir || path.starts_with(d.dir + "/");
      bool file = n && n->type != FileType::Directory && !own;
      d.files += file;
      if (s == Listed::Dropped) {
        d.dropped += file;
        ++removed;
        continue;
      }
      if (s == Listed::Changed && record && row.size() >= 3) {
        const NewSums& sums = db_.new_sums(*n, SumKind::Sha256);
        out += csv_field(row[0]) + ",sha256=" + urlsafe_b64_nopad(sums.sha256) + "," +
               std::to_string(sums.size) + "\n";
        ++updated;
        continue;
      }
      out += line + "\n";
    }
    new_lists_.push_back(out);
    what_.push_back(d.name + ": " + std::to_string(removed) + " dropped files removed, " +
                    std::to_string(updated) + " hashes of stripped or pruned files updated");
  }

  PackageDb& db_;
  std::vector<Distribution> dists_;
  std::vector<std::string> new_lists_, what_;
};

}  // namespace

void python_databases(PackageDb& db) {
  Python python(db);
  for (const Node* n : db.nodes())
    if (n->type == FileType::Regular && db.state(n->path) != Listed::Dropped) python.load(*n);
  python.edit();
}

}  // namespace slimage::plan_detail
