#!/usr/bin/env bash
# low_disk: `slim --scratch-budget 0` (low-disk mode) spills only the content the
# analysis reads; a rewritten layer's kept rest streams from a second decode of its input
# layer straight into the layer being written where the tar holds it in the order the
# writer reads (by path), and is refilled into scratch just before the write where it
# does not (none of it for a layer reused byte for byte). It writes the very same image
# as a normal run (same manifest digest, any --jobs) with a lower measured scratch peak. --scratch-budget SIZE
# is a limit: refused before writing when the plan shows it cannot fit, stopped cleanly
# when a write would pass it. A scratch disk too small for a normal run switches to low-disk mode by itself
# (and says so); one too small even for that is refused up front, with the numbers.
# docker:// sources are downloaded again for pass 2, with the same digest checks.
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
grep -q "refill .* 6.0 MiB of kept content streamed from its re-decoded layers to the encoder (within the write)$" "$SCRATCH/low.err" ||
    fail "refill stage missing or not 6 MiB streamed: $(grep -i refill "$SCRATCH/low.err")"
[[ $(jq -c '.scratch | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/low.json") == "[0,0,6291456]" ]] ||
    fail "pass 2 (want the kept 6 MiB streamed, none refilled): $(jq -c .scratch "$SCRATCH/low.json")"
pn=$(field normal .scratch.peak_bytes) pl=$(field low .scratch.peak_bytes)
((pl < pn)) || fail "low-disk scratch peak $pl is not below the normal run's $pn"
only_names_in "$SLIMAGE_TMPDIR"
# plan --json says the same before any slim: 18 MiB left out, the kept 6 MiB streamed.
"$SLIMAGE" plan "$SRC" --profile none --drop '/data/dropped.bin' --json -q >"$SCRATCH/plan.json" 2>"$SCRATCH/stderr" ||
    fail "plan failed: $(cat "$SCRATCH/stderr")"
# Left out: the whole 4 KiB blocks of the two big files' content (their partial blocks are spilled).
left_out=$(whole_blocks "$SCRATCH/in" data/kept.bin data/dropped.bin)
((left_out > (18 << 20) - 16384)) || fail "whole_blocks: $left_out"
[[ $(field low .scratch.unspilled_bytes) == "$left_out" ]] || fail "report unspilled_bytes: $(jq -c .scratch "$SCRATCH/low.json"), want $left_out"
[[ $(jq -c '.scratch.low_disk | [.unspilled_bytes, .refill_bytes, .streamed_bytes]' "$SCRATCH/plan.json") == "[$left_out,0,6291456]" ]] ||
    fail "plan --json low-disk estimate: $(jq -c .scratch "$SCRATCH/plan.json")"
# Nothing refilled: the peak is what pass 1 spilled (the staged layer is at the destination).
spilled=$(jq .scratch.low_disk.spilled_bytes "$SCRATCH/plan.json")
((pl < spilled + (1 << 20))) || fail "low-disk peak $pl is not below spilled $spilled + 1 MiB (kept content refilled?)"
pass "synthetic: same manifest $n (--jobs default and 1); scratch peak normal $pn, low-disk $pl (spilled $spilled)"

# 1a. The same files in a tar not in path order, and a second kept one (data/a.bin, 2 MiB):
#     the writer reads data/a.bin first (streamed), then data/kept.bin, which the second
#     decode has passed: refilled (6 MiB), as plan --json predicts. The same image.
mkdir -p "$SCRATCH/rev/data" "$SCRATCH/rev/usr/bin"
cp -a "$SCRATCH/root/." "$SCRATCH/rev/"
head -c $((2 << 20)) /dev/urandom >"$SCRATCH/rev/data/a.bin"
LAYER_ORDER=reversed make_layout_from_dirs "$SCRATCH/in-rev" img "$SCRATCH/rev"
RSRC="oci:$SCRATCH/in-rev:img"
run_slim rev-normal "$RSRC" "${ARGS[@]}"
run_slim rev-low "$RSRC" "${ARGS[@]}" --scratch-budget 0
rn=$(field rev-normal .manifest_digest)
[[ $(field rev-low .manifest_digest) == "$rn" ]] || fail "out of order: low-disk output differs from normal $rn"
[[ $(jq -c '.scratch | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/rev-low.json") == "[6291456,6291456,2097152]" ]] ||
    fail "out of order (want 6 MiB refilled, 2 MiB streamed): $(jq -c .scratch "$SCRATCH/rev-low.json")"
grep -q "refill .* 2.0 MiB of kept content streamed from its re-decoded layers to the encoder (within the write); 6.0 MiB of kept content re-decoded into scratch for 1 layer(s), 6.0 MiB at most at once$" \
    "$SCRATCH/rev-low.err" || fail "out of order: refill stage line: $(grep -i refill "$SCRATCH/rev-low.err")"
"$SLIMAGE" plan "$RSRC" --profile none --drop '/data/dropped.bin' --json -q >"$SCRATCH/rev-plan.json" 2>"$SCRATCH/stderr" ||
    fail "plan failed: $(cat "$SCRATCH/stderr")"
[[ $(jq -c '.scratch.low_disk | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/rev-plan.json") == "[6291456,6291456,2097152]" ]] ||
    fail "out of order: plan --json low-disk estimate: $(jq -c .scratch "$SCRATCH/rev-plan.json")"
only_names_in "$SLIMAGE_TMPDIR"
pass "out of order: same manifest $rn; 2 MiB streamed, 6 MiB refilled"

# 1b. --scratch-budget SIZE is a limit. After the plan, before anything is written, the
#     out-of-order layer as spilled plus its 6 MiB refill do not fit 4 MiB: refused
#     with those numbers (the staged layer is at the destination: not scratch). A budget
#     below what pass 1 spills stops the decode cleanly; one just above the measured peak
#     (that floor: nothing else is in scratch) writes the same image.
spilled=$(jq .scratch.low_disk.spilled_bytes "$SCRATCH/rev-plan.json")
floor=$((spilled + (6 << 20)))
manifest=$(jq -r '.manifests[0].digest | sub("sha256:"; "")' "$SCRATCH/in-rev/index.json")
layer=$(jq -r '.layers[0].digest' "$SCRATCH/in-rev/blobs/sha256/$manifest")
want="slimage: error: --scratch-budget 4.0 MiB cannot hold this run: $(human "$spilled") of decoded layers stay in scratch"
want+=" (tar headers and the content the analysis reads, less what the plan drops) and layer ${layer:0:19}…"
want+=" needs 6.0 MiB of kept content refilled to be written: at least $(human $floor) ($floor bytes);"
want+=" nothing was written. Give a larger --scratch-budget (0: low-disk mode with no limit)"
slim slim "$RSRC" "oci:$SCRATCH/over:img" "${ARGS[@]}" --scratch-budget 4MiB
[[ $RC == 1 ]] || fail "a 4 MiB budget was not refused (exit $RC)"
[[ $(tail -1 "$SCRATCH/stderr") == "$want" ]] || fail "budget refusal: got [$(tail -1 "$SCRATCH/stderr")], want [$want]"
grep -q "^write" "$SCRATCH/stderr" && fail "the refused run began writing: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/over" ]] || fail "a refused run wrote its destination"
only_names_in "$SLIMAGE_TMPDIR"
mid=$((spilled - (256 << 10)))
slim slim "$RSRC" "oci:$SCRATCH/over:img" "${ARGS[@]}" --scratch-budget $mid
[[ $RC == 1 ]] || fail "a budget below pass 1's spill was not enforced (exit $RC)"
tail -1 "$SCRATCH/stderr" | grep -qE "^slimage: error: (.*: )?--scratch-budget $(human $mid | sed 's/\./\\./') exceeded: .* of scratch in use, .* more would make [0-9]+ bytes, over its $mid; the run stops there: nothing is written and its scratch is freed\. Give a larger --scratch-budget \(0: low-disk mode with no limit\)$" ||
    fail "mid-run budget error: $(tail -1 "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/over" ]] || fail "a run stopped by its budget wrote its destination"
only_names_in "$SLIMAGE_TMPDIR"
# The measured peak moves by some bytes from run to run (chunk timing): 64 KiB of slack.
fits=$(($(field rev-low .scratch.peak_bytes) + (64 << 10)))
run_slim budget "$RSRC" "${ARGS[@]}" --scratch-budget "$fits"
[[ $(field budget .manifest_digest) == "$rn" ]] || fail "budget $fits: output differs"
[[ $(field budget .scratch.budget_bytes) == "$fits" ]] || fail "report: $(jq -c .scratch "$SCRATCH/budget.json")"
(($(field budget .scratch.peak_bytes) <= fits)) || fail "peak $(field budget .scratch.peak_bytes) over the budget $fits"
pass "budget: 4 MiB refused before writing (floor $floor), $mid stopped in the decode, $fits fits"

# 1c. Three layers: an untouched one (reused byte for byte: its 5 MiB never re-decoded),
#     and two rewritten ones holding 6 MiB of kept content each, streamed one layer at a time.
mkdir -p "$SCRATCH/m1/base" "$SCRATCH/m2/data" "$SCRATCH/m3/data"
lines() { python3 -c 'import sys; sys.stdout.write((sys.argv[1] * int(sys.argv[2]))[:int(sys.argv[2])])' "$1" "$2" >"$3"; }
lines "reused " $((5 << 20)) "$SCRATCH/m1/base/reused.dat"  # compressible: small staged layers
lines "second " $((6 << 20)) "$SCRATCH/m2/data/two.bin"
lines "third " $((6 << 20)) "$SCRATCH/m3/data/three.bin"
head -c $((1 << 20)) /dev/urandom >"$SCRATCH/m2/data/gone2.bin"
head -c $((1 << 20)) /dev/urandom >"$SCRATCH/m3/data/gone3.bin"
make_layout_from_dirs "$SCRATCH/multi" img "$SCRATCH/m1" "$SCRATCH/m2" "$SCRATCH/m3"
MARGS=(--profile none --drop '/data/gone*' --compression gzip --level 1)
run_slim multi-normal "oci:$SCRATCH/multi:img" "${MARGS[@]}"
run_slim multi-low "oci:$SCRATCH/multi:img" "${MARGS[@]}" --scratch-budget 0
run_slim multi-low1 "oci:$SCRATCH/multi:img" "${MARGS[@]}" --scratch-budget 0 --jobs 1
mn=$(field multi-normal .manifest_digest)
[[ $(field multi-low .manifest_digest) == "$mn" && $(field multi-low1 .manifest_digest) == "$mn" ]] ||
    fail "3 layers: low-disk output differs from normal $mn"
[[ $(field multi-low .layers.reused) == 1 ]] || fail "the untouched layer is not reused: $(jq -c .layers "$SCRATCH/multi-low.json")"
[[ $(jq -c '.scratch | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/multi-low.json") == "[0,0,12582912]" ]] ||
    fail "pass 2 (want 12 MiB streamed): $(jq -c .scratch "$SCRATCH/multi-low.json")"
grep -q "refill .* 12.0 MiB of kept content streamed from its re-decoded layers to the encoder (within the write)$" \
    "$SCRATCH/multi-low.err" || fail "refill stage line: $(grep -i refill "$SCRATCH/multi-low.err")"
"$SLIMAGE" plan "oci:$SCRATCH/multi:img" --profile none --drop '/data/gone*' --json -q >"$SCRATCH/multi-plan.json" \
    2>"$SCRATCH/stderr" || fail "plan failed: $(cat "$SCRATCH/stderr")"
[[ $(jq -c '.scratch.low_disk | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/multi-plan.json") == "[0,0,12582912]" ]] ||
    fail "plan --json pass 2: $(jq -c .scratch "$SCRATCH/multi-plan.json")"
# Scratch peak: the spilled tars and nothing more (staged at the destination); refilling
# one layer at a time held 6 MiB more, both before the write 12 MiB (17 with the reused one).
ms=$(jq .scratch.low_disk.spilled_bytes "$SCRATCH/multi-plan.json") mp=$(field multi-low .scratch.peak_bytes)
((mp < ms + (1 << 20))) || fail "3 layers: low-disk peak $mp is not below spilled $ms + 1 MiB"
# --layers squash writes one layer from three input layers: three decodes streamed at once.
run_slim squash-normal "oci:$SCRATCH/multi:img" "${MARGS[@]}" --layers squash
run_slim squash-low "oci:$SCRATCH/multi:img" "${MARGS[@]}" --layers squash --scratch-budget 0
[[ $(field squash-low .manifest_digest) == "$(field squash-normal .manifest_digest)" ]] ||
    fail "--layers squash: low-disk output differs"
[[ $(jq -c '.scratch | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/squash-low.json") == "[0,0,17825792]" ]] ||
    fail "--layers squash (want all 17 MiB streamed): $(jq -c .scratch "$SCRATCH/squash-low.json")"
pass "3 layers: same manifest (--jobs default and 1, and squashed); reused layer not re-decoded; peak $mp (spilled $ms)"
# A squash of five layers holding 0.5, 1, 1.5, 2 and 2.5 MiB of kept holes: a decode stays
# open per streamed layer, so only the four with the most bytes stream; the 0.5 MiB is
# refilled. The same image as a normal squash.
qdirs=()
for k in 1 2 3 4 5; do
    mkdir -p "$SCRATCH/q$k/data"
    head -c $((k << 19)) /dev/urandom >"$SCRATCH/q$k/data/q$k.bin"
    qdirs+=("$SCRATCH/q$k")
done
make_layout_from_dirs "$SCRATCH/five" img "${qdirs[@]}"
run_slim five-normal "oci:$SCRATCH/five:img" --profile none --layers squash --compression gzip --level 1
run_slim five-low "oci:$SCRATCH/five:img" --profile none --layers squash --compression gzip --level 1 --scratch-budget 0
[[ $(field five-low .manifest_digest) == "$(field five-normal .manifest_digest)" ]] ||
    fail "five layers squashed: low-disk output differs"
[[ $(jq -c '.scratch | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/five-low.json") == "[524288,524288,7340032]" ]] ||
    fail "five layers squashed (want 4 layers streamed, 0.5 MiB refilled): $(jq -c .scratch "$SCRATCH/five-low.json")"
pass "five layers squashed: the same image; four decodes streamed, the smallest layer's 0.5 MiB refilled"

# 1d. Rewritten layers are staged at the destination (its staging dir), not in scratch, and
#     taken by the sink as each is written: two rewritten layers of 8 MiB of kept random
#     bytes (incompressible, so each staged blob is 8 MiB), streamed. Scratch peaks at the
#     spilled tars; refilling one layer at a time made it 8 MiB over them, staging in
#     scratch and handing each blob over 16 MiB, holding every one until the publish 24.
mkdir -p "$SCRATCH/r1/data" "$SCRATCH/r2/data"
head -c $((8 << 20)) /dev/urandom >"$SCRATCH/r1/data/one.bin"
head -c $((8 << 20)) /dev/urandom >"$SCRATCH/r2/data/two.bin"
head -c $((1 << 20)) /dev/urandom >"$SCRATCH/r1/data/gone1.bin"
head -c $((1 << 20)) /dev/urandom >"$SCRATCH/r2/data/gone2.bin"
make_layout_from_dirs "$SCRATCH/rand" img "$SCRATCH/r1" "$SCRATCH/r2"
run_slim rand-normal "oci:$SCRATCH/rand:img" "${MARGS[@]}"
run_slim rand-low "oci:$SCRATCH/rand:img" "${MARGS[@]}" --scratch-budget 0
[[ $(field rand-low .manifest_digest) == "$(field rand-normal .manifest_digest)" ]] ||
    fail "staged layers handed over: low-disk output differs"
[[ $(jq -c '.scratch | [.refill_bytes, .refill_peak_bytes, .streamed_bytes]' "$SCRATCH/rand-low.json") == "[0,0,16777216]" ]] ||
    fail "random layers' pass 2: $(jq -c .scratch "$SCRATCH/rand-low.json")"
"$SLIMAGE" plan "oci:$SCRATCH/rand:img" --profile none --drop '/data/gone*' --json -q >"$SCRATCH/rand-plan.json" \
    2>"$SCRATCH/stderr" || fail "plan failed: $(cat "$SCRATCH/stderr")"
rs=$(jq .scratch.low_disk.spilled_bytes "$SCRATCH/rand-plan.json") rp=$(field rand-low .scratch.peak_bytes)
((rp < rs + (1 << 20))) || fail "staged layers: low-disk peak $rp is not below spilled $rs + 1 MiB (staged blobs counted as scratch? kept content refilled?)"
only_names_in "$SLIMAGE_TMPDIR"
only_names_in "$SCRATCH/rand-low" blobs index.json oci-layout
pass "staged at the destination: peak $rp = spilled $rs + $(( (rp - rs) >> 20 )) MiB"

# 1e. A run verify refuses (the one library hello needs is dropped) after low-disk mode has
#     handed staged layers to the destination: exit 3, and the destination holds nothing.
make_elf_root "$SCRATCH/e1"
mkdir -p "$SCRATCH/e2/data"
head -c $((4 << 20)) /dev/urandom >"$SCRATCH/e2/data/kept.bin"
head -c $((1 << 20)) /dev/urandom >"$SCRATCH/e2/data/gone.bin"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/elfin" img "$SCRATCH/e1" "$SCRATCH/e2"
mkdir "$SCRATCH/refusedst"
slim slim "oci:$SCRATCH/elfin:img" "oci:$SCRATCH/refusedst/out:img" --profile none --scratch-budget 0 \
    --drop '/data/gone.bin' --drop '/usr/lib/greet/libgreet.so.1'
[[ $RC == 3 ]] || fail "low-disk slim dropping a needed library exited $RC, want 3: $(tail -3 "$SCRATCH/stderr")"
only_names_in "$SCRATCH/refusedst"
only_names_in "$SLIMAGE_TMPDIR"
pass "refused by verify in low-disk mode: exit 3, nothing at the destination"

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

# 4. The small sample (CUDA libraries: mostly big ELF files, which pass 1 summarizes and
#    leaves out: tests/e2e/low_disk_elf.sh has the details). The same image, and a peak
#    below the largest file's size plus everything pass 1 spills.
small_sample
run_slim sample-normal "oci:$SAMPLE:sample"
run_slim sample-low "oci:$SAMPLE:sample" --scratch-budget 0
n=$(field sample-normal .manifest_digest) l=$(field sample-low .manifest_digest)
[[ $n == "$l" ]] || fail "sample: low-disk output $l differs from normal $n"
pn=$(field sample-normal .scratch.peak_bytes) pl=$(field sample-low .scratch.peak_bytes)
sf=$(field sample-low .scratch.elf_summarized.files) sb=$(field sample-low .scratch.elf_summarized.bytes)
ub=$(field sample-low .scratch.unspilled_bytes)
((sf > 0 && sb <= ub)) || fail "sample: no big ELF file summarized: $(jq -c .scratch "$SCRATCH/sample-low.json")"
largest=$(field sample-normal '[.largest_kept[].bytes, .actions[].bytes] | max')  # kept or not
tar=$(field sample-normal '.before.bytes')
((pl < pn - ub + largest + tar / 10)) ||
    fail "sample: low-disk scratch peak $pl: not below normal $pn less the $ub left out plus the largest file ($largest) and a tenth"
pass "sample: same manifest $n; scratch peak normal $pn, low-disk $pl ($sf big ELF files summarized, $sb bytes)"
