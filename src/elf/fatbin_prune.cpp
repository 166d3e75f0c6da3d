// GPU architecture pruning (include/slimage/elf/fatbin_prune.h): parsing
// --cuda-arch / --cuda-ptx, the driver's selection rule, the per-container
// keep decision and the patches that pack kept entries to the front.
#include "slimage/elf/fatbin_prune.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "slimage/util/error.h"
#include "slimage/util/strings.h"

namespace slimage {

const char* const kCudaArchForms =
    "sm_XY (sm_90), sm_XYa or sm_XYf (sm_90a, sm_100f: the same GPU as sm_XY), "
    "X.Y (9.0), XY (90); several separated by commas";

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(uint8_t(c)); });
}

std::optional<CudaTarget> parse_one(std::string s) {
  CudaTarget t;
  if (s.starts_with("sm_")) {
    s = s.substr(3);
    if (!s.empty() && (s.back() == 'a' || s.back() == 'f')) {
      t.variant = s.back();
      s.pop_back();
    }
  } else if (auto dot = s.find('.'); dot != std::string::npos) {
    std::string major = s.substr(0, dot), minor = s.substr(dot + 1);
    if (!all_digits(major) || major.size() > 2 || !all_digits(minor) || minor.size() != 1) return std::nullopt;
    s = major + minor;
  }
  if (!all_digits(s) || s.size() < 2 || s.size() > 3 || s[0] == '0') return std::nullopt;
  t.sm = uint32_t(std::stoul(s));
  return t;
}

uint32_t major_of(uint32_t sm) { return sm / 10; }
uint32_t minor_of(uint32_t sm) { return sm % 10; }
bool same_family_at_or_above(uint32_t code, uint32_t gpu) {
  return major_of(code) == major_of(gpu) && minor_of(code) <= minor_of(gpu);
}

void put_le(std::string& s, size_t at, uint64_t v, unsigned n, bool be) {
  for (unsigned i = 0; i < n; ++i) s[at + i] = char(v >> (be ? 8 * (n - 1 - i) : 8 * i));
}

}  // namespace

std::string CudaTarget::name() const {
  return "sm_" + std::to_string(sm) + (variant ? std::string(1, variant) : "");
}

std::string GpuSelection::describe() const {
  std::string s;
  for (auto& t : targets) s += (s.empty() ? "" : ",") + t.name();
  return s + " ptx=" + ptx_policy_name(ptx);
}

std::vector<CudaTarget> parse_cuda_archs(const std::string& list) {
  std::vector<CudaTarget> out;
  std::string item;
  auto flush = [&] {
    if (item.empty()) return;
    auto t = parse_one(item);
    if (!t) fail("--cuda-arch: '" + item + "' is not a GPU; accepted: " + kCudaArchForms);
    if (std::find(out.begin(), out.end(), *t) == out.end()) out.push_back(*t);
    item.clear();
  };
  for (char c : list) {
    if (c == ',' || c == ' ') flush();
    else item += char(std::tolower(uint8_t(c)));
  }
  flush();
  if (out.empty()) fail(std::string("--cuda-arch: empty list; accepted: ") + kCudaArchForms);
  return out;
}

PtxPolicy parse_cuda_ptx(const std::string& text) {
  if (text == "newest") return PtxPolicy::Newest;
  if (text == "none") return PtxPolicy::None;
  if (text == "all") return PtxPolicy::All;
  fail("--cuda-ptx: '" + text + "': expected newest, none or all");
}

const char* ptx_policy_name(PtxPolicy policy) {
  switch (policy) {
    case PtxPolicy::Newest: return "newest";
    case PtxPolicy::None: return "none";
    case PtxPolicy::All: return "all";
  }
  return "?";
}

bool runs_on(const FatbinEntry& e, uint32_t gpu) {
  if (e.is_cubin()) {
    if (e.arch_specific()) return e.sm == gpu;
    return same_family_at_or_above(e.sm, gpu);
  }
  if (e.is_ptx()) {
    if (e.arch_specific()) return e.sm == gpu;
    if (e.family_specific()) return same_family_at_or_above(e.sm, gpu);
    return e.sm <= gpu;
  }
  return false;
}

FatbinPrune plan_fatbin_prune(std::span<const uint8_t> bytes, const FatbinScan& scan,
                              const GpuSelection& sel) {
  FatbinPrune r;
  r.containers = scan.containers.size();
  for (auto& [section, n] : scan.stray_by_section)
    r.notes.push_back(std::to_string(n) + " container magic(s) in " + section +
                      ", outside any fat binary section: not rewritten");
  std::map<std::string, std::pair<uint64_t, uint64_t>> whole;  // reason -> count, first offset
  uint32_t highest = 0;
  for (auto& g : sel.targets) highest = std::max(highest, g.sm);
  for (size_t ci = 0; ci < scan.containers.size(); ++ci) {
    const FatbinContainer& c = scan.containers[ci];
    const auto& es = c.entries;
    std::vector<char> keep(es.size(), 0);
    std::vector<std::string> why(es.size());
    for (size_t i = 0; i < es.size(); ++i)
      if (!es[i].is_cubin() && !es[i].is_ptx()) keep[i] = 1, why[i] = "not GPU machine code: kept as is";
    for (auto& g : sel.targets) {
      // Every cubin the GPU loads stays, arch- and family-specific ones too:
      // with sm_90 and sm_90a in one container an H100's driver runs sm_90a
      // (scripts/gpu-check.sh), and code built for both often has a stub in
      // the plain one.
      bool has_cubin = false;
      for (size_t i = 0; i < es.size(); ++i)
        if (es[i].is_cubin() && runs_on(es[i], g.sm)) {
          keep[i] = 1, has_cubin = true;
          if (why[i].empty()) why[i] = g.name() + " loads it";
        }
      if (has_cubin) continue;
      int best = -1;
      for (size_t i = 0; i < es.size(); ++i)
        if (es[i].is_ptx() && runs_on(es[i], g.sm)) best = std::max<int>(best, int(es[i].sm));
      for (size_t i = 0; i < es.size(); ++i)
        if (best >= 0 && es[i].is_ptx() && int(es[i].sm) == best && runs_on(es[i], g.sm)) {
          keep[i] = 1;
          if (why[i].empty()) why[i] = g.name() + " has no cubin here: JIT from the newest PTX at or below it";
        }
    }
    if (sel.ptx != PtxPolicy::None) {
      int best = -1;
      for (auto& e : es)
        if (e.is_ptx() && !e.arch_specific() && !e.family_specific() && e.sm <= highest)
          best = std::max<int>(best, int(e.sm));
      for (size_t i = 0; i < es.size(); ++i) {
        if (!es[i].is_ptx()) continue;
        bool newest = !es[i].arch_specific() && !es[i].family_specific() && int(es[i].sm) == best;
        if (sel.ptx == PtxPolicy::All || newest) {
          keep[i] = 1;
          if (why[i].empty())
            why[i] = sel.ptx == PtxPolicy::All ? "--cuda-ptx all"
                                               : "--cuda-ptx newest: newest PTX at or below the highest listed GPU";
        }
      }
    }
    // Guard: every listed GPU that ran something here still does.
    std::string lost;
    for (auto& g : sel.targets) {
      bool before = false, after = false;
      for (size_t i = 0; i < es.size(); ++i) {
        bool runs = runs_on(es[i], g.sm);
        before |= runs;
        after |= runs && keep[i];
      }
      if (before && !after) lost += (lost.empty() ? "" : ", ") + g.name();
    }
    std::string whole_reason;
    if (!lost.empty())
      whole_reason = "only code the listing excludes runs on " + lost;
    // Alignment: each kept entry keeps its offset modulo 8.
    uint64_t cursor = c.offset + c.header_size;
    if (whole_reason.empty())
      for (size_t i = 0; i < es.size(); ++i) {
        if (!keep[i]) continue;
        if ((cursor - es[i].offset) % 8) {
          whole_reason = "entry alignment would change";
          break;
        }
        cursor += es[i].size();
      }
    if (!whole_reason.empty()) {
      std::fill(keep.begin(), keep.end(), 1);
      r.left_whole++;
      auto& w = whole[c.section + ") left whole: " + whole_reason];
      if (w.first++ == 0) w.second = c.offset;
      for (auto& w : why) w = "container left whole: " + whole_reason;
    }
    bool changed = false;
    for (size_t i = 0; i < es.size(); ++i) {
      auto& b = r.by_label[es[i].label()];
      b.before += es[i].size();
      r.before += es[i].size();
      if (keep[i]) {
        b.after += es[i].size();
        r.after += es[i].size();
        r.why["kept " + es[i].label() + ": " + why[i]]++;
      } else {
        changed = true;
        r.why["removed " + es[i].label() + ": no listed GPU " +
              (es[i].is_cubin() ? "loads it" : "needs this PTX") + " (" + sel.describe() + ")"]++;
      }
    }
    if (changed) {
      r.changed++;
      FilePatch p;
      p.offset = c.offset;
      p.length = c.size;
      // Header bytes with the new fat size, in the order the magic was read.
      std::string header(reinterpret_cast<const char*>(bytes.data() + c.offset), c.header_size);
      bool be = uint8_t(header[0]) == 0xBA;  // the magic as stored gives the byte order
      uint64_t fat = 0;
      for (size_t i = 0; i < es.size(); ++i) fat += keep[i] ? es[i].size() : 0;
      put_le(header, 8, fat, 8, be);
      p.pieces.push_back({PatchPiece::Kind::Bytes, 0, header.size(), header});
      uint64_t written = header.size();
      for (size_t i = 0; i < es.size(); ++i) {
        if (!keep[i]) continue;
        auto& last = p.pieces.back();
        if (last.kind == PatchPiece::Kind::Input && last.offset + last.length == es[i].offset)
          last.length += es[i].size();  // neighbours stay one piece
        else
          p.pieces.push_back({PatchPiece::Kind::Input, es[i].offset, es[i].size(), {}});
        written += es[i].size();
      }
      if (written < c.size) p.pieces.push_back({PatchPiece::Kind::Zeros, 0, c.size - written, {}});
      r.patches.push_back(std::move(p));
    }
    r.keep.push_back(std::move(keep));
  }
  for (auto& [reason, w] : whole)
    r.notes.push_back(w.first == 1 ? "container at " + hex_offset(w.second) + " (" + reason
                                   : std::to_string(w.first) + " containers (first at " + hex_offset(w.second) +
                                         ", " + reason);
  return r;
}

void write_patched_range(std::span<const uint8_t> bytes, uint64_t begin, uint64_t end,
                         const std::vector<FilePatch>& patches, Writer& out) {
  auto it = std::lower_bound(patches.begin(), patches.end(), begin,
                             [](const FilePatch& p, uint64_t off) { return p.offset < off; });
  uint64_t at = begin;
  static const char zeros[65536] = {};
  for (; it != patches.end() && it->offset < end; ++it) {
    if (it->offset + it->length > end)
      fail("fat binary patch at " + hex_offset(it->offset) + " crosses the end of a written range");
    if (it->offset > at) out.write(bytes.data() + at, it->offset - at);
    for (auto& piece : it->pieces) {
      switch (piece.kind) {
        case PatchPiece::Kind::Input: out.write(bytes.data() + piece.offset, piece.length); break;
        case PatchPiece::Kind::Bytes: out.write(piece.bytes.data(), piece.bytes.size()); break;
        case PatchPiece::Kind::Zeros:
          for (uint64_t left = piece.length; left;) {
            size_t n = size_t(std::min<uint64_t>(left, sizeof zeros));
            out.write(zeros, n);
            left -= n;
          }
          break;
      }
    }
    at = it->offset + it->length;
  }
  if (end > at) out.write(bytes.data() + at, end - at);
}

void write_stripped_patched(std::span<const uint8_t> bytes, const StripResult* result,
                            const std::vector<FilePatch>& patches, Writer& out) {
  if (!result) {
    write_patched_range(bytes, 0, bytes.size(), patches, out);
    return;
  }
  for (auto& piece : result->pieces) {
    if (!piece.bytes.empty())
      out.write(piece.bytes.data(), piece.bytes.size());
    else
      write_patched_range(bytes, piece.offset, piece.offset + piece.length, patches, out);
  }
}

}  // namespace slimage
