// dedupe's check that a shared library may be reached through one file from
// two directories (see dedupe.h, docs/dedupe.md). glibc sets a library's
// $ORIGIN from the path it opened (a symlink's directory, not its target's),
// but one inode reached by two paths is one loaded object: whichever path
// loads first decides what $ORIGIN finds for both. And code that locates its
// siblings through /proc/self/maps or realpath(dladdr) sees the copy's
// directory. So both directories must offer the same files for every name
// the library resolves relative to itself: DT_NEEDED and dlopen family names
// through RPATH/RUNPATH elements with $ORIGIN, and dlopen family loads and
// string-heuristic names next to it.
#include <cstring>
#include <set>

#include "dedupe.h"
#include "slimage/plan/glob.h"
#include "slimage/util/hash.h"

namespace slimage::plan_detail {
namespace {

// sha256 of a file's bytes; low-disk mode recorded it for content it did not spill.
std::string content_digest(const FsView& fs, const Node& n) {
  if (const std::string* digest = fs.unspilled_digest(n)) return *digest;
  HashingWriter hash;
  write_content(fs, n, hash);
  return hash.digest();
}

bool has_wildcard(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

// Basenames of non-directories in `raw_dir` (resolved) matching `glob`.
void matching_names(const FsView& fs, const std::string& raw_dir, const std::string& glob,
                    std::set<std::string>& out) {
  std::string real;
  const Node* dir = fs.resolve(raw_dir, true, &real);
  if (!dir || dir->type != FileType::Directory) return;
  for (const Node* n : fs.list_dir(real))
    if (n->type != FileType::Directory && glob_match(glob, basename_of(n->path)))
      out.insert(basename_of(n->path));
}

// "" when every name (globs allowed) is the same file in both dirs, else the
// first difference.
std::string compare_dirs(DedupeContext& ctx, const std::string& dir_a, const std::string& dir_b,
                         const std::vector<std::string>& names) {
  std::set<std::string> concrete;
  for (auto& name : names) {
    if (name.empty() || name.find('/') != std::string::npos) continue;
    if (!has_wildcard(name)) {
      concrete.insert(name);
      continue;
    }
    matching_names(ctx.b.fs, dir_a, name, concrete);
    matching_names(ctx.b.fs, dir_b, name, concrete);
  }
  for (auto& name : concrete)
    if (!ctx.same_file(dir_a + "/" + name, dir_b + "/" + name))
      return normalize_path(dir_a + "/" + name) + " and " + normalize_path(dir_b + "/" + name) +
             " differ";
  return "";
}

// Loads written as paths relative to the library ("../../nvidia/*/lib/lib*.so*"):
// what they match from `dir`, keyed by the part below the pattern's fixed prefix.
std::map<std::string, std::string> relative_matches(const PlanBuilder& b, const std::string& dir,
                                                    const std::string& load) {
  std::string pattern = normalize_path(dir + "/" + load);
  std::string fixed = pattern.substr(0, pattern.find_first_of("*?["));
  size_t slash = fixed.rfind('/');
  fixed = slash == std::string::npos ? "" : fixed.substr(0, slash);
  std::map<std::string, std::string> out;
  auto [first, last] = b.subtree(fixed);
  for (size_t k = first; k < last; ++k) {
    const Node& n = *b.nodes[k];
    if (n.type == FileType::Directory || b.dropped(n.path) || !glob_match(pattern, n.path)) continue;
    out[n.path.substr(fixed.size())] = n.path;
  }
  return out;
}

// An RPATH/RUNPATH element with $ORIGIN expanded for `dir`; nullopt if it
// holds another token ($LIB, $PLATFORM), which this check does not model.
std::optional<std::string> expand_origin(const std::string& element, const std::string& dir) {
  std::string out;
  for (size_t i = 0; i < element.size();) {
    if (element.compare(i, 9, "${ORIGIN}") == 0) {
      out += dir, i += 9;
    } else if (element.compare(i, 7, "$ORIGIN") == 0 &&
               (i + 7 == element.size() || !(std::isalnum(uint8_t(element[i + 7])) || element[i + 7] == '_'))) {
      out += dir, i += 7;
    } else if (element[i] == '$') {
      return std::nullopt;
    } else {
      out += element[i++];
    }
  }
  return out;
}

}  // namespace

bool DedupeContext::same_file(const std::string& raw_a, const std::string& raw_b) {
  auto present = [&](const std::string& raw, std::string& real) -> const Node* {
    const Node* n = b.fs.resolve(raw, true, &real);
    if (!n || !n->is_file() || b.dropped(real)) return nullptr;
    for (auto& hop : b.fs.symlink_chain(raw))
      if (b.dropped(hop)) return nullptr;
    return n;
  };
  std::string real_a, real_b;
  const Node* a = present(raw_a, real_a);
  const Node* c = present(raw_b, real_b);
  if (!a || !c) return !a && !c;
  if (real_a == real_b) return true;
  if (a->size != c->size) return false;
  auto da = digest_of.find(real_a), dc = digest_of.find(real_b);
  if (da != digest_of.end() && dc != digest_of.end()) return da->second == dc->second;
  const std::string *ha = b.fs.unspilled_digest(*a), *hc = b.fs.unspilled_digest(*c);
  if (ha || hc) return content_digest(b.fs, *a) == content_digest(b.fs, *c);  // low-disk mode
  auto bytes_a = b.fs.content(*a), bytes_c = b.fs.content(*c);
  bool same = bytes_a.size() == bytes_c.size() &&
              (bytes_a.empty() || std::memcmp(bytes_a.data(), bytes_c.data(), bytes_a.size()) == 0);
  b.fs.release(*a);
  b.fs.release(*c);
  return same;
}

bool is_shared_library(const ElfInfo& info, const std::string& path) {
  return info.type == 3 && (!info.soname.empty() || glob_match("lib*.so*", basename_of(path)));
}

OriginCheck check_origin(DedupeContext& ctx, const ElfInfo& info,
                         const std::vector<std::string>& strings, const std::string& path,
                         const std::string& copy) {
  std::string dir_a = dirname_of(path), dir_b = dirname_of(copy);
  if (dir_a == dir_b) return {true, "same directory"};
  // Names it loads: DT_NEEDED, the loads of dlopen families it triggers, and
  // (string heuristic) library names in its read-only data.
  std::vector<std::string> loaded = info.needed, beside = strings;
  std::vector<std::string> relative;  // family loads with '/'
  for (auto& family : ctx.b.profile.dlopen) {
    bool triggered = false;
    for (auto& t : family.triggers)
      triggered = triggered || glob_match(t, basename_of(path)) || glob_match(t, basename_of(copy));
    if (!triggered) continue;
    for (auto& load : family.loads) {
      if (load.find('/') != std::string::npos) {
        relative.push_back(load);
        continue;
      }
      loaded.push_back(load);
      beside.push_back(load);
    }
  }
  loaded.insert(loaded.end(), strings.begin(), strings.end());
  std::vector<std::string> compared;
  for (const auto* list : {&info.rpath, &info.runpath}) {
    if (!*list) continue;
    for (auto& element : split_any(**list, ":")) {
      if (element.find('$') == std::string::npos) continue;  // the same from anywhere
      auto a = expand_origin(element, dir_a), c = expand_origin(element, dir_b);
      if (!a || !c) return {false, "path element " + element + " has a token other than $ORIGIN"};
      if (auto diff = compare_dirs(ctx, *a, *c, loaded); !diff.empty())
        return {false, "through " + element + ": " + diff};
      compared.push_back(element);
    }
  }
  if (auto diff = compare_dirs(ctx, dir_a, dir_b, beside); !diff.empty())
    return {false, "beside it: " + diff};
  for (auto& load : relative) {
    auto a = relative_matches(ctx.b, dir_a, load), c = relative_matches(ctx.b, dir_b, load);
    bool same = a.size() == c.size();
    for (auto ia = a.begin(), ic = c.begin(); same && ia != a.end(); ++ia, ++ic)
      same = ia->first == ic->first && ctx.same_file(ia->second, ic->second);
    if (!same) return {false, "dlopen " + load + " finds different files from the two directories"};
  }
  std::string detail = "its $ORIGIN paths (";
  for (size_t i = 0; i < compared.size(); ++i) detail += (i ? ", " : "") + compared[i];
  detail += compared.empty() ? "none" : "";
  detail += ") and the libraries it loads from its own directory resolve to identical files from both";
  return {true, detail};
}

}  // namespace slimage::plan_detail
