#!/usr/bin/env bash
# test_guard: --test CMD passes before slimming; if it fails after, slimage exits 4, shows
# the slimmed run's output and writes no output. A harmless plan with the same --test succeeds.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
mkdir "$SCRATCH/dst"

slim slim "$(in_layout in)" "oci:$SCRATCH/dst/broken:img" --drop '/usr/lib/greet/**' --test '/usr/bin/hello guard'
[[ $RC == 4 ]] || fail "a --drop that breaks --test exited $RC, want 4: $(cat "$SCRATCH/stderr")"
grep -qFx 'slimage: error: --test passes on the original and fails on the slimmed image; nothing written' \
    "$SCRATCH/stderr" || fail "exit 4 without saying the test failed: $(cat "$SCRATCH/stderr")"
# The slimmed run's own output (no shell in the image: argv as given): its header, then
# the loader's complaint.
grep -qFx -- '--- slimmed image: /usr/bin/hello guard (exit 127) ---' "$SCRATCH/stderr" ||
    fail "no header for the slimmed run's output: $(cat "$SCRATCH/stderr")"
grep -qF 'libgreet.so.1: cannot open shared object file' "$SCRATCH/stderr" ||
    fail "the slimmed run's output is not shown: $(cat "$SCRATCH/stderr")"
only_names_in "$SCRATCH/dst"

slim slim "$(in_layout in)" "oci:$SCRATCH/dst/ok:img" --test '/usr/bin/hello guard'
[[ $RC == 0 ]] || fail "--test on a harmless plan exited $RC: $(cat "$SCRATCH/stderr")"
[[ -f "$SCRATCH/dst/ok/index.json" ]] || fail "passing --test wrote no output"
pass "failing --test -> exit 4, nothing written"
