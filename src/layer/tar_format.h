// Internal to src/layer: the ustar header block layout and the PAX extended
// header record codec shared by TarReader and TarWriter.
// ustar: https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
// PAX records: "<len> <key>=<value>\n", where <len> counts the whole record,
// its own digits included, and values are arbitrary bytes (SCHILY.xattr.*).
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace slimage::tar_format {

inline constexpr size_t kBlock = 512;

// Field offsets and widths within a header block.
struct Field {
  size_t offset, width;
};
inline constexpr Field kName{0, 100};
inline constexpr Field kMode{100, 8};
inline constexpr Field kUid{108, 8};
inline constexpr Field kGid{116, 8};
inline constexpr Field kSize{124, 12};
inline constexpr Field kMtime{136, 12};
inline constexpr Field kChecksum{148, 8};
inline constexpr size_t kTypeflag = 156;
inline constexpr Field kLinkname{157, 100};
inline constexpr Field kMagic{257, 6};
inline constexpr Field kVersion{263, 2};
inline constexpr Field kUname{265, 32};
inline constexpr Field kGname{297, 32};
inline constexpr Field kDevMajor{329, 8};
inline constexpr Field kDevMinor{337, 8};
inline constexpr Field kPrefix{345, 155};
// star (Schily) shortens the prefix to 130 bytes and marks it with "tar\0" at 508.
inline constexpr Field kStarPrefix{345, 130};
inline constexpr Field kStarTrailer{508, 4};

inline std::string_view field(const char* block, Field f) {
  return {block + f.offset, f.width};
}
// A NUL-terminated (or full-width) string field.
std::string_view field_string(const char* block, Field f);

// Numeric fields: octal text or GNU base-256 (high bit of the first byte set).
// Returns false if the field is malformed or out of int64 range.
bool parse_numeric(std::string_view field, int64_t& out);
// Writes `value` as zero-padded octal with a trailing NUL if it fits,
// else as base-256 (which every reader we target accepts).
void format_numeric(char* out, size_t width, int64_t value);
bool fits_octal(int64_t value, size_t width);

// Sum of header bytes with the checksum field read as spaces.
uint64_t checksum_unsigned(const char* block);
int64_t checksum_signed(const char* block);

// Parses PAX records into `out` (later keys replace earlier ones). Returns an
// empty string on success, else what is wrong.
std::string parse_pax_records(std::string_view data, std::map<std::string, std::string>& out);
// Appends one record with its self-inclusive length prefix.
void append_pax_record(std::string& out, std::string_view key, std::string_view value);

// Parses PAX time "[-]sec[.frac]" (fraction truncated to ns). Returns false if malformed.
bool parse_pax_time(std::string_view text, int64_t& sec, uint32_t& nsec);
std::string format_pax_time(int64_t sec, uint32_t nsec);

// LIBARCHIVE.xattr.* names are %-encoded and values base64; false if malformed.
bool percent_decode(std::string_view in, std::string& out);
bool base64_decode(std::string_view in, std::string& out);

}  // namespace slimage::tar_format
