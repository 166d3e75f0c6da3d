#!/usr/bin/env bash
# scratch_report: every slim says what it cost. The --report JSON carries the peak
# scratch bytes (written minus freed, measured) and peak RSS with the stage that raised
# it; the summary prints both. All layers are decoded before anything is freed, so the
# peak is at least the input's decoded tar bytes, and at most those plus the output's
# layer blobs (staged in scratch before the destination takes them).
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3
scratch

mkdir -p "$SCRATCH/l1/usr/share/keep" "$SCRATCH/l2/junk"
head -c $((3 << 20)) /dev/urandom >"$SCRATCH/l1/usr/share/keep/blob"
head -c $((4 << 20)) /dev/urandom >"$SCRATCH/l2/junk/big"
echo kept >"$SCRATCH/l2/junk/../note"
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1" "$SCRATCH/l2"
export SLIMAGE_TMPDIR="$SCRATCH/tmp"
mkdir "$SLIMAGE_TMPDIR"

"$SLIMAGE" slim "$(in_layout in)" "$(in_layout out)" --profile none --drop '/junk/**' \
    --compression gzip --level 1 --report "$SCRATCH/report.json" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" ||
    fail "slim failed: $(cat "$SCRATCH/stderr")"
only_names_in "$SLIMAGE_TMPDIR"

tar_in=0
while read -r m p; do
    tar_in=$((tar_in + $(decompress_stream "$m" "$p" | wc -c)))
done < <(oci_layer_blobs "$SCRATCH/in" img)
out_blobs=$(jq '[.layers[].size] | add' "$(blob_path "$SCRATCH/out" "$(oci_manifest_digest "$SCRATCH/out" img)")")
peak=$(jq '.scratch.peak_bytes' "$SCRATCH/report.json")
[[ $peak =~ ^[0-9]+$ ]] || fail "report has no scratch.peak_bytes: $(jq -c .scratch "$SCRATCH/report.json")"
((peak >= tar_in)) || fail "scratch peak $peak is less than the decoded layers' $tar_in bytes"
((peak <= tar_in + out_blobs)) ||
    fail "scratch peak $peak is more than decoded layers + output blobs ($tar_in + $out_blobs)"
pass "scratch peak $peak bytes: decoded layers $tar_in <= peak <= + output blobs $out_blobs"

# Peak RSS: the stage named holds the peak, every stage timed has its figure, none above it.
jq -e '.peak_rss as $r | ($r.bytes > 0) and ($r.by_stage[$r.stage] == $r.bytes)
       and ([$r.by_stage[]] | max) == $r.bytes
       and (($r.by_stage | keys) == (.timings | keys))' "$SCRATCH/report.json" >/dev/null ||
    fail "peak_rss inconsistent: $(jq -c '{peak_rss, timings}' "$SCRATCH/report.json")"
stage=$(jq -r .peak_rss.stage "$SCRATCH/report.json")
want=$(python3 -c '
import sys
def human(b):
    v, u = float(b), 0
    while v >= 1024 and u < 4: v, u = v / 1024, u + 1
    return f"{b} B" if u == 0 else f"{v:.1f} " + ["B", "KiB", "MiB", "GiB", "TiB"][u]
print(f"  scratch peak {human(int(sys.argv[1]))}, peak RSS {human(int(sys.argv[2]))} ({sys.argv[3]})")
' "$peak" "$(jq .peak_rss.bytes "$SCRATCH/report.json")" "$stage")
grep -qxF "$want" "$SCRATCH/stdout" || fail "summary lacks [$want]: $(cat "$SCRATCH/stdout")"
pass "peak RSS $(jq .peak_rss.bytes "$SCRATCH/report.json") bytes in stage $stage; summary: $want"

# plan --json: its own decode's peak, which is exactly the input's decoded tar bytes.
"$SLIMAGE" plan "$(in_layout in)" --profile none --drop '/junk/**' --json >"$SCRATCH/plan.json" 2>"$SCRATCH/stderr" ||
    fail "plan failed: $(cat "$SCRATCH/stderr")"
[[ "$(jq '.scratch.decode_peak_bytes' "$SCRATCH/plan.json")" == "$tar_in" ]] ||
    fail "plan --json scratch.decode_peak_bytes is $(jq -c .scratch "$SCRATCH/plan.json"), want $tar_in"
only_names_in "$SLIMAGE_TMPDIR"
pass "plan --json: decode peak $tar_in bytes, the decoded layers exactly"
