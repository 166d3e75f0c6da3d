// The live progress line's numbers (include/slimage/util/progress.h), driven
// with a fake clock: rate and ETA from bytes moved, skipped bytes leaving the
// total, no reading when nothing changed, counters per run.
#include <doctest/doctest.h>

#include <thread>

#include "slimage/util/progress.h"
#include "slimage/util/thread_pool.h"

using namespace slimage;

TEST_CASE("util: progress gives no reading until a byte moves, and none when nothing changed") {
  ProgressMeter meter(1000, /*start=*/0);
  for (int t = 1; t <= 10; t++) CHECK_FALSE(meter.sample(0, 0, t).has_value());
  auto r = meter.sample(100, 0, 11);
  REQUIRE(r.has_value());
  CHECK_FALSE(meter.sample(100, 0, 11.25).has_value());  // nothing moved: nothing to redraw
  CHECK_FALSE(meter.sample(100, 0, 12).has_value());
  CHECK(meter.sample(100, 50, 12.5).has_value());  // a skip changes the total: redraw
}

TEST_CASE("util: progress rate is bytes moved over the last seconds, not since the stage began") {
  // 10 s of setup, then 100 B/s: the old whole-stage average (100 B over
  // 11 s) would give 9 B/s and an ETA of 99 s.
  ProgressMeter meter(1000, /*start=*/0, /*window=*/5);
  for (int t = 1; t <= 10; t++) meter.sample(0, 0, t);
  auto r = meter.sample(100, 0, 11);
  REQUIRE(r.has_value());
  CHECK(r->done == 100);
  CHECK(r->total == 1000);
  CHECK(r->rate == doctest::Approx(100));
  REQUIRE(r->eta.has_value());
  CHECK(*r->eta == doctest::Approx(9));
  CHECK(progress_text(*r) == "100 B / 1000 B  100 B/s  ETA 9 s");
}

TEST_CASE("util: progress gives no ETA from a rate measured over less than a second") {
  ProgressMeter meter(32 << 20, 0);
  auto r = meter.sample(4, 0, 0.01);  // a magic number sniffed: 400 B/s would say a day
  REQUIRE(r.has_value());
  CHECK_FALSE(r->eta.has_value());
  r = meter.sample(8 << 20, 0, 1.0);
  REQUIRE(r.has_value());
  REQUIRE(r->eta.has_value());
  CHECK(*r->eta == doctest::Approx(3));
}

TEST_CASE("util: progress bytes skipped (a reused layer) leave the total, so the ETA tells the truth") {
  // The write stage's total counts every kept byte; 800 of them sit in a
  // layer reused as is and never pass through the writer.
  ProgressMeter meter(1000, 0);
  auto r = meter.sample(100, 800, 1);
  REQUIRE(r.has_value());
  CHECK(r->total == 200);
  CHECK(r->done == 100);
  REQUIRE(r->eta.has_value());
  CHECK(*r->eta == doctest::Approx(1));
  r = meter.sample(250, 800, 2);  // more than the total: shown as done, no ETA
  REQUIRE(r.has_value());
  CHECK(r->done == 200);
  CHECK_FALSE(r->eta.has_value());
}

TEST_CASE("util: progress counters are per run; parallel_for workers count into the caller's") {
  ByteCounter a, b;
  auto run = [](ByteCounter& c, uint64_t each) {
    ProgressScope scope(&c);
    parallel_for(8, 4, [&](size_t) { progress_add(each); });
    progress_skip(7);
  };
  std::thread ta([&] { run(a, 10); });
  std::thread tb([&] { run(b, 1000); });
  ta.join(), tb.join();
  CHECK(a.done.load() == 80);
  CHECK(a.skipped.load() == 7);
  CHECK(b.done.load() == 8000);
  CHECK(b.skipped.load() == 7);
}
