// Shared by the elf module's unit tests: compiling C stubs at test time, and
// SyntheticElf, a builder for small ELF files of any class and byte order
// (gcc-multilib and cross compilers may be absent) with a PT_LOAD covering
// everything, PT_INTERP, PT_DYNAMIC, .dynstr, .rodata, optional non-alloc
// .debug_info and the extended-numbering forms (e_shnum 0, SHN_XINDEX).
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "slimage/util/file.h"

namespace slimage::elf_test {

inline bool run_ok(const std::string& command) { return std::system(command.c_str()) == 0; }

inline std::string run_output(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// Compiles `source` with gcc into dir/name; empty string on failure.
inline std::string compile(const std::string& dir, const std::string& name,
                           const std::string& source, const std::string& flags) {
  std::string src = dir + "/" + name + ".c";
  write_file_atomic(src, source);
  std::string out = dir + "/" + name;
  if (!run_ok("gcc -o " + out + " " + src + " " + flags + " 2>" + dir + "/" + name + ".log"))
    return "";
  return out;
}

// Compiles dir/name: `name LIB N` dlopens LIB and prints SYMBOL(N) for an
// int(int) SYMBOL, or dlerror() (exit 1). Empty string on failure.
inline std::string compile_dlopen_call(const std::string& dir, const std::string& name,
                                       const std::string& symbol) {
  return compile(dir, name,
                 "#include <dlfcn.h>\n#include <stdio.h>\n#include <stdlib.h>\n"
                 "int main(int c, char** v){void* h = dlopen(v[1], RTLD_NOW);\n"
                 "if (!h) { puts(dlerror()); return 1; }\n"
                 "int (*f)(int) = (int (*)(int))dlsym(h, \"" + symbol + "\");\n"
                 "printf(\"%d\\n\", f(atoi(v[2]))); return 0; }\n",
                 "-ldl");
}

inline std::vector<uint8_t> to_bytes(const std::string& s) { return {s.begin(), s.end()}; }

struct SyntheticElf {
  bool is64 = true, big_endian = false;
  uint16_t machine = 62;
  std::string interp = "/lib/ld-test.so.1";
  std::vector<std::string> needed = {"libc.so.6"};
  std::string soname = "libsynthetic.so.1";
  std::string runpath = "$ORIGIN/../lib";
  std::string rodata = std::string("hello\0libcudnn_ops.so.9\0x", 26);
  bool debug_section = true;
  bool extended_numbering = false;  // e_shnum = 0, e_shstrndx = SHN_XINDEX

  std::vector<uint8_t> build() const {
    std::string out;
    const unsigned w = is64 ? 8 : 4, ehsize = is64 ? 64 : 52, phsize = is64 ? 56 : 32,
                   shsize = is64 ? 64 : 40, dynsize = 2 * w;
    auto put = [&](std::string& s, uint64_t at, unsigned width, uint64_t v) {
      if (s.size() < at + width) s.resize(at + width, '\0');
      for (unsigned i = 0; i < width; ++i)
        s[at + i] = static_cast<char>(v >> (big_endian ? 8 * (width - 1 - i) : 8 * i));
    };
    auto align = [](uint64_t v, uint64_t a) { return (v + a - 1) / a * a; };
    const uint64_t phoff = ehsize, phnum = 3;
    uint64_t at = phoff + phnum * phsize;
    // .interp
    const uint64_t interp_off = at;
    at += interp.size() + 1;
    // .dynstr
    std::string dynstr(1, '\0');
    std::vector<uint64_t> needed_idx;
    for (auto& n : needed) needed_idx.push_back(dynstr.size()), dynstr += n + '\0';
    uint64_t soname_idx = dynstr.size();
    dynstr += soname + '\0';
    uint64_t runpath_idx = dynstr.size();
    dynstr += runpath + '\0';
    const uint64_t dynstr_off = at;
    at += dynstr.size();
    const uint64_t rodata_off = at;
    at += rodata.size();
    const uint64_t dynamic_off = align(at, w);
    const uint64_t dyn_count = needed.size() + 6;
    at = dynamic_off + dyn_count * dynsize;
    const uint64_t load_end = at;
    std::string debug = "DEBUGDATA-DEBUGDATA-DEBUGDATA";
    const uint64_t debug_off = at;
    at += debug_section ? debug.size() : 0;
    std::string shstrtab = std::string("\0.interp\0.dynstr\0.rodata\0.dynamic\0.debug_info\0.shstrtab\0", 56);
    const uint64_t shstrtab_off = at;
    at += shstrtab.size();
    const uint64_t shoff = align(at, w);

    const uint64_t base = 0x400000;
    out.resize(ehsize, '\0');
    out[0] = 0x7f, out[1] = 'E', out[2] = 'L', out[3] = 'F';
    out[4] = is64 ? 2 : 1, out[5] = big_endian ? 2 : 1, out[6] = 1;
    put(out, 16, 2, 3);  // ET_DYN
    put(out, 18, 2, machine);
    put(out, 20, 4, 1);
    put(out, is64 ? 32 : 28, w, phoff);
    put(out, is64 ? 40 : 32, w, shoff);
    put(out, is64 ? 52 : 40, 2, ehsize);
    put(out, is64 ? 54 : 42, 2, phsize);
    put(out, is64 ? 56 : 44, 2, phnum);
    put(out, is64 ? 58 : 46, 2, shsize);
    // program headers: PT_LOAD, PT_INTERP, PT_DYNAMIC
    auto phdr = [&](int i, uint32_t type, uint64_t off, uint64_t size) {
      uint64_t p = phoff + i * phsize;
      put(out, p, 4, type);
      if (is64) {
        put(out, p + 4, 4, 4);
        put(out, p + 8, 8, off), put(out, p + 16, 8, base + off), put(out, p + 24, 8, base + off);
        put(out, p + 32, 8, size), put(out, p + 40, 8, size), put(out, p + 48, 8, type == 1 ? 0x1000 : w);
      } else {
        put(out, p + 4, 4, off), put(out, p + 8, 4, base + off), put(out, p + 12, 4, base + off);
        put(out, p + 16, 4, size), put(out, p + 20, 4, size), put(out, p + 24, 4, 4);
        put(out, p + 28, 4, type == 1 ? 0x1000 : w);
      }
    };
    phdr(0, 1, 0, load_end);
    phdr(1, 3, interp_off, interp.size() + 1);
    phdr(2, 2, dynamic_off, dyn_count * dynsize);
    out.resize(load_end, '\0');
    out.replace(interp_off, interp.size(), interp);
    out.replace(dynstr_off, dynstr.size(), dynstr);
    out.replace(rodata_off, rodata.size(), rodata);
    uint64_t d = dynamic_off;
    auto dyn = [&](uint64_t tag, uint64_t val) { put(out, d, w, tag), put(out, d + w, w, val), d += dynsize; };
    for (auto idx : needed_idx) dyn(1, idx);
    dyn(14, soname_idx);
    dyn(29, runpath_idx);
    dyn(5, base + dynstr_off);
    dyn(10, dynstr.size());
    dyn(0x6ffffffb, 0x800);
    dyn(0, 0);
    if (debug_section) out += debug;
    out += shstrtab;
    out.resize(shoff, '\0');
    // sections: null, .interp, .dynstr, .rodata, .dynamic, [.debug_info], .shstrtab
    struct Sec { uint32_t name, type; uint64_t flags, off, size; uint32_t link; uint64_t align, entsize; };
    std::vector<Sec> secs = {{0, 0, 0, 0, 0, 0, 0, 0},
                             {1, 1, 2, interp_off, interp.size() + 1, 0, 1, 0},
                             {9, 3, 2, dynstr_off, dynstr.size(), 0, 1, 0},
                             {17, 1, 2, rodata_off, rodata.size(), 0, 1, 0},
                             {25, 6, 3, dynamic_off, dyn_count * dynsize, 2, w, dynsize}};
    if (debug_section) secs.push_back({34, 1, 0, debug_off, debug.size(), 0, 1, 0});
    secs.push_back({46, 3, 0, shstrtab_off, shstrtab.size(), 0, 1, 0});
    const uint64_t shnum = secs.size(), shstrndx = shnum - 1;
    if (extended_numbering) secs[0].size = shnum, secs[0].link = shstrndx;
    for (uint64_t i = 0; i < shnum; ++i) {
      const Sec& s = secs[i];
      uint64_t p = shoff + i * shsize;
      put(out, p, 4, s.name), put(out, p + 4, 4, s.type), put(out, p + 8, w, s.flags);
      put(out, p + (is64 ? 16 : 12), w, s.flags & 2 ? base + s.off : 0);
      put(out, p + (is64 ? 24 : 16), w, s.off), put(out, p + (is64 ? 32 : 20), w, s.size);
      put(out, p + (is64 ? 40 : 24), 4, s.link), put(out, p + (is64 ? 44 : 28), 4, 0);
      put(out, p + (is64 ? 48 : 32), w, s.align), put(out, p + (is64 ? 56 : 36), w, s.entsize);
    }
    put(out, is64 ? 60 : 48, 2, extended_numbering ? 0 : shnum);
    put(out, is64 ? 62 : 50, 2, extended_numbering ? 0xffff : shstrndx);
    return to_bytes(out);
  }
};

}  // namespace slimage::elf_test
