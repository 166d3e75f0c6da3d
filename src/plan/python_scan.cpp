// The text side of include/slimage/plan/python_loads.h: finds loader calls
// and "lib….so…" literals in Python source without parsing Python. Each
// loader word (CDLL, PyDLL, LoadLibrary, dlopen, find_library, cdll, pydll)
// and each ".so" is found with a substring search over the whole file, and
// only there is the text around it read: a string literal after "(",
// an attribute after "cdll.". Quirks: a literal continued with `+`, `%` or
// `.format` (or an f-string field) becomes a basename glob ("libcudart.so.*");
// a glob that names too little ("lib*.so") is ignored; `def`/`class` lines
// are definitions, not calls.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>
#include <set>

#include "slimage/plan/python_loads.h"

namespace slimage {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool path_char(char c) { return ident_char(c) || c == '.' || c == '-' || c == '+' || c == '/'; }
bool one_of(const char* set, char c) { return c != '\0' && std::strchr(set, c) != nullptr; }

struct Literal {
  std::string value;  // glob characters '*' where the text is not literal
  bool partial = false;
};

// Replaces printf conversions and str.format fields with '*'.
std::string format_to_glob(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 1 < s.size()) {
      size_t j = i + 1;
      while (j < s.size() && one_of("-#0123456789.", s[j])) ++j;
      if (j < s.size() && one_of("sdirxu", s[j])) {
        out += '*';
        i = j;
        continue;
      }
    }
    if (s[i] == '{') {
      size_t j = s.find('}', i);
      if (j != std::string::npos) {
        out += '*';
        i = j;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The string literal starting at t[i] (prefix letters allowed), or nullopt.
std::optional<Literal> literal_at(std::string_view t, size_t i) {
  size_t j = i;
  bool raw = false, fstring = false;
  while (j < t.size() && j - i < 2 && one_of("rRbBuUfF", t[j])) {
    raw = raw || t[j] == 'r' || t[j] == 'R';
    fstring = fstring || t[j] == 'f' || t[j] == 'F';
    ++j;
  }
  if (j >= t.size() || (t[j] != '"' && t[j] != '\'')) return std::nullopt;
  const std::string quote3(3, t[j]);
  bool triple = t.substr(j, 3) == quote3;
  char quote = t[j];
  j += triple ? 3 : 1;
  Literal lit;
  bool closed = false;
  while (j < t.size() && lit.value.size() < 4096) {
    char c = t[j];
    if (triple ? t.substr(j, 3) == quote3 : c == quote) {
      j += triple ? 3 : 1;
      closed = true;
      break;
    }
    if (c == '\n' && !triple) return std::nullopt;
    if (c == '\\' && j + 1 < t.size()) {
      if (raw) lit.value += c;
      lit.value += t[j + 1];
      j += 2;
      continue;
    }
    if (fstring && c == '{') {
      if (j + 1 < t.size() && t[j + 1] == '{') {
        lit.value += '{';
        j += 2;
        continue;
      }
      size_t close = t.find('}', j);
      if (close == std::string_view::npos) return std::nullopt;
      lit.value += '*';
      lit.partial = true;
      j = close + 1;
      continue;
    }
    lit.value += c;
    ++j;
  }
  if (!closed) return std::nullopt;
  while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
  if (j < t.size() && (t[j] == '%' || t.substr(j, 7) == ".format")) {
    lit.value = format_to_glob(lit.value);
    lit.partial = true;
  } else if (j < t.size() && t[j] == '+') {
    lit.value += '*';
    lit.partial = true;
  }
  return lit;
}

// A glob must name something: at least four characters after "lib" (or the
// ".so") before its first '*'.
bool usable_name(const std::string& name) {
  if (name.empty()) return false;
  size_t star = name.find('*');
  if (star == std::string::npos) return true;
  std::string fixed = name.substr(0, star);
  std::string base = fixed.substr(fixed.rfind('/') == std::string::npos ? 0 : fixed.rfind('/') + 1);
  return base.find(".so") != std::string::npos || (base.starts_with("lib") && base.size() >= 7);
}

struct Hit {
  size_t pos;
  bool call;
  PythonLoad load;
};

// `def NAME(` or `class NAME(` on this line before `pos`: a definition.
bool definition_at(std::string_view t, size_t pos) {
  size_t line = t.rfind('\n', pos == 0 ? 0 : pos - 1);
  line = line == std::string_view::npos ? 0 : line + 1;
  std::string_view before = t.substr(line, pos - line);
  while (!before.empty() && (before.back() == ' ' || before.back() == '\t')) before.remove_suffix(1);
  return before.ends_with("def") || before.ends_with("class");
}

void call_hits(std::string_view t, std::string_view word, std::vector<Hit>& hits) {
  for (size_t pos = t.find(word); pos != std::string_view::npos; pos = t.find(word, pos + 1)) {
    size_t end = pos + word.size();
    if ((pos > 0 && ident_char(t[pos - 1])) || (end < t.size() && ident_char(t[end]))) continue;
    if (definition_at(t, pos)) continue;
    size_t j = end;
    while (j < t.size() && (t[j] == ' ' || t[j] == '\t')) ++j;
    if (j >= t.size() || t[j] != '(') continue;
    ++j;
    while (j < t.size() && one_of(" \t\r\n\\", t[j])) ++j;
    auto lit = literal_at(t, j);
    PythonLoad load;
    load.api = word == "dlopen" ? "cffi" : "ctypes";
    if (word == "find_library") {
      if (lit && !lit->partial && !lit->value.empty()) {
        load.kind = PythonLoadKind::FindLibrary;
        load.name = lit->value;
        load.shown = "find_library(\"" + lit->value + "\")";
      } else {
        load.kind = PythonLoadKind::FindLibraryUnknown;
        load.shown = "find_library(…)";
      }
    } else {
      if (!lit || !usable_name(lit->value)) continue;
      load.name = lit->value;
      load.shown = std::string(word) + "(\"" + lit->value + "\")";
    }
    hits.push_back({pos, true, std::move(load)});
  }
}

// cdll.foo (ctypes loads "foo": libfoo.so) and cdll["libfoo.so.1"].
void loader_object_hits(std::string_view t, std::string_view word, std::vector<Hit>& hits) {
  for (size_t pos = t.find(word); pos != std::string_view::npos; pos = t.find(word, pos + 1)) {
    size_t end = pos + word.size();
    if ((pos > 0 && ident_char(t[pos - 1])) || end >= t.size()) continue;
    PythonLoad load;
    load.api = "ctypes";
    if (t[end] == '.') {
      size_t j = end + 1;
      while (j < t.size() && ident_char(t[j])) ++j;
      std::string attr(t.substr(end + 1, j - end - 1));
      if (attr.empty() || attr[0] == '_' || attr == "LoadLibrary") continue;
      load.name = "lib" + attr + ".so*";
      load.shown = std::string(word) + "." + attr;
    } else if (t[end] == '[') {
      auto lit = literal_at(t, end + 1);
      if (!lit || !usable_name(lit->value)) continue;
      load.name = lit->value;
      load.shown = std::string(word) + "[\"" + lit->value + "\"]";
    } else {
      continue;
    }
    hits.push_back({pos, true, std::move(load)});
  }
}

// Every "lib….so…" token; `bytecode`: a marshal length byte may precede it.
void literal_hits(std::string_view t, bool bytecode, std::vector<Hit>& hits) {
  for (size_t p = t.find(".so"); p != std::string_view::npos; p = t.find(".so", p + 1)) {
    size_t q = p + 3;
    if (q < t.size() && ident_char(t[q]) && !std::isdigit(static_cast<unsigned char>(t[q]))) continue;
    while (q < t.size() && (std::isdigit(static_cast<unsigned char>(t[q])) ||
                            (t[q] == '.' && q + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[q + 1])))))
      ++q;
    bool glob = false;
    if (q < t.size() && t[q] == '.' && q + 1 < t.size() && one_of("{%\"'", t[q + 1])) {
      ++q;
      glob = true;
    } else if (q < t.size() && (t[q] == '{' || t[q] == '%')) {
      glob = true;
    }
    size_t s = p;
    while (s > 0 && path_char(t[s - 1])) --s;
    std::string token(t.substr(s, q - s));
    size_t slash = token.rfind('/');
    std::string base = slash == std::string::npos ? token : token.substr(slash + 1);
    if (bytecode && !base.starts_with("lib") && base.size() > 1 && base.substr(1).starts_with("lib")) {
      token = token.substr(1);
      base = base.substr(1);
    }
    if (!base.starts_with("lib") || base.size() <= 6) continue;
    PythonLoad load;
    load.api = "string";
    load.name = glob ? token + "*" : token;
    if (!usable_name(load.name)) continue;
    load.shown = "\"" + load.name + "\"";
    hits.push_back({s, false, std::move(load)});
  }
}

// Lines, then calls before literals, each name once.
std::vector<PythonLoad> finish(std::string_view t, std::vector<Hit> hits, bool lines) {
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.pos < b.pos; });
  size_t line = 1, at = 0;
  for (auto& h : hits) {
    if (lines) {
      line += std::count(t.begin() + at, t.begin() + h.pos, '\n');
      at = h.pos;
      h.load.line = line;
    }
  }
  std::stable_partition(hits.begin(), hits.end(), [](const Hit& h) { return h.call; });
  std::vector<PythonLoad> out;
  std::set<std::pair<int, std::string>> seen;
  for (auto& h : hits) {
    int kind = static_cast<int>(h.load.kind);
    if (h.load.kind == PythonLoadKind::FindLibrary) kind = -1;  // short names apart from files
    if (seen.emplace(kind, h.load.name).second) out.push_back(std::move(h.load));
  }
  return out;
}

constexpr std::string_view kCallWords[] = {"CDLL", "PyDLL", "LoadLibrary", "dlopen", "find_library"};
constexpr std::string_view kLoaderObjects[] = {"cdll", "pydll"};

}  // namespace

bool python_may_load(std::string_view text) {
  for (auto w : kCallWords)
    if (text.find(w) != std::string_view::npos) return true;
  for (auto w : kLoaderObjects)
    if (text.find(w) != std::string_view::npos) return true;
  return text.find(".so") != std::string_view::npos;
}

std::vector<PythonLoad> scan_python_source(std::string_view text) {
  // Each finder below is one substring search over the file: no separate
  // python_may_load() pass first (it would read a file with a hit twice).
  std::vector<Hit> hits;
  for (auto w : kCallWords) call_hits(text, w, hits);
  for (auto w : kLoaderObjects) loader_object_hits(text, w, hits);
  literal_hits(text, false, hits);
  return finish(text, std::move(hits), true);
}

std::vector<PythonLoad> scan_python_bytecode(std::span<const uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::vector<Hit> hits;
  for (size_t pos = text.find("find_library"); pos != std::string_view::npos;
       pos = text.find("find_library", pos + 1)) {
    size_t end = pos + 12;
    if (end < text.size() && ident_char(text[end])) continue;  // find_library_file
    PythonLoad load;
    load.kind = PythonLoadKind::FindLibraryUnknown;
    load.api = "ctypes";
    load.shown = "find_library (name in bytecode)";
    hits.push_back({pos, true, std::move(load)});
    break;
  }
  literal_hits(text, true, hits);
  return finish(text, std::move(hits), false);
}

std::string python_load_reason(const std::string& file, const PythonLoad& load) {
  std::string where = file;
  if (load.line) where += ":" + std::to_string(load.line);
  else where += " (.pyc constant)";
  return "python " + load.api + ": " + where + " " + load.shown;
}

}  // namespace slimage
