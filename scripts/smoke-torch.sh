#!/usr/bin/env bash
# smoke-torch.sh — runs fixtures/torch/checks.py in the unslimmed and the slimmed torch
# root (chroot, no network, no host /dev) and fails if a check that passes in the first
# fails in the second: the slimmed image must do everything the original did.
#
# usage: scripts/smoke-torch.sh ORIGINAL SLIMMED
#   each is a rootfs directory or an OCI layout as LAYOUT:REF (unpacked with umoci into a
#   temp dir under ${TMPDIR:-/tmp}, removed afterwards)
# Prints both result columns; exit 0 when nothing regressed, 1 otherwise.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib-image.sh
source "$here/lib-image.sh"

(($# == 2)) || { echo "usage: $0 ORIGINAL SLIMMED (rootfs dir or LAYOUT:REF)" >&2; exit 2; }
[[ $(id -u) == 0 ]] || die "must run as root (chroot)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/smoke-torch.XXXXXX")
trap 'chroot_release; rm -rf -- "$tmp"' EXIT

root_of() {  # root_of SPEC NAME -> a rootfs directory
    if [[ -d "$1" && ! -f "$1/oci-layout" ]]; then
        printf '%s\n' "$1"
    else
        unpack_oci "${1%:*}" "${1##*:}" "$tmp/$2" || die "$1: cannot unpack"
        printf '%s\n' "$tmp/$2/rootfs"
    fi
}

run_checks() {  # run_checks ROOT OUTFILE
    local root="$1"
    [[ -x "$root/usr/bin/python3" ]] || die "$root: no usr/bin/python3"
    cp -- "$repo/fixtures/torch/checks.py" "$tmp/checks.py"
    chroot_prepare "$root"
    chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/root \
        PYTHONDONTWRITEBYTECODE=1 /usr/bin/python3 - <"$tmp/checks.py" >"$2" 2>"$2.err" || true
    chroot_release
    [[ -s "$2" ]] || { cat "$2.err" >&2; die "$root: checks.py printed nothing"; }
}

orig=$(root_of "$1" orig)
slim=$(root_of "$2" slim)
run_checks "$orig" "$tmp/orig.txt"
run_checks "$slim" "$tmp/slim.txt"

regressed=0
printf '%-40s %-8s %s\n' check original slimmed
while IFS= read -r line; do
    name=${line%%: *} rest=${line#*: }
    other=$(grep -F -m1 -- "$name: " "$tmp/slim.txt" | sed "s/^[^:]*: //" || true)
    printf '%-40s %-8s %s\n' "$name" "${rest%% *}" "${other:-missing}"
    if [[ ${rest%% *} == ok && ${other%% *} != ok ]]; then
        regressed=$((regressed + 1))
        printf '  regressed: %s\n' "${other#FAIL }"
    fi
done <"$tmp/orig.txt"
(( regressed == 0 )) || { log "$regressed check(s) pass in the original and fail slimmed"; exit 1; }
log "every check that passes in the original passes slimmed"
