#!/usr/bin/env bash
# broken_images: each broken layout (digest or size mismatch, truncated or missing blob,
# wrong media type, non-JSON index/manifest/config, diff_id mismatch, no such platform)
# fails with exit 1 and an error naming the problem, and writes no output.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3
scratch

python3 "$HOSTILE_PY" "$SCRATCH/cases" --canary "$SCRATCH/canary"
mkdir "$SCRATCH/out"
failures=0
for name in $(jq -r '.broken | keys[]' "$SCRATCH/cases/cases.json"); do
    path=$(jq -r --arg n "$name" '.broken[$n].path' "$SCRATCH/cases/cases.json")
    hint=$(jq -r --arg n "$name" '.broken[$n].hint' "$SCRATCH/cases/cases.json")
    slim slim "oci:$path:latest" "oci:$SCRATCH/out/$name:img" --platform linux/amd64
    msg=$(tr '\n' ' ' <"$SCRATCH/stderr")
    if [[ $RC != 1 ]]; then
        echo "  $name: exit $RC, want 1 ($msg)" >&2; failures=$((failures + 1))
    elif ! grep -Eiq -- "$hint" "$SCRATCH/stderr"; then
        echo "  $name: error does not name the problem (/$hint/): $msg" >&2; failures=$((failures + 1))
    fi
    if [[ -e "$SCRATCH/out/$name" ]]; then
        echo "  $name: output written despite the error" >&2; failures=$((failures + 1))
    fi
done
only_names_in "$SCRATCH/out"
(( failures == 0 )) || fail "$failures broken image(s) not reported clearly"
pass "$(jq '.broken | length' "$SCRATCH/cases/cases.json") broken images refused with clear errors"
