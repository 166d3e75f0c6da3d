#!/usr/bin/env bash
# Builds every libFuzzer target under ASan+UBSan (clang) and runs each for
# SECONDS (default 60), starting from tests/fuzz/corpus/<target>/. A crash
# fails the run; copy the crash file into that corpus dir as a regression input.
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSLIMAGE_FUZZ=ON -DSLIMAGE_TESTS=OFF "-DSLIMAGE_SANITIZE=address;undefined" >/dev/null
cmake --build build-fuzz -j"$(nproc)"
status=0
for src in tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$src" .cpp)
  corpus=tests/fuzz/corpus/$name
  mkdir -p "$corpus"
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s" >&2
  if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=0 ./"$name" -max_total_time="$seconds" \
        -rss_limit_mb=2048 -artifact_prefix="$work/" "$work" >"$work/log" 2>&1); then
    echo "fuzz: $name FAILED; artifacts in $work" >&2
    tail -40 "$work/log" >&2
    status=1
  else
    grep -E "^#[0-9]+.*DONE" "$work/log" | tail -1 >&2 || true
    rm -rf "$work"
  fi
done
exit $status
