// TarWriter: deterministic POSIX pax-format archives. Every entry gets a ustar
// header with fixed fields (magic "ustar\0" "00", no prefix split, checksum as
// "%06o\0 "); whatever ustar cannot hold exactly (long or non-ASCII names,
// big numbers, sub-second or negative mtimes, xattrs) goes into a PAX 'x'
// header first, records sorted by key. Out-of-range ustar numbers are also
// written base-256 so a reader that ignores PAX still sees the right size.
// Quirk: non-UTF-8 names go into PAX as raw bytes without "hdrcharset=BINARY":
// GNU tar 1.34 warns on that keyword, while Python, libarchive and Go all
// keep undecodable PAX names as bytes anyway.
// Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html
#include <algorithm>
#include <cstring>

#include "slimage/layer/tar.h"
#include "slimage/util/error.h"
#include "tar_format.h"

namespace slimage {

using namespace tar_format;

namespace {

constexpr int64_t kMaxOctal11 = 077777777777;  // 8 GiB - 1
constexpr int64_t kMaxOctal7 = 07777777;

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80 && c != '\0'; });
}

void put_string(char* block, Field f, std::string_view s) {
  std::memcpy(block + f.offset, s.data(), std::min(s.size(), f.width));
}

void put_number(char* block, Field f, int64_t value) {
  format_numeric(block + f.offset, f.width, value);
}

void finish_header(char* block) {
  std::memcpy(block + kMagic.offset, "ustar\0" "00", 8);
  uint64_t sum = checksum_unsigned(block);
  char text[8];
  for (int i = 5; i >= 0; --i) {
    text[i] = static_cast<char>('0' + (sum & 7));
    sum >>= 3;
  }
  text[6] = '\0';
  text[7] = ' ';
  std::memcpy(block + kChecksum.offset, text, 8);
}

char typeflag(TarType t) { return static_cast<char>(t); }

// "PaxHeaders/<basename>", as a reader that ignores PAX would extract it.
std::string pax_header_name(const std::string& path) {
  std::string_view p = path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  size_t slash = p.rfind('/');
  std::string_view base = slash == std::string_view::npos ? p : p.substr(slash + 1);
  std::string name = "PaxHeaders/" + std::string(base);
  name.resize(std::min<size_t>(name.size(), kName.width));
  return name;
}

}  // namespace

TarWriter::TarWriter(Writer& out) : out_(out) {}

void TarWriter::emit(const void* data, size_t n) {
  out_.write(data, n);
  written_ += n;
}

void TarWriter::pad() {
  static const char zeros[kBlock] = {};
  uint64_t rem = current_size_ % kBlock;
  if (rem != 0) emit(zeros, kBlock - rem);
}

void TarWriter::add(const TarEntry& entry) {
  if (pending_ != 0)
    fail("tar writer: " + current_path_ + ": " + std::to_string(pending_) +
         " content bytes missing before the next entry");
  std::string path = entry.path;
  if (entry.type == TarType::Directory && (path.empty() || path.back() != '/')) path += '/';
  const bool regular = entry.type == TarType::Regular;
  const uint64_t size = regular ? entry.size : 0;
  if (size > static_cast<uint64_t>(INT64_MAX)) fail("tar writer: " + path + ": size too large");
  const bool device = entry.type == TarType::CharDevice || entry.type == TarType::BlockDevice;

  std::map<std::string, std::string> pax;
  auto string_field = [&](const char* key, const std::string& value, size_t width) {
    if (value.size() > width || !is_ascii(value)) pax[key] = value;
  };
  string_field("path", path, kName.width);
  string_field("linkpath", entry.link_target, kLinkname.width);
  string_field("uname", entry.uname, kUname.width - 1);
  string_field("gname", entry.gname, kGname.width - 1);
  if (size > static_cast<uint64_t>(kMaxOctal11)) pax["size"] = std::to_string(size);
  if (entry.uid > kMaxOctal7) pax["uid"] = std::to_string(entry.uid);
  if (entry.gid > kMaxOctal7) pax["gid"] = std::to_string(entry.gid);
  if (entry.mtime < 0 || entry.mtime > kMaxOctal11 || entry.mtime_nsec != 0) {
    if (entry.mtime_nsec >= 1000000000u) fail("tar writer: " + path + ": mtime_nsec out of range");
    pax["mtime"] = format_pax_time(entry.mtime, entry.mtime_nsec);
  }
  if (device && entry.dev_major > kMaxOctal7) pax["SCHILY.devmajor"] = std::to_string(entry.dev_major);
  if (device && entry.dev_minor > kMaxOctal7) pax["SCHILY.devminor"] = std::to_string(entry.dev_minor);
  for (const auto& [name, value] : entry.xattrs) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos)
      fail("tar writer: " + path + ": xattr name cannot be stored in PAX");
    pax["SCHILY.xattr." + name] = value;
  }

  // The ustar fields; those PAX overrides are still filled as closely as they fit.
  const int64_t header_mtime = std::clamp<int64_t>(entry.mtime, 0, kMaxOctal11);
  alignas(8) char block[kBlock];
  if (!pax.empty()) {
    std::string records;
    for (const auto& [key, value] : pax) append_pax_record(records, key, value);
    std::memset(block, 0, kBlock);
    put_string(block, kName, pax_header_name(path));
    put_number(block, kMode, 0644);
    put_number(block, kUid, 0);
    put_number(block, kGid, 0);
    put_number(block, kSize, static_cast<int64_t>(records.size()));
    put_number(block, kMtime, header_mtime);
    block[kTypeflag] = 'x';
    finish_header(block);
    emit(block, kBlock);
    emit(records.data(), records.size());
    current_size_ = records.size();
    pad();
  }

  std::memset(block, 0, kBlock);
  put_string(block, kName, path);
  put_number(block, kMode, entry.mode & 07777);
  put_number(block, kUid, entry.uid);
  put_number(block, kGid, entry.gid);
  put_number(block, kSize, static_cast<int64_t>(size));
  put_number(block, kMtime, header_mtime);
  block[kTypeflag] = typeflag(entry.type);
  put_string(block, kLinkname, entry.link_target);
  put_string(block, kUname, entry.uname.substr(0, kUname.width - 1));
  put_string(block, kGname, entry.gname.substr(0, kGname.width - 1));
  if (device) {
    put_number(block, kDevMajor, std::min<int64_t>(entry.dev_major, kMaxOctal7));
    put_number(block, kDevMinor, std::min<int64_t>(entry.dev_minor, kMaxOctal7));
  }
  finish_header(block);
  emit(block, kBlock);

  current_path_ = path;
  current_size_ = size;
  pending_ = size;
}

void TarWriter::write_data(const void* data, size_t n) {
  if (n > pending_)
    fail("tar writer: " + current_path_ + ": " + std::to_string(n - pending_) +
         " bytes more than its size of " + std::to_string(current_size_));
  emit(data, n);
  pending_ -= n;
  if (pending_ == 0 && n > 0) pad();
}

void TarWriter::finish() {
  if (pending_ != 0)
    fail("tar writer: " + current_path_ + ": " + std::to_string(pending_) +
         " content bytes missing at the end");
  static const char zeros[2 * kBlock] = {};
  emit(zeros, sizeof zeros);
  out_.finish();
}

}  // namespace slimage
