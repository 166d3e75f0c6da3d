// Small handles for values a big image repeats on every entry: a user or
// group name (an image has a handful; a layer of a million files names them a
// million times) is held once and shared. A std::string per entry cost 32
// bytes each even when empty; a handle costs one pointer.
#pragma once
#include <compare>
#include <string>
#include <string_view>

namespace slimage {

// An immutable string, interned: equal values share one copy, held for the
// rest of the process (a hostile image's million distinct names cost what
// their strings did before, no more). Thread-safe.
class InternedString {
 public:
  InternedString() = default;  // ""
  InternedString(std::string_view s);  // NOLINT: implicit, as a std::string is assigned
  InternedString(const std::string& s) : InternedString(std::string_view(s)) {}
  InternedString(const char* s) : InternedString(std::string_view(s)) {}

  const std::string& str() const { return *s_; }
  operator const std::string&() const { return *s_; }
  bool empty() const { return s_->empty(); }
  size_t size() const { return s_->size(); }
  std::string substr(size_t pos, size_t n = std::string::npos) const { return s_->substr(pos, n); }

  friend bool operator==(const InternedString& a, const InternedString& b) { return a.s_ == b.s_; }
  friend bool operator==(const InternedString& a, std::string_view b) { return *a.s_ == b; }
  friend std::strong_ordering operator<=>(const InternedString& a, const InternedString& b) {
    return *a.s_ <=> *b.s_;
  }

 private:
  static const std::string kEmpty;
  const std::string* s_ = &kEmpty;
};

inline std::string operator+(const std::string& a, const InternedString& b) { return a + b.str(); }
inline std::string operator+(std::string&& a, const InternedString& b) { return std::move(a) + b.str(); }

}  // namespace slimage
