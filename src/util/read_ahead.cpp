// Read-ahead thread and its queue (see include/slimage/util/read_ahead.h). The
// reader's destructor cancels and joins the producer, so a consumer that stops
// early (a bad tar header) never leaves a thread behind.
#include "slimage/util/read_ahead.h"

#include <cstring>
#include <thread>

namespace slimage {

bool ByteQueue::push(std::string chunk) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queued_ < limit_ || cancelled_; });
  if (cancelled_) return false;
  queued_ += chunk.size();
  chunks_.push_back(std::move(chunk));
  cv_.notify_all();
  return true;
}

void ByteQueue::close(std::exception_ptr error) {
  std::lock_guard lock(mu_);
  closed_ = true;
  error_ = error;
  cv_.notify_all();
}

void ByteQueue::cancel() {
  {
    std::lock_guard lock(mu_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

bool ByteQueue::next_chunk() {
  while (pos_ == current_.size()) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return false;
    }
    if (spares_.size() < 2 && !current_.empty()) spares_.push_back(std::move(current_));
    current_ = std::move(chunks_.front());
    chunks_.pop_front();
    queued_ -= current_.size();
    pos_ = 0;
    cv_.notify_all();
  }
  return true;
}

size_t ByteQueue::read(void* buf, size_t n) {
  if (n == 0 || !next_chunk()) return 0;
  size_t k = std::min(n, current_.size() - pos_);
  std::memcpy(buf, current_.data() + pos_, k);
  pos_ += k;
  return k;
}

size_t ByteQueue::pass(Writer* out, size_t n) {
  if (n == 0 || !next_chunk()) return 0;
  size_t k = std::min(n, current_.size() - pos_);
  if (out) out->write(current_.data() + pos_, k);
  pos_ += k;
  return k;
}

std::string ByteQueue::spare() {
  std::lock_guard lock(mu_);
  if (spares_.empty()) return {};
  std::string s = std::move(spares_.back());
  spares_.pop_back();
  return s;
}

namespace {

class ReadAheadReader : public Reader {
 public:
  ReadAheadReader(std::unique_ptr<Reader> in, size_t chunk, size_t depth)
      : in_(std::move(in)), chunk_(chunk), queue_(chunk * depth) {
    thread_ = std::thread([this] { produce(); });
  }

  ~ReadAheadReader() override {
    queue_.cancel();
    thread_.join();
  }

  size_t read(void* buf, size_t n) override { return queue_.read(buf, n); }
  size_t pass(Writer* out, size_t n) override { return queue_.pass(out, n); }

 private:
  void produce() {
    for (;;) {
      std::string chunk = queue_.spare();  // no fresh memory (and memset) per chunk
      chunk.resize(chunk_);
      size_t filled = 0;
      std::exception_ptr error;
      try {
        while (filled < chunk_) {
          size_t k = in_->read(chunk.data() + filled, chunk_ - filled);
          if (k == 0) break;
          filled += k;
        }
      } catch (...) {
        error = std::current_exception();  // after the bytes read before it
      }
      chunk.resize(filled);
      if (filled > 0 && !queue_.push(std::move(chunk))) return;
      if (error || filled == 0) {
        queue_.close(error);
        return;
      }
    }
  }

  std::unique_ptr<Reader> in_;
  size_t chunk_;
  ByteQueue queue_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Reader> read_ahead(std::unique_ptr<Reader> in, size_t chunk, size_t depth) {
  return std::make_unique<ReadAheadReader>(std::move(in), chunk, depth);
}

}  // namespace slimage
