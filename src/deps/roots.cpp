// find_roots (see include/slimage/deps/resolver.h): where the walk starts.
// Quirks: argv[0] without '/' goes through the image's PATH (from the config
// Env, else the Docker default), never the host's; "#!" lines are split on
// whitespace so `#!/usr/bin/env -S python3 -u` finds python3; `sh -c "…"`
// is scanned for command words (best effort: a shell is not parsed here);
// LD_PRELOAD items without '/' are searched like a DT_NEEDED.
#include <algorithm>
#include <set>

#include "search.h"
#include "slimage/rootfs/sparse_spill.h"
#include "slimage/util/strings.h"
#include "slimage/util/budget.h"

namespace slimage {

namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";


bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct RootFinder {
  const FsView& fs;
  const ImageRuntime& runtime;
  std::vector<std::string> path_dirs;
  std::vector<Root> roots;
  std::set<std::string> seen;  // normalized root paths

  void add(const std::string& path, How how, std::string detail) {
    std::string p = normalize_path(path);
    if (seen.insert(p + "\n" + how_name(how)).second) roots.push_back({p, how, std::move(detail)});
  }

  // A command name as a shell or execvp would find it; "" if nowhere.
  std::string command(const std::string& name, std::string* where) {
    if (name.empty()) return "";
    if (name.find('/') != std::string::npos) {
      std::string p = join_path(runtime.working_dir.empty() ? "/" : runtime.working_dir, name);
      const Node* n = fs.resolve(p);
      return n && n->is_file() ? p : "";
    }
    std::string fallback;
    for (auto& dir : path_dirs) {
      std::string p = join_path(dir, name);
      const Node* n = fs.resolve(p);
      if (!n || !n->is_file()) continue;
      if (n->mode & 0111) {
        if (where) *where = dir;
        return p;
      }
      if (fallback.empty()) fallback = p;
    }
    return fallback;
  }

  // A resolved command file: itself, and its "#!" interpreter chain.
  void script(const std::string& path, int depth) {
    const Node* n = fs.resolve(path);
    if (!n || !n->is_file() || depth > 4 || fs.unspilled_digest(*n)) return;  // not "#!": low-disk mode spills those
    auto bytes = fs.content(*n);
    if (bytes.size() < 2 || bytes[0] != '#' || bytes[1] != '!') return;
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), std::min<size_t>(bytes.size(), 512));
    auto words = split_any(text.substr(2, text.find('\n') - 2), " \t\r");
    if (words.empty()) return;
    std::string interp = normalize_path(words[0]);
    add(interp, How::Shebang, "#! of " + normalize_path(path));
    script(interp, depth + 1);
    if (basename_of(interp) != "env") return;
    for (size_t i = 1; i < words.size(); i++) {
      const std::string& w = words[i];
      if (w == "-u" || w == "-C" || w == "--unset" || w == "--chdir") { i++; continue; }
      if (w[0] == '-' || w.find('=') != std::string::npos) continue;
      std::string where;
      std::string found = command(w, &where);
      if (!found.empty()) {
        add(found, How::Shebang, "#!" + std::string(words[0]) + " " + w + " of " + normalize_path(path));
        script(found, depth + 1);
      }
      break;
    }
  }

  // `sh -c "a; b | c && d"`: each first word of a simple command.
  void shell_command(const std::string& text) {
    static const std::set<std::string> kSkip = {
        "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "case", "esac",
        "!", "{", "}", "exec", "command", "nohup", "time", "cd", "echo", "export", "set", "unset",
        "test", "[", "[[", "true", "false", ":", ".", "source", "eval", "exit", "return", "trap",
        "ulimit", "umask", "wait", "read", "shift", "local", "printf"};
    std::string shown = text.size() > 80 ? text.substr(0, 80) + "…" : text;
    uint64_t words = 0;
    for (auto& simple : split_any(text, ";|&\n()`")) {
      check_budget(Budget::ShellCommands, "image config: sh -c \"" + shown + "\"", ++words);
      for (auto& raw : split_any(simple, " \t")) {
        std::string w = raw;
        w.erase(std::remove(w.begin(), w.end(), '"'), w.end());
        w.erase(std::remove(w.begin(), w.end(), '\''), w.end());
        if (w.empty() || w.find('=') != std::string::npos || w[0] == '-' || w[0] == '$' ||
            w[0] == '<' || w[0] == '>' || std::isdigit(static_cast<unsigned char>(w[0])))
          continue;
        if (kSkip.count(w)) {
          if (w == "exec" || w == "command" || w == "nohup" || w == "time" || w == "!") continue;
          break;  // a builtin: its arguments are not commands
        }
        std::string found = command(w, nullptr);
        if (!found.empty()) {
          add(found, How::ShellCommand, "command " + w + " in sh -c \"" + shown + "\"");
          script(found, 0);
        }
        break;
      }
    }
  }
};

bool python_extension(const std::string& path) {
  std::string base = basename_of(path);
  if (!ends_with(base, ".so")) return false;
  if (base.find(".cpython-") != std::string::npos || ends_with(base, ".abi3.so")) return true;
  for (auto& part : split_any(path, "/"))
    if (part == "site-packages" || part == "dist-packages" || part == "lib-dynload") return true;
  return false;
}

}  // namespace

std::vector<std::string> driver_library_globs() {
  return {"libcuda.so*", "libnvidia-ml.so*", "libnvidia-ptxjitcompiler.so*", "libnvidia-gpucomp.so*"};
}

std::vector<DlopenFamily> builtin_dlopen_families() {
  return {
      {"cudnn9", {"libcudnn.so.9*"}, {"libcudnn_*.so.9*"},
       "cuDNN 9 dlopens its sub-libraries by soname from its own directory"},
      {"nvrtc", {"libnvrtc.so.*"}, {"libnvrtc-builtins.so.*"}, "NVRTC dlopens its builtins"},
      {"nvrtc-alt", {"libnvrtc.alt.so.*"}, {"libnvrtc-builtins.alt.so.*"}, "NVRTC dlopens its builtins"},
      {"nccl", {"libnccl.so.*"}, {"libnccl-net*.so*"}, "NCCL dlopens its network plugins"},
  };
}

ResolveOptions resolve_options_for(const ImageRuntime& runtime) {
  ResolveOptions options;
  std::string lib_path = runtime.env_value("LD_LIBRARY_PATH");
  // Empty elements are kept: the resolver warns about them (they mean ".").
  for (size_t i = 0; !lib_path.empty();) {
    size_t j = lib_path.find(':', i);
    options.ld_library_path.push_back(lib_path.substr(i, j == std::string::npos ? j : j - i));
    if (j == std::string::npos) break;
    i = j + 1;
  }
  options.host_provided = driver_library_globs();
  options.dlopen_families = builtin_dlopen_families();
  return options;
}

// LD_PRELOAD and /etc/ld.so.preload items: a name with '/' is a path, else it
// is searched like a DT_NEEDED of the entrypoint.
static void preload_roots(RootFinder& finder, const std::vector<std::string>& items,
                          const std::string& source, Diagnostics& diagnostics) {
  if (items.empty()) return;
  const FsView& fs = finder.fs;
  ResolveOptions options = resolve_options_for(finder.runtime);
  deps::Search search(fs, options, diagnostics);
  deps::Object requester;
  for (auto& r : finder.roots) {
    std::string real;
    const Node* n = fs.resolve(r.path, true, &real);
    if (n && n->is_file() && (requester.info = search.elf(real))) {
      requester.opened = r.path;
      requester.real = real;
      break;
    }
  }
  ElfInfo guess;
  if (!requester.info) {
    guess.elf_class = 2, guess.data = 1, guess.machine = 62;
    for (const char* sh : {"bin/sh", "usr/bin/sh", "bin/busybox"}) {
      std::string real;
      const Node* n = fs.resolve(sh, true, &real);
      if (n && n->is_file())
        if (const ElfInfo* info = search.elf(real)) {
          guess.elf_class = info->elf_class, guess.data = info->data, guess.machine = info->machine;
          break;
        }
    }
    requester.info = &guess;
  }
  auto flavor = requester.info->interp.find("ld-musl") != std::string::npos ? deps::Flavor::Musl
                                                                             : deps::Flavor::Glibc;
  for (auto& item : items) {
    if (item.find('/') != std::string::npos) {
      finder.add(item, How::Preload, source + " " + item);
      continue;
    }
    std::string searched;
    if (auto f = search.find(item, requester, requester, flavor, &searched))
      finder.add(f->opened, How::Preload, source + " " + item + ": " + f->detail);
    else
      diagnostics.warn(source, item + " not found (searched " + searched + ")");
  }
}

std::vector<Root> find_roots(const FsView& fs, const ImageRuntime& runtime,
                             const std::vector<Root>& extra,
                             const std::function<bool(const Node&)>& kept_elf,
                             const std::function<bool(const std::string&)>& excluded,
                             Diagnostics& diagnostics) {
  std::string path_env = runtime.env_value("PATH");
  RootFinder finder{fs, runtime, split_any(path_env.empty() ? kDefaultPath : path_env, ":"), {}, {}};

  // Entrypoint + Cmd.
  std::vector<std::string> argv = runtime.entrypoint;
  argv.insert(argv.end(), runtime.cmd.begin(), runtime.cmd.end());
  if (!argv.empty()) {
    std::string where;
    std::string found = finder.command(argv[0], &where);
    const char* field = runtime.entrypoint.empty() ? "Cmd[0]" : "Entrypoint[0]";
    if (found.empty()) {
      // Kept as a root so the graph reports it missing too.
      std::string guess = argv[0].find('/') != std::string::npos
                              ? join_path(runtime.working_dir.empty() ? "/" : runtime.working_dir, argv[0])
                              : argv[0];
      diagnostics.warn(argv[0], std::string(field) + " not found in the image (PATH " +
                                    (path_env.empty() ? kDefaultPath : path_env) + ")");
      finder.add(guess, How::Entrypoint, std::string(field) + " " + argv[0] + " (not found)");
    } else {
      finder.add(found, How::Entrypoint,
                 std::string(field) + " " + argv[0] + (where.empty() ? "" : " via PATH " + where));
      finder.script(found, 0);
      static const std::set<std::string> kShells = {"sh", "bash", "dash", "ash", "zsh", "ksh", "busybox"};
      if (kShells.count(basename_of(found)) || kShells.count(basename_of(argv[0])))
        for (size_t i = 1; i + 1 < argv.size(); i++)
          if (argv[i] == "-c" || (argv[i].size() > 1 && argv[i][0] == '-' && argv[i].back() == 'c')) {
            finder.shell_command(argv[i + 1]);
            break;
          }
    }
  }
  for (auto& r : extra) finder.add(r.path, r.how, r.detail);

  preload_roots(finder, split_any(runtime.env_value("LD_PRELOAD"), ": "), "LD_PRELOAD", diagnostics);
  if (const Node* n = fs.resolve("etc/ld.so.preload"); n && n->is_file()) {
    auto bytes = fs.content(*n);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    preload_roots(finder, split_any(text, " \t\n:"), "etc/ld.so.preload", diagnostics);
  }

  fs.for_each([&](const Node& node) {
    if (node.type != FileType::Regular && node.type != FileType::Hardlink) return;
    bool python = python_extension(node.path);
    if (!python && !(kept_elf && kept_elf(node))) return;
    if (excluded && excluded(node.path)) return;
    bool elf = fs.elf_summary(node) != nullptr;  // low-disk mode, a big ELF file
    if (!elf && fs.unspilled_digest(node)) return;  // not ELF: low-disk mode spills the rest
    if (!elf) {
      elf = is_elf(fs.content(node));
      fs.release(node);
    }
    if (!elf) return;
    if (python) finder.add(node.path, How::PythonExtension, "Python extension module");
    else finder.add(node.path, How::KeptElf, "kept by the plan");
  });
  return std::move(finder.roots);
}

}  // namespace slimage
