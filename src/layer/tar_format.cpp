// Tar header fields and PAX records (see tar_format.h). Quirks handled: numeric
// fields may be octal padded with spaces or NULs on either side, or GNU
// base-256 (first byte 0x80 positive, 0xff negative two's complement); old
// writers computed the header checksum over signed chars, so both sums count.
// Spec: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html
#include "tar_format.h"

#include <cstring>

namespace slimage::tar_format {

std::string_view field_string(const char* block, Field f) {
  const char* p = block + f.offset;
  const void* nul = std::memchr(p, '\0', f.width);
  return {p, nul ? static_cast<size_t>(static_cast<const char*>(nul) - p) : f.width};
}

static bool parse_base256(std::string_view f, int64_t& out) {
  // Bit 6 of the first byte is the sign; bit 7 only marks the encoding.
  const uint8_t inv = (static_cast<uint8_t>(f[0]) & 0x40) ? 0xff : 0x00;
  uint64_t x = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    uint8_t c = static_cast<uint8_t>(f[i]) ^ inv;
    if (i == 0) c &= 0x7f;
    if ((x >> 56) != 0) return false;
    x = (x << 8) | c;
  }
  if ((x >> 63) != 0) return false;
  out = inv ? ~static_cast<int64_t>(x) : static_cast<int64_t>(x);
  return true;
}

bool parse_numeric(std::string_view f, int64_t& out) {
  if (!f.empty() && (static_cast<uint8_t>(f[0]) & 0x80)) return parse_base256(f, out);
  size_t b = 0, e = f.size();
  while (b < e && (f[b] == ' ' || f[b] == '\0')) ++b;
  while (e > b && (f[e - 1] == ' ' || f[e - 1] == '\0')) --e;
  uint64_t x = 0;
  for (size_t i = b; i < e; ++i) {
    if (f[i] < '0' || f[i] > '7') return false;
    if ((x >> 60) != 0) return false;
    x = (x << 3) | static_cast<uint64_t>(f[i] - '0');
  }
  if ((x >> 63) != 0) return false;
  out = static_cast<int64_t>(x);
  return true;
}

bool fits_octal(int64_t value, size_t width) {
  // width-1 digits, then a NUL.
  if (value < 0) return false;
  const size_t digits = width - 1;
  return digits >= 21 || static_cast<uint64_t>(value) < (uint64_t{1} << (3 * digits));
}

void format_numeric(char* out, size_t width, int64_t value) {
  if (fits_octal(value, width)) {
    uint64_t v = static_cast<uint64_t>(value);
    out[width - 1] = '\0';
    for (size_t i = width - 1; i-- > 0;) {
      out[i] = static_cast<char>('0' + (v & 7));
      v >>= 3;
    }
    return;
  }
  uint64_t v = static_cast<uint64_t>(value);
  for (size_t i = width; i-- > 0;) {
    out[i] = static_cast<char>(v & 0xff);
    v = value < 0 ? (v >> 8) | (uint64_t{0xff} << 56) : v >> 8;
  }
  out[0] = static_cast<char>(value < 0 ? 0xff : 0x80);
}

uint64_t checksum_unsigned(const char* block) {
  uint64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= kChecksum.offset && i < kChecksum.offset + kChecksum.width;
    sum += in_field ? ' ' : static_cast<uint8_t>(block[i]);
  }
  return sum;
}

int64_t checksum_signed(const char* block) {
  int64_t sum = 0;
  for (size_t i = 0; i < kBlock; ++i) {
    bool in_field = i >= kChecksum.offset && i < kChecksum.offset + kChecksum.width;
    sum += in_field ? ' ' : static_cast<signed char>(block[i]);
  }
  return sum;
}

std::string parse_pax_records(std::string_view data, std::map<std::string, std::string>& out) {
  size_t pos = 0;
  while (pos < data.size()) {
    // Writers pad the header data with NULs; a NUL where a length starts ends it.
    if (data[pos] == '\0') break;
    size_t len = 0, i = pos;
    while (i < data.size() && data[i] >= '0' && data[i] <= '9') {
      if (len > data.size()) return "record length too large";
      len = len * 10 + static_cast<size_t>(data[i] - '0');
      ++i;
    }
    if (i == pos || i >= data.size() || data[i] != ' ')
      return "malformed record at byte " + std::to_string(pos);
    if (len > data.size() - pos || pos + len <= i + 1)
      return "record length " + std::to_string(len) + " out of range at byte " +
             std::to_string(pos);
    std::string_view rec = data.substr(i + 1, pos + len - (i + 1));
    if (rec.back() != '\n') return "record not newline-terminated at byte " + std::to_string(pos);
    rec.remove_suffix(1);
    size_t eq = rec.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return "record without key at byte " + std::to_string(pos);
    std::string_view key = rec.substr(0, eq), value = rec.substr(eq + 1);
    // Go's archive/tar (validPAXRecord) refuses a NUL in a key, or in the
    // value of a name record: a C string would end there, a Go one would not.
    bool name_record = key == "path" || key == "linkpath" || key == "uname" || key == "gname";
    if (key.find('\0') != std::string_view::npos ||
        (name_record && value.find('\0') != std::string_view::npos))
      return "NUL inside " + std::string(name_record ? key : "key") + " record at byte " +
             std::to_string(pos);
    out[std::string(key)] = std::string(value);
    pos += len;
  }
  return {};
}

void append_pax_record(std::string& out, std::string_view key, std::string_view value) {
  const size_t body = 1 + key.size() + 1 + value.size() + 1;  // ' ' key '=' value '\n'
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) len = std::to_string(len).size() + body;
  out += std::to_string(len);
  out += ' ';
  out += key;
  out += '=';
  out += value;
  out += '\n';
}

bool parse_pax_time(std::string_view text, int64_t& sec, uint32_t& nsec) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 19) return false;
  uint64_t magnitude = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return false;
    magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
  }
  if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
  int64_t s = static_cast<int64_t>(magnitude);
  uint32_t ns = 0;
  for (size_t i = 0; i < frac.size(); ++i) {
    if (frac[i] < '0' || frac[i] > '9') return false;
    if (i < 9) ns = ns * 10 + static_cast<uint32_t>(frac[i] - '0');
  }
  for (size_t i = frac.size(); i < 9; ++i) ns *= 10;
  if (negative) {
    // -1.5 is 1.5 s before the epoch: seconds -2, plus 0.5 s.
    s = -s;
    if (ns != 0) {
      s -= 1;
      ns = 1000000000u - ns;
    }
  }
  sec = s;
  nsec = ns;
  return true;
}

std::string format_pax_time(int64_t sec, uint32_t nsec) {
  std::string out;
  if (sec < 0 && nsec != 0) {
    out = "-" + std::to_string(-(sec + 1));
    nsec = 1000000000u - nsec;
  } else {
    out = std::to_string(sec);
  }
  if (nsec != 0) {
    std::string frac = std::to_string(nsec);
    frac.insert(0, 9 - frac.size(), '0');
    while (frac.back() == '0') frac.pop_back();
    out += '.' + frac;
  }
  return out;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (in.size() - i < 3) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') v = c - 'A';
    else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
    else if (c >= '0' && c <= '9') v = c - '0' + 52;
    else if (c == '+') v = 62;
    else if (c == '/') v = 63;
    else if (c == '=') break;
    else return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

}  // namespace slimage::tar_format
