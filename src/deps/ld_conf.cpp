// /etc/ld.so.conf reader and a glob over an FsView (see ld_cache.h).
// Quirks from ldconfig's parse_conf: '#' starts a comment anywhere on a line;
// directories are separated by whitespace, ':' or ','; "dir=TYPE" (libc5 era)
// keeps only dir; `include <glob>...` is relative to the including file's
// directory and its matches are sorted; `hwcap` lines are obsolete and
// ignored. Includes can loop (a.conf includes *.conf): a depth and a visited
// set stop that.
#include <fnmatch.h>

#include <algorithm>
#include <set>

#include "slimage/deps/ld_cache.h"
#include "slimage/util/budget.h"
#include "slimage/util/strings.h"

namespace slimage {


static bool has_glob(std::string_view s) { return s.find_first_of("*?[") != std::string_view::npos; }

std::vector<std::string> glob_paths(const FsView& fs, std::string_view base_dir,
                                    std::string_view pattern) {
  std::string full = !pattern.empty() && pattern[0] == '/'
                         ? std::string(pattern)
                         : std::string(base_dir) + "/" + std::string(pattern);
  std::vector<std::string> current{""};
  for (auto& part : split_any(full, "/")) {
    std::vector<std::string> next;
    for (auto& dir : current) {
      auto joined = [&](const std::string& name) { return dir.empty() ? name : dir + "/" + name; };
      if (!has_glob(part)) {
        next.push_back(joined(part));
        continue;
      }
      std::string real;
      const Node* d = fs.resolve(dir, true, &real);
      if (!d || d->type != FileType::Directory) continue;
      for (const Node* child : fs.list_dir(real)) {
        std::string name = basename_of(child->path);
        if (::fnmatch(part.c_str(), name.c_str(), FNM_PERIOD) == 0) next.push_back(joined(name));
      }
    }
    current = std::move(next);
  }
  std::vector<std::string> out;
  for (auto& p : current) {
    std::string n = normalize_path(p);
    if (fs.resolve(n)) out.push_back(std::move(n));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

struct ConfReader {
  const FsView& fs;
  std::vector<std::string>* warnings;
  std::vector<std::string> dirs;
  std::set<std::string> seen_dirs, active, read_files;
  uint64_t files_read = 0;

  void warn(std::string message) {
    if (warnings) warnings->push_back(std::move(message));
  }

  void read(const std::string& path, int depth) {
    std::string real;
    const Node* node = fs.resolve(path, true, &real);
    if (!node || !node->is_file()) {
      if (depth > 0) warn(path + ": included file unreadable");
      return;
    }
    if (depth > 16 || active.count(real)) {
      warn(path + ": include loop, skipped");
      return;
    }
    // A file already read adds nothing new (its dirs are in seen_dirs): the
    // fan-out of N files each including all N stays linear.
    if (!read_files.insert(real).second) return;
    check_budget(Budget::Includes, path, ++files_read);
    active.insert(real);
    auto bytes = fs.content(*node);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    std::string dir = dirname_of(normalize_path(path));
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view line = text.substr(pos, end - pos);
      pos = end + 1;
      if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
      auto words = split_any(line, " \t\r\f\v");
      if (words.empty()) continue;
      if (words[0] == "include") {
        for (size_t i = 1; i < words.size(); i++)
          for (auto& match : glob_paths(fs, dir, words[i])) read(match, depth + 1);
        continue;
      }
      if (words[0] == "hwcap") continue;
      for (auto& word : split_any(line, " \t\r\f\v:,")) {
        std::string d = word.substr(0, word.find('='));
        if (d.empty()) continue;
        if (d[0] != '/') {
          warn(path + ": relative directory \"" + d + "\" ignored");
          continue;
        }
        while (d.size() > 1 && d.back() == '/') d.pop_back();
        if (seen_dirs.insert(d).second) dirs.push_back(d);
      }
    }
    active.erase(real);
  }
};

}  // namespace

std::vector<std::string> read_ld_so_conf(const FsView& fs, std::string_view conf_path,
                                         std::vector<std::string>* warnings) {
  ConfReader reader{fs, warnings, {}, {}, {}, {}, 0};
  reader.read(normalize_path(conf_path), 0);
  return reader.dirs;
}

}  // namespace slimage
