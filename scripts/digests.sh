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
#
# Pinned on commit 01f65b5 (before the src/slim/ refactor), small sample
# sample-small-cuda as built on 2026-12-02; the refactor gives the same four:
#   --profile default                    sha256:f993bfcdf95d813b2159638fe43129c30ec1af44a75af736167c857976a34ca3
#   --profile runtime --cuda-arch sm_90  sha256:a355e0f5a6168d137fc2c4b2d4ac60d609045ff5137ee12f03516d97cf1a50b8
#   --profile none                       sha256:fadc3578fa7e9f1c4c72d882b14c92fd28c6ccc038df7731b16047d8de170121
#   --profile default --layers squash    sha256:6c1ab7e47cec160a4ed287a09855141f6b64fbbf151dab06c75a33d6aa1879e5
# (A rebuilt sample may differ; compare two binaries on the same sample.)
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
