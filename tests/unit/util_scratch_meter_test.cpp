// The scratch meter: bytes in use and the peak, charged per file, credited
// back by hole, by file and by dir; a budget refuses what would pass it.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>

#include "slimage/util/error.h"
#include "slimage/util/file.h"
#include "slimage/util/io.h"
#include "slimage/util/scratch_meter.h"
#include "slimage/util/strings.h"

using namespace slimage;

TEST_CASE("util: scratch meter tracks bytes in use and their peak") {
  const uint64_t base = scratch_in_use();
  scratch_reset_peak();
  scratch_charge("/meter/a/layer-0.tar", 1000);
  scratch_charge("/meter/a/layer-1.tar", 500);
  scratch_charge("/meter/b/out.tar", 200);
  CHECK(scratch_in_use() == base + 1700);
  scratch_credit("/meter/a/layer-0.tar", 300);  // a hole punched
  CHECK(scratch_in_use() == base + 1400);
  scratch_credit("/meter/a/layer-0.tar", 5000);  // never more than was charged
  CHECK(scratch_in_use() == base + 700);
  scratch_charge("/meter/b/out.tar", 100);
  CHECK(scratch_peak() == base + 1700);  // the peak stays
  scratch_forget("/meter/b/out.tar");     // renamed into the destination
  CHECK(scratch_in_use() == base + 500);
  scratch_charge("/meter/ab/x", 7);  // not under /meter/a
  scratch_forget_tree("/meter/a");
  CHECK(scratch_in_use() == base + 7);
  scratch_forget_tree("/meter/ab");
  CHECK(scratch_in_use() == base);
  scratch_reset_peak();
  CHECK(scratch_peak() == base);
}

TEST_CASE("util: removing a TempDir credits what was charged under it") {
  const uint64_t base = scratch_in_use();
  {
    TempDir dir(scratch_parent(), "slimage-meter-test-");
    scratch_charge(dir.path() + "/layer-0.tar", 4096);
    scratch_charge(dir.path() + "/sub/file", 10);
    CHECK(scratch_in_use() == base + 4106);
  }
  CHECK(scratch_in_use() == base);
}

TEST_CASE("util: a scratch file has no name in its dir, reopens by path and frees its charge") {
  TempDir dir(scratch_parent(), "slimage-test-");
  uint64_t before = scratch_in_use();
  std::string path;
  {
    ScratchFile file(dir.path());
    path = file.path();
    CHECK(path == "/proc/self/fd/" + std::to_string(file.fd()));
    write_file_atomic(dir.path() + "/named", "x");  // the dir itself works
    FileWriter w(path);  // a second descriptor, through the path
    w.write("hello", 5);
    w.finish();
    scratch_charge(path, 5);
    CHECK(read_file(path) == "hello");
    std::set<std::string> names;
    for (auto& e : std::filesystem::directory_iterator(dir.path())) names.insert(e.path().filename());
    CHECK(names == std::set<std::string>{".slimage-lock", "named"});
    // linkat gives it a name (a sink taking a staged blob) without a copy.
    REQUIRE(link_scratch_file(path, dir.path() + "/linked"));
    CHECK(read_file(dir.path() + "/linked") == "hello");
    CHECK(scratch_in_use() == before + 5);
  }
  CHECK(scratch_in_use() == before);  // closed: forgotten
}

TEST_CASE("util: a scratch budget refuses the charge that would pass it, and charges nothing") {
  const uint64_t base = scratch_in_use();
  scratch_set_budget(ScratchBudget{base + 1000, "--scratch-budget 1000 B", "give more"});
  scratch_charge("/meter/budget/a", 600);
  scratch_charge("/meter/budget/a", 400);  // exactly the budget: fits
  std::string message;
  try {
    scratch_charge("/meter/budget/b", 1);
  } catch (const Error& e) {
    message = e.what();
  }
  scratch_set_budget(std::nullopt);
  CHECK(message == "--scratch-budget 1000 B exceeded: " + human_bytes(base + 1000) +
                       " of scratch in use, 1 B more would make " + std::to_string(base + 1001) +
                       " bytes, over its " + std::to_string(base + 1000) + "; give more");
  CHECK(scratch_in_use() == base + 1000);  // the refused bytes were never charged
  scratch_charge("/meter/budget/b", 1);    // no budget: no limit
  scratch_forget_tree("/meter/budget");
  CHECK(scratch_in_use() == base);
}
