// Built-in profiles, embedded from profiles/*.json at build time
// (scripts/embed_profiles.cmake generates the definition).
#pragma once
#include <span>
#include <string_view>

namespace slimage {

struct EmbeddedFile {
  std::string_view name;  // file name without ".json", e.g. "default"
  std::string_view text;  // JSON with comments
};

std::span<const EmbeddedFile> embedded_profiles();

}  // namespace slimage
