// Parallel deterministic gzip encoder: the input is cut into fixed-size
// chunks, each compressed by zlib (levels 4-9) or ISA-L igzip (levels 1-3) into a complete gzip member (header
// with mtime 0, no name, XFL by level, OS 255; CRC-32 + ISIZE trailer) and the
// members are written in input order. Quirk: because members are independent
// and the cut points depend only on the chunk size, the bytes are identical
// for any number of workers; at most 2*jobs chunks are in flight, so memory is
// bounded whatever the layer size.
// Spec: https://www.rfc-editor.org/rfc/rfc1952 (2.3: member format)
#include <isa-l.h>
#include <zlib.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "codec.h"
#include "slimage/util/error.h"

namespace slimage {
namespace {

struct Chunk {
  std::string input;
  std::string output;
  bool done = false;
  std::exception_ptr error;
};

// One deflate stream per worker, reset for each chunk. Levels 1-3 use
// ISA-L's igzip (several times zlib's speed, somewhat larger output);
// 4-9 use zlib.
class MemberCompressor {
 public:
  explicit MemberCompressor(int level) : level_(level) {
    if (level <= 3) {
      static const uint32_t kLevelBuf[] = {ISAL_DEF_LVL1_DEFAULT, ISAL_DEF_LVL2_DEFAULT,
                                           ISAL_DEF_LVL3_DEFAULT};
      level_buf_.resize(kLevelBuf[level - 1]);
      return;
    }
    if (deflateInit2(&zs_, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
      fail("gzip: deflateInit2 failed");
  }
  ~MemberCompressor() {
    if (level_ > 3) deflateEnd(&zs_);
  }
  MemberCompressor(const MemberCompressor&) = delete;
  MemberCompressor& operator=(const MemberCompressor&) = delete;

  void compress(const std::string& in, std::string& out) {
    if (level_ <= 3) return compress_isal(in, out);
    deflateReset(&zs_);
    const uLong bound = deflateBound(&zs_, static_cast<uLong>(in.size()));
    out.resize(10 + bound + 8);
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const unsigned char xfl = level_ == 9 ? 2 : level_ == 1 ? 4 : 0;
    const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 255};
    std::memcpy(o, header, sizeof header);
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = o + 10;
    zs_.avail_out = static_cast<uInt>(bound);
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) fail("gzip: deflate did not finish a chunk");
    size_t pos = 10 + (bound - zs_.avail_out);
    const uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size())));
    const uint32_t isize = static_cast<uint32_t>(in.size());
    for (int i = 0; i < 4; ++i) o[pos + i] = static_cast<unsigned char>(crc >> (8 * i));
    for (int i = 0; i < 4; ++i) o[pos + 4 + i] = static_cast<unsigned char>(isize >> (8 * i));
    out.resize(pos + 8);
  }

 private:
  void compress_isal(const std::string& in, std::string& out) {
    // Stored blocks cost 5 bytes per 64 KiB: this bound always holds.
    const size_t bound = in.size() + in.size() / 16 + 1024;
    out.resize(10 + bound + 8);
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0,
                                      static_cast<unsigned char>(level_ == 1 ? 4 : 0), 255};
    std::memcpy(o, header, sizeof header);
    isal_zstream st;
    isal_deflate_init(&st);
    st.level = static_cast<uint32_t>(level_);
    st.level_buf = level_buf_.data();
    st.level_buf_size = static_cast<uint32_t>(level_buf_.size());
    st.end_of_stream = 1;
    st.flush = NO_FLUSH;
    st.gzip_flag = IGZIP_DEFLATE;
    st.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(in.data()));
    st.avail_in = static_cast<uint32_t>(in.size());
    st.next_out = o + 10;
    st.avail_out = static_cast<uint32_t>(bound);
    if (isal_deflate(&st) != COMP_OK || st.internal_state.state != ZSTATE_END)
      fail("gzip: igzip did not finish a chunk");
    size_t pos = 10 + (bound - st.avail_out);
    const uint32_t crc =
        crc32_gzip_refl(0, reinterpret_cast<const uint8_t*>(in.data()), in.size());
    const uint32_t isize = static_cast<uint32_t>(in.size());
    for (int i = 0; i < 4; ++i) o[pos + i] = static_cast<unsigned char>(crc >> (8 * i));
    for (int i = 0; i < 4; ++i) o[pos + 4 + i] = static_cast<unsigned char>(isize >> (8 * i));
    out.resize(pos + 8);
  }

  int level_;
  z_stream zs_{};
  std::vector<uint8_t> level_buf_;
};

class GzipEncoder : public Writer {
 public:
  GzipEncoder(Writer& out, int level, unsigned jobs, size_t chunk)
      : out_(out), level_(level), chunk_size_(chunk), max_in_flight_(2 * size_t{jobs}) {
    for (unsigned i = 0; i < jobs; ++i) workers_.emplace_back([this] { work(); });
  }

  ~GzipEncoder() override { stop(); }

  void write(const void* data, size_t n) override {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
      if (!filling_) filling_ = take_chunk();
      size_t k = std::min(n, chunk_size_ - filling_->input.size());
      filling_->input.append(p, k);
      p += k;
      n -= k;
      if (filling_->input.size() == chunk_size_) submit();
    }
  }

  void finish() override {
    // An empty stream still needs one (empty) member to be valid gzip.
    if (filling_ || submitted_ == 0) {
      if (!filling_) filling_ = take_chunk();
      submit();
    }
    while (!order_.empty()) write_oldest();
    stop();
    out_.finish();
  }

 private:
  std::unique_ptr<Chunk> take_chunk() {
    std::unique_ptr<Chunk> c;
    if (!spare_.empty()) {
      c = std::move(spare_.back());
      spare_.pop_back();
    } else {
      c = std::make_unique<Chunk>();
      c->input.reserve(chunk_size_);
    }
    c->input.clear();
    c->done = false;
    c->error = nullptr;
    return c;
  }

  void submit() {
    Chunk* c = filling_.get();
    {
      std::lock_guard lock(mu_);
      order_.push_back(std::move(filling_));
      todo_.push_back(c);
    }
    work_ready_.notify_one();
    ++submitted_;
    while (order_.size() >= max_in_flight_) write_oldest();
  }

  // Waits for the oldest chunk, writes its member and recycles it. Output is
  // only written from the caller's thread: `out_` need not be thread-safe.
  void write_oldest() {
    std::unique_ptr<Chunk> c;
    {
      std::unique_lock lock(mu_);
      chunk_done_.wait(lock, [&] { return order_.front()->done; });
      c = std::move(order_.front());
      order_.pop_front();
    }
    if (c->error) std::rethrow_exception(c->error);
    out_.write(c->output.data(), c->output.size());
    spare_.push_back(std::move(c));
  }

  void work() {
    std::optional<MemberCompressor> compressor;
    for (;;) {
      Chunk* c;
      {
        std::unique_lock lock(mu_);
        work_ready_.wait(lock, [&] { return stopping_ || !todo_.empty(); });
        if (todo_.empty()) return;
        c = todo_.front();
        todo_.pop_front();
      }
      try {
        if (!compressor) compressor.emplace(level_);
        compressor->compress(c->input, c->output);
      } catch (...) {
        c->error = std::current_exception();
      }
      {
        std::lock_guard lock(mu_);
        c->done = true;
      }
      chunk_done_.notify_all();
    }
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (auto& t : workers_)
      if (t.joinable()) t.join();
  }

  Writer& out_;
  int level_;
  size_t chunk_size_;
  size_t max_in_flight_;
  std::unique_ptr<Chunk> filling_;
  std::deque<std::unique_ptr<Chunk>> order_;  // submitted, oldest first
  std::deque<Chunk*> todo_;                   // submitted, not yet taken by a worker
  std::vector<std::unique_ptr<Chunk>> spare_;
  uint64_t submitted_ = 0;
  std::mutex mu_;
  std::condition_variable work_ready_, chunk_done_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace

std::unique_ptr<Writer> make_gzip_encoder(Writer& out, int level, unsigned jobs, size_t chunk) {
  return std::make_unique<GzipEncoder>(out, level, jobs, chunk);
}

}  // namespace slimage
