#!/usr/bin/env bash
# cli_json: every read-only verb takes --json and prints one JSON document on
# stdout (why, profiles, diff as well as inspect, plan, verify); -q silences
# progress only, never a warning or an error.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
src=$(in_layout in)

for verb in inspect plan verify; do
    slim "$verb" "$src" --json >"$SCRATCH/$verb.json"
    [[ $RC == 0 ]] || fail "$verb --json exited $RC: $(cat "$SCRATCH/stderr")"
    jq -e 'type == "object"' "$SCRATCH/$verb.json" >/dev/null || fail "$verb --json is not one JSON object"
done

slim why "$src" /usr/lib/greet/libgreet.so.1 --json >"$SCRATCH/why.json"
[[ $RC == 0 ]] || fail "why --json exited $RC: $(cat "$SCRATCH/stderr")"
[[ "$(jq -r '[.path, .fate, .kind] | join(" ")' "$SCRATCH/why.json")" == "usr/lib/greet/libgreet.so.1 strip stripped" ]] ||
    fail "why --json: wrong path/fate/kind: $(jq -c '[.path, .fate, .kind]' "$SCRATCH/why.json")"
# The text's chain lines, rebuilt from the JSON, are the text's.
jq -r '.chains[] | map(if .from == null then "    root \(.to) [\(.how)] \(.detail)" else "    \(.from) -> \(.to) [\(.how)] \(.detail)" end) | .[]' \
    "$SCRATCH/why.json" >"$SCRATCH/why.chains"
slim why "$src" /usr/lib/greet/libgreet.so.1 >"$SCRATCH/why.txt"
grep '^    ' "$SCRATCH/why.txt" | diff - "$SCRATCH/why.chains" || fail "why --json's chains differ from the text's"
jq -e '.chains | map(map(.how)) | any(. == ["entrypoint", "runpath"])' "$SCRATCH/why.json" >/dev/null ||
    fail "why --json lacks the entrypoint -> runpath chain: $(jq -c .chains "$SCRATCH/why.json")"
pass "why --json gives the fate and the chain as JSON"

slim profiles --json >"$SCRATCH/profiles.json"
[[ $RC == 0 ]] || fail "profiles --json exited $RC: $(cat "$SCRATCH/stderr")"
jq -e 'map(.name) | index("default") != null and index("cuda") != null' "$SCRATCH/profiles.json" >/dev/null ||
    fail "profiles --json does not list default and cuda: $(cat "$SCRATCH/profiles.json")"
pass "profiles --json lists the built-in profiles"

# -q: no progress lines, but the warning stays.
slim plan "$src" -q --entrypoint '/nothing/here*'
[[ $RC == 0 ]] || fail "plan -q exited $RC: $(cat "$SCRATCH/stderr")"
grep -Fxq "slimage: warning: --entrypoint: entrypoint glob /nothing/here* matches nothing" "$SCRATCH/stderr" ||
    fail "plan -q hid the warning: $(cat "$SCRATCH/stderr")"
! grep -q '^slimage: \(open\|decode\|plan\)' "$SCRATCH/stderr" || fail "plan -q printed progress: $(cat "$SCRATCH/stderr")"
pass "-q silences progress, not warnings"

# slim -q keeps the warning too; --report - puts only the JSON report on stdout
# (run from the scratch dir, so a build that writes a file named - leaves it there).
cd "$SCRATCH"
slim slim "$src" "oci:$SCRATCH/out:img" -q --entrypoint '/nothing/here*' --report - >"$SCRATCH/report.json"
[[ $RC == 0 ]] || fail "slim --report - exited $RC: $(cat "$SCRATCH/stderr")"
grep -Fxq "slimage: warning: --entrypoint: entrypoint glob /nothing/here* matches nothing" "$SCRATCH/stderr" ||
    fail "slim -q hid the warning: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/-" ]] || fail "slim --report - wrote a file named -"
jq -e '.manifest_digest | startswith("sha256:")' "$SCRATCH/report.json" >/dev/null ||
    fail "slim --report - did not print one JSON report on stdout: $(head -c 300 "$SCRATCH/report.json")"
grep -q 'before' "$SCRATCH/stderr" || fail "slim --report - lost the summary table (want it on stderr): $(cat "$SCRATCH/stderr")"
pass "slim --report - writes only the JSON to stdout; -q keeps warnings"
