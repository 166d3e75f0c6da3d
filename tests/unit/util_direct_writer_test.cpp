// The direct writer: what reaches the file is exactly the stream (aligned runs
// direct, the rest buffered, holes where skipped), on a filesystem with
// O_DIRECT and on one without (tmpfs), and every byte is charged to the meter.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "slimage/util/direct_writer.h"
#include "slimage/util/file.h"
#include "slimage/util/scratch_meter.h"

using namespace slimage;

namespace {

std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : s) {
    x = x * 1103515245u + 12345u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Writes `stream` in uneven pieces (1 byte to 3 MiB) so pieces straddle chunks.
void write_uneven(DirectWriter& w, const std::string& stream) {
  size_t sizes[] = {1, 511, 4096, 3 << 20, 70000, 4095, 1 << 20};
  for (size_t at = 0, i = 0; at < stream.size(); i++) {
    size_t n = std::min(sizes[i % std::size(sizes)], stream.size() - at);
    w.write(stream.data() + at, n);
    at += n;
  }
}

void check_dir(const std::string& parent) {
  TempDir dir(parent, "slimage-direct-test-");
  const std::string path = dir.path() + "/out";
  SUBCASE("all cold, the stream ending off a page boundary") {
    // 2 full chunks and a tail: the tail's unaligned end is written buffered.
    const std::string stream = pattern((8 << 20) + 12345, 1);
    const uint64_t before = scratch_in_use();
    {
      DirectWriter w(path, "out", /*all_cold=*/true, /*durable=*/true);
      write_uneven(w, stream);
      w.finish();
      CHECK(w.bytes() == stream.size());
    }
    CHECK(slurp(path) == stream);
    CHECK(scratch_in_use() - before == stream.size());
    scratch_forget(path);
  }
  SUBCASE("all cold, a stream shorter than a page") {
    const std::string stream = pattern(100, 2);
    DirectWriter w(path, "out", true);
    w.write(stream.data(), stream.size());
    w.finish();
    CHECK(slurp(path) == stream);
    scratch_forget(path);
  }
  SUBCASE("an empty stream") {
    DirectWriter w(path, "out", true);
    w.finish();
    CHECK(std::filesystem::file_size(path) == 0);
    scratch_forget(path);
  }
  SUBCASE("a cold range in the middle, and a hole") {
    const std::string head = pattern(5000, 3), body = pattern(3 << 20, 4), tail = pattern(777, 5);
    {
      DirectWriter w(path, "out");
      w.write(head.data(), head.size());
      w.cold(head.size(), head.size() + body.size());
      write_uneven(w, body);
      w.skip(10000);
      w.write(tail.data(), tail.size());
      w.finish();
    }
    CHECK(slurp(path) == head + body + std::string(10000, '\0') + tail);
    scratch_forget(path);
  }
}

}  // namespace

TEST_CASE("util: direct writer writes the stream exactly, O_DIRECT or not") {
  SUBCASE("scratch filesystem") { check_dir(scratch_parent()); }
  if (std::filesystem::is_directory("/dev/shm")) {
    SUBCASE("tmpfs (O_DIRECT refused)") { check_dir("/dev/shm"); }
  }
}
