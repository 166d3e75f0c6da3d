// Test fixtures for the deps tests: a temp root filled with gcc-compiled
// stubs, and THE ORACLE — the real loader run in a chroot over that root
// (`ld.so --list`), whose answer the resolver must match.
#pragma once
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <set>
#include <string>

#include "slimage/deps/resolver.h"
#include "slimage/elf/elf.h"
#include "slimage/rootfs/dir_fs.h"
#include "slimage/util/file.h"

namespace slimage::test {

inline std::string sh(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  if (rc) *rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

inline bool have(const std::string& tool) {
  int rc = 0;
  sh("command -v " + tool + " >/dev/null", &rc);
  return rc == 0;
}

struct Fixture {
  TempDir tmp{"/tmp", "slimage-deps-"};
  std::string root = tmp.path() + "/root";
  int n_ = 0;

  Fixture() { ::mkdir(root.c_str(), 0755); }
  std::string at(const std::string& p) const { return root + "/" + p; }
  void mkdirs(const std::string& p) { sh("mkdir -p '" + at(p) + "'"); }
  void write(const std::string& p, const std::string& text, mode_t mode = 0644) {
    mkdirs(dirname_of(p));
    std::ofstream(at(p)) << text;
    ::chmod(at(p).c_str(), mode);
  }
  void link(const std::string& target, const std::string& p) {
    mkdirs(dirname_of(p));
    REQUIRE(::symlink(target.c_str(), at(p).c_str()) == 0);
  }
  void patch(const std::string& p, long offset, const std::string& bytes) {
    FILE* file = fopen(at(p).c_str(), "r+b");
    REQUIRE(file);
    fseek(file, offset, SEEK_SET);
    fwrite(bytes.data(), 1, bytes.size(), file);
    fclose(file);
  }
  // Turns the DT_SONAME entry of `p` into a DT_RUNPATH with the same string:
  // linkers emit RPATH or RUNPATH, never both, but old binaries have both.
  void soname_to_runpath(const std::string& p) {
    std::string bytes = read_file(at(p));
    auto span = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    auto info = parse_elf(span, nullptr);
    REQUIRE(info);
    for (auto& s : info->sections)
      if (s.name == ".dynamic")
        for (uint64_t off = s.offset; off + 16 <= s.offset + s.size; off += 16)
          if (bytes[off] == 14 && bytes.compare(off + 1, 7, std::string(7, '\0')) == 0) {
            patch(p, static_cast<long>(off), std::string("\x1d", 1));
            return;
          }
    FAIL("no DT_SONAME in " << p);
  }
  // Compiles C source into the root. `flags` may name other root files as
  // "@path" (expanded to their host path).
  void cc(const std::string& out, const std::string& src, std::string flags,
          const std::string& compiler = "gcc") {
    std::string c = tmp.path() + "/src" + std::to_string(n_++) + ".c";
    std::ofstream(c) << src;
    for (size_t i; (i = flags.find('@')) != std::string::npos;) flags.replace(i, 1, root + "/");
    mkdirs(dirname_of(out));
    int rc = 0;
    std::string log = sh(compiler + " -Wl,--no-as-needed -o '" + at(out) + "' " + c + " " + flags, &rc);
    INFO(log);
    REQUIRE(rc == 0);
  }
  // A shared library with a soname and one function `name`().
  void lib(const std::string& out, const std::string& soname, const std::string& fn,
           const std::string& flags = "") {
    cc(out, "int " + fn + "(void) { return 1; }\n", "-shared -fPIC -Wl,-soname," + soname + " " + flags);
  }
  // The host's glibc loader and libc at their usual paths.
  void glibc() {
    mkdirs("lib64");
    mkdirs("lib/x86_64-linux-gnu");
    sh("cp /lib64/ld-linux-x86-64.so.2 '" + at("lib64/") + "'");
    sh("cp -L /lib/x86_64-linux-gnu/libc.so.6 '" + at("lib/x86_64-linux-gnu/") + "'");
  }

  // THE ORACLE: real paths (inside the root) of what the loader maps for `exe`.
  // nullopt when the chroot cannot run (not root).
  std::optional<std::set<std::string>> oracle(const std::string& exe, const FsView& fs,
                                              const std::string& env = "",
                                              const std::string& loader = "/lib64/ld-linux-x86-64.so.2",
                                              std::set<std::string>* not_found = nullptr) {
    // chroot from python so LD_TRACE_LOADED_OBJECTS reaches only the
    // program (a host `chroot` binary would trace itself). glibc: execute the
    // program in trace mode (so $ORIGIN of the executable is its real dir);
    // musl: its loader run as "ldd".
    std::string script = tmp.path() + "/oracle.py";
    std::ofstream(script) << "import os, sys\n"
                             "root, loader, exe = sys.argv[1:4]\n"
                             "env = dict(kv.split('=', 1) for kv in sys.argv[4:])\n"
                             "os.chroot(root); os.chdir('/')\n"
                             "if 'musl' in loader: os.execve(loader, ['ldd', exe], env)\n"
                             "env['LD_TRACE_LOADED_OBJECTS'] = '1'\n"
                             "os.execve(exe, [exe], env)\n";
    int rc = 0;
    std::string out = sh("python3 " + script + " '" + root + "' " + loader + " /" + exe + " " + env, &rc);
    if (out.find("Operation not permitted") != std::string::npos) return std::nullopt;
    INFO(out);
    REQUIRE((out.find(" => ") != std::string::npos || out.find("not found") != std::string::npos));
    std::set<std::string> paths;
    size_t pos = 0;
    while (pos < out.size()) {
      size_t end = out.find('\n', pos);
      if (end == std::string::npos) end = out.size();
      std::string line = out.substr(pos, end - pos);
      pos = end + 1;
      if (line.find("vdso") != std::string::npos) continue;
      if (line.find("not found") != std::string::npos || line.find("Error loading") != std::string::npos) {
        std::string name = line.substr(line.find_first_not_of(" \t"));
        if (size_t e = name.find("Error loading shared library "); e != std::string::npos)
          name = name.substr(e + 29, name.find(':', e) - e - 29);
        if (not_found) not_found->insert(name.substr(0, name.find(' ')));
        continue;
      }
      size_t arrow = line.find("=> ");
      std::string p = arrow != std::string::npos ? line.substr(arrow + 3) : line.substr(line.find_first_not_of(" \t"));
      p = p.substr(0, p.find(" ("));
      if (p.empty() || p[0] != '/') continue;
      std::string real;
      if (fs.resolve(p, true, &real)) paths.insert(real);
    }
    INFO(out);
    return paths;
  }
};

// Real paths of the ELF files the graph needs, minus `except`.
inline std::set<std::string> needed_elves(const FsView& fs, const Graph& g,
                                          const std::set<std::string>& except = {}) {
  std::set<std::string> out;
  for (auto& p : g.needed) {
    const Node* n = fs.lookup(p);
    if (n && n->is_file() && is_elf(fs.content(*n)) && !except.count(p)) out.insert(p);
  }
  return out;
}

inline const Edge* edge_to(const Graph& g, const std::string& to, How how) {
  for (auto& e : g.edges)
    if (e.to == to && e.how == how) return &e;
  return nullptr;
}

inline std::string dump(const Graph& g) {
  std::string s;
  for (auto& e : g.edges) s += e.from + " -> " + e.to + " [" + how_name(e.how) + "] " + e.detail + "\n";
  for (auto& m : g.missing) s += "MISSING " + m.needed + " from " + m.from + ": " + m.searched + "\n";
  for (auto& w : g.warnings) s += "WARNING " + w + "\n";
  return s;
}

}  // namespace slimage::test
