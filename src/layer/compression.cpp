// Layer compression: detection by magic and media type, and the choice of
// codec behind open_decoder/open_encoder. Quirk: media types say what a layer
// should be, magic says what it is; decoders trust the magic (Docker writes
// "tar.gzip" types, some registries serve uncompressed bytes under them).
// Specs: gzip RFC 1952 (magic 1f 8b), zstd RFC 8878 (magic 28 b5 2f fd, or a
// skippable frame's 5? 2a 4d 18),
// https://github.com/opencontainers/image-spec/blob/main/layer.md
#include "slimage/layer/compression.h"

#include <algorithm>
#include <cstring>

#include <zstd.h>

#include "codec.h"
#include "slimage/util/error.h"
#include "slimage/util/thread_pool.h"

namespace slimage {

Compression detect_compression(const uint8_t* head, size_t n) {
  if (n < 4) return Compression::None;
  if (head[0] == 0x1f && head[1] == 0x8b) return Compression::Gzip;
  if (head[0] == 0x28 && head[1] == 0xb5 && head[2] == 0x2f && head[3] == 0xfd)
    return Compression::Zstd;
  // A skippable frame (magic 0x184D2A5?, RFC 8878 section 3.1.2) may open a
  // zstd stream (estargz/zstd:chunked write one); containerd's
  // DetectCompression (pkg/archive/compression) takes it for zstd too.
  if ((head[0] & 0xf0) == 0x50 && head[1] == 0x2a && head[2] == 0x4d && head[3] == 0x18)
    return Compression::Zstd;
  return Compression::None;
}

Compression compression_from_media_type(std::string_view media_type) {
  if (media_type.ends_with("+gzip") || media_type.ends_with(".gzip")) return Compression::Gzip;
  if (media_type.ends_with("+zstd") || media_type.ends_with(".zstd")) return Compression::Zstd;
  return Compression::None;
}

std::string_view compression_name(Compression c) {
  switch (c) {
    case Compression::Gzip: return "gzip";
    case Compression::Zstd: return "zstd";
    case Compression::None: break;
  }
  return "none";
}

Compression parse_compression(std::string_view name) {
  if (name == "none") return Compression::None;
  if (name == "gzip") return Compression::Gzip;
  if (name == "zstd") return Compression::Zstd;
  fail("unknown compression '" + std::string(name) + "' (expected none, gzip or zstd)");
}

BufferedDecoder::BufferedDecoder(const char* codec, uint64_t max_output)
    : codec_(codec), max_output_(max_output) {}

size_t BufferedDecoder::counted(size_t produced) {
  total_out_ += produced;
  if (total_out_ > max_output_)
    fail(std::string(codec_) + ": decompressed size exceeds limit of " +
         std::to_string(max_output_) + " bytes");
  return produced;
}

size_t BufferedDecoder::read(void* buf, size_t n) {
  constexpr size_t kBuffer = 1 << 20;
  if (n == 0) return 0;
  if (buffer_pos_ < buffer_len_) {
    size_t k = std::min(n, buffer_len_ - buffer_pos_);
    std::memcpy(buf, buffer_.data() + buffer_pos_, k);
    buffer_pos_ += k;
    return k;
  }
  if (n >= kBuffer / 4) return counted(decode(static_cast<uint8_t*>(buf), std::min<size_t>(n, 1u << 30)));
  buffer_.resize(kBuffer);
  buffer_len_ = counted(decode(buffer_.data(), kBuffer));
  buffer_pos_ = std::min(n, buffer_len_);
  std::memcpy(buf, buffer_.data(), buffer_pos_);
  return buffer_pos_;
}

size_t PrefixedReader::read(void* buf, size_t n) {
  if (pos_ < head_.size()) {
    size_t k = std::min(n, head_.size() - pos_);
    std::memcpy(buf, head_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  return rest_->read(buf, n);
}

namespace {

class PlainDecoder : public BufferedDecoder {
 public:
  PlainDecoder(std::unique_ptr<Reader> in, uint64_t max_output)
      : BufferedDecoder("tar", max_output), in_(std::move(in)) {}

 protected:
  size_t decode(uint8_t* out, size_t n) override { return in_->read(out, n); }

 private:
  std::unique_ptr<Reader> in_;
};

// finish() here means the end of the layer: forward it.
class PlainEncoder : public Writer {
 public:
  explicit PlainEncoder(Writer& out) : out_(out) {}
  void write(const void* data, size_t n) override { out_.write(data, n); }
  void finish() override { out_.finish(); }

 private:
  Writer& out_;
};

}  // namespace

std::unique_ptr<Reader> make_plain_decoder(std::unique_ptr<Reader> in, uint64_t max_output) {
  return std::make_unique<PlainDecoder>(std::move(in), max_output);
}

std::unique_ptr<Reader> open_decoder(std::unique_ptr<Reader> in, uint64_t max_output) {
  std::string head(4, '\0');
  size_t got = 0;
  while (got < head.size()) {
    size_t k = in->read(head.data() + got, head.size() - got);
    if (k == 0) break;
    got += k;
  }
  head.resize(got);
  Compression c = detect_compression(reinterpret_cast<const uint8_t*>(head.data()), got);
  auto whole = std::make_unique<PrefixedReader>(std::move(head), std::move(in));
  switch (c) {
    case Compression::Gzip: return make_gzip_decoder(std::move(whole), max_output);
    case Compression::Zstd: return make_zstd_decoder(std::move(whole), max_output);
    case Compression::None: break;
  }
  return make_plain_decoder(std::move(whole), max_output);
}

LevelRange compression_level_range(Compression c) {
  switch (c) {
    case Compression::Gzip: return {1, 12};
    case Compression::Zstd: return {1, 19};
    case Compression::None: break;
  }
  return {};
}

std::string check_compression_level(Compression c, int level) {
  if (level == -1) return "";
  const LevelRange r = compression_level_range(c);
  const std::string name(compression_name(c));
  if (r.min > r.max) return "compression " + name + " has no levels";
  if (level < r.min || level > r.max)
    return name + " levels are " + std::to_string(r.min) + "-" + std::to_string(r.max) + ", not " +
           std::to_string(level);
  return "";
}

namespace {

int effective_level(const EncoderOptions& o) {
  if (o.level != -1) return o.level;
  return o.compression == Compression::Zstd ? kDefaultZstdLevel : kDefaultGzipLevel;
}

}  // namespace

std::unique_ptr<Writer> open_encoder(Writer& out, const EncoderOptions& options) {
  const unsigned jobs = options.jobs == 0 ? std::max(1u, default_jobs()) : options.jobs;
  if (options.compression == Compression::None) return std::make_unique<PlainEncoder>(out);
  if (std::string why = check_compression_level(options.compression, options.level); !why.empty())
    fail(why);
  const int level = effective_level(options);
  if (options.compression == Compression::Zstd) return make_zstd_encoder(out, level, jobs);
  if (options.gzip_chunk == 0 || options.gzip_chunk > (size_t{1} << 30))
    fail("gzip: chunk size " + std::to_string(options.gzip_chunk) + " out of range");
  return make_gzip_encoder(out, level, jobs, options.gzip_chunk);
}

std::string encoder_identity(const EncoderOptions& options) {
  const int level = effective_level(options);
  switch (options.compression) {
    case Compression::Gzip:
      return "gzip level " + std::to_string(level) + ": " + gzip_backend_name(level) + ", " +
             std::to_string(options.gzip_chunk) + "-byte members";
    case Compression::Zstd:
      return "zstd level " + std::to_string(level) + ": libzstd " + ZSTD_versionString();
    case Compression::None: break;
  }
  return "none";
}

}  // namespace slimage
