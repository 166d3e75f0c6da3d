#!/usr/bin/env bash
# Times the ELF reader over a directory (default /usr/local/cuda/lib64) next to
# `readelf -d` over the same files and LIEF on the small ones.
# Usage: scripts/bench-elf.sh [DIR] [LIEF_MAX_MB]   (needs a warm page cache: runs once first)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-/usr/local/cuda/lib64}
lief_mb=${2:-8}
build=${BUILD_DIR:-$src/build-bench-release}
[ -d "$dir" ] || { echo "bench-elf: $dir: no such directory" >&2; exit 77; }

bench=$build/elf_facts_bench
if ! { cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$build.log" 2>&1 &&
       cmake --build "$build" --target elf_facts_bench -j2 >>"$build.log" 2>&1; }; then
  # The rest of the core may not compile at this moment; the bench needs only util + elf.
  echo "bench-elf: cmake build failed, building util+elf by hand" >&2
  mkdir -p "$build"
  lief=$(ls /usr/lib/*/libLIEF.so /usr/lib/libLIEF.so 2>/dev/null | head -1 || true)
  g++ -std=c++20 -O2 -DNDEBUG -include utility -I"$src/include" "$src/tests/bench/elf_facts_bench.cpp" \
    "$src"/src/elf/*.cpp "$src"/src/util/*.cpp ${lief:+-lLIEF} -lcrypto -lpthread -o "$bench"
fi

mapfile -t files < <(find "$dir/" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)
"$bench" --strings "$dir" >/dev/null  # warm the page cache
echo "== parse_elf (dynamic facts, sections), ${#files[@]} ELF files"
ours=$("$bench" "$dir")
echo "$ours"
echo "== parse_elf + library_name_strings"
"$bench" --strings "$dir"
echo "== readelf -d, same files"
start=$(date +%s.%N)
for f in "${files[@]}"; do readelf -dW "$f" >/dev/null; done
end=$(date +%s.%N)
readelf_s=$(echo "$end - $start" | bc)
ours_s=$(echo "$ours" | sed -E 's/.*time ([0-9.]+) s.*/\1/')
echo "readelf -d: ${readelf_s} s; parse_elf: ${ours_s} s; ratio $(echo "scale=0; $readelf_s / ($ours_s + 0.0001)" | bc)x"
echo "== LIEF on files up to ${lief_mb} MB"
"$bench" --lief "$lief_mb" "$dir" | tail -1
