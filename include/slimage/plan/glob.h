// Path globs for profiles and --keep/--drop: `*` and `?` within one path
// component, `**` as a whole component for any number of components (zero
// included), `[abc]`, `[a-z]`, `[!abc]` classes. Paths are normalized (no
// leading '/'); a pattern may be written with a leading '/', which is ignored.
// A pattern without '/' matches the basename only ("*.a", "libcu*").
#pragma once
#include <string_view>

namespace slimage {

// Linear in pattern × path length at worst; never backtracks exponentially,
// because hostile profiles are fuzzed.
bool glob_match(std::string_view pattern, std::string_view path);

// True if `pattern` ends in "/**" and `path` is the directory that "/**"
// hangs from ("var/cache/apt/**" vs "var/cache/apt"): the plan drops what is
// below such a directory but keeps the directory itself.
bool glob_is_base_dir(std::string_view pattern, std::string_view path);

}  // namespace slimage
