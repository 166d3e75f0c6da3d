// zstd decoder and encoder on libzstd's streaming API. Quirks: a layer may be
// several concatenated frames (and skippable frames), which
// ZSTD_decompressStream walks through by itself, so the end of input is only
// clean at a frame boundary; the encoder runs libzstd's multi-threaded mode
// (nbWorkers >= 1), whose output does not depend on the worker count, and is
// fed in fixed 1 MiB blocks so it does not depend on the caller's write sizes.
// Spec: https://www.rfc-editor.org/rfc/rfc8878
#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "codec.h"
#include "slimage/util/error.h"

namespace slimage {
namespace {

class ZstdDecoder : public BufferedDecoder {
 public:
  ZstdDecoder(std::unique_ptr<Reader> in, uint64_t max_output)
      : BufferedDecoder("zstd", max_output), in_(std::move(in)), dctx_(ZSTD_createDCtx()),
        input_(1 << 20) {
    if (!dctx_) fail("zstd: cannot create decompression context");
  }
  ~ZstdDecoder() override { ZSTD_freeDCtx(dctx_); }

 protected:
  size_t decode(uint8_t* out, size_t n) override {
    ZSTD_outBuffer ob{out, n, 0};
    while (ob.pos == 0) {
      if (ib_.pos == ib_.size && !eof_) refill();
      if (ib_.pos == ib_.size && eof_) {
        if (frame_left_ == 0) return 0;
        // Input is over mid-frame: only output libzstd already holds can come.
        step(ob);
        if (ob.pos == 0)
          fail("zstd: truncated stream at compressed offset " + std::to_string(read_total_));
        break;
      }
      step(ob);
    }
    return ob.pos;
  }

 private:
  void step(ZSTD_outBuffer& ob) {
    size_t r = ZSTD_decompressStream(dctx_, &ob, &ib_);
    if (ZSTD_isError(r))
      fail("zstd: corrupt data at compressed offset " +
           std::to_string(read_total_ - (ib_.size - ib_.pos)) + ": " + ZSTD_getErrorName(r));
    frame_left_ = r;
  }

  void refill() {
    size_t k = in_->read(input_.data(), input_.size());
    if (k == 0) eof_ = true;
    read_total_ += k;
    ib_ = ZSTD_inBuffer{input_.data(), k, 0};
  }

  std::unique_ptr<Reader> in_;
  ZSTD_DCtx* dctx_;
  std::vector<uint8_t> input_;
  ZSTD_inBuffer ib_{nullptr, 0, 0};
  uint64_t read_total_ = 0;
  size_t frame_left_ = 1;  // 0 exactly when the last frame is complete and flushed
  bool eof_ = false;
};

class ZstdEncoder : public Writer {
 public:
  ZstdEncoder(Writer& out, int level, unsigned jobs) : out_(out), cctx_(ZSTD_createCCtx()) {
    if (!cctx_) fail("zstd: cannot create compression context");
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level), "level");
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_checksumFlag, 1), "checksum flag");
    // nbWorkers >= 1 even for one job: 0 selects the single-threaded format,
    // whose bytes differ, and the output must not depend on the job count.
    check(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_nbWorkers, static_cast<int>(jobs)),
          "nbWorkers (libzstd built without multithreading?)");
    input_.reserve(kBlock);
    output_.resize(ZSTD_CStreamOutSize() > kBlock ? ZSTD_CStreamOutSize() : kBlock);
  }
  ~ZstdEncoder() override { ZSTD_freeCCtx(cctx_); }

  void write(const void* data, size_t n) override {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
      size_t k = std::min(n, kBlock - input_.size());
      input_.append(p, k);
      p += k;
      n -= k;
      if (input_.size() == kBlock) compress(ZSTD_e_continue);
    }
  }

  void finish() override {
    compress(ZSTD_e_end);
    out_.finish();
  }

 private:
  static constexpr size_t kBlock = 1 << 20;

  void check(size_t r, const char* what) {
    if (ZSTD_isError(r)) fail(std::string("zstd: setting ") + what + ": " + ZSTD_getErrorName(r));
  }

  void compress(ZSTD_EndDirective mode) {
    ZSTD_inBuffer ib{input_.data(), input_.size(), 0};
    for (;;) {
      ZSTD_outBuffer ob{output_.data(), output_.size(), 0};
      size_t r = ZSTD_compressStream2(cctx_, &ob, &ib, mode);
      if (ZSTD_isError(r)) fail(std::string("zstd: compression failed: ") + ZSTD_getErrorName(r));
      if (ob.pos > 0) out_.write(output_.data(), ob.pos);
      bool done = mode == ZSTD_e_end ? r == 0 : ib.pos == ib.size;
      if (done) break;
    }
    input_.clear();
  }

  Writer& out_;
  ZSTD_CCtx* cctx_;
  std::string input_;
  std::vector<char> output_;
};

}  // namespace

std::unique_ptr<Reader> make_zstd_decoder(std::unique_ptr<Reader> in, uint64_t max_output) {
  return std::make_unique<ZstdDecoder>(std::move(in), max_output);
}

std::unique_ptr<Writer> make_zstd_encoder(Writer& out, int level, unsigned jobs) {
  return std::make_unique<ZstdEncoder>(out, level, jobs);
}

}  // namespace slimage
