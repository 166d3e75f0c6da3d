// Internal to src/deps/plugins*.cpp: reading the image's config files and
// finding libraries in its library dirs.
#pragma once
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "slimage/deps/resolver.h"
#include "slimage/rootfs/fs_view.h"

namespace slimage::plugin_detail {

// A file's text, following symlinks; nullopt if it is not a regular file.
std::optional<std::string> text_of(const FsView& fs, const std::string& path);
std::string trim(std::string_view s);
// Non-empty lines with 1-based numbers, '#' comments removed, trimmed.
std::vector<std::pair<size_t, std::string>> config_lines(const std::string& text);
// The real path of a directory; "" if `path` is not one.
std::string real_dir(const FsView& fs, const std::string& path);
// Library dirs in search order (multiarch first), real paths, each once.
std::vector<std::string> lib_dirs(const FsView& fs);
// The first "dir/sub/name" that is a file; "" if none.
std::string find_in_lib_dirs(const FsView& fs, const std::vector<std::string>& dirs,
                             const std::string& sub, const std::string& name);
bool is_file(const FsView& fs, const std::string& path);
std::vector<std::string> words(const std::string& line);

// Roots, once per path, with "FILE:LINE TEXT" as the detail.
struct Collector {
  std::vector<Root> roots;
  std::set<std::string> seen;
  void add(const std::string& path, const std::string& file, size_t line, const std::string& text);
};

}  // namespace slimage::plugin_detail
