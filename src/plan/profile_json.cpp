// A tiny scanner over JSON with comments that records where values start
// (see profile_json.h). Recursion is bounded: below kMaxDepth values are
// skipped iteratively, so a hostile, deeply nested profile cannot overflow
// the stack.
#include "profile_json.h"

namespace slimage::plan_detail {
namespace {

constexpr int kMaxDepth = 4;

struct Scanner {
  std::string_view t;
  size_t i = 0;
  std::map<std::string, size_t>* pos;

  bool at_end() const { return i >= t.size(); }

  void skip_ws() {
    while (i < t.size()) {
      char c = t[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i;
      } else if (c == '/' && i + 1 < t.size() && t[i + 1] == '/') {
        while (i < t.size() && t[i] != '\n') ++i;
      } else if (c == '/' && i + 1 < t.size() && t[i + 1] == '*') {
        size_t end = t.find("*/", i + 2);
        i = end == std::string_view::npos ? t.size() : end + 2;
      } else {
        return;
      }
    }
  }

  // At '"': returns the string's raw content (escapes kept as the next char).
  std::string string_literal() {
    std::string out;
    ++i;
    while (i < t.size() && t[i] != '"') {
      if (t[i] == '\\' && i + 1 < t.size()) ++i;
      out += t[i++];
    }
    if (i < t.size()) ++i;
    return out;
  }

  // Skips any value without recursion.
  void skip_value() {
    skip_ws();
    int depth = 0;
    while (i < t.size()) {
      char c = t[i];
      if (c == '"') {
        string_literal();
      } else if (c == '/' && i + 1 < t.size() && (t[i + 1] == '/' || t[i + 1] == '*')) {
        skip_ws();
        continue;
      } else if (c == '{' || c == '[') {
        ++depth;
        ++i;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return;
        --depth;
        ++i;
      } else if (c == ',' && depth == 0) {
        return;
      } else {
        ++i;
      }
      if (depth == 0 && (c == '"' || c == '}' || c == ']')) return;
    }
  }

  void value(const std::string& pointer, int depth) {
    skip_ws();
    if (at_end()) return;
    pos->emplace(pointer, i);
    char c = t[i];
    if (depth >= kMaxDepth || (c != '{' && c != '[')) {
      skip_value();
      return;
    }
    ++i;
    size_t index = 0;
    while (true) {
      skip_ws();
      if (at_end()) return;
      if (t[i] == '}' || t[i] == ']') {
        ++i;
        return;
      }
      size_t start = i;
      if (c == '{') {
        if (t[i] != '"') return;
        std::string key = string_literal();
        std::string child = pointer + "/" + key;
        pos->emplace(child, start);
        skip_ws();
        if (at_end() || t[i] != ':') return;
        ++i;
        value(child, depth + 1);  // emplace keeps the key's position
      } else {
        value(pointer + "/" + std::to_string(index++), depth + 1);
      }
      skip_ws();
      if (at_end()) return;
      if (t[i] == ',') {
        ++i;
      } else if (t[i] != '}' && t[i] != ']') {
        return;
      }
      if (i == start) return;  // no progress: malformed
    }
  }
};

}  // namespace

std::map<std::string, size_t> json_positions(std::string_view text) {
  std::map<std::string, size_t> pos;
  Scanner s{text, 0, &pos};
  s.value("", 0);
  return pos;
}

std::string line_col(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return std::to_string(line) + ":" + std::to_string(col);
}

}  // namespace slimage::plan_detail
