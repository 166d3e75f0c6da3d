// Errors and diagnostics. An Error stops the run; its message starts with
// where ("layer sha256:ab12cd34ef56…: usr/lib/x.so: e_shoff past end of file").
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
};

[[noreturn]] void fail(const std::string& message);

struct Diagnostic {
  enum class Level { Warning, Error };
  Level level = Level::Warning;
  std::string where;    // "layer sha256:ab12…: usr/lib/x.so"
  std::string message;  // "e_shoff past end of file"
  std::string to_string() const;  // "where: message"
};

// Thread-safe collection of diagnostics.
class Diagnostics {
 public:
  void warn(std::string where, std::string message);
  void error(std::string where, std::string message);
  std::vector<Diagnostic> items() const;
  size_t error_count() const;

 private:
  mutable std::mutex mu_;
  std::vector<Diagnostic> items_;
};

// "sha256:ab12cd34ef56…" — the spec's algorithm prefix and 12 hex digits.
std::string short_digest(std::string_view digest);

// Exit codes chosen by main().
enum ExitCode : int {
  kExitOk = 0,
  kExitError = 1,          // bad input, I/O failure, usage
  kExitUsage = 2,
  kExitVerifyFailed = 3,   // the slimmed closure has missing libraries
  kExitSmokeFailed = 4,    // --test passed before and failed after
  kExitInterrupted = 130,
};

}  // namespace slimage
