// /etc/ld.so.cache and /etc/ld.so.conf: what the glibc loader consults
// between DT_RUNPATH and the default dirs. The cache is parsed from its real
// binary format (glibc elf/cache.c, sysdeps/generic/dl-cache.h): the new
// "glibc-ld.so.cache1.1" format alone, or after the old "ld.so-1.7.0" table.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "slimage/rootfs/fs_view.h"

namespace slimage {

struct LdCacheEntry {
  std::string name;   // "libz.so.1"
  std::string path;   // as stored: "/lib/x86_64-linux-gnu/libz.so.1"
  int32_t flags = 0;  // FLAG_ELF_LIBC6 | FLAG_X8664_LIB64 …
  uint64_t hwcap = 0; // non-zero for glibc-hwcaps (bit 62) or legacy hwcap entries
};

class LdCache {
 public:
  // Parses the bytes of an ld.so.cache; nullopt with *error set on a
  // malformed file (never reads outside `bytes`).
  static std::optional<LdCache> parse(std::span<const uint8_t> bytes, std::string* error);

  const std::vector<LdCacheEntry>& entries() const { return entries_; }
  bool new_format() const { return new_format_; }
  // Entries for `name` usable by an object of this class/machine (and, on ARM,
  // float ABI from e_flags), plain entries (hwcap 0) first, in cache order.
  // machine 0 accepts any.
  std::vector<const LdCacheEntry*> lookup(std::string_view name, uint16_t machine,
                                          uint8_t elf_class, uint32_t e_flags = 0) const;

 private:
  std::vector<LdCacheEntry> entries_;
  bool new_format_ = false;
};

// Whether cache flags fit an object of this machine/class (unknown machine:
// any ELF libc6 entry fits).
// e_flags is the requester's: on ARM its float ABI picks the entries the loader takes.
bool ld_cache_flags_match(int32_t flags, uint16_t machine, uint8_t elf_class, uint32_t e_flags = 0);
// "libc6,x86-64" as `ldconfig -p` prints the flags.
std::string ld_cache_flags_name(int32_t flags);

// Directories listed by /etc/ld.so.conf (and its includes), in order,
// absolute ("/usr/local/lib"), read through the view. Problems (include loops,
// unreadable files) go to `warnings`.
std::vector<std::string> read_ld_so_conf(const FsView& fs, std::string_view conf_path,
                                         std::vector<std::string>* warnings);

// Matches `pattern` (absolute or relative to `base_dir`) against the view,
// fnmatch rules per component; results normalized and sorted.
std::vector<std::string> glob_paths(const FsView& fs, std::string_view base_dir,
                                    std::string_view pattern);

}  // namespace slimage
