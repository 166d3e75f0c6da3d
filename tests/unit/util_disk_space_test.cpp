// Free-space checks: the refusal names the dir and both numbers.
#include <doctest/doctest.h>

#include <string>

#include "slimage/util/disk_space.h"
#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/strings.h"

using namespace slimage;

TEST_CASE("util: require_free_space refuses with the numbers when the filesystem is short") {
  TempDir dir(scratch_parent(), "slimage-space-test-");
  const uint64_t free = free_bytes(dir.path());
  CHECK(free > 0);
  CHECK_NOTHROW(require_free_space(dir.path(), 0, "scratch", "nothing"));
  const uint64_t need = free + (uint64_t{1} << 50);
  std::string message;
  try {
    require_free_space(dir.path(), need, "scratch", "the layers' compressed size");
  } catch (const Error& e) {
    message = e.what();
  }
  // Free space moves while other processes write: compare up to the free figure.
  const std::string head = "scratch " + dir.path() + ": needs at least " + human_bytes(need) +
                           " (the layers' compressed size), the filesystem has ";
  CHECK(message.compare(0, head.size(), head) == 0);
  CHECK(message.size() > head.size());
  CHECK(message.substr(message.size() - 5) == " free");
}

TEST_CASE("util: free_bytes of a missing dir is an error naming it") {
  std::string message;
  try {
    free_bytes("/nonexistent/slimage-space");
  } catch (const Error& e) {
    message = e.what();
  }
  CHECK(message == "/nonexistent/slimage-space: statvfs: No such file or directory");
}
