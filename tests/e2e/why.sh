#!/usr/bin/env bash
# why: `slimage why` shows the chain (and how each edge was found) that keeps a
# library, and the reason an unreachable one is dropped.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
gcc -shared -fPIC -Wl,-soname,libunused.so.1 -o "$SCRATCH/root/usr/lib/greet/libunused.so.1" -x c - <<<'int unused(void) { return 1; }'
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"

set +e
kept=$("$SLIMAGE" why "$(in_layout in)" /usr/lib/greet/libgreet.so.1 2>&1); rc_kept=$?
dropped=$("$SLIMAGE" why "$(in_layout in)" /usr/lib/greet/libunused.so.1 2>&1); rc_dropped=$?
"$SLIMAGE" why "$(in_layout in)" /no/such/path >/dev/null 2>&1; rc_missing=$?
set -e
[[ $rc_kept == 0 ]] || fail "why (kept) exited $rc_kept: $kept"
grep -q '/usr/bin/hello' <<<"$kept" || fail "why does not name the root /usr/bin/hello: $kept"
grep -qi 'runpath' <<<"$kept" || fail "why does not say the edge was found via RUNPATH: $kept"
grep -q 'libgreet.so.1' <<<"$kept" || fail "why does not name the needed soname: $kept"
[[ $rc_dropped == 0 ]] || fail "why (dropped) exited $rc_dropped: $dropped"
grep -Eqi 'unreachable|not needed|no .*need|drop|remov|unused' <<<"$dropped" ||
    fail "why gives no reason for dropping libunused.so.1: $dropped"
[[ $rc_missing != 0 ]] || fail "why on a path not in the image exited 0"
pass "why explains kept and dropped"
