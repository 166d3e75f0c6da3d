// TarReader: the one bounds-checked parser of layer tars (ustar, POSIX PAX 'x'
// and 'g' headers, GNU 'L'/'K' long names, old-GNU and star headers, base-256
// numbers). Quirks handled: which fields wins follows Go's archive/tar (what
// Docker and containerd use): PAX over GNU long name over prefix+name; types
// 1-6 carry no content whatever their size field says; '\0' is a regular
// file; other types, '7' included, are errors (containerd refuses them); global PAX
// headers apply to nothing; an end-of-archive may be two zero blocks, one
// followed by EOF, or a clean EOF — a header after a lone zero block is corrupt.
// Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html
#include <algorithm>
#include <cstring>

#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "tar_format.h"

namespace slimage {

using namespace tar_format;

namespace {

uint64_t padding_for(uint64_t size) { return (kBlock - size % kBlock) % kBlock; }

// Paths may hold any byte; keep messages on one readable line.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 200)) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

bool all_zero(const char* block) {
  for (size_t i = 0; i < kBlock; ++i)
    if (block[i] != 0) return false;
  return true;
}

bool parse_decimal(std::string_view s, uint64_t max, uint64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (v > (max - static_cast<uint64_t>(c - '0')) / 10) return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  out = v;
  return true;
}

// Later records replace earlier ones; an empty value deletes the key.
void merge_pax(std::map<std::string, std::string>& into,
               const std::map<std::string, std::string>& records) {
  for (const auto& [key, value] : records) {
    if (value.empty()) into.erase(key);
    else into[key] = value;
  }
}

// 'V' or 0x01: the flag as a character where printable, else in hex.
std::string type_flag_name(char type) {
  auto u = static_cast<unsigned char>(type);
  if (u >= 0x21 && u < 0x7f) return std::string("'") + type + "'";
  static const char* hex = "0123456789abcdef";
  return std::string("0x") + hex[u >> 4] + hex[u & 15];
}

}  // namespace

TarReader::TarReader(Reader& in, TarLimits limits) : in_(in), limits_(limits) {}

void TarReader::fail_at(uint64_t offset, const std::string& what) const {
  std::string where;
  if (remaining_ > 0 || padding_ > 0)
    where = " (in entry " + std::to_string(index_) + " '" + printable(current_path_) + "')";
  else if (index_ > 0)
    where = " (after entry " + std::to_string(index_) + " '" + printable(current_path_) + "')";
  fail(what + " at offset " + std::to_string(offset) + where);
}

bool TarReader::read_block(char* block) {
  size_t got = 0;
  while (got < kBlock) {
    size_t k = in_.read(block + got, kBlock - got);
    if (k == 0) break;
    got += k;
  }
  if (got == 0) return false;
  offset_ += got;
  if (got < kBlock) fail_at(offset_, "truncated tar");
  return true;
}

std::string TarReader::read_extension(uint64_t size, uint64_t limit, const char* what) {
  if (size > limit)
    fail_at(offset_, std::string(what) + " of " + std::to_string(size) +
                         " bytes exceeds limit of " + std::to_string(limit) + " bytes");
  std::string data(size, '\0');
  size_t got = 0;
  while (got < size) {
    size_t k = in_.read(data.data() + got, size - got);
    if (k == 0) fail_at(offset_, "truncated tar");
    got += k;
    offset_ += k;
  }
  uint64_t pad = padding_for(size);
  uint64_t skipped = skip_stream(in_, pad);
  offset_ += skipped;
  if (skipped < pad) fail_at(offset_, "truncated tar");
  return data;
}

void TarReader::skip_rest() {
  uint64_t want = remaining_ + padding_;
  if (want == 0) return;
  uint64_t skipped = skip_stream(in_, want);
  offset_ += skipped;
  if (skipped < want) fail_at(offset_, "truncated tar");
  remaining_ = padding_ = 0;
}

size_t TarReader::read_data(void* buf, size_t n) {
  if (remaining_ == 0 || n == 0) return 0;
  size_t k = in_.read(buf, static_cast<size_t>(std::min<uint64_t>(n, remaining_)));
  if (k == 0) fail_at(offset_, "truncated tar");
  offset_ += k;
  remaining_ -= k;
  return k;
}

bool TarReader::next(TarEntry& entry) {
  skip_rest();
  if (ended_) return false;
  std::map<std::string, std::string> local_pax;
  std::string long_name, long_link;
  bool have_long_name = false, have_long_link = false, pending = false;
  uint64_t first_header = offset_;
  alignas(8) char block[kBlock];
  for (;;) {
    const uint64_t header_offset = offset_;
    if (!pending) first_header = header_offset;
    if (!read_block(block)) {
      if (pending) fail_at(offset_, "truncated tar");
      ended_ = true;
      return false;
    }
    if (all_zero(block)) {
      if (pending) fail_at(header_offset, "extension header followed by end of archive");
      // The second zero block is customary, not required (EOF after one is
      // fine); a header after a lone zero block is corrupt, as Go's
      // archive/tar (reader.go readHeader) and so containerd read it.
      if (read_block(block) && !all_zero(block))
        fail_at(header_offset + kBlock, "header after a lone zero block (corrupt archive)");
      ended_ = true;
      return false;
    }
    int64_t stored_sum = 0;
    if (!parse_numeric(field(block, kChecksum), stored_sum))
      fail_at(header_offset, "invalid header checksum field");
    if (static_cast<uint64_t>(stored_sum) != checksum_unsigned(block) &&
        stored_sum != checksum_signed(block))
      fail_at(header_offset, "bad header checksum");
    int64_t size = 0;
    if (!parse_numeric(field(block, kSize), size) || size < 0)
      fail_at(header_offset, "invalid size field");
    const char type = block[kTypeflag];
    const auto usize = static_cast<uint64_t>(size);
    if (type == 'x' || type == 'g') {
      std::map<std::string, std::string> records;
      std::string data = read_extension(usize, limits_.max_pax_header, "PAX header");
      std::string problem = parse_pax_records(data, records);
      if (!problem.empty()) fail_at(header_offset, "PAX header: " + problem);
      if (type == 'g') {
        // Go's archive/tar returns a global header as an entry of its own
        // and applies its records to no later entry; containerd ignores it
        // (pkg/archive/tar.go createTarFile, TypeXGlobalHeader). So do we:
        // a global 'path' must not rename the files after it.
        saw_global_header_ = true;
      } else {
        for (auto& [k, v] : records) local_pax[k] = std::move(v);
        pending = true;
      }
      continue;
    }
    if (type == 'L' || type == 'K') {
      std::string data = read_extension(usize, limits_.max_path, "GNU long name");
      data.resize(std::strlen(data.c_str()));  // NUL-terminated within its size
      (type == 'L' ? long_name : long_link) = std::move(data);
      (type == 'L' ? have_long_name : have_long_link) = true;
      pending = true;
      continue;
    }
    if (type == 'S') fail_at(header_offset, "GNU sparse entries are not supported");

    std::map<std::string, std::string> pax;
    merge_pax(pax, local_pax);
    // Any GNU sparse record (formats 0.0, 0.1, 1.0): Go's reader would expand
    // the holes; reading such an entry as a plain file would be wrong.
    if (std::any_of(pax.begin(), pax.end(), [](const auto& kv) { return kv.first.starts_with("GNU.sparse."); }))
      fail_at(header_offset, "GNU sparse entries are not supported");

    TarEntry e;
    e.header_offset = first_header;
    const std::string_view magic = field(block, kMagic);
    const bool posix = magic == std::string_view("ustar\0", 6);
    const std::string_view name = field_string(block, kName);
    e.path.assign(name);
    if (posix) {
      const bool star = field(block, kStarTrailer) == std::string_view("tar\0", 4);
      std::string_view prefix = field_string(block, star ? kStarPrefix : kPrefix);
      if (!prefix.empty()) e.path = std::string(prefix) + "/" + std::string(name);
    }
    if (have_long_name) e.path = long_name;
    e.link_target.assign(field_string(block, kLinkname));
    if (have_long_link) e.link_target = long_link;
    e.uname = field_string(block, kUname);
    e.gname = field_string(block, kGname);

    int64_t mode = 0, uid = 0, gid = 0, mtime = 0;
    if (!parse_numeric(field(block, kMode), mode)) fail_at(header_offset, "invalid mode field");
    if (!parse_numeric(field(block, kUid), uid)) fail_at(header_offset, "invalid uid field");
    if (!parse_numeric(field(block, kGid), gid)) fail_at(header_offset, "invalid gid field");
    if (!parse_numeric(field(block, kMtime), mtime)) fail_at(header_offset, "invalid mtime field");
    e.mode = static_cast<uint32_t>(mode & 07777);
    e.mtime = mtime;

    uint64_t number = 0;
    auto pax_number = [&](const char* key, uint64_t max, uint64_t& out) {
      auto it = pax.find(key);
      if (it == pax.end()) return false;
      if (!parse_decimal(it->second, max, out))
        fail_at(header_offset, std::string("invalid PAX ") + key + " '" + printable(it->second) + "'");
      return true;
    };
    if (pax_number("uid", UINT32_MAX, number)) uid = static_cast<int64_t>(number);
    if (pax_number("gid", UINT32_MAX, number)) gid = static_cast<int64_t>(number);
    if (pax_number("size", INT64_MAX, number)) size = static_cast<int64_t>(number);
    if (uid < 0 || uid > UINT32_MAX) fail_at(header_offset, "uid out of range");
    if (gid < 0 || gid > UINT32_MAX) fail_at(header_offset, "gid out of range");
    e.uid = static_cast<uint32_t>(uid);
    e.gid = static_cast<uint32_t>(gid);
    if (auto it = pax.find("mtime"); it != pax.end() &&
                                     !parse_pax_time(it->second, e.mtime, e.mtime_nsec))
      fail_at(header_offset, "invalid PAX mtime '" + printable(it->second) + "'");
    if (auto it = pax.find("path"); it != pax.end()) e.path = it->second;
    if (auto it = pax.find("linkpath"); it != pax.end()) e.link_target = it->second;
    if (auto it = pax.find("uname"); it != pax.end()) e.uname = it->second;
    if (auto it = pax.find("gname"); it != pax.end()) e.gname = it->second;
    if (e.path.size() > limits_.max_path || e.link_target.size() > limits_.max_path)
      fail_at(header_offset, "path longer than limit of " + std::to_string(limits_.max_path) +
                                 " bytes");

    for (const auto& [key, value] : pax) {
      static constexpr std::string_view kSchily = "SCHILY.xattr.";
      static constexpr std::string_view kLibarchive = "LIBARCHIVE.xattr.";
      if (key.starts_with(kSchily)) {
        // containerd would setxattr(2) an empty name and fail the layer.
        if (key.size() == kSchily.size())
          fail_at(header_offset, "PAX record " + key + " names no xattr");
        e.xattrs[key.substr(kSchily.size())] = value;
      } else if (key.starts_with(kLibarchive)) {
        // Go's archive/tar maps only SCHILY.xattr.* to xattrs, and containerd
        // and umoci apply only those: the image never had this one at run
        // time, so it is not carried (an upgrade to SCHILY form would grant
        // e.g. a capability the original never had).
        std::string xname, xvalue;
        if (!percent_decode(std::string_view(key).substr(kLibarchive.size()), xname) ||
            !base64_decode(value, xvalue))
          fail_at(header_offset, "malformed PAX record " + printable(key));
        e.ignored_xattrs.push_back(printable(xname));
      }
    }

    bool has_content = true;
    switch (type) {
      case '0': case '\0': e.type = TarType::Regular; break;
      case '1': e.type = TarType::Hardlink; has_content = false; break;
      case '2': e.type = TarType::Symlink; has_content = false; break;
      case '3': e.type = TarType::CharDevice; has_content = false; break;
      case '4': e.type = TarType::BlockDevice; has_content = false; break;
      case '5': e.type = TarType::Directory; has_content = false; break;
      case '6': e.type = TarType::Fifo; has_content = false; break;
      default:
        // containerd's createTarFile fails on any other type ("unhandled tar
        // header type"), and Docker refuses the layer: so do we, rather than
        // drop the entry without a word. '7' (contiguous file) among them: Go's
        // reader returns it as TypeCont, which createTarFile has no case for.
        fail_at(header_offset, "entry '" + printable(e.path) + "' has type flag " +
                                   type_flag_name(type) + ", which containerd and Docker refuse to apply,");
    }
    if (e.type == TarType::CharDevice || e.type == TarType::BlockDevice) {
      int64_t major = 0, minor = 0;
      if (!parse_numeric(field(block, kDevMajor), major) ||
          !parse_numeric(field(block, kDevMinor), minor) || major < 0 || minor < 0 ||
          major > UINT32_MAX || minor > UINT32_MAX)
        fail_at(header_offset, "invalid device number field");
      if (pax_number("SCHILY.devmajor", UINT32_MAX, number)) major = static_cast<int64_t>(number);
      if (pax_number("SCHILY.devminor", UINT32_MAX, number)) minor = static_cast<int64_t>(number);
      e.dev_major = static_cast<uint32_t>(major);
      e.dev_minor = static_cast<uint32_t>(minor);
    }
    e.size = has_content ? static_cast<uint64_t>(size) : 0;
    e.data_offset = offset_;
    remaining_ = e.size;
    padding_ = padding_for(e.size);
    ++index_;
    current_path_ = e.path;
    entry = std::move(e);
    return true;
  }
}

}  // namespace slimage
