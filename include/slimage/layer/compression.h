// Layer codecs: gzip (RFC 1952), zstd (RFC 8878) or none. Decoders stream;
// encoders compress in parallel and deterministically: gzip output is a
// sequence of independent members of fixed-size input chunks (valid gzip,
// as pigz writes; no name, mtime 0, OS 255), zstd uses libzstd's
// multi-threaded mode, whose output does not depend on the thread count.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "slimage/util/io.h"

namespace slimage {

enum class Compression { None, Gzip, Zstd };

// From leading magic bytes (needs >= 4 bytes; fewer -> None).
Compression detect_compression(const uint8_t* head, size_t n);
// From an OCI/Docker layer media type ("…tar+gzip", "…tar+zstd", "…tar",
// "application/vnd.docker.image.rootfs.diff.tar.gzip"); nullopt-like None if plain.
Compression compression_from_media_type(std::string_view media_type);
std::string_view compression_name(Compression c);  // "none", "gzip", "zstd"
Compression parse_compression(std::string_view name);  // throws Error on unknown

// Wraps `in` and decodes by sniffing its magic (a plain tar passes through).
// Multi-member gzip is read to the end. `max_output` bounds the decompressed
// bytes (decompression bomb guard): exceeding it throws Error
// "<codec>: decompressed size exceeds limit of N bytes".
std::unique_ptr<Reader> open_decoder(std::unique_ptr<Reader> in, uint64_t max_output = UINT64_MAX);

// Level 5 (libdeflate 5): within 0.3% of the bytes of level 6, Docker's
// default, at about 10% more speed; the README has the measurements.
constexpr int kDefaultGzipLevel = 5;
constexpr int kDefaultZstdLevel = 3;

// The levels --level accepts for a codec: gzip 1-12 (libdeflate's range),
// zstd 1-19 (zstd's own range without --ultra, whose windows cost hundreds of
// MiB per worker); none has no levels (min > max).
struct LevelRange {
  int min = 1, max = 0;
};
LevelRange compression_level_range(Compression c);
// "" if `level` (-1: the default) is valid for `c`, else why not, e.g.
// "gzip levels are 1-12, not 13".
std::string check_compression_level(Compression c, int level);

struct EncoderOptions {
  Compression compression = Compression::Gzip;
  int level = -1;        // -1 = codec default (kDefaultGzipLevel, kDefaultZstdLevel)
  unsigned jobs = 0;     // 0 = cores
  size_t gzip_chunk = 1 << 20;  // input bytes per gzip member (part of the output format: fixed)
};

// Returns a Writer that compresses into `out`; finish() flushes the codec and
// then calls out.finish().
std::unique_ptr<Writer> open_encoder(Writer& out, const EncoderOptions& options);

// What determines the encoder's bytes besides its input: codec, level, the
// library that serves it and its version, chunk size ("gzip level 5: libdeflate
// 1.14 level 5, 1048576-byte members"). A layer cache keys on it, so a new
// library never hands back a blob written by the old one.
std::string encoder_identity(const EncoderOptions& options);

}  // namespace slimage
