// Read-ahead thread (see include/slimage/util/read_ahead.h). The destructor
// cancels and joins the producer, so a consumer that stops early (a bad tar
// header) never leaves a thread behind.
#include "slimage/util/read_ahead.h"

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

namespace slimage {

namespace {

class ReadAheadReader : public Reader {
 public:
  ReadAheadReader(std::unique_ptr<Reader> in, size_t chunk, size_t depth)
      : in_(std::move(in)), chunk_(chunk), depth_(depth) {
    thread_ = std::thread([this] { produce(); });
  }

  ~ReadAheadReader() override {
    {
      std::lock_guard lock(mu_);
      cancel_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  size_t read(void* buf, size_t n) override {
    while (pos_ == current_.size()) {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (queue_.empty()) {
        if (error_) std::rethrow_exception(error_);
        return 0;
      }
      current_ = std::move(queue_.front());
      queue_.pop_front();
      pos_ = 0;
      cv_.notify_all();
    }
    size_t k = std::min(n, current_.size() - pos_);
    std::memcpy(buf, current_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  void produce() {
    for (;;) {
      std::string chunk(chunk_, '\0');
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
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return queue_.size() < depth_ || cancel_; });
      if (cancel_) return;
      if (!chunk.empty()) queue_.push_back(std::move(chunk));
      if (error || filled == 0) {
        error_ = error;
        done_ = true;
      }
      cv_.notify_all();
      if (done_) return;
    }
  }

  std::unique_ptr<Reader> in_;
  size_t chunk_, depth_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool done_ = false, cancel_ = false;
  std::exception_ptr error_;
  std::string current_;
  size_t pos_ = 0;
};

}  // namespace

std::unique_ptr<Reader> read_ahead(std::unique_ptr<Reader> in, size_t chunk, size_t depth) {
  return std::make_unique<ReadAheadReader>(std::move(in), chunk, depth);
}

}  // namespace slimage
