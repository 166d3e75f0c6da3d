// Errors and diagnostics. An Error stops the run; its message starts with
// where ("layer sha256:ab12cd34ef56…: usr/lib/x.so: e_shoff past end of file").
// Code that knows where it is says so (fail_at); a caller wraps what it
// calls in with_location, go-containerregistry style: each level puts its
// place first, once — decided by the places errors carry, never by reading
// their messages.
// A Diagnostic is a problem with one file inside an image: recorded, and the
// run carries on. Only main() prints the final error line and picks the exit code.
#pragma once
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace slimage {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  // "where: message"; the error knows the place its message starts with.
  Error(const std::string& where, const std::string& message)
      : std::runtime_error(where + ": " + message), where_(where) {}
  // The outermost place the message starts with; "" when thrown by code that
  // does not know where it is.
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

[[noreturn]] void fail(const std::string& message);
// Throws Error(where, message).
[[noreturn]] void fail_at(const std::string& where, const std::string& message);

// Whether an error located at `where` already says `place`: the same place,
// or a place inside it ("oci:x: blob sha256:…" is inside "oci:x").
bool names_place(const Error& error, const std::string& place);

// Calls body(); an Error escaping it is rethrown with `where` first
// ("where: message"), unless it already starts there (names_place).
template <class Body>
decltype(auto) with_location(const std::string& where, Body&& body) {
  try {
    return body();
  } catch (const Error& e) {
    if (names_place(e, where)) throw;
    throw Error(where, e.what());
  }
}

struct Diagnostic {
  enum class Level { Warning, Error };
  Level level = Level::Warning;
  std::string where;    // "layer sha256:ab12…: usr/lib/x.so"
  std::string message;  // "e_shoff past end of file"
  std::string to_string() const;  // "where: message"
};

// Thread-safe collection of diagnostics. The first kKept are kept; the rest
// are counted: a hostile layer of a million "../x" entries makes a million
// diagnostics (each a report object too: 500,000 of them took 1.2 GiB).
class Diagnostics {
 public:
  static constexpr size_t kKept = 10000;
  void warn(std::string where, std::string message);
  void error(std::string where, std::string message);
  // The kept ones, then, if any were not, one warning saying how many of each level.
  std::vector<Diagnostic> items() const;
  size_t error_count() const;  // all of them, kept or not

 private:
  void add(Diagnostic::Level level, std::string where, std::string message);
  mutable std::mutex mu_;
  std::vector<Diagnostic> items_;
  size_t errors_ = 0, unkept_errors_ = 0, unkept_warnings_ = 0;
};

// "sha256:ab12cd34ef56…" — the spec's algorithm prefix and 12 hex digits.
std::string short_digest(std::string_view digest);

}  // namespace slimage
