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
  std::lock_guard lock(mu_);
  items_.push_back({Diagnostic::Level::Warning, std::move(where), std::move(message)});
}

void Diagnostics::error(std::string where, std::string message) {
  std::lock_guard lock(mu_);
  items_.push_back({Diagnostic::Level::Error, std::move(where), std::move(message)});
}

std::vector<Diagnostic> Diagnostics::items() const {
  std::lock_guard lock(mu_);
  return items_;
}

size_t Diagnostics::error_count() const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (auto& d : items_) n += d.level == Diagnostic::Level::Error;
  return n;
}

std::string short_digest(std::string_view digest) {
  auto colon = digest.find(':');
  size_t hex = colon == std::string_view::npos ? 0 : colon + 1;
  if (digest.size() <= hex + 12) return std::string(digest);
  return std::string(digest.substr(0, hex + 12)) + "…";
}

}  // namespace slimage
