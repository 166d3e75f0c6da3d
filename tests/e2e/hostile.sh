#!/usr/bin/env bash
# hostile: every layout from fixtures/hostile/make-hostile.py is refused with a clear
# error or handled correctly — never a crash or hang, never a write outside the output
# (a canary dir is watched), bounded memory on the decompression bomb, and no output
# entry with an absolute or .. path.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 tar timeout
scratch

canary="$SCRATCH/canary"
mkdir "$canary"
python3 "$HOSTILE_PY" "$SCRATCH/cases" --canary "$canary"
time_cmd=()
[[ -x /usr/bin/time ]] && time_cmd=(/usr/bin/time -f '%M' -o "$SCRATCH/rss")
failures=0
bad() { echo "  $1: $2" >&2; failures=$((failures + 1)); }

for name in $(jq -r '.hostile | keys[]' "$SCRATCH/cases/cases.json"); do
    path=$(jq -r --arg n "$name" '.hostile[$n].path' "$SCRATCH/cases/cases.json")
    expect=$(jq -r --arg n "$name" '.hostile[$n].expect' "$SCRATCH/cases/cases.json")
    out="$SCRATCH/out/$name"
    mkdir -p "$SCRATCH/out"
    set +e
    timeout 300 "${time_cmd[@]}" "$SLIMAGE" slim "oci:$path:latest" "oci:$out:img" \
        --report "$SCRATCH/out/$name.json" 2>"$SCRATCH/out/$name.err" >/dev/null
    rc=$?
    set -e
    [[ $rc == 124 ]] && { bad "$name" "timed out"; continue; }
    (( rc < 128 )) || { bad "$name" "killed by signal $((rc - 128))"; continue; }
    [[ $rc == 0 || $rc == 1 || $rc == 3 ]] || bad "$name" "exit $rc"
    if [[ -s "$SCRATCH/rss" ]] && (( $(tail -1 "$SCRATCH/rss") > 1048576 )); then
        bad "$name" "peak RSS $(tail -1 "$SCRATCH/rss") KiB > 1 GiB"
    fi
    if [[ -n "$(ls -A "$canary")" ]]; then
        bad "$name" "wrote outside the image: $(find "$canary" -mindepth 1 | head -3 | tr '\n' ' ')"
        find "$canary" -mindepth 1 -delete
    fi
    if [[ $rc != 0 ]]; then
        [[ -s "$SCRATCH/out/$name.err" ]] || bad "$name" "failed (exit $rc) without a message"
        [[ ! -e "$out" ]] || bad "$name" "failed but left $out"
        continue
    fi
    [[ $expect == error ]] && { bad "$name" "accepted; want a clear error"; continue; }
    # Accepted: the output must be clean — no absolute or .. names, nothing escaping.
    while read -r m p; do
        if decompress_stream "$m" "$p" | tar -t 2>/dev/null | grep -E '^/|(^|/)\.\.(/|$)' >"$SCRATCH/badnames"; then
            bad "$name" "output layer holds unsafe names: $(head -3 "$SCRATCH/badnames" | tr '\n' ' ')"
        fi
        # Symlinks must not be written through: no entry below a path that is a symlink
        # escaping the root. (The output's own symlinks may point anywhere; entries may
        # not sit beneath them.)
    done < <(oci_layer_blobs "$out" img)
done
# Nothing may have appeared beside the scratch dirs either.
[[ -z "$(ls -A "$canary")" ]] || bad canary "not empty at the end"
(( failures == 0 )) || fail "$failures hostile case(s) mishandled (see above)"
pass "$(jq '.hostile | length' "$SCRATCH/cases/cases.json") hostile layouts handled"
