// Errors and diagnostics (see include/slimage/util/error.h).
#include "slimage/util/error.h"

namespace slimage {

void fail(const std::string& message) { throw Error(message); }

void fail_at(const std::string& where, const std::string& message) { throw Error(where, message); }

bool names_place(const Error& error, const std::string& place) {
  const std::string& at = error.where();
  if (at.empty()) return false;
  return place == at || (place.size() > at.size() + 2 && place.compare(0, at.size(), at) == 0 &&
                         place.compare(at.size(), 2, ": ") == 0);
}

std::string Diagnostic::to_string() const {
  return where.empty() ? message : where + ": " + message;
}

void Diagnostics::warn(std::string where, std::string message) {
  add(Diagnostic::Level::Warning, std::move(where), std::move(message));
}

void Diagnostics::error(std::string where, std::string message) {
  add(Diagnostic::Level::Error, std::move(where), std::move(message));
}

void Diagnostics::add(Diagnostic::Level level, std::string where, std::string message) {
  std::lock_guard lock(mu_);
  const bool is_error = level == Diagnostic::Level::Error;
  errors_ += is_error;
  if (items_.size() < kKept) {
    items_.push_back({level, std::move(where), std::move(message)});
    return;
  }
  (is_error ? unkept_errors_ : unkept_warnings_)++;
}

std::vector<Diagnostic> Diagnostics::items() const {
  std::lock_guard lock(mu_);
  std::vector<Diagnostic> out = items_;
  if (unkept_errors_ + unkept_warnings_ > 0)
    out.push_back({Diagnostic::Level::Warning, "diagnostics",
                   std::to_string(unkept_errors_) + " more errors and " + std::to_string(unkept_warnings_) +
                       " more warnings not kept (the first " + std::to_string(kKept) + " are)"});
  return out;
}

size_t Diagnostics::error_count() const {
  std::lock_guard lock(mu_);
  return errors_;
}

std::string short_digest(std::string_view digest) {
  auto colon = digest.find(':');
  size_t hex = colon == std::string_view::npos ? 0 : colon + 1;
  if (digest.size() <= hex + 12) return std::string(digest);
  return std::string(digest.substr(0, hex + 12)) + "…";
}

}  // namespace slimage
