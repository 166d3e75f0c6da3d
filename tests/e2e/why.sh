#!/usr/bin/env bash
# why: `slimage why` shows the chain (and how each edge was found) that keeps a
# library, the rule that drops an unreachable CUDA library, and an exact error
# for a path the image does not hold.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
gcc -shared -fPIC -Wl,-soname,libcufft.so.12 -o "$SCRATCH/root/usr/lib/greet/libcufft.so.12" -x c - <<<'int fft(void) { return 1; }'
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
src=$(in_layout in)

set +e
"$SLIMAGE" why "$src" /usr/lib/greet/libgreet.so.1 >"$SCRATCH/kept" 2>"$SCRATCH/kept.err"; rc_kept=$?
"$SLIMAGE" why "$src" /usr/lib/greet/libcufft.so.12 >"$SCRATCH/dropped" 2>"$SCRATCH/dropped.err"; rc_dropped=$?
"$SLIMAGE" why "$src" /no/such/path >/dev/null 2>"$SCRATCH/missing.err"; rc_missing=$?
set -e
[[ $rc_kept == 0 ]] || fail "why (kept) exited $rc_kept: $(cat "$SCRATCH/kept.err")"
# The entrypoint's chain, each edge with how it was found.
grep -Fxq '    root usr/bin/hello [entrypoint] Entrypoint[0] /usr/bin/hello' "$SCRATCH/kept" ||
    fail "why does not show the entrypoint root: $(cat "$SCRATCH/kept")"
grep -Fxq '    usr/bin/hello -> usr/lib/greet/libgreet.so.1 [runpath] libgreet.so.1 in usr/bin/../lib/greet ($ORIGIN from RUNPATH of usr/bin/hello)' "$SCRATCH/kept" ||
    fail "why does not show the RUNPATH edge: $(cat "$SCRATCH/kept")"
[[ $rc_dropped == 0 ]] || fail "why (dropped) exited $rc_dropped: $(cat "$SCRATCH/dropped.err")"
want='usr/lib/greet/libcufft.so.12: drop (unreachable-cuda): CUDA library: no kept ELF loads it (DT_NEEDED, dlopen families, string heuristic)'
[[ "$(head -1 "$SCRATCH/dropped")" == "$want" ]] ||
    fail "why gives the wrong reason for the unreachable CUDA library: $(head -1 "$SCRATCH/dropped")"
[[ $rc_missing == 1 ]] || fail "why on a path not in the image exited $rc_missing, want 1"
[[ "$(tail -1 "$SCRATCH/missing.err")" == "slimage: error: /no/such/path: no such file in $src" ]] ||
    fail "wrong error for a missing path: $(tail -1 "$SCRATCH/missing.err")"
pass "why explains kept and dropped"
