// library_name_strings: the dlopen heuristic's scan of read-only data for
// NUL-terminated strings containing a library name, lib[A-Za-z0-9_+.-]*\.so(\.[0-9]+)*
// ("libcudnn_ops.so.9", ".../libnvrtc-builtins.so.13.0", "cannot load libfoo.so").
// Quirk: .dynstr also holds such names but they are DT_NEEDED, not dlopen
// arguments, so only alloc, read-only, non-exec PROGBITS sections are read
// (the whole file when there is no section table). One pass: find ".so",
// expand backwards over name characters to "lib", forwards over version
// numbers; each byte is looked at a bounded number of times.
// Spec: gABI section flags, https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.sheader.html
#include <cstring>
#include <unordered_set>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "elf_bytes.h"
#include "slimage/elf/elf.h"

namespace slimage {
namespace {
using namespace elf_detail;

// Longer runs are not library names; bounding the backward walk keeps a
// hostile run of ".so.so.so…" linear (low-disk mode's ElfCopy relies on the bound).
constexpr size_t kMaxNameLength = kLibraryNameMax;

bool is_alnum(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_name_char(uint8_t c) {
  return is_alnum(c) || c == '_' || c == '+' || c == '.' || c == '-';
}
bool is_text(uint8_t c) { return (c >= 0x20 && c < 0x7f) || c == '\t' || c == '\n' || c == '\r'; }

// The next ".so" in [p, end), or null. glibc's memmem manages ~1.5 GB/s on
// rodata; comparing 16 positions at once for '.', 's', 'o' is several times that.
const uint8_t* find_dot_so(const uint8_t* p, const uint8_t* end) {
#if defined(__SSE2__)
  const __m128i dot = _mm_set1_epi8('.'), s = _mm_set1_epi8('s'), o = _mm_set1_epi8('o');
  while (end - p >= 18) {
    __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 1));
    __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 2));
    __m128i hit = _mm_and_si128(_mm_cmpeq_epi8(a, dot),
                                _mm_and_si128(_mm_cmpeq_epi8(b, s), _mm_cmpeq_epi8(c, o)));
    if (int mask = _mm_movemask_epi8(hit)) return p + __builtin_ctz(mask);
    p += 16;
  }
#endif
  if (end - p < 3) return nullptr;
  return static_cast<const uint8_t*>(memmem(p, end - p, ".so", 3));
}

class Scanner {
 public:
  explicit Scanner(std::vector<std::string>* out) : out_(out) {}

  void scan(const uint8_t* begin, const uint8_t* end) {
    text_from_ = text_nul_ = last_binary_ = nullptr;
    const uint8_t* p = begin;
    while (end - p >= 3) {
      const uint8_t* hit = find_dot_so(p, end);
      if (!hit) break;
      p = hit + 3;
      const uint8_t* start = library_start(begin, hit);
      if (!start) continue;
      const uint8_t* stop = hit + 3;
      while (end - stop >= 2 && stop[0] == '.' && is_digit(stop[1])) {
        stop += 2;
        while (stop < end && is_digit(*stop)) ++stop;
      }
      // "libfoo.socket" or "libfoo.so_x" is a different word.
      if (stop < end && (is_alnum(*stop) || *stop == '_')) continue;
      if (!ends_in_c_string(stop, end)) continue;
      std::string name(reinterpret_cast<const char*>(start), stop - start);
      if (seen_.insert(name).second) out_->push_back(std::move(name));
    }
  }

 private:
  // Where "lib" starts in the run of name characters that ends at `dot`
  // (the leftmost "lib" at a word start), or null.
  static const uint8_t* library_start(const uint8_t* begin, const uint8_t* dot) {
    const uint8_t* limit = dot - begin > static_cast<ptrdiff_t>(kMaxNameLength) ? dot - kMaxNameLength : begin;
    const uint8_t* run = dot;
    while (run > limit && is_name_char(run[-1])) --run;
    for (const uint8_t* q = run; dot - q >= 3; ++q) {
      if (q[0] == 'l' && q[1] == 'i' && q[2] == 'b' && (q == run || !is_alnum(q[-1]))) return q;
    }
    return nullptr;
  }

  // True if text characters run from `from` to a NUL before `end`. Caches the
  // last string checked so many hits in one long string cost one pass.
  bool ends_in_c_string(const uint8_t* from, const uint8_t* end) {
    if (!(text_from_ && from >= text_from_ && from <= text_nul_)) {
      text_from_ = from;
      last_binary_ = nullptr;
      const void* nul = std::memchr(from, 0, end - from);
      text_nul_ = nul ? static_cast<const uint8_t*>(nul) : end;
      for (const uint8_t* q = from; q < text_nul_; ++q)
        if (!is_text(*q)) last_binary_ = q;
      if (!nul) last_binary_ = end;  // no terminator: never a C string
    }
    return last_binary_ == nullptr || from > last_binary_;
  }

  std::vector<std::string>* out_;
  std::unordered_set<std::string> seen_;
  const uint8_t* text_from_ = nullptr;
  const uint8_t* text_nul_ = nullptr;
  const uint8_t* last_binary_ = nullptr;
};

// Alloc read-only sections that hold binary payloads, not C strings: GPU
// code (cuBLAS carries ~250 MB of it), unwind tables, notes. Skipping them
// keeps the scan to the strings a dlopen() argument can come from.
bool is_payload_section(const std::string& name) {
  static const char* kPrefixes[] = {".nv_fatbin", ".nvFatBinSegment", "__nv_relfatbin", ".nv.",
                                    ".cask_resource", ".eh_frame", ".gcc_except_table", ".note"};
  for (const char* p : kPrefixes)
    if (name.rfind(p, 0) == 0) return true;
  return false;
}

}  // namespace

std::vector<std::string> library_name_strings(std::span<const uint8_t> bytes, const ElfInfo& info) {
  std::vector<std::string> names;
  Scanner scanner(&names);
  if (info.sections.empty()) {
    scanner.scan(bytes.data(), bytes.data() + bytes.size());
    return names;
  }
  for (const ElfSection& s : info.sections) {
    if (s.type != kShtProgbits || !(s.flags & kShfAlloc) || (s.flags & kShfWrite) ||
        (s.flags & kShfExecinstr) || is_payload_section(s.name))
      continue;
    uint64_t end;
    if (!checked_add(s.offset, s.size, &end) || end > bytes.size()) continue;
    scanner.scan(bytes.data() + s.offset, bytes.data() + end);
  }
  return names;
}

}  // namespace slimage
