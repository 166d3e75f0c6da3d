// Best-effort import scan for tests dirs: a package's `test` dir that its own
// non-test code imports is a module, not a tests dir, and must stay. Reads
// each .py file of the package once (memoized per package) and collects the
// dotted modules its `import` / `from … import` statements name, relative
// imports resolved against the file's package. Dynamic imports
// (importlib.import_module, __import__) are not seen; reasons say "best effort".
#include <algorithm>
#include <map>

#include "plan_internal.h"

namespace slimage::plan_detail {
namespace {

std::string trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r')) ++a;
  while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t' || s[b - 1] == '\r')) --b;
  return std::string(s.substr(a, b - a));
}

std::vector<std::string> split_names(std::string_view list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list) {
    if (c == ',') {
      out.push_back(trim(cur));
      cur.clear();
    } else if (c != '(' && c != ')' && c != '\\' && c != '\n') {
      cur += c;
    }
  }
  out.push_back(trim(cur));
  for (auto& n : out) n = n.substr(0, n.find_first_of(" \t#"));  // "x as y", comments
  std::erase_if(out, [](const std::string& n) { return n.empty() || n == "*"; });
  return out;
}

// Statements starting with "import " or "from ", joined across
// parentheses and backslash continuations.
std::vector<std::string> import_statements(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t end = text.find('\n', i);
    if (end == std::string_view::npos) end = text.size();
    std::string line = trim(text.substr(i, end - i));
    i = end + 1;
    if (!line.starts_with("import ") && !line.starts_with("from ")) continue;
    std::string stmt = line;
    auto open = [&] {
      return (std::count(stmt.begin(), stmt.end(), '(') > std::count(stmt.begin(), stmt.end(), ')')) ||
             (!stmt.empty() && stmt.back() == '\\');
    };
    int guard = 0;
    while (open() && i < text.size() && guard++ < 200) {
      end = text.find('\n', i);
      if (end == std::string_view::npos) end = text.size();
      if (!stmt.empty() && stmt.back() == '\\') stmt.pop_back();
      stmt += " " + trim(text.substr(i, end - i));
      i = end + 1;
    }
    out.push_back(stmt);
  }
  return out;
}

// Modules named by the statements of one file. `package` is the file's
// package as dotted parts ("pkg", "sub").
std::vector<std::string> imported_modules(std::string_view text,
                                          const std::vector<std::string>& package) {
  std::vector<std::string> mods;
  for (auto& stmt : import_statements(text)) {
    if (stmt.starts_with("import ")) {
      for (auto& n : split_names(std::string_view(stmt).substr(7))) mods.push_back(n);
      continue;
    }
    std::string rest = trim(std::string_view(stmt).substr(5));
    size_t sp = rest.find(" import ");
    if (sp == std::string::npos) continue;
    std::string from = trim(std::string_view(rest).substr(0, sp));
    std::string names = rest.substr(sp + 8);
    size_t dots = 0;
    while (dots < from.size() && from[dots] == '.') ++dots;
    std::string base;
    if (dots > 0) {
      if (dots - 1 > package.size()) continue;
      for (size_t k = 0; k + (dots - 1) < package.size(); ++k)
        base += (base.empty() ? "" : ".") + package[k];
      std::string tail = from.substr(dots);
      if (!tail.empty()) base += (base.empty() ? "" : ".") + tail;
    } else {
      base = from;
    }
    if (base.empty()) continue;
    mods.push_back(base);
    for (auto& n : split_names(names)) mods.push_back(base + "." + n);
  }
  return mods;
}

bool under_tests_dir(const std::string& rel, const std::vector<std::string>& tests_dirs) {
  size_t start = 0;
  while (true) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) return false;  // the last component is the file
    std::string_view part(rel.data() + start, end - start);
    for (auto& t : tests_dirs)
      if (part == t) return true;
    start = end + 1;
  }
}


PlanBuilder::ImportIndex index_package(PlanBuilder& b, const std::string& site, const std::string& package) {
  PlanBuilder::ImportIndex index;
  auto [first, last] = b.subtree(site + "/" + package);
  for (size_t k = first; k < last; ++k) {
    const Node& node = *b.nodes[k];
    if (!node.is_file() || !node.path.ends_with(".py")) continue;
    std::string rel = node.path.substr(site.size() + 1);
    if (under_tests_dir(rel, b.profile.tests_dirs)) continue;
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t slash; (slash = rel.find('/', start)) != std::string::npos; start = slash + 1)
      parts.push_back(rel.substr(start, slash - start));
    auto bytes = b.fs.content(node);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    for (auto& m : imported_modules(text, parts)) index.emplace(m, node.path);
    b.fs.release(node);
  }
  return index;
}

}  // namespace

std::optional<ImportHit> find_import_of(PlanBuilder& b, const std::string& site,
                                        const std::string& dir) {
  std::string rel = dir.substr(site.size() + 1);
  std::string package = rel.substr(0, rel.find('/'));
  std::string dotted = rel;
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  auto& cache = b.import_index;
  auto it = cache.find(site + "/" + package);
  if (it == cache.end()) it = cache.emplace(site + "/" + package, index_package(b, site, package)).first;
  const PlanBuilder::ImportIndex& index = it->second;
  for (auto m = index.lower_bound(dotted); m != index.end(); ++m) {
    if (m->first != dotted && !m->first.starts_with(dotted + ".")) break;
    if (m->second.starts_with(dir + "/")) continue;
    return ImportHit{m->second, m->first};
  }
  return std::nullopt;
}

}  // namespace slimage::plan_detail
