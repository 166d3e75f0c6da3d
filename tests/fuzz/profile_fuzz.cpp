// libFuzzer target: bytes as a profile text (parse_profile_text), and as a
// glob pattern matched against a path. A bad profile must be a slimage::Error
// with a location, never a crash, a hang or another exception type.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "slimage/plan/glob.h"
#include "slimage/plan/profile.h"
#include "slimage/util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    slimage::Profile p = slimage::parse_profile_text(text, "fuzz/profile.json");
    (void)slimage::profile_to_json(p);
  } catch (const slimage::Error&) {
  }
  // Glob: the first line is the pattern, the rest the path.
  size_t nl = text.find('\n');
  std::string_view pattern = text.substr(0, nl);
  std::string_view path = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  (void)slimage::glob_match(pattern, path);
  (void)slimage::glob_match(path, pattern);
  (void)slimage::glob_is_base_dir(pattern, path);
  return 0;
}
