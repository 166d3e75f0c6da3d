// The fat binary reader (include/slimage/elf/fatbin.h): finds containers in
// `.nv_fatbin` / `__nv_relfatbin` and where `.nvFatBinSegment` wrappers point,
// parses each with bounds and overflow checks, and never reads outside the
// span it is given (an mmap of the library; nothing is copied).
#include "slimage/elf/fatbin.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "slimage/util/strings.h"

namespace slimage {

namespace {

uint64_t rd(std::span<const uint8_t> b, uint64_t off, unsigned n, bool be) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; ++i) {
    unsigned shift = be ? 8 * (n - 1 - i) : 8 * i;
    v |= uint64_t(b[off + i]) << shift;
  }
  return v;
}

constexpr uint64_t kEntryMin = 64;
constexpr uint64_t kEntryMax = 4096;  // largest header accepted (nvcc writes ≤ 112)

bool is_region_section(const std::string& name) {
  return name == ".nv_fatbin" || name == "__nv_relfatbin";
}

}  // namespace

std::string FatbinEntry::label() const {
  std::string sm_text = std::to_string(sm);
  std::string suffix = arch_specific() ? "a" : family_specific() ? "f" : "";
  if (is_cubin()) return "sm_" + sm_text + suffix + " cubin";
  if (is_ptx()) return "compute_" + sm_text + suffix + " ptx";
  return "sm_" + sm_text + suffix + " kind " + std::to_string(kind);
}

uint64_t FatbinScan::gpu_bytes() const {
  uint64_t n = 0;
  for (auto& c : containers)
    for (auto& e : c.entries) n += e.size();
  return n;
}

bool parse_fatbin_container(std::span<const uint8_t> bytes, uint64_t offset, uint64_t limit,
                            bool be, FatbinContainer& out, std::string* error) {
  limit = std::min<uint64_t>(limit, bytes.size());
  if (offset > limit || limit - offset < 16) {
    *error = "container header past the end of its region";
    return false;
  }
  if (rd(bytes, offset, 4, be) != kFatbinMagic) {
    *error = "no container magic";
    return false;
  }
  uint16_t version = uint16_t(rd(bytes, offset + 4, 2, be));
  uint16_t header_size = uint16_t(rd(bytes, offset + 6, 2, be));
  uint64_t fat_size = rd(bytes, offset + 8, 8, be);
  if (version != 1) {
    *error = "container version " + std::to_string(version) + " (only 1 is known)";
    return false;
  }
  if (header_size < 16 || header_size % 8 || header_size > limit - offset) {
    *error = "container header size " + std::to_string(header_size);
    return false;
  }
  uint64_t body = offset + header_size;
  if (fat_size > limit - body) {
    *error = "container size " + std::to_string(fat_size) + " runs past the end of its region (" +
             std::to_string(limit - body) + " bytes left)";
    return false;
  }
  FatbinContainer c;
  c.offset = offset;
  c.header_size = header_size;
  c.size = header_size + fat_size;
  uint64_t end = body + fat_size, at = body;
  while (at < end) {
    std::string where = "entry " + std::to_string(c.entries.size()) + " at " + hex_offset(at) + ": ";
    if (end - at < kEntryMin) {
      *error = where + "header past the end of the container";
      return false;
    }
    FatbinEntry e;
    e.offset = at;
    e.kind = uint16_t(rd(bytes, at, 2, be));
    e.header_size = uint32_t(rd(bytes, at + 4, 4, be));
    e.payload_size = rd(bytes, at + 8, 8, be);
    e.sm = uint32_t(rd(bytes, at + 28, 4, be));
    e.flags = rd(bytes, at + 40, 8, be);
    e.uncompressed_size = rd(bytes, at + 56, 8, be);
    if (e.header_size < kEntryMin || e.header_size > kEntryMax || e.header_size % 8) {
      *error = where + "header size " + std::to_string(e.header_size);
      return false;
    }
    if (e.header_size > end - at) {
      *error = where + "header past the end of the container";
      return false;
    }
    if (e.payload_size == 0) {
      *error = where + "zero-size payload";
      return false;
    }
    if (e.payload_size > end - at - e.header_size) {
      *error = where + "payload of " + std::to_string(e.payload_size) +
               " bytes runs past the end of the container";
      return false;
    }
    at += e.size();  // strictly forward: a loop cannot occur
    c.entries.push_back(e);
  }
  if (c.entries.empty() && fat_size != 0) {
    *error = "container holds no entry";
    return false;
  }
  out = std::move(c);
  return true;
}

namespace {

// Calls `behind` for [from, at) whenever `at` is 64 MiB past `from`, and for
// the rest at the end of the pass.
class Behind {
 public:
  Behind(const ReadBehind& behind, uint64_t start) : behind_(behind), from_(start) {}
  ~Behind() { flush(last_); }
  void at(uint64_t offset) {
    last_ = std::max(last_, offset);
    if (behind_ && offset >= from_ + kStep) flush(offset);
  }

 private:
  static constexpr uint64_t kStep = uint64_t(64) << 20;
  void flush(uint64_t offset) {
    if (!behind_ || offset <= from_) return;
    behind_(from_, offset - from_);
    from_ = offset;
  }
  const ReadBehind& behind_;
  uint64_t from_, last_ = 0;
};

}  // namespace

bool parse_fatbin_region(std::span<const uint8_t> bytes, uint64_t begin, uint64_t end, bool be,
                         const std::string& section, std::vector<FatbinContainer>& out,
                         std::string* error, const ReadBehind& behind) {
  end = std::min<uint64_t>(end, bytes.size());
  uint64_t at = begin;
  Behind done(behind, begin);
  while (at < end) {
    done.at(at);
    if (bytes[at] == 0) {  // padding after a (shrunk) container
      uint64_t word = 0;
      if (end - at >= 8 && (std::memcpy(&word, bytes.data() + at, 8), word == 0))
        at += 8;
      else
        ++at;
      continue;
    }
    FatbinContainer c;
    std::string why;
    if (end - at < 4 || rd(bytes, at, 4, be) != kFatbinMagic) {
      *error = "section " + section + " offset " + hex_offset(at - begin) + ": unexpected bytes (no container magic)";
      return false;
    }
    if (!parse_fatbin_container(bytes, at, end, be, c, &why)) {
      *error = "section " + section + " offset " + hex_offset(at - begin) + ": " + why;
      return false;
    }
    c.section = section;
    at += c.size;
    out.push_back(std::move(c));
  }
  return true;
}

FatbinScan scan_fatbins(std::span<const uint8_t> bytes, const ElfInfo& info, bool find_strays,
                        const ReadBehind& behind) {
  FatbinScan scan;
  bool be = info.data == 2;
  std::vector<std::pair<uint64_t, uint64_t>> owned;  // regions parsed
  for (auto& s : info.sections) {
    if (!is_region_section(s.name) || s.type == 8 /* NOBITS */) continue;
    if (s.offset > bytes.size() || s.size > bytes.size() - s.offset) {
      scan.errors.push_back("section " + s.name + ": past the end of the file");
      continue;
    }
    std::string error;
    if (!parse_fatbin_region(bytes, s.offset, s.offset + s.size, be, s.name, scan.containers, &error, behind))
      scan.errors.push_back(error);
    owned.push_back({s.offset, s.offset + s.size});
  }
  std::set<uint64_t> starts;
  for (auto& c : scan.containers) starts.insert(c.offset);
  // Wrappers: { u32 magic, u32 version, ptr data, ptr filename } per registered module.
  unsigned ptr = info.elf_class == 1 ? 4 : 8;
  for (auto& s : info.sections) {
    if (s.name != ".nvFatBinSegment" || s.type == 8) continue;
    if (s.offset > bytes.size() || s.size > bytes.size() - s.offset) continue;
    uint64_t rec = 8 + 2 * ptr;
    for (uint64_t at = s.offset; at + rec <= s.offset + s.size; at += rec) {
      if (rd(bytes, at, 4, be) != kFatbinWrapperMagic) continue;
      uint64_t va = rd(bytes, at + 8, ptr, be);
      if (va == 0) continue;  // filled by a relocation at load time
      const ElfSection* target = nullptr;
      for (auto& t : info.sections)
        if (t.type != 8 && (t.flags & 2) && va >= t.addr && va - t.addr < t.size) target = &t;
      if (!target) continue;
      uint64_t off = target->offset + (va - target->addr);
      if (starts.count(off)) continue;
      bool inside_owned = false;
      for (auto& [b, e] : owned) inside_owned |= off >= b && off < e;
      if (inside_owned) {
        // Fine only if it points into padding or the region already failed to parse.
        continue;
      }
      FatbinContainer c;
      std::string why;
      uint64_t limit = std::min<uint64_t>(target->offset + target->size, bytes.size());
      if (off >= limit || off + 4 > limit || rd(bytes, off, 4, be) != kFatbinMagic) continue;  // a wrapper for another format
      if (!parse_fatbin_container(bytes, off, limit, be, c, &why)) {
        scan.errors.push_back("section " + target->name + " offset " + hex_offset(off - target->offset) +
                              " (from .nvFatBinSegment): " + why);
        continue;
      }
      c.section = target->name;
      owned.push_back({c.offset, c.offset + c.size});
      starts.insert(c.offset);
      scan.containers.push_back(std::move(c));
    }
  }
  std::sort(scan.containers.begin(), scan.containers.end(),
            [](const FatbinContainer& a, const FatbinContainer& b) { return a.offset < b.offset; });
  if (find_strays) {
    std::sort(owned.begin(), owned.end());
    uint8_t m[4];
    for (int i = 0; i < 4; ++i) m[i] = uint8_t(kFatbinMagic >> (be ? 24 - 8 * i : 8 * i));
    size_t o = 0;
    Behind done(behind, 0);
    for (uint64_t at = 0; at + 16 <= bytes.size(); at += 8) {
      done.at(at);
      while (o < owned.size() && owned[o].second <= at) ++o;
      if (o < owned.size() && at >= owned[o].first) {
        at = (owned[o].second + 7) / 8 * 8 - 8;
        continue;
      }
      if (std::memcmp(bytes.data() + at, m, 4) == 0) scan.stray_magics.push_back(at);
    }
    for (uint64_t at : scan.stray_magics) {
      std::string where = "(no section)";
      for (auto& s : info.sections)
        if (s.type != 8 && at >= s.offset && at - s.offset < s.size) where = s.name;
      scan.stray_by_section[where]++;
    }
  }
  return scan;
}

}  // namespace slimage
