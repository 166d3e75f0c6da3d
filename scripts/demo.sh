#!/usr/bin/env bash
# The main job, end to end: build the sample image (cached), slim it with the
# built-in default profile, check the result still works, print the table.
#   bash scripts/demo.sh [--small]        output under ${SLIMAGE_DEMO_DIR:-/var/tmp/slimage-demo}
set -euo pipefail
cd "$(dirname "$0")/.."
small=()
[ "${1:-}" = "--small" ] && small=(--small)
out=${SLIMAGE_DEMO_DIR:-/var/tmp/slimage-demo}
mkdir -p "$out"
[ -x build/slimage ] || bash scripts/setup.sh

sample=$out/sample${small:+-small}
[ -f "$sample/index.json" ] || bash scripts/make-sample-image.sh "${small[@]}" "$sample"

rm -rf "$out/slim"
build/slimage slim "oci:$sample:sample" "oci:$out/slim:sample" --report "$out/report.json"

echo
echo "verify:"
build/slimage verify "oci:$out/slim:sample" --quiet
echo
echo "smoke test in a chroot of the slimmed image:"
root=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
umoci unpack --image "$out/slim:sample" "$root/bundle" >/dev/null
bash fixtures/sample/smoke.sh "$root/bundle/rootfs"
echo
jq -r '"file bytes: \(.before.bytes) -> \(.after.bytes) (\(100 - (100 * .after.bytes / .before.bytes) | floor)% smaller); compressed: \(.before.compressed_bytes) -> \(.after.compressed_bytes)"' "$out/report.json"
