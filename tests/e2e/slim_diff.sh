#!/usr/bin/env bash
# slim_diff: `slim --diff` prints, after its summary, exactly what `slimage diff SRC DST`
# prints for its own input and output, and puts the same object `diff --json` gives
# into each platform's --report entry as "diff"; with --report - the diff text goes
# to stderr with the summary, so stdout stays JSON.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3
scratch

cat >"$SCRATCH/layer.json" <<'J'
[{"path": "etc/keep", "data": "kept\n"}, {"path": "junk/big", "data": "0123456789"}, {"path": "junk/small", "data": "x"}]
J
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/layer.json"

"$SLIMAGE" slim "$(in_layout in)" "$(in_layout out)" --profile none --drop '/junk/**' --diff \
    --report "$SCRATCH/report.json" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" ||
    fail "slim --diff exited $?: $(cat "$SCRATCH/stderr")"
"$SLIMAGE" diff "$(in_layout in)" "$(in_layout out)" -q >"$SCRATCH/want.txt" 2>/dev/null ||
    fail "slimage diff exited $?"
grep -q '^- /junk/big (10 B)$' "$SCRATCH/want.txt" || fail "fixture: diff does not remove /junk/big: $(cat "$SCRATCH/want.txt")"
# The diff follows the summary's "saved" line and a blank line.
sed -n '/^diff A /,$p' "$SCRATCH/stdout" >"$SCRATCH/got.txt"
diff "$SCRATCH/want.txt" "$SCRATCH/got.txt" >/dev/null ||
    fail "slim --diff text differs from slimage diff:
$(diff "$SCRATCH/want.txt" "$SCRATCH/got.txt")"
grep -q '^  saved ' "$SCRATCH/stdout" || fail "summary missing: $(cat "$SCRATCH/stdout")"
"$SLIMAGE" diff "$(in_layout in)" "$(in_layout out)" --json -q >"$SCRATCH/want.json" 2>/dev/null
[[ "$(jq -S '.diff' "$SCRATCH/report.json")" == "$(jq -S . "$SCRATCH/want.json")" ]] ||
    fail "--report .diff is not diff --json: $(jq -c '.diff' "$SCRATCH/report.json")"
[[ $(jq -r '.diff.files | map("\(.change) \(.path)") | join(",")' "$SCRATCH/report.json") == "removed /junk/big,removed /junk/small" ]] ||
    fail "--report .diff files: $(jq -c '.diff.files' "$SCRATCH/report.json")"
pass "slim --diff prints and reports what slimage diff says"

"$SLIMAGE" slim "$(in_layout in)" "$(in_layout out2)" --profile none --drop '/junk/**' --diff \
    --report - >"$SCRATCH/stdout2" 2>"$SCRATCH/stderr2" || fail "slim --diff --report - exited $?"
jq -e '.diff.totals.removed.files == 2' "$SCRATCH/stdout2" >/dev/null ||
    fail "--report - is not the JSON with the diff: $(head -c 400 "$SCRATCH/stdout2")"
grep -q '^- /junk/big (10 B)$' "$SCRATCH/stderr2" || fail "--report -: diff text not on stderr: $(cat "$SCRATCH/stderr2")"
pass "--report -: JSON on stdout, the diff text on stderr"
