#!/usr/bin/env bash
# digests.sh — the output manifest digests of slimming an image with a few
# settings, one line each: "SETTINGS<TAB>DIGEST". A refactor that must not
# change output (issue 16's pipeline module) is checked by comparing these
# before and after:
#   scripts/digests.sh BEFORE_BINARY > before.txt
#   scripts/digests.sh build/slimage > after.txt && diff before.txt after.txt
# IMAGE defaults to the cached small sample (tests/e2e/lib.sh small_sample);
# set IMAGE=oci:DIR:REF for another. Each run writes a fresh OCI layout in a
# scratch dir and reads its index.json.
set -euo pipefail
bin=${1:?usage: digests.sh SLIMAGE_BINARY}
image=${IMAGE:-oci:${HOME}/.cache/slimage/sample-small-cuda:sample}
out=$(mktemp -d "${TMPDIR:-/tmp}/slimage-digests.XXXXXX")
trap 'rm -rf -- "$out"' EXIT
settings=(
    "--profile default"
    "--profile runtime --cuda-arch sm_90"
    "--profile none"
    "--profile default --layers squash"
)
i=0
for s in "${settings[@]}"; do
    i=$((i + 1))
    # shellcheck disable=SC2086  # the settings are words
    "$bin" slim --quiet $s "$image" "oci:$out/$i:out" >/dev/null
    printf '%s\t%s\n' "$s" "$(jq -r '.manifests[0].digest' "$out/$i/index.json")"
done
