#!/usr/bin/env bash
# check_gate: `slimage check SRC` and `slim --check`, the CI gate in dive's
# spirit. A crafted image whose wasted bytes are known exactly (a file
# overwritten by a smaller copy, a file deleted by a whiteout), dive's own
# .dive-ci YAML read as is, a JSON file, bad keys and values at the door
# (exit 2), a failing gate (exit 5) and a failing `slim --check` that writes
# nothing (no image, no --report); then the small sample.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3
scratch

# Layer 1: a/big 1000000, a/gone 300000, a/keep 50000 bytes.
# Layer 2: a/big again (200000 bytes), a whiteout of a/gone, a/new 10000 bytes.
# Wasted: the hidden a/big (1000000) + the deleted a/gone (300000) = 1300000
# of 1560000 layer bytes; user (layer 2) bytes 210000. dive would count
# 1500000: both copies of a/big, the kept one too.
cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "a/big", "size_zero": 1000000}, {"path": "a/gone", "size_zero": 300000},
 {"path": "a/keep", "size_zero": 50000}]
JSON
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "a/big", "size_zero": 200000}, {"path": "a/.wh.gone", "data": ""},
 {"path": "a/new", "size_zero": 10000}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json" "$SCRATCH/l2.json"
IN=$(in_layout in)
OFF=(--lowest-efficiency disabled --highest-user-wasted-percent disabled)

# 1. Exact numbers, in --json.
"$SLIMAGE" check "$IN" --json -q >"$SCRATCH/check.json" 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 5 ]] || fail "check with dive's defaults (efficiency 0.17 < 0.9) exited $rc, not 5: $(cat "$SCRATCH/stderr")"
compressed=$(jq '[.layers[].size] | add' "$SCRATCH/in/blobs/sha256/$(jq -r '.manifests[0].digest' "$SCRATCH/in/index.json" | cut -d: -f2)")
got=$(jq -c '[.passed, .metrics.layer_bytes, .metrics.wasted_bytes, .metrics.user_bytes, .metrics.compressed_bytes,
              .metrics.layers, .metrics.wasted_paths]' "$SCRATCH/check.json")
want="[false,1560000,1300000,210000,$compressed,2,[{\"copies\":2,\"path\":\"/a/big\",\"wasted_bytes\":1000000},{\"copies\":1,\"path\":\"/a/gone\",\"wasted_bytes\":300000}]]"
[[ $got == "$want" ]] || fail "check --json metrics: got $got, want $want"
[[ $(jq -r '.metrics.efficiency * 10000 | round' "$SCRATCH/check.json") == 1667 ]] ||
    fail "efficiency $(jq '.metrics.efficiency' "$SCRATCH/check.json") is not 260000/1560000"
[[ $(jq -c '[.rules[] | [.key, .status]]' "$SCRATCH/check.json") == \
   '[["lowestEfficiency","fail"],["highestWastedBytes","disabled"],["highestUserWastedPercent","fail"],["largestImage","disabled"],["leastReduction","disabled"]]' ]] ||
    fail "rule statuses: $(jq -c '[.rules[] | [.key, .status]]' "$SCRATCH/check.json")"

# 2. The threshold is inclusive (dive fails only above it): 1300000 passes, 1299999 fails.
"$SLIMAGE" check "$IN" -q "${OFF[@]}" --highest-wasted-bytes 1300000 >"$SCRATCH/out" 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 0 ]] || fail "wasted 1300000 <= 1300000 exited $rc: $(cat "$SCRATCH/out" "$SCRATCH/stderr")"
grep -qxF 'PASS highestWastedBytes: 1300000 bytes (1.2 MiB) <= 1300000 (1300000 bytes)' "$SCRATCH/out" ||
    fail "no PASS line: $(cat "$SCRATCH/out")"
grep -qxF 'gate: PASS (0 failed, 1 passed, 4 skipped)' "$SCRATCH/out" || fail "no PASS verdict: $(cat "$SCRATCH/out")"
"$SLIMAGE" check "$IN" -q "${OFF[@]}" --highest-wasted-bytes 1299999 >"$SCRATCH/out" 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 5 ]] || fail "wasted 1300000 > 1299999 exited $rc, not 5"
grep -qxF 'FAIL highestWastedBytes: 1300000 bytes (1.2 MiB) > 1299999 (1299999 bytes)' "$SCRATCH/out" ||
    fail "no FAIL line: $(cat "$SCRATCH/out")"
[[ $(grep -c '^FAIL ' "$SCRATCH/out") == 1 ]] || fail "one rule failed, lines: $(grep '^FAIL ' "$SCRATCH/out")"

# 3. dive's .dive-ci, as dive's README writes it.
cat >"$SCRATCH/.dive-ci" <<'YAML'
rules:
  # If the efficiency is measured below X%, mark as failed.
  # Expressed as a ratio between 0-1.
  lowestEfficiency: 0.95

  # If the amount of wasted space is at least X or larger than X, mark as failed.
  # Expressed in B, KB, MB, and GB.
  highestWastedBytes: 20MB

  # If the amount of wasted space makes up for X% or more of the image, mark as failed.
  # Note: the base image layer is NOT included in the total image size.
  # Expressed as a ratio between 0-1; fails if the threshold is met or crossed.
  highestUserWastedPercent: 0.20
YAML
"$SLIMAGE" check "$IN" -q --ci-config "$SCRATCH/.dive-ci" >"$SCRATCH/out" 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 5 ]] || fail ".dive-ci gate exited $rc, not 5: $(cat "$SCRATCH/stderr")"
for line in 'FAIL lowestEfficiency: 0.1667 < 0.95' \
            'PASS highestWastedBytes: 1300000 bytes (1.2 MiB) <= 20MB (20000000 bytes)' \
            'FAIL highestUserWastedPercent: 6.1905 > 0.20' 'gate: FAIL (2 failed, 1 passed, 2 skipped)'; do
    grep -qxF "$line" "$SCRATCH/out" || fail ".dive-ci: no line '$line' in: $(cat "$SCRATCH/out")"
done
# A flag wins over the file.
"$SLIMAGE" check "$IN" -q --ci-config "$SCRATCH/.dive-ci" "${OFF[@]}" >/dev/null 2>&1 && rc=0 || rc=$?
[[ $rc == 0 ]] || fail "flags over .dive-ci exited $rc"

# 4. JSON, with slimage's own rules.
echo '{"rules": {"lowestEfficiency": 0.1, "highestWastedBytes": "2MB", "highestUserWastedPercent": "disabled",
       "largestImage": "1GB"}}' >"$SCRATCH/gate.json"
"$SLIMAGE" check "$IN" -q --ci-config "$SCRATCH/gate.json" >"$SCRATCH/out" 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 0 ]] || fail "JSON gate exited $rc: $(cat "$SCRATCH/out" "$SCRATCH/stderr")"
grep -q "^PASS largestImage: $compressed bytes (.*) compressed <= 1GB (1000000000 bytes)$" "$SCRATCH/out" ||
    fail "no largestImage line: $(cat "$SCRATCH/out")"

# 5. Usage errors at the door: exit 2, the key named with a did-you-mean, nothing decoded.
printf 'rules:\n  highestWastedBytse: 20MB\n' >"$SCRATCH/typo.yaml"
"$SLIMAGE" check "$IN" --ci-config "$SCRATCH/typo.yaml" >/dev/null 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 2 ]] || fail "unknown key exited $rc, not 2"
grep -qF "$SCRATCH/typo.yaml: rules.highestWastedBytse: unknown rule; did you mean highestWastedBytes?" "$SCRATCH/stderr" ||
    fail "unknown key message: $(cat "$SCRATCH/stderr")"
grep -q 'decode' "$SCRATCH/stderr" && fail "a bad config decoded the image first: $(cat "$SCRATCH/stderr")"
"$SLIMAGE" check "$IN" --lowest-efficiency 1.5 >/dev/null 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 2 ]] || fail "--lowest-efficiency 1.5 exited $rc, not 2"
grep -qF -- '--lowest-efficiency 1.5: lowestEfficiency: "1.5": outside 0-1' "$SCRATCH/stderr" ||
    fail "bad value message: $(cat "$SCRATCH/stderr")"
"$SLIMAGE" check "$IN" --ci-config "$SCRATCH/none.yaml" >/dev/null 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 2 ]] || fail "missing --ci-config exited $rc, not 2"

# 6. slim --check judges the OUTPUT before writing it. Layers kept as they
# are (--profile none): the hidden copies stay, the gate fails, nothing is
# written — neither the image nor --report.
slim slim "$IN" "$(in_layout out-keep)" --profile none --check --highest-wasted-bytes 1MB "${OFF[@]}" \
    --report "$SCRATCH/keep-report.json" >"$SCRATCH/out"
[[ $RC == 5 ]] || fail "failing slim --check exited $RC, not 5: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/out-keep" ]] || fail "failing slim --check wrote $SCRATCH/out-keep"
[[ ! -e "$SCRATCH/keep-report.json" ]] || fail "failing slim --check wrote its --report"
grep -qxF 'FAIL highestWastedBytes: 1300000 bytes (1.2 MiB) > 1MB (1000000 bytes)' "$SCRATCH/out" ||
    fail "slim --check FAIL line: $(cat "$SCRATCH/out")"
grep -qF 'fails the gate (1 rule); nothing written' "$SCRATCH/stderr" || fail "no refusal line: $(cat "$SCRATCH/stderr")"
ls "$SCRATCH" | grep -q '^out-keep' && fail "staging left beside the destination: $(ls "$SCRATCH")"
# Squashed, nothing is hidden any more: the same gate passes on the output.
slim slim "$IN" "$(in_layout out-squash)" --profile none --layers squash --check --highest-wasted-bytes 1MB \
    --lowest-efficiency 0.99 --report "$SCRATCH/squash-report.json" >"$SCRATCH/out"
[[ $RC == 0 ]] || fail "passing slim --check exited $RC: $(cat "$SCRATCH/stderr")"
grep -qxF 'PASS highestWastedBytes: 0 bytes (0 B) <= 1MB (1000000 bytes)' "$SCRATCH/out" ||
    fail "slim --check PASS line: $(cat "$SCRATCH/out")"
[[ $(jq -c '[.gate.passed, .gate.metrics.layer_bytes, .gate.metrics.wasted_bytes, .gate.metrics.layers]' \
     "$SCRATCH/squash-report.json") == '[true,260000,0,1]' ]] ||
    fail "report's gate: $(jq -c '.gate.metrics' "$SCRATCH/squash-report.json")"
# leastReduction: --profile none removes nothing.
slim slim "$IN" "$(in_layout out-red)" --profile none --layers squash --least-reduction 10% >"$SCRATCH/out"
[[ $RC == 5 && ! -e "$SCRATCH/out-red" ]] || fail "leastReduction 10% on a 0% reduction exited $RC"
grep -qxF 'FAIL leastReduction: 0.0000 < 10%' "$SCRATCH/out" || fail "leastReduction line: $(cat "$SCRATCH/out")"

# 7. The small sample: check's wasted bytes are inspect's hidden bytes, and
# a reduction the default profile cannot reach stops slim before it writes.
small_sample
"$SLIMAGE" check "oci:$SAMPLE:sample" --json -q >"$SCRATCH/sample.json" 2>"$SCRATCH/stderr" && rc=0 || rc=$?
[[ $rc == 0 || $rc == 5 ]] || fail "check on the sample exited $rc: $(cat "$SCRATCH/stderr")"
[[ $(jq .passed "$SCRATCH/sample.json") == $([[ $rc == 0 ]] && echo true || echo false) ]] ||
    fail "sample: exit $rc but passed=$(jq .passed "$SCRATCH/sample.json")"
"$SLIMAGE" inspect "oci:$SAMPLE:sample" --json -q >"$SCRATCH/inspect.json" 2>/dev/null
[[ $(jq .metrics.wasted_bytes "$SCRATCH/sample.json") == $(jq .wasted_bytes "$SCRATCH/inspect.json") ]] ||
    fail "sample: check wasted $(jq .metrics.wasted_bytes "$SCRATCH/sample.json") != inspect's $(jq .wasted_bytes "$SCRATCH/inspect.json")"
slim slim "oci:$SAMPLE:sample" "$(in_layout sample-out)" -q --least-reduction 99% --report "$SCRATCH/s.json" >"$SCRATCH/out"
[[ $RC == 5 ]] || fail "sample slim --least-reduction 99% exited $RC: $(tail -3 "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/sample-out" && ! -e "$SCRATCH/s.json" ]] || fail "sample: a failing gate wrote output"
grep -q '^FAIL leastReduction: 0\.[0-9]* < 99%$' "$SCRATCH/out" || fail "sample: $(cat "$SCRATCH/out")"
pass "check and slim --check: exact wasted bytes, dive's .dive-ci, JSON, exit 5, nothing written on failure"
