#!/usr/bin/env bash
# low_disk: `slim --scratch-budget 0` (low-disk mode) spills only the content the
# analysis reads, refills the kept rest before the write, and writes the very same
# image as a normal run (same manifest digest, any --jobs) with a lower measured scratch
# peak. A scratch disk too small for a normal run switches to low-disk mode by itself
# (and says so); one too small even for that is refused up front, with the numbers.
# docker:// sources are downloaded again for the refill, with the same digest checks.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 mount umount
scratch

run_slim() {  # run_slim NAME SRC ARGS...: slim SRC into oci:$SCRATCH/NAME, report NAME.json
    local name=$1 src=$2
    shift 2
    slim slim "$src" "oci:$SCRATCH/$name:img" --report "$SCRATCH/$name.json" "$@" >"$SCRATCH/$name.out"
    [[ $RC == 0 ]] || fail "$name: slim exited $RC: $(tail -3 "$SCRATCH/stderr")"
    cp "$SCRATCH/stderr" "$SCRATCH/$name.err"
}
field() { jq -r "$2" "$SCRATCH/$1.json"; }

# 1. A synthetic image: big files the analysis never reads, one kept and one dropped;
#    a small one and a big "#!" script, which are spilled.
mkdir -p "$SCRATCH/root/data" "$SCRATCH/root/usr/bin"
head -c $((6 << 20)) /dev/urandom >"$SCRATCH/root/data/kept.bin"
head -c $((12 << 20)) /dev/urandom >"$SCRATCH/root/data/dropped.bin"
{ echo '#!/bin/sh'; head -c $((1 << 20)) /dev/urandom | base64; } >"$SCRATCH/root/usr/bin/tool"
echo small >"$SCRATCH/root/data/small"
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
SRC="oci:$SCRATCH/in:img"
ARGS=(--profile none --drop '/data/dropped.bin' --compression gzip --level 1)
export SLIMAGE_TMPDIR="$SCRATCH/tmp"
mkdir "$SLIMAGE_TMPDIR"
run_slim normal "$SRC" "${ARGS[@]}"
run_slim low "$SRC" "${ARGS[@]}" --scratch-budget 0
run_slim low1 "$SRC" "${ARGS[@]}" --scratch-budget 0 --jobs 1
n=$(field normal .manifest_digest) l=$(field low .manifest_digest) l1=$(field low1 .manifest_digest)
[[ $n == "$l" && $n == "$l1" ]] || fail "low-disk output differs: normal $n, low-disk $l, low-disk --jobs 1 $l1"
[[ $(field normal .scratch.mode) == normal && $(field low .scratch.mode) == low-disk ]] ||
    fail "scratch.mode: $(jq -c .scratch "$SCRATCH/normal.json") / $(jq -c .scratch "$SCRATCH/low.json")"
[[ $(field low .scratch.mode_reason) == "--scratch-budget 0" ]] || fail "mode_reason: $(field low .scratch.mode_reason)"
grep -qxF "  scratch: low-disk mode: --scratch-budget 0" "$SCRATCH/low.out" ||
    fail "summary does not name the mode: $(cat "$SCRATCH/low.out")"
grep -q "low-disk mode (--scratch-budget 0): 18.0 MiB not spilled" "$SCRATCH/low.err" ||
    fail "decode stage does not say what it left out: $(grep decode "$SCRATCH/low.err")"
grep -q "refill.*6.0 MiB of kept content re-decoded" "$SCRATCH/low.err" ||
    fail "refill stage missing or not 6 MiB: $(grep -i refill "$SCRATCH/low.err")"
pn=$(field normal .scratch.peak_bytes) pl=$(field low .scratch.peak_bytes)
((pl < pn)) || fail "low-disk scratch peak $pl is not below the normal run's $pn"
only_names_in "$SLIMAGE_TMPDIR"
# plan --json says the same before any slim: 18 MiB left out, the kept 6 MiB refilled.
"$SLIMAGE" plan "$SRC" --profile none --drop '/data/dropped.bin' --json -q >"$SCRATCH/plan.json" 2>"$SCRATCH/stderr" ||
    fail "plan failed: $(cat "$SCRATCH/stderr")"
[[ $(jq -c '.scratch.low_disk | [.unspilled_bytes, .refill_bytes]' "$SCRATCH/plan.json") == "[18874368,6291456]" ]] ||
    fail "plan --json low-disk estimate: $(jq -c .scratch "$SCRATCH/plan.json")"
pass "synthetic: same manifest $n (--jobs default and 1); scratch peak normal $pn, low-disk $pl"

# 2. Automatic: a scratch disk smaller than the layers (25 MiB compressed) switches to
#    low-disk mode; the dropped file is never written, so the run fits in 18 MiB.
mkdir -p "$SCRATCH/small"
mount -t tmpfs -o size=18m slimage-e2e "$SCRATCH/small" || skip "cannot mount a tmpfs"
SLIMAGE_TMPDIR="$SCRATCH/small" run_slim auto "$SRC" "${ARGS[@]}"
[[ $(field auto .scratch.mode) == low-disk ]] || fail "no automatic low-disk mode: $(jq -c .scratch "$SCRATCH/auto.json")"
[[ $(field auto .scratch.mode_reason) == "automatic: "*" free, a normal run needs "* ]] ||
    fail "mode_reason: $(field auto .scratch.mode_reason)"
[[ $(field auto .manifest_digest) == "$n" ]] || fail "automatic low-disk output differs"
only_names_in "$SCRATCH/small"
pass "automatic: $(field auto .scratch.mode_reason); same manifest"

# 3. Even the low-disk estimate (a tenth of 25 MiB) does not fit 1 MiB: refused up front.
mkdir -p "$SCRATCH/tiny"
mount -t tmpfs -o size=1m slimage-e2e "$SCRATCH/tiny" || skip "cannot mount a tmpfs"
SLIMAGE_TMPDIR="$SCRATCH/tiny" slim slim "$SRC" "oci:$SCRATCH/refused:img" "${ARGS[@]}"
[[ $RC != 0 ]] || fail "a 1 MiB scratch disk was not refused"
grep -q "scratch $SCRATCH/tiny: needs at least .* (low-disk mode: " "$SCRATCH/stderr" ||
    fail "refusal does not give the low-disk numbers: $(tail -1 "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/refused" ]] || fail "a refused run wrote its destination"
pass "refused: $(tail -1 "$SCRATCH/stderr")"

# 4. The small sample (CUDA libraries: mostly ELF, which pass 1 still spills).
small_sample
run_slim sample-normal "oci:$SAMPLE:sample"
run_slim sample-low "oci:$SAMPLE:sample" --scratch-budget 0
n=$(field sample-normal .manifest_digest) l=$(field sample-low .manifest_digest)
[[ $n == "$l" ]] || fail "sample: low-disk output $l differs from normal $n"
pn=$(field sample-normal .scratch.peak_bytes) pl=$(field sample-low .scratch.peak_bytes)
((pl < pn)) || fail "sample: low-disk scratch peak $pl is not below the normal run's $pn"
pass "sample: same manifest $n; scratch peak normal $pn, low-disk $pl"
