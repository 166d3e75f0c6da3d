// read_ahead: the same bytes in order, the producer's error after its bytes,
// and no hang when the consumer stops early.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "slimage/util/error.h"
#include "slimage/util/read_ahead.h"

using namespace slimage;

namespace {

// Yields `data` in odd-sized pieces, then throws if asked to.
class PieceReader : public Reader {
 public:
  PieceReader(std::string data, bool fail_at_end) : data_(std::move(data)), fail_(fail_at_end) {}
  size_t read(void* buf, size_t n) override {
    size_t k = std::min({n, data_.size() - pos_, size_t{777}});
    if (k == 0 && fail_) fail("blob sha256:ab12…: digest mismatch");
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t pos_ = 0;
  bool fail_;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 131 + i / 7) & 0xff);
  return s;
}

}  // namespace

TEST_CASE("util: read_ahead passes every byte in order") {
  for (size_t size : {size_t{0}, size_t{1}, size_t{4096}, size_t{1 << 20} + 3}) {
    CAPTURE(size);
    std::string data = pattern(size);
    auto r = read_ahead(std::make_unique<PieceReader>(data, false), 1000, 3);
    CHECK(read_all(*r) == data);
    char c;
    CHECK(r->read(&c, 1) == 0);
  }
}

TEST_CASE("util: read_ahead rethrows the producer's error after its bytes") {
  std::string data = pattern(50000);
  auto r = read_ahead(std::make_unique<PieceReader>(data, true), 4096, 2);
  std::string got;
  char buf[1000];
  CHECK_THROWS_WITH_AS(
      {
        while (size_t k = r->read(buf, sizeof buf)) got.append(buf, k);
      },
      doctest::Contains("digest mismatch"), Error);
  CHECK(got == data);
}

TEST_CASE("util: read_ahead stops its thread when the consumer gives up early") {
  auto r = read_ahead(std::make_unique<PieceReader>(pattern(10 << 20), false), 4096, 2);
  char buf[10];
  CHECK(r->read(buf, sizeof buf) == sizeof buf);
  r.reset();  // must join, not hang with a full queue
  CHECK(true);
}

TEST_CASE("util: read_ahead passes bytes in place, mixed with reads, and drops them for null") {
  std::string data = pattern((3 << 20) + 11);
  auto r = read_ahead(std::make_unique<PieceReader>(data, false), 1 << 20, 2);
  StringWriter seen;
  std::string got;
  char buf[512];
  size_t dropped = 0;
  for (int turn = 0;; turn++) {
    size_t k;
    if (turn % 3 == 0) {
      k = r->read(buf, sizeof buf);
      got.append(buf, k);
    } else if (turn % 3 == 1) {
      size_t before = seen.str().size();
      k = r->pass(&seen, 100000);
      got.append(seen.str(), before, k);
    } else {
      k = r->pass(nullptr, 70000);
      dropped += k;
      got.append(data, got.size(), k);  // stands in for the dropped bytes
    }
    if (k == 0) break;
  }
  CHECK(got == data);
  CHECK(dropped > 0);
  CHECK(skip_stream(*r, 10) == 0);
}
