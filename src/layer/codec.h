// Internal to src/layer: the codec implementations behind open_decoder and
// open_encoder (compression.cpp picks one), and the buffered base that gives
// every decoder cheap small reads (TarReader asks for 512-byte headers) and
// the decompression-bomb guard.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "slimage/util/io.h"

namespace slimage {

// Subclasses implement decode(): fill up to n bytes, return 0 only at the end.
// Big reads go straight into the caller's buffer; small ones through a 1 MiB
// buffer, so the codec always works on large spans.
class BufferedDecoder : public Reader {
 public:
  BufferedDecoder(const char* codec, uint64_t max_output);
  size_t read(void* buf, size_t n) final;

 protected:
  virtual size_t decode(uint8_t* out, size_t n) = 0;
  const char* codec_;

 private:
  size_t counted(size_t produced);
  uint64_t max_output_;
  uint64_t total_out_ = 0;
  std::vector<uint8_t> buffer_;
  size_t buffer_pos_ = 0, buffer_len_ = 0;
};

// Yields `head` (bytes already read to sniff the magic) and then `rest`.
class PrefixedReader : public Reader {
 public:
  PrefixedReader(std::string head, std::unique_ptr<Reader> rest)
      : head_(std::move(head)), rest_(std::move(rest)) {}
  size_t read(void* buf, size_t n) override;

 private:
  std::string head_;
  size_t pos_ = 0;
  std::unique_ptr<Reader> rest_;
};

std::unique_ptr<Reader> make_plain_decoder(std::unique_ptr<Reader> in, uint64_t max_output);
std::unique_ptr<Reader> make_gzip_decoder(std::unique_ptr<Reader> in, uint64_t max_output);
std::unique_ptr<Reader> make_zstd_decoder(std::unique_ptr<Reader> in, uint64_t max_output);

// The library and its version that deflates gzip members at `level`
// ("libdeflate 1.14 level 6"): part of encoder_identity.
std::string gzip_backend_name(int level);

std::unique_ptr<Writer> make_gzip_encoder(Writer& out, int level, unsigned jobs, size_t chunk);
std::unique_ptr<Writer> make_zstd_encoder(Writer& out, int level, unsigned jobs);

}  // namespace slimage
