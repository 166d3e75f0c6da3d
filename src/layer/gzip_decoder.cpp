// Streaming gzip decoder on ISA-L's isal_inflate (ISAL_GZIP: header parsed,
// CRC-32 and ISIZE trailer verified). Quirk: a gzip file is a sequence of
// members (pigz, and our own encoder, write many), so at each member end the
// inflater is reset and decoding resumes with the next member's header; bytes
// after a member that are not a gzip header are an error, as in Go's
// compress/gzip that Docker uses.
// Spec: https://www.rfc-editor.org/rfc/rfc1952 (2.2: members)
#include <isa-l/igzip_lib.h>

#include <cstring>

#include "codec.h"
#include "slimage/util/error.h"

namespace slimage {
namespace {

const char* isal_error_name(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC-32 or length mismatch";
    default: return "inflate error";
  }
}

class GzipDecoder : public BufferedDecoder {
 public:
  GzipDecoder(std::unique_ptr<Reader> in, uint64_t max_output)
      : BufferedDecoder("gzip", max_output),
        in_(std::move(in)),
        state_(std::make_unique<inflate_state>()),
        input_(1 << 20) {
    isal_inflate_init(state_.get());
    state_->crc_flag = ISAL_GZIP;
    state_->next_in = input_.data();
    state_->avail_in = 0;
  }

 protected:
  size_t decode(uint8_t* out, size_t n) override {
    if (done_) return 0;
    inflate_state& s = *state_;
    s.next_out = out;
    s.avail_out = static_cast<uint32_t>(n);
    while (s.avail_out == n) {
      if (s.block_state == ISAL_BLOCK_FINISH) {
        if (!start_next_member()) {
          done_ = true;
          break;
        }
      }
      if (s.avail_in == 0 && !refill())
        fail("gzip: truncated stream at compressed offset " + std::to_string(read_total_));
      int r = isal_inflate(&s);
      if (r < 0)
        fail("gzip: corrupt data at compressed offset " + std::to_string(offset()) + ": " +
             isal_error_name(r));
    }
    return n - s.avail_out;
  }

 private:
  uint64_t offset() const { return read_total_ - state_->avail_in; }

  // Moves unread input to the front and reads more after it.
  bool refill() {
    inflate_state& s = *state_;
    if (s.avail_in > 0) std::memmove(input_.data(), s.next_in, s.avail_in);
    s.next_in = input_.data();
    if (eof_) return false;
    size_t k = in_->read(input_.data() + s.avail_in, input_.size() - s.avail_in);
    if (k == 0) {
      eof_ = true;
      return false;
    }
    read_total_ += k;
    s.avail_in += static_cast<uint32_t>(k);
    return true;
  }

  // After a member: false at the end of input, else reset for the next member.
  bool start_next_member() {
    inflate_state& s = *state_;
    while (s.avail_in < 2 && refill()) {
    }
    if (s.avail_in == 0) return false;
    if (s.avail_in < 2 || s.next_in[0] != 0x1f || s.next_in[1] != 0x8b)
      fail("gzip: trailing garbage at compressed offset " + std::to_string(offset()));
    uint8_t* next_in = s.next_in;
    uint32_t avail_in = s.avail_in;
    uint8_t* next_out = s.next_out;
    uint32_t avail_out = s.avail_out;
    isal_inflate_reset(&s);
    s.crc_flag = ISAL_GZIP;
    s.next_in = next_in;
    s.avail_in = avail_in;
    s.next_out = next_out;
    s.avail_out = avail_out;
    return true;
  }

  std::unique_ptr<Reader> in_;
  std::unique_ptr<inflate_state> state_;
  std::vector<uint8_t> input_;
  uint64_t read_total_ = 0;  // compressed bytes read from in_
  bool eof_ = false, done_ = false;
};

}  // namespace

std::unique_ptr<Reader> make_gzip_decoder(std::unique_ptr<Reader> in, uint64_t max_output) {
  return std::make_unique<GzipDecoder>(std::move(in), max_output);
}

}  // namespace slimage
