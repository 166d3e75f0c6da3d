#!/usr/bin/env bash
# Peak RSS (measured by the kernel: /usr/bin/time -f %M) and time of `slimage slim`
# on an image whose second layer holds COUNT empty files in directories of 1,000
# (issue #18's zero-files case at full size: CI's hostile suite runs 100,000 of
# them, for time). --long-names gives each a 60-byte path instead of 9 bytes.
# Prints one line per run, with the report's per-stage times and peak RSS, and
# fails when the run fails, when the slimmed image lacks a file, or when peak RSS
# passes --max-rss-mib.
# Usage: scripts/bench-many-files.sh [--long-names] [--max-rss-mib N] [COUNT]   (COUNT: 1000000)
# Env: SLIMAGE (default build/slimage); TMPDIR for the image, output and scratch.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
slimage=${SLIMAGE:-$src/build/slimage}
long=() max_rss=0 count=1000000
while (($#)); do
  case $1 in
    --long-names) long=(--long-names) ;;
    --max-rss-mib) max_rss=$2; shift ;;
    *) count=$1 ;;
  esac
  shift
done
[[ -x $slimage ]] || { echo "bench-many-files: $slimage: not built" >&2; exit 77; }
[[ -x /usr/bin/time ]] || { echo "bench-many-files: needs /usr/bin/time (GNU time)" >&2; exit 77; }
work=$(mktemp -d "${TMPDIR:-/var/tmp}/slimage-many-XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 "$src/fixtures/hostile/make-hostile.py" many "${long[@]}" "$work/img" "$count"
mkdir "$work/scratch"
SLIMAGE_TMPDIR="$work/scratch" /usr/bin/time -f '%M %e %U %S' -o "$work/time" \
  "$slimage" slim -q "oci:$work/img:latest" "oci:$work/out:slim" --report "$work/report.json" >"$work/summary"
read -r rss_kib wall user sys <"$work/time"
files=$(jq '.after.files' "$work/report.json")
stages=$(jq -r '[.timings | to_entries[] | "\(.key) \(.value * 10 | round / 10) s"] | join(", ")' "$work/report.json")
echo "$count files${long:+ (long names)}: peak RSS $((rss_kib / 1024)) MiB, wall $wall s (user $user s, sys $sys s);" \
  "after: $files files; $stages"
# bin/ok and every empty file stay (nothing in the image is a drop candidate).
(( files == count + 1 )) || { echo "bench-many-files: expected $((count + 1)) files after, got $files" >&2; exit 1; }
if (( max_rss > 0 && rss_kib > max_rss * 1024 )); then
  echo "bench-many-files: peak RSS $((rss_kib / 1024)) MiB > --max-rss-mib $max_rss" >&2
  exit 1
fi
