// Pass (g): the package databases tell the truth about the slimmed image
// (see plan_internal.h). Every database is edited from the final fates: a
// package whose files were all dropped leaves it unless a package that stays
// depends on it (then it stays listed, and the report names it); the others
// keep their records with the dropped paths trimmed and the checksums of
// stripped or pruned files updated. The edits are new file contents the
// layer writer emits (Plan::replaced) and drops of a removed package's files.
#include "pkgdb.h"

#include <algorithm>

#include "slimage/util/hash.h"
#include "slimage/util/thread_pool.h"

namespace slimage::plan_detail {

Listed PackageDb::state(const std::string& path, const Node** node) const {
  std::string p = normalize_path(path);
  const Node* n = b_.fs.lookup(p);
  if (!n && !p.empty()) {
    std::string real;
    if (b_.fs.resolve(dirname_of(p), true, &real)) n = b_.fs.lookup(join_path(real, basename_of(p)));
  }
  if (node) *node = n;
  if (!n) return Listed::Absent;
  if (n->type == FileType::Symlink && node)  // usrmerge's /lib: a directory to the database
    if (const Node* d = b_.fs.resolve(n->path, true); d && d->type == FileType::Directory) *node = d;
  auto it = b_.actions.find(n->path);
  if (it == b_.actions.end()) return Listed::Absent;
  const Action& a = it->second;
  if (a.fate == Fate::Drop) return Listed::Dropped;
  if (n->type == FileType::Directory) return Listed::Directory;
  if (a.fate == Fate::Strip || plan_.gpu_prune(n->path)) return Listed::Changed;
  return Listed::Kept;
}

namespace {

// The bytes of a changed file, counted and fed to the one digest asked for.
class SumWriter : public Writer {
 public:
  explicit SumWriter(const char* algorithm) : digest(algorithm) {}
  void write(const void* data, size_t n) override {
    digest.write(data, n);
    size += n;
  }
  DigestWriter digest;
  uint64_t size = 0;
};

std::string& field_of(NewSums& sums, SumKind kind) {
  return kind == SumKind::Md5 ? sums.md5 : kind == SumKind::Sha1 ? sums.sha1 : sums.sha256;
}

}  // namespace

// A pruned CUDA stack is gigabytes: hashed three ways (MD5 0.75, SHA-1 1.9,
// SHA-256 1.8 GB/s here) on one thread, it cost the plan more than the pruning.
void PackageDb::compute_sum(const Node& node, SumKind kind, NewSums& sums) const {
  SumWriter w(kind == SumKind::Md5 ? "md5" : kind == SumKind::Sha1 ? "sha1" : "sha256");
  write_emitted(b_.fs, node, b_.action(node.path).fate, b_.profile.strip, plan_.gpu_prune(node.path), w);
  field_of(sums, kind) = w.digest.raw();
  sums.size = w.size;
}

const NewSums& PackageDb::new_sums(const Node& node, SumKind kind) {
  NewSums& sums = sums_[&node];
  if (field_of(sums, kind).empty()) compute_sum(node, kind, sums);
  return sums;
}

void PackageDb::warm_sums(const std::vector<const Node*>& nodes, SumKind kind) {
  std::vector<std::pair<const Node*, NewSums*>> todo;
  for (const Node* n : nodes)  // the map grows here, on one thread; the workers fill its values
    if (NewSums& sums = sums_[n]; field_of(sums, kind).empty()) todo.push_back({n, &sums});
  // write_emitted reads in steps, releasing behind: no file is resident whole.
  parallel_for(todo.size(), b_.options.jobs, [&](size_t i) { compute_sum(*todo[i].first, kind, *todo[i].second); });
}

bool PackageDb::read(const std::string& path, std::string* text) const {
  const Node* n = b_.fs.lookup(path);
  if (!n || (n->type != FileType::Regular && n->type != FileType::Hardlink)) return false;
  if (b_.dropped(path)) return false;
  auto bytes = b_.fs.content(*n);
  text->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  b_.fs.release(*n);
  return true;
}

bool PackageDb::read_input(const std::string& path, std::string* text) const {
  const Node* n = b_.fs.resolve(normalize_path(path), true);
  if (!n || n->type != FileType::Regular) return false;
  auto bytes = b_.fs.content(*n);
  text->assign(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  b_.fs.release(*n);
  return true;
}

std::vector<std::string> PackageDb::files_in(const std::string& dir) const {
  std::vector<std::string> names;
  for (const Node* n : b_.fs.list_dir(dir))
    if (n->type == FileType::Regular && !b_.dropped(n->path)) names.push_back(basename_of(n->path));
  std::sort(names.begin(), names.end());
  return names;
}

void PackageDb::replace(const std::string& path, std::string content, const std::string& what) {
  std::string old;
  if (!read(path, &old) || old == content) return;
  const Node* n = b_.fs.lookup(path);
  if (n->type == FileType::Hardlink) return;  // shares its bytes with another name: left alone
  Action& a = b_.action(path);
  a.kind = ReasonKind::PackageDb;
  a.reason = "package database edited to match: " + what;
  a.bytes_after = content.size();
  plan_.replaced[n->path] = std::move(content);
}

void PackageDb::drop(const std::string& path, const std::string& why) {
  auto mark = [&](const std::string& p) {
    Action& a = b_.action(p);
    if (a.fate == Fate::Drop) return;
    a.fate = Fate::Drop;
    a.kind = ReasonKind::PackageDb;
    a.reason = why;
    a.bytes_after = 0;
  };
  if (!b_.actions.count(path)) return;
  mark(path);
  auto [first, last] = b_.subtree(path);
  for (size_t i = first; i < last; ++i) mark(b_.nodes[i]->path);
}

void PackageDb::note(PackageNote note) {
  (note.kept_by.empty() ? plan_.packages_removed : plan_.packages_listed_files_removed)
      .push_back(std::move(note));
}

void PackageDb::stays(InstalledPackage package) { plan_.packages.push_back(std::move(package)); }

std::vector<std::string> debian_copyright_licenses(const std::string& text) {
  auto paragraphs = parse_stanzas(text);
  if (paragraphs.empty() || paragraphs[0].field("Format").empty()) return {};
  std::vector<std::string> out;
  for (auto& p : paragraphs) {
    std::string license = p.field("License");
    license = license.substr(0, license.find('\n'));
    while (!license.empty() && (license.back() == ' ' || license.back() == '\t' || license.back() == '\r'))
      license.pop_back();
    if (!license.empty() && std::find(out.begin(), out.end(), license) == out.end()) out.push_back(license);
  }
  return out;
}

std::string Stanza::field(const std::string& name) const {
  std::string out;
  bool in = false;
  for (auto& line : lines) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      if (in) out += "\n" + line;
      continue;
    }
    in = line.size() > name.size() && line.compare(0, name.size(), name) == 0 && line[name.size()] == ':';
    if (in) {
      size_t start = name.size() + 1;
      while (start < line.size() && line[start] == ' ') ++start;
      out = line.substr(start);
    }
  }
  return out;
}

std::vector<Stanza> parse_stanzas(const std::string& text) {
  std::vector<Stanza> out;
  Stanza cur;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      if (!cur.lines.empty()) out.push_back(std::move(cur));
      cur = {};
      continue;
    }
    cur.lines.push_back(std::move(line));
  }
  if (!cur.lines.empty()) out.push_back(std::move(cur));
  return out;
}

Staying staying_packages(const std::vector<PackageDeps>& packages) {
  std::map<std::string, std::vector<size_t>> by_name;
  for (size_t i = 0; i < packages.size(); ++i)
    for (auto& n : packages[i].answers_to) by_name[n].push_back(i);
  Staying r{std::vector<bool>(packages.size(), true), std::vector<std::string>(packages.size())};
  std::vector<size_t> todo;
  for (size_t i = 0; i < packages.size(); ++i) {
    if (packages[i].emptied) r.stays[i] = false;
    else todo.push_back(i);
  }
  while (!todo.empty()) {
    size_t i = todo.back();
    todo.pop_back();
    for (auto& d : packages[i].depends)
      if (auto it = by_name.find(d); it != by_name.end())
        for (size_t j : it->second)
          if (!r.stays[j]) r.stays[j] = true, r.kept_by[j] = packages[i].name, todo.push_back(j);
  }
  return r;
}

}  // namespace slimage::plan_detail

namespace slimage {

std::string normalize_python_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (out.empty() || out.back() != '-') out += '-';
    } else {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

}  // namespace slimage

namespace slimage::plan_detail {

void package_db_pass(PlanBuilder& b, Plan& plan) {
  PackageDb db(b, plan);
  dpkg_database(db);
  apk_database(db);
  python_databases(db);
  auto order = [](const PackageNote& x, const PackageNote& y) {
    return std::tie(x.database, x.name, x.version) < std::tie(y.database, y.name, y.version);
  };
  std::sort(plan.packages_removed.begin(), plan.packages_removed.end(), order);
  std::sort(plan.packages_listed_files_removed.begin(), plan.packages_listed_files_removed.end(), order);
  std::sort(plan.packages.begin(), plan.packages.end(), [](const InstalledPackage& x, const InstalledPackage& y) {
    return std::tie(x.database, x.name, x.version, x.arch) < std::tie(y.database, y.name, y.version, y.arch);
  });
}

}  // namespace slimage::plan_detail
