// ByteGate (include/slimage/util/thread_pool.h): the bytes held at once stay
// under the cap, except for one item alone that is bigger than it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "slimage/util/thread_pool.h"

using namespace slimage;

TEST_CASE("byte gate: holds that fit together run together") {
  ByteGate gate(100);
  ByteGate::Hold a(gate, 30);
  ByteGate::Hold b(gate, 70);
  CHECK(gate.held() == 100);
}

TEST_CASE("byte gate: an item bigger than the cap runs alone, not never") {
  ByteGate gate(100);
  {
    ByteGate::Hold big(gate, 250);
    CHECK(gate.held() == 250);
  }
  CHECK(gate.held() == 0);
}

TEST_CASE("byte gate: a hold that would pass the cap waits for a release") {
  ByteGate gate(100);
  std::atomic<uint64_t> seen{0};
  std::thread second;
  {
    ByteGate::Hold first(gate, 60);
    second = std::thread([&] {
      ByteGate::Hold hold(gate, 50);
      seen = gate.held();
    });
    // Without the gate the second hold would be taken by now: 110 held.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(gate.held() == 60);
    CHECK(seen == 0);
  }
  second.join();
  CHECK(seen == 50);
  CHECK(gate.held() == 0);
}

TEST_CASE("byte gate: the loop's items all run, each under the cap with the others") {
  ByteGate gate(100);
  std::atomic<uint64_t> most{0};
  std::atomic<int> ran{0};
  parallel_for(64, 8, [&](size_t i) {
    ByteGate::Hold hold(gate, 10 + i % 5 * 10);  // 10..50
    uint64_t now = gate.held();
    for (uint64_t m = most; now > m && !most.compare_exchange_weak(m, now);) {
    }
    ran++;
  });
  CHECK(ran == 64);
  CHECK(most <= 100);
}
