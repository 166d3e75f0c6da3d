#!/usr/bin/env bash
# The whole test suite: unit and e2e tests on a plain build, the same under
# ASan+UBSan, and a short smoke run of every fuzzer. What CI runs.
#   bash scripts/test.sh [--quick]     (--quick: plain build only, no sanitizers/fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --no-build
jobs=$(nproc)

echo "== plain build: unit + e2e" >&2
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j1)

[ "${1:-}" = "--quick" ] && exit 0

echo "== ASan+UBSan build: unit + e2e" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug "-DSLIMAGE_SANITIZE=address;undefined" >/dev/null
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 \
   SLIMAGE_E2E_QUICK=1 ctest --output-on-failure -j1)

echo "== fuzz smoke" >&2
bash scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
