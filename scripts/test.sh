#!/usr/bin/env bash
# The whole test suite: unit and e2e tests on a plain build, the same under
# ASan+UBSan, and a short smoke run of every fuzzer. What CI runs.
#   bash scripts/test.sh [--quick]     (--quick: plain build only, no sanitizers/fuzz)
# Each suite prints its time. Skips are counted from the test logs (doctest's
# "[skips]" line, e2e's "SKIP name: why"); with CI=true any skip fails the run
# unless its reason says it needs a GPU device — CI installs everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-build
jobs=$(nproc)
skips_total=0

# timed NAME CMD...: runs CMD, then prints how long the suite took.
timed() {
  local name=$1 start=$SECONDS; shift
  echo "== $name" >&2
  "$@"
  echo "== $name: $((SECONDS - start)) s" >&2
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

timed "plain build: unit + e2e" plain
[ "${1:-}" = "--quick" ] && exit 0
timed "ASan+UBSan build: unit + e2e" sanitized
timed "fuzz smoke" bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
echo "== all suites passed; $skips_total skipped" >&2
