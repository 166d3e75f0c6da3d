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

// zlib level 5: on the CUDA sample 1.2% larger than level 6 (Docker's
// default) in two thirds of the time.
constexpr int kDefaultGzipLevel = 5;

struct EncoderOptions {
  Compression compression = Compression::Gzip;
  int level = -1;        // -1 = codec default (gzip kDefaultGzipLevel, zstd 3)
  unsigned jobs = 0;     // 0 = cores
  size_t gzip_chunk = 1 << 20;  // input bytes per gzip member (part of the output format: fixed)
};

// Returns a Writer that compresses into `out`; finish() flushes the codec and
// then calls out.finish().
std::unique_ptr<Writer> open_encoder(Writer& out, const EncoderOptions& options);

}  // namespace slimage
