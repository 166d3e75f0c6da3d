// Glob matching over normalized paths (see include/slimage/plan/glob.h).
// Both levels use the classic greedy wildcard algorithm with one resume point:
// within a component for `*`, and across components for `**`. Resuming at the
// last star is enough for star-only wildcards, so the cost stays
// O(pattern × path) however many stars a hostile pattern holds.
#include "slimage/plan/glob.h"

#include <array>
#include <string>
#include <vector>

namespace slimage {
namespace {

// The non-empty components of a path. Globs run for every file against every
// profile pattern, so the usual depths need no allocation.
class Components {
 public:
  explicit Components(std::string_view s) {
    size_t i = 0;
    while (i < s.size()) {
      size_t j = s.find('/', i);
      if (j == std::string_view::npos) j = s.size();
      if (j > i) push(s.substr(i, j - i));
      i = j + 1;
    }
  }
  size_t size() const { return size_; }
  std::string_view operator[](size_t i) const { return i < kInline ? inline_[i] : more_[i - kInline]; }

 private:
  static constexpr size_t kInline = 32;
  void push(std::string_view part) {
    if (size_ < kInline) inline_[size_] = part;
    else more_.push_back(part);
    size_++;
  }
  std::array<std::string_view, kInline> inline_;
  std::vector<std::string_view> more_;
  size_t size_ = 0;
};

// Matches one character against the class starting at pattern[p] == '['.
// Sets *end to the index after ']'; returns false for *end == 0 if the class
// is unterminated (then '[' is a literal).
bool match_class(std::string_view pattern, size_t p, char c, size_t* end) {
  size_t i = p + 1;
  bool negate = false;
  if (i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^')) {
    negate = true;
    ++i;
  }
  bool matched = false;
  bool first = true;
  while (i < pattern.size() && (pattern[i] != ']' || first)) {
    first = false;
    char lo = pattern[i];
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      char hi = pattern[i + 2];
      if (lo <= c && c <= hi) matched = true;
      i += 3;
    } else {
      if (lo == c) matched = true;
      ++i;
    }
  }
  if (i >= pattern.size()) {
    *end = 0;
    return false;
  }
  *end = i + 1;
  return matched != negate;
}

// One component: `*`, `?`, classes; nothing here matches '/'.
bool match_component(std::string_view pattern, std::string_view name) {
  size_t p = 0, n = 0;
  size_t star_p = std::string_view::npos, star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size()) {
      char pc = pattern[p];
      if (pc == '*') {
        star_p = p++;
        star_n = n;
        continue;
      }
      if (pc == '?') {
        ++p;
        ++n;
        continue;
      }
      if (pc == '[') {
        size_t end = 0;
        bool ok = match_class(pattern, p, name[n], &end);
        if (end == 0) {  // unterminated: a literal '['
          if (name[n] == '[') {
            ++p;
            ++n;
            continue;
          }
        } else if (ok) {
          p = end;
          ++n;
          continue;
        }
      } else if (pc == '\\' && p + 1 < pattern.size()) {
        if (pattern[p + 1] == name[n]) {
          p += 2;
          ++n;
          continue;
        }
      } else if (pc == name[n]) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p + 1;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view trim_pattern(std::string_view pattern) {
  while (!pattern.empty() && pattern.front() == '/') pattern.remove_prefix(1);
  while (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
  return pattern;
}

bool is_literal(std::string_view component) {
  return component.find_first_of("*?[\\") == std::string_view::npos;
}

// Cheap rejections before a path is split: every literal component of the
// pattern must occur in the path, an anchored literal first component must
// start it, and a last component other than `**` must match its basename.
// Globs run for every node against every profile pattern, and a node's path
// can be thousands of components long: most pairs are settled here without
// walking the path's components.
bool may_match(std::string_view pattern, std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  std::string_view last = pattern.substr(pattern.rfind('/') + 1);
  if (last != "**") {
    auto slash = path.rfind('/');
    if (!match_component(last, slash == std::string_view::npos ? path : path.substr(slash + 1)))
      return false;
  }
  std::string_view first = pattern.substr(0, pattern.find('/'));
  if (first != "**" && is_literal(first) &&
      (path.substr(0, first.size()) != first ||
       (path.size() > first.size() && path[first.size()] != '/')))
    return false;
  size_t i = 0;
  while (i < pattern.size()) {
    size_t j = pattern.find('/', i);
    if (j == std::string_view::npos) j = pattern.size();
    std::string_view part = pattern.substr(i, j - i);
    if (!part.empty() && is_literal(part) && path.find(part) == std::string_view::npos) return false;
    i = j + 1;
  }
  return true;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view path) {
  pattern = trim_pattern(pattern);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (pattern.find('/') == std::string_view::npos && pattern != "**") {
    auto slash = path.rfind('/');
    std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
    return match_component(pattern, base);
  }
  if (!may_match(pattern, path)) return false;
  Components pat(pattern), parts(path);
  size_t p = 0, n = 0;
  size_t star_p = SIZE_MAX, star_n = 0;
  while (n < parts.size()) {
    if (p < pat.size()) {
      if (pat[p] == "**") {
        star_p = p++;
        star_n = n;
        continue;
      }
      if (match_component(pat[p], parts[n])) {
        ++p;
        ++n;
        continue;
      }
    }
    if (star_p == SIZE_MAX) return false;
    p = star_p + 1;
    n = ++star_n;
  }
  while (p < pat.size() && pat[p] == "**") ++p;
  return p == pat.size();
}

bool glob_is_base_dir(std::string_view pattern, std::string_view path) {
  pattern = trim_pattern(pattern);
  if (pattern.size() < 3 || pattern.substr(pattern.size() - 3) != "/**") return false;
  std::string_view base = pattern.substr(0, pattern.size() - 3);
  if (base.find('/') == std::string_view::npos) {
    // "foo/**": the base is a one-component path pattern, not a basename one.
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return path.find('/') == std::string_view::npos && match_component(base, path);
  }
  return glob_match(base, path);
}

}  // namespace slimage
