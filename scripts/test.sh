#!/usr/bin/env bash
# The whole test suite: unit and e2e tests on a plain build, the same under
# ASan+UBSan, the unit tests and the threaded e2e tests under ThreadSanitizer,
# and a short smoke run of every fuzzer. What CI runs.
#   bash scripts/test.sh [--quick]     (--quick: plain build only, no sanitizers/fuzz)
# Each suite prints its time beside its budget. CI has 90 minutes on 2 cores;
# the budgets below add up to 80, leaving room for the clone and setup. A suite
# over its budget is reported (not failed: a slow runner is not a bug), so the
# log says which suite to trim. Skips are counted from the test logs (doctest's
# "[skips]" line, e2e's "SKIP name: why"); with CI=true any skip fails the run
# unless its reason says it needs a GPU device — CI installs everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-build
jobs=$(nproc)
skips_total=0

# timed NAME BUDGET CMD...: runs CMD, then prints how long the suite took
# beside its budget (seconds), and a warning when it went over.
timed() {
  local name=$1 budget=$2 start=$SECONDS took; shift 2
  echo "== $name (budget $budget s)" >&2
  "$@"
  took=$((SECONDS - start))
  echo "== $name: $took s of $budget s budget" >&2
  if ((took > budget)); then
    echo "test.sh: warning: $name took $took s, over its $budget s budget" >&2
  fi
}

# count_skips BUILD_DIR: lists what that ctest run skipped; fails on CI for
# anything but a missing GPU device.
count_skips() {
  local log="$1/Testing/Temporary/LastTest.log" lines bad
  lines=$( { grep -ao '^\[skips\] .*' "$log" || true; grep -ao '^SKIP [^ ]*: .*' "$log" || true; } )
  if [[ -z "$lines" ]]; then
    echo "== $1: 0 skipped" >&2
    return 0
  fi
  echo "== $1: skipped:" >&2
  printf '   %s\n' "$lines" >&2
  skips_total=$((skips_total + $(printf '%s\n' "$lines" | wc -l)))
  bad=$(printf '%s\n' "$lines" | grep -v 'GPU device' || true)
  if [[ "${CI:-}" == true && -n "$bad" ]]; then
    echo "test.sh: error: on CI nothing the project can install may skip (above)" >&2
    return 1
  fi
}

plain() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$jobs"
  (cd build && ctest --output-on-failure -j1)
  count_skips build
}
sanitized() {
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug "-DSLIMAGE_SANITIZE=address;undefined" >/dev/null
  cmake --build build-asan -j"$jobs"
  (cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
     SLIMAGE_E2E_QUICK=1 SLIMAGE_E2E_SANITIZED=1 ctest --output-on-failure -j1)
  count_skips build-asan
}

# ThreadSanitizer over the unit tests and the e2e scripts that run every
# threaded stage, not all of them: a TSan build runs 5-15x slower than a plain
# one and the whole e2e list would not fit in its budget. Each one named here
# is there for a stage the others do not reach:
#   determinism  — parallel decode of several layers (parallel_for over the
#                  layers), gzip and zstd encode, squash, verify and the
#                  scratch discard beside the write (8 slims);
#   fault_signal — the multi-chunk parallel gzip encoder (--jobs 2, 40 MiB under
#                  SLIMAGE_E2E_QUICK), the O_DIRECT spill's I/O thread, the
#                  signal thread interrupting a slim and a batch;
#   batch        — batch --parallel 3: images at once sharing the spill cache,
#                  the layer cache's claims and the progress counter.
# The scripts that only add registry threads (registry_*) need a server and
# are left to the plain and ASan runs. Built with clang, as the fuzzers are;
# -O1 with line tables keeps the build and the run within the budget.
tsan_e2e='^(unit|e2e\.(determinism|fault_signal|batch))$'
thread_sanitized() {
  CC=clang CXX=clang++ cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Release \
    "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only" "-DCMAKE_C_FLAGS_RELEASE=-O1 -gline-tables-only" \
    -DSLIMAGE_SANITIZE=thread >/dev/null
  cmake --build build-tsan -j"$jobs" --target slimage unit_tests
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
     SLIMAGE_E2E_QUICK=1 SLIMAGE_E2E_SANITIZED=1 ctest --output-on-failure -j1 -R "$tsan_e2e")
  count_skips build-tsan
}

timed "plain build: unit + e2e" 1200 plain
[ "${1:-}" = "--quick" ] && exit 0
timed "ASan+UBSan build: unit + e2e" 2100 sanitized
timed "TSan build: unit + threaded e2e" 900 thread_sanitized
timed "fuzz smoke" 600 bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
echo "== all suites passed; $skips_total skipped" >&2
