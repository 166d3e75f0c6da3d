#!/usr/bin/env bash
# batch --check and --html DIR: the CI gate runs on every image of a batch. An
# image that fails it is "gate-failed" (its row, --report, exit 1) and nothing
# of it is written (no image, no page); the one that passes is written, with
# its gate numbers in --report and its HTML report at DIR/NAME.html.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3
scratch

# 300,000 random bytes: what the default profile drops (an apt cache) in "big",
# what it keeps in "flat", so "big" loses nearly all its compressed bytes and
# "flat" nearly none.
blob=$(python3 -c 'import base64, random; random.seed(7); print(base64.b64encode(random.randbytes(300000)).decode())')
printf '[{"path": "etc/passwd", "data": "root:x:0:0::/root:/bin/sh\\n"}, {"path": "var/cache/apt/archives/big.deb", "data_b64": "%s"}]' \
    "$blob" >"$SCRATCH/big.json"
printf '[{"path": "etc/passwd", "data": "root:x:0:0::/root:/bin/sh\\n"}, {"path": "usr/share/flat.bin", "data_b64": "%s"}]' \
    "$blob" >"$SCRATCH/flat.json"
make_layout_from_dirs "$SCRATCH/in-big" img "$SCRATCH/big.json"
make_layout_from_dirs "$SCRATCH/in-flat" img "$SCRATCH/flat.json"
cat >"$SCRATCH/list" <<L
oci:$SCRATCH/in-big:img   oci:$SCRATCH/out-big:img
oci:$SCRATCH/in-flat:img  oci:$SCRATCH/out-flat:img
L

mkdir "$SCRATCH/html" "$SCRATCH/html2"
slim batch "$SCRATCH/list" --no-cache --check --least-reduction 50% --html "$SCRATCH/html" \
    --report "$SCRATCH/r.json" >"$SCRATCH/table"
[[ $RC == 1 ]] || fail "batch with a gate-failed image exited $RC, want 1: $(cat "$SCRATCH/stderr")"
got=$(jq -c '[.images[] | [(.destination | sub(".*/"; "")), .status, .report.gate.passed]]' "$SCRATCH/r.json")
[[ $got == '[["out-big:img","ok",true],["out-flat:img","gate-failed",false]]' ]] ||
    fail "rows: $got"
# The failed rule, with its numbers, for the image that failed it.
[[ $(jq -r '.images[1].report.gate.rules[] | select(.key == "leastReduction") | .status' "$SCRATCH/r.json") == fail ]] ||
    fail "flat's leastReduction verdict: $(jq -c '.images[1].report.gate.rules' "$SCRATCH/r.json")"
grep -q "gate-failed .* -> oci:$SCRATCH/out-flat:img: fails the gate (1 rule)" "$SCRATCH/table" ||
    fail "table row for flat: $(cat "$SCRATCH/table")"
# Nothing of the gate-failed image; the passing one written, with its page.
[[ ! -e "$SCRATCH/out-flat" ]] || fail "gate-failed image written: $(ls -A "$SCRATCH/out-flat")"
[[ -f "$SCRATCH/out-big/index.json" ]] || fail "passing image not written"
page=$(printf 'oci:%s/out-big:img' "$SCRATCH" | tr -c 'A-Za-z0-9._\n-' '_')
[[ $(ls "$SCRATCH/html") == "$page.html" ]] || fail "html dir: $(ls "$SCRATCH/html"), want $page.html"
[[ $(jq -r '.images[0].html' "$SCRATCH/r.json") == "$SCRATCH/html/$page.html" ]] ||
    fail "report's html: $(jq -r '.images[0].html' "$SCRATCH/r.json")"
grep -q '<html' "$SCRATCH/html/$page.html" || fail "not an HTML page"
# The page is the one `slimage report` renders from the same image's JSON.
jq '.images[0].report' "$SCRATCH/r.json" >"$SCRATCH/big-report.json"
slim report "$SCRATCH/big-report.json" --html "$SCRATCH/again.html" >/dev/null
[[ $RC == 0 ]] || fail "report --html exited $RC: $(cat "$SCRATCH/stderr")"
cmp -s "$SCRATCH/again.html" "$SCRATCH/html/$page.html" || fail "batch's page differs from report --html's"

# Two jobs whose pages would collide are refused before anything runs.
cat >"$SCRATCH/clash" <<L
oci:$SCRATCH/in-big:img   oci:$SCRATCH/out/x:img
oci:$SCRATCH/in-flat:img  oci:$SCRATCH/out_x:img
L
slim batch "$SCRATCH/clash" --no-cache --html "$SCRATCH/html2"
[[ $RC != 0 && ! -e "$SCRATCH/out" && ! -e "$SCRATCH/out_x" ]] || fail "colliding pages not refused (exit $RC)"
grep -q -- "--html $SCRATCH/html2: oci:$SCRATCH/out/x:img and oci:$SCRATCH/out_x:img would both write" "$SCRATCH/stderr" ||
    fail "collision message: $(cat "$SCRATCH/stderr")"
pass "batch --check: gate-failed row, nothing written; --html DIR: one page per written image"
