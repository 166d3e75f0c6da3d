// ld.so.cache reader (see include/slimage/deps/ld_cache.h). Formats, from
// glibc sysdeps/generic/dl-cache.h:
//   old: "ld.so-1.7.0" (11 bytes, padded to 12), uint32 nlibs, then
//        {int32 flags; uint32 key, value} entries; offsets relative to the
//        string table right after the entries.
//   new: "glibc-ld.so.cache" "1.1", uint32 nlibs, len_strings, uint8 flags
//        (byte order), 3 pad, uint32 extension_offset, 3 unused, then
//        {int32 flags; uint32 key, value; uint32 osversion; uint64 hwcap};
//        offsets relative to the start of the new header.
//   both: the old table, then the new header at the next 8-byte boundary.
// Every read is bounds-checked: a cache inside an image is untrusted.
#include "slimage/deps/ld_cache.h"

#include <cstring>

#include "slimage/util/budget.h"

namespace slimage {

namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";
constexpr size_t kOldHeader = 16, kOldEntry = 12;
constexpr size_t kNewHeader = 48, kNewEntry = 24;

struct Reader {
  std::span<const uint8_t> bytes;
  bool big = false;
  bool has(size_t off, size_t n) const { return off <= bytes.size() && n <= bytes.size() - off; }
  uint64_t get(size_t off, size_t n) const {
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
      uint64_t b = bytes[off + i];
      v |= big ? b << (8 * (n - 1 - i)) : b << (8 * i);
    }
    return v;
  }
  uint32_t u32(size_t off) const { return static_cast<uint32_t>(get(off, 4)); }
  uint64_t u64(size_t off) const { return get(off, 8); }
  // NUL-terminated string at `off`; false if it runs past the end.
  bool str(size_t off, std::string* out) const {
    if (off >= bytes.size()) return false;
    // A name or path longer than PATH_MAX is no library: bounds the copy per entry.
    const void* end = std::memchr(bytes.data() + off, 0, std::min<size_t>(bytes.size() - off, 4096));
    if (!end) return false;
    out->assign(reinterpret_cast<const char*>(bytes.data() + off),
                static_cast<const uint8_t*>(end) - (bytes.data() + off));
    return true;
  }
};

bool starts_with(std::span<const uint8_t> b, size_t off, std::string_view magic) {
  return off <= b.size() && b.size() - off >= magic.size() &&
         std::memcmp(b.data() + off, magic.data(), magic.size()) == 0;
}

}  // namespace

std::optional<LdCache> LdCache::parse(std::span<const uint8_t> bytes, std::string* error) {
  auto bad = [&](const std::string& why) -> std::optional<LdCache> {
    if (error) *error = why;
    return std::nullopt;
  };
  Reader r{bytes};
  size_t new_at = 0;
  LdCache cache;
  if (starts_with(bytes, 0, kOldMagic)) {
    if (!r.has(0, kOldHeader)) return bad("ld.so.cache: truncated header");
    uint64_t nlibs = r.u32(12);
    uint64_t table_end = kOldHeader + nlibs * kOldEntry;
    if (table_end > bytes.size()) return bad("ld.so.cache: entry table past end of file");
    if (nlibs > budget(Budget::CacheEntries))
      return bad(budget_message(Budget::CacheEntries, "ld.so.cache", nlibs));
    new_at = (table_end + 7) & ~uint64_t{7};
    if (!starts_with(bytes, new_at, kNewMagic)) {
      // Old format alone: strings follow the entry table.
      for (uint64_t i = 0; i < nlibs; i++) {
        size_t e = kOldHeader + i * kOldEntry;
        LdCacheEntry entry;
        entry.flags = static_cast<int32_t>(r.u32(e));
        if (!r.str(table_end + r.u32(e + 4), &entry.name) ||
            !r.str(table_end + r.u32(e + 8), &entry.path))
          return bad("ld.so.cache: entry " + std::to_string(i) + ": string past end of file");
        cache.entries_.push_back(std::move(entry));
      }
      return cache;
    }
  } else if (!starts_with(bytes, 0, kNewMagic)) {
    return bad("ld.so.cache: unknown magic");
  }
  if (!r.has(new_at, kNewHeader)) return bad("ld.so.cache: truncated header");
  uint8_t endian = bytes[new_at + 28] & 3;
  if (endian == 1) return bad("ld.so.cache: invalid byte-order flag");
  r.big = endian == 3;
  uint64_t nlibs = r.u32(new_at + 20);
  if (nlibs > (bytes.size() - new_at - kNewHeader) / kNewEntry)
    return bad("ld.so.cache: entry table past end of file");
  if (nlibs > budget(Budget::CacheEntries))
    return bad(budget_message(Budget::CacheEntries, "ld.so.cache", nlibs));
  Reader strings{bytes.subspan(new_at), r.big};
  cache.new_format_ = true;
  cache.entries_.reserve(nlibs);
  for (uint64_t i = 0; i < nlibs; i++) {
    size_t e = new_at + kNewHeader + i * kNewEntry;
    LdCacheEntry entry;
    entry.flags = static_cast<int32_t>(r.u32(e));
    entry.hwcap = r.u64(e + 16);
    if (!strings.str(r.u32(e + 4), &entry.name) || !strings.str(r.u32(e + 8), &entry.path))
      return bad("ld.so.cache: entry " + std::to_string(i) + ": string past end of file");
    cache.entries_.push_back(std::move(entry));
  }
  return cache;
}

std::vector<const LdCacheEntry*> LdCache::lookup(std::string_view name, uint16_t machine,
                                                 uint8_t elf_class, uint32_t e_flags) const {
  std::vector<const LdCacheEntry*> plain, hwcaps;
  for (auto& e : entries_) {
    if (e.name != name || !ld_cache_flags_match(e.flags, machine, elf_class, e_flags)) continue;
    (e.hwcap == 0 ? plain : hwcaps).push_back(&e);
  }
  plain.insert(plain.end(), hwcaps.begin(), hwcaps.end());
  return plain;
}

// FLAG_* from dl-cache.h: low byte the type, next byte the ABI it requires.
// ARM (sysdeps/unix/sysv/linux/arm/dl-cache.h): a hard-float loader takes only
// FLAG_ARM_LIBHF entries, a soft-float one FLAG_ARM_LIBSF or plain libc6 ones;
// the requester's EF_ARM_ABI_FLOAT_HARD says which loader it runs under.
bool ld_cache_flags_match(int32_t flags, uint16_t machine, uint8_t elf_class, uint32_t e_flags) {
  int type = flags & 0xff, required = flags & 0xff00;
  if (type != 0x03) return false;  // FLAG_ELF_LIBC6: every modern glibc object
  bool is64 = elf_class == 2;
  switch (machine) {
    case 0: return true;
    case 62: return required == (is64 ? 0x0300 : 0x0800);  // x86-64, x32
    case 3: return required == 0;                          // i386
    case 183: return required == 0x0a00;                   // AArch64
    case 40:  // ARM
      return (e_flags & 0x400) ? required == 0x0900 : (required == 0x0b00 || required == 0);
    case 21: return required == 0x0500;                    // PPC64
    case 20: return required == 0;                         // PPC
    case 22: return required == (is64 ? 0x0400 : 0);       // S390
    case 43: return required == 0x0100;                    // SPARCv9
    case 2: case 18: return required == 0;                 // SPARC
    case 50: return required == 0x0200;                    // IA-64
    case 8:  // MIPS: n64 / n32 / o32, each with a NaN-2008 variant
      return is64 ? (required == 0x0700 || required == 0x0e00)
                  : (required == 0 || required == 0x0600 || required == 0x0c00 ||
                     required == 0x0d00);
    case 243: return required == 0x0f00 || required == 0x1000;  // RISC-V
    case 258: return required == 0x1100 || required == 0x1200;  // LoongArch
    default: return true;
  }
}

std::string ld_cache_flags_name(int32_t flags) {
  std::string s;
  switch (flags & 0xff) {
    case 0x00: s = "libc4"; break;
    case 0x01: s = "ELF"; break;
    case 0x02: s = "libc5"; break;
    case 0x03: s = "libc6"; break;
    default: s = "unknown";
  }
  switch (flags & 0xff00) {
    case 0x0000: break;
    case 0x0100: case 0x0400: case 0x0500: case 0x0700: s += ",64bit"; break;
    case 0x0200: s += ",IA-64"; break;
    case 0x0300: s += ",x86-64"; break;
    case 0x0600: s += ",N32"; break;
    case 0x0800: s += ",x32"; break;
    case 0x0900: s += ",hard-float"; break;
    case 0x0a00: s += ",AArch64"; break;
    case 0x0b00: s += ",soft-float"; break;
    case 0x0f00: s += ",soft-float"; break;
    case 0x1000: s += ",double-float"; break;
    default: s += ",flags " + std::to_string(flags & 0xff00);
  }
  return s;
}

}  // namespace slimage
