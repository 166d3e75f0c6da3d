// Decoding a layer blob into the scratch dir (see include/slimage/rootfs/merged_fs.h).
// One pass: blob bytes -> digest check -> decoder | diff_id hash + tar parser
// | scratch file writes, on three threads. The decoded tar on disk is what
// every later stage reads.
// $SLIMAGE_MAX_LAYER_BYTES lowers the per-layer decode limit (bomb guard).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "slimage/layer/compression.h"
#include "slimage/rootfs/merged_fs.h"
#include "slimage/util/budget.h"
#include "slimage/util/error.h"
#include "slimage/util/hash.h"
#include "slimage/util/progress.h"
#include "slimage/util/read_ahead.h"
#include "slimage/util/scratch_meter.h"
#include "sparse_filter.h"

namespace slimage {

namespace {

// Passes bytes through while writing them to a file and hashing them.
class TeeReader : public Reader {
  struct Fan : Writer {
    Fan(Writer& a, Writer* b) : a(a), b(b) {}
    void write(const void* data, size_t n) override {
      a.write(data, n);
      if (b) b->write(data, n);
    }
    Writer& a;
    Writer* b;
  };

 public:
  TeeReader(Reader& in, Writer& out) : in_(in), out_(out) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_.read(buf, n);
    if (k) out_.write(buf, k);
    return k;
  }
  // In place: the tar parser skips file contents through here.
  size_t pass(Writer* out, size_t n) override {
    Fan fan{out_, out};
    return in_.pass(&fan, n);
  }

 private:
  Reader& in_;
  Writer& out_;
};

// The limit to decode under: the caller's, lowered by $SLIMAGE_MAX_LAYER_BYTES.
uint64_t max_layer_bytes(const SpillLimits& limits) {
  const char* env = std::getenv("SLIMAGE_MAX_LAYER_BYTES");
  if (!env || !*env) return limits.max_layer_bytes;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(env, &end, 10);
  if (errno != 0 || *end != '\0' || v == 0 || env[0] == '-')
    fail(std::string("SLIMAGE_MAX_LAYER_BYTES=") + env + ": not a positive byte count");
  return std::min<uint64_t>(limits.max_layer_bytes, v);
}

// Counts compressed bytes for the progress line, into the counter of the
// run that opened it (whichever thread reads).
class ProgressReader : public Reader {
 public:
  explicit ProgressReader(std::unique_ptr<Reader> in) : in_(std::move(in)) {}
  size_t read(void* buf, size_t n) override {
    size_t k = in_->read(buf, n);
    counter_.done.fetch_add(k, std::memory_order_relaxed);
    return k;
  }

 private:
  std::unique_ptr<Reader> in_;
  ByteCounter& counter_ = current_progress();
};

// Writes the decoded tar to the scratch file. Ranges declared cold (the
// content of big files) go around the page cache through a second, O_DIRECT
// descriptor, page-aligned parts only; everything else is buffered. Filling
// the page cache with gigabytes that no stage reads before the write (and
// that the plan mostly drops: unreachable CUDA libraries) costs more CPU than
// inflating them. Where O_DIRECT is refused, everything is buffered.
// The writes themselves run on a thread of their own: a direct write waits
// for the disk, and the tar parse and diff_id hash go on meanwhile (at most
// kInFlight chunks queued). An error surfaces at the next write or finish().
class ScratchWriter : public SkippingWriter {
 public:
  // `name`: what messages call it (a ScratchFile's name(), not its fd path).
  ScratchWriter(const std::string& path, const std::string& name) : path_(path), name_(name) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd_ < 0) fail(name_ + ": " + std::strerror(errno));
    dfd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
    for (size_t i = 0; dfd_ >= 0 && i < kInFlight + 1; i++) {
      char* p = static_cast<char*>(std::aligned_alloc(kPage, kChunk));
      if (!p) break;
      aligned_.push_back(p);
      free_.push_back(p);
    }
    if (free_.empty()) {
      disable_direct();
    } else {
      cold_buf_ = free_.back();
      free_.pop_back();
    }
    hot_.reserve(kChunk);
    io_ = std::thread([this] { io_loop(); });
  }
  ~ScratchWriter() override {
    stop_io();  // after an error elsewhere: the IO thread's own error is moot
    if (fd_ >= 0) ::close(fd_);
    if (dfd_ >= 0) ::close(dfd_);
    for (char* p : aligned_) std::free(p);
  }

  // Stream bytes [begin, end) are cold; must not start before what was written.
  void cold(uint64_t begin, uint64_t end) {
    if (!cold_buf_ || begin < pos_) return;
    uint64_t a = (begin + kPage - 1) & ~(kPage - 1), b = end & ~(kPage - 1);
    if (b <= a || b - a < kChunk / 4) return;
    cold_begin_ = a;
    cold_end_ = b;
  }

  void write(const void* data, size_t n) override {
    auto* p = static_cast<const char*>(data);
    while (n > 0) {
      size_t k;
      if (cold_buf_ && pos_ >= cold_begin_ && pos_ < cold_end_) {
        if (cold_len_ == 0) cold_off_ = pos_;
        k = static_cast<size_t>(std::min<uint64_t>({n, cold_end_ - pos_, kChunk - cold_len_}));
        std::memcpy(cold_buf_ + cold_len_, p, k);
        cold_len_ += k;
        if (cold_len_ == kChunk || pos_ + k == cold_end_) flush_cold();
      } else {
        k = pos_ < cold_begin_ ? static_cast<size_t>(std::min<uint64_t>(n, cold_begin_ - pos_)) : n;
        if (!hot_.empty() && hot_off_ + hot_.size() != pos_) flush_hot();
        if (hot_.empty()) hot_off_ = pos_;
        hot_.append(p, k);
        if (hot_.size() >= kChunk) flush_hot();
      }
      p += k;
      n -= k;
      pos_ += k;
    }
  }

  // Low-disk mode: n bytes left as a hole (the file is extended over it at finish).
  void skip(uint64_t n) override { pos_ += n; }

  void finish() override {
    flush_cold();
    flush_hot();
    stop_io();
    if (error_) std::rethrow_exception(error_);
    if (::ftruncate(fd_, static_cast<off_t>(pos_)) != 0) fail(name_ + ": " + std::strerror(errno));
    if (dfd_ >= 0) ::close(dfd_);
    dfd_ = -1;
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) fail(name_ + ": close: " + std::strerror(errno));
  }

 private:
  // O_DIRECT wants buffers, offsets and lengths aligned to the logical
  // block size; 4096 is a multiple of every one Linux filesystems use.
  static constexpr uint64_t kPage = 4096;
  static constexpr size_t kChunk = 4 << 20;
  static constexpr size_t kInFlight = 3;

  struct Job {
    char* aligned;    // a cold buffer, back to free_ once written; or
    std::string hot;  // buffered bytes, back to spare_ once written
    size_t size;
    uint64_t off;
  };

  void submit(Job job) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return jobs_.size() < kInFlight || error_; });
    rethrow_locked();
    jobs_.push_back(std::move(job));
    cv_.notify_all();
  }
  void flush_hot() {
    if (hot_.empty()) return;
    size_t n = hot_.size();
    submit(Job{nullptr, std::move(hot_), n, hot_off_});
    std::lock_guard lock(mu_);
    if (spare_.empty()) {
      hot_ = std::string();
      hot_.reserve(kChunk);
    } else {
      hot_ = std::move(spare_.back());
      spare_.pop_back();
      hot_.clear();
    }
  }
  void flush_cold() {
    if (cold_len_ == 0) return;
    submit(Job{cold_buf_, {}, cold_len_, cold_off_});
    cold_len_ = 0;
    cold_buf_ = take_buffer();
  }
  // A free aligned buffer (waits for the IO thread to return one).
  char* take_buffer() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !free_.empty() || error_; });
    rethrow_locked();
    char* p = free_.back();
    free_.pop_back();
    return p;
  }
  void rethrow_locked() {
    if (error_) std::rethrow_exception(error_);
  }

  void io_loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return !jobs_.empty() || stopping_; });
      if (jobs_.empty()) return;
      Job job = std::move(jobs_.front());
      lock.unlock();
      std::exception_ptr error;
      try {
        pwrite_all(job.aligned && direct_ok_ ? dfd_ : fd_,
                   job.aligned ? job.aligned : job.hot.data(), job.size, job.off);
      } catch (...) {
        error = std::current_exception();
      }
      lock.lock();
      jobs_.pop_front();
      if (job.aligned) free_.push_back(job.aligned);
      else if (spare_.size() < kInFlight) spare_.push_back(std::move(job.hot));
      if (error && !error_) error_ = error;
      cv_.notify_all();
    }
  }
  // Lets the IO thread write what is queued, then ends it.
  void stop_io() {
    if (!io_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      cv_.notify_all();
    }
    io_.join();
  }

  // IO thread only (direct_ok_ is read there alone once the thread runs).
  void pwrite_all(int fd, const char* p, size_t n, uint64_t off) {
    scratch_charge(path_, n);  // first: over a --scratch-budget it throws, nothing written
    while (n > 0) {
      ssize_t w = ::pwrite(fd, p, n, static_cast<off_t>(off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && fd == dfd_ && errno == EINVAL) {  // alignment refused: buffered from now on
        direct_ok_ = false;
        fd = fd_;
        continue;
      }
      if (w < 0) fail(name_ + ": write: " + std::strerror(errno));
      p += w;
      n -= static_cast<size_t>(w);
      off += static_cast<uint64_t>(w);
    }
  }
  void disable_direct() {
    if (dfd_ >= 0) ::close(dfd_);
    dfd_ = -1;
    direct_ok_ = false;
  }

  std::string path_, name_;
  int fd_ = -1, dfd_ = -1;
  bool direct_ok_ = true;
  uint64_t pos_ = 0;
  std::string hot_;
  uint64_t hot_off_ = 0;
  std::vector<char*> aligned_;  // every aligned buffer, owned
  char* cold_buf_ = nullptr;    // the one filling; null when direct is off
  size_t cold_len_ = 0;
  uint64_t cold_off_ = 0, cold_begin_ = 0, cold_end_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  std::vector<char*> free_;
  std::vector<std::string> spare_;
  std::exception_ptr error_;
  bool stopping_ = false;
  std::thread io_;
};

// Path depth budget: later stages walk a path's parents, so depth is bounded at the door.
void check_path_depth(const std::string& path) {
  uint64_t depth = 1 + static_cast<uint64_t>(std::count(path.begin(), path.end(), '/'));
  if (depth <= budget(Budget::PathDepth)) return;
  std::string shown = path.size() > 64 ? path.substr(0, 64) + "…" : path;
  budget_exceeded(Budget::PathDepth, shown, depth);
}

}  // namespace

std::string SpilledLayer::where() const { return "layer " + short_digest(descriptor.digest); }

std::unique_ptr<SpilledLayer> spill_layer(Source& source, const Descriptor& descriptor,
                                          const std::string& diff_id, const std::string& dir,
                                          size_t index, const SpillLimits& limits) {
  auto layer = std::make_unique<SpilledLayer>();
  layer->descriptor = descriptor;
  (void)index;
  // No name: a SIGKILL or crash mid-run leaves nothing in the scratch dir.
  layer->file = std::make_shared<ScratchFile>(dir);
  layer->tar_path = layer->file->path();
  std::string where = layer->where();
  try {
    // Three threads per layer: blob digest + inflate ahead, diff_id + tar
    // parse here (contents pass through in place), scratch writes behind.
    auto decoder = read_ahead(open_decoder(
        std::make_unique<ProgressReader>(source.open_blob(descriptor)),
        max_layer_bytes(limits)));
    ScratchWriter file(layer->tar_path, layer->file->name());
    SparseFilter sparse(file);  // low-disk mode: content nothing reads before the write stays a hole
    HashingWriter hashed(limits.sparse ? static_cast<Writer*>(&sparse) : &file);
    TeeReader tee(*decoder, hashed);
    TarReader tar(tee);
    TarEntry entry;
    while (tar.next(entry)) {
      if (entry.type == TarType::Regular && entry.size >= limits.direct_min_bytes)
        file.cold(entry.data_offset, entry.data_offset + entry.size);
      if (limits.sparse && entry.type == TarType::Regular && entry.size > kSparseKeepMax)
        sparse.candidate(entry.path, entry.data_offset, entry.size);
      check_path_depth(entry.path);
      layer->entries.emplace_back(std::move(entry));
      entry = TarEntry();
    }
    layer->pax_global_header = tar.saw_global_header();
    // The diff_id covers the whole stream, trailing blocks included.
    char buf[65536];
    while (tee.read(buf, sizeof buf)) {
    }
    hashed.finish();
    layer->tar_size = hashed.bytes();
    layer->diff_id = hashed.digest();
    if (limits.sparse) layer->holes = sparse.holes();
  } catch (const Error& e) {
    layer->file.reset();  // frees the bytes and the meter's charge
    std::string msg = e.what();
    if (msg.rfind(where, 0) == 0 || msg.find("blob " + short_digest(descriptor.digest)) != std::string::npos)
      throw;
    fail(where + ": " + msg);
  }
  if (!diff_id.empty() && layer->diff_id != diff_id)
    fail(where + ": diff_id mismatch: config says " + diff_id + ", layer decodes to " +
         layer->diff_id);
  layer->map = MappedFile(layer->tar_path);
  return layer;
}

}  // namespace slimage
