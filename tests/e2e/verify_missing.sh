#!/usr/bin/env bash
# verify_missing: `slimage verify` exits 3 and names the soname when an entrypoint's
# NEEDED library is absent, and 0 on the intact image.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need python3 gcc
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/good" img "$SCRATCH/root"
rm "$SCRATCH/root/usr/lib/greet/libgreet.so.1"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/bad" img "$SCRATCH/root"

set +e
"$SLIMAGE" verify "$(in_layout good)" >"$SCRATCH/good.txt" 2>&1; rc_good=$?
"$SLIMAGE" verify "$(in_layout bad)" >"$SCRATCH/bad.txt" 2>&1; rc_bad=$?
"$SLIMAGE" verify --json "$(in_layout bad)" >"$SCRATCH/bad.json" 2>/dev/null
set -e
[[ $rc_good == 0 ]] || fail "verify of the intact image exited $rc_good: $(cat "$SCRATCH/good.txt")"
[[ $rc_bad == 3 ]] || fail "verify with a missing library exited $rc_bad, want 3"
grep -q 'libgreet.so.1' "$SCRATCH/bad.txt" || fail "verify does not name libgreet.so.1: $(cat "$SCRATCH/bad.txt")"
jq -e . "$SCRATCH/bad.json" >/dev/null 2>&1 || fail "verify --json is not JSON"
pass "missing NEEDED -> exit 3 naming it"
