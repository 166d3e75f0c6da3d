#!/usr/bin/env bash
# fault_signal: SIGINT or SIGTERM during a slim (while decoding into the scratch dir,
# and while the sink stages the output beside the destination) exits 130 with an
# "interrupted" message, leaves no output, no slimage-* scratch dirs, no
# *.slimage-tmp-* files beside the destination, and the input unchanged. A batch
# interrupted after one output is in place keeps it and names it. A SIGKILL (which
# nothing can catch) while decoding, planning or writing, in slim or batch, leaves
# nothing in the scratch dir: decoded and staged layers are unnamed files
# (O_TMPFILE) the kernel frees with the process.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3 timeout skopeo
scratch

# ~200 MiB of random-ish data (40 MiB under SLIMAGE_E2E_QUICK): a slim takes seconds.
mib=200
[[ -n "${SLIMAGE_E2E_QUICK:-}" ]] && mib=40
mkdir -p "$SCRATCH/root/data"
for i in $(seq 1 $((mib / 8))); do head -c $((8 << 20)) /dev/urandom >"$SCRATCH/root/data/chunk-$i"; done
# Stored uncompressed and re-encoded to gzip: every layer is rewritten, none reused.
COMPRESSION=none make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
rm -rf "$SCRATCH/root"
before=$(input_digest "$SCRATCH/in")

# wait_for GLOB PID: poll (10 ms) until GLOB matches or PID exits; 0 when it matched.
wait_for() {
    local i
    for ((i = 0; i < 3000; i++)); do
        compgen -G "$1" >/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# scratch_files PID: how many distinct files under $SCRATCH/tmp PID holds open (its
# scratch files have no name, so only its descriptors show them).
scratch_files() {
    find "/proc/$1/fd" -mindepth 1 -maxdepth 1 -lname "$SCRATCH/tmp/*" -printf '%l\n' 2>/dev/null | sort -u | wc -l
}
# wait_for_scratch N PID: poll (10 ms) until PID holds N scratch files; 0 when it did.
wait_for_scratch() {
    local i
    for ((i = 0; i < 3000; i++)); do
        (( $(scratch_files "$2") >= $1 )) && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.01
    done
    return 1
}

# interrupt SIGNAL STAGE WHAT DELAY DST: start a slim, send SIGNAL DELAY seconds after
# WHAT (a glob, or "scratch:N": N scratch files open), check.
interrupt() {
    local sig="$1" stage="$2" glob="$3" delay="$4" dst="$5" pid rc
    rm -rf "$SCRATCH/tmp" "$SCRATCH/dst"
    mkdir "$SCRATCH/tmp" "$SCRATCH/dst"
    SLIMAGE_TMPDIR="$SCRATCH/tmp" "$SLIMAGE" slim "$(in_layout in)" "$dst" \
        --profile none --compression gzip --jobs 2 2>"$SCRATCH/stderr" &
    pid=$!
    if ! if [[ $glob == scratch:* ]]; then wait_for_scratch "${glob#scratch:}" "$pid"; else wait_for "$glob" "$pid"; fi; then
        wait "$pid" || true
        fail "$sig during $stage: never saw $glob before the slim ended: $(tail -2 "$SCRATCH/stderr")"
    fi
    sleep "$delay"
    kill -s "$sig" "$pid" 2>/dev/null || true
    set +e
    timeout 60 tail --pid="$pid" -f /dev/null
    wait "$pid"; rc=$?
    set -e
    [[ $rc == 130 || $rc == $((128 + $(kill -l "$sig"))) ]] ||
        fail "$sig during $stage: exit $rc, want 130: $(tail -2 "$SCRATCH/stderr")"
    grep -q "interrupted" "$SCRATCH/stderr" || fail "$sig during $stage: no 'interrupted' message"
    only_names_in "$SCRATCH/dst"
    only_names_in "$SCRATCH/tmp"
    [[ "$(input_digest "$SCRATCH/in")" == "$before" ]] || fail "$sig during $stage: the input changed"
    pass "$sig during $stage ($dst): exit $rc, nothing left behind"
}

interrupt INT decode scratch:1 0.2 "oci:$SCRATCH/dst/out:img"
interrupt TERM decode scratch:1 0.2 "oci:$SCRATCH/dst/out:img"
# While the new layers are encoded (the sink's staging dir already beside the destination):
# the decoded layer and the staged one are open.
interrupt INT "layer write" scratch:2 0.1 "oci:$SCRATCH/dst/out:img"
# While the archive sink writes its tar beside the destination, at commit.
interrupt TERM "archive commit" "$SCRATCH/dst/out.tar.slimage-tmp-*/out.tar" 0 \
    "oci-archive:$SCRATCH/dst/out.tar:img"

# SIGKILL cannot be caught: the scratch dir must hold nothing afterwards — not a
# file, not a dir (exact find listing: empty) — whether it came while decoding
# (one scratch file open), planning (the merge done) or writing (two open: the
# decoded layer and the staged one).
# kill_during STAGE WHAT: WHAT is "scratch:N" or "stderr:TEXT" (a stage line printed).
kill_during() {
    local stage="$1" what="$2" pid i left
    rm -rf "$SCRATCH/tmp" "$SCRATCH/dst"
    mkdir "$SCRATCH/tmp" "$SCRATCH/dst"
    SLIMAGE_TMPDIR="$SCRATCH/tmp" "$SLIMAGE" slim "$(in_layout in)" "oci:$SCRATCH/dst/out:img" \
        --profile none --compression gzip --jobs 2 2>"$SCRATCH/stderr" &
    pid=$!
    if [[ $what == scratch:* ]]; then
        wait_for_scratch "${what#scratch:}" "$pid"
    else
        for ((i = 0; i < 3000; i++)); do
            grep -qF -- "${what#stderr:}" "$SCRATCH/stderr" && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.01
        done
        grep -qF -- "${what#stderr:}" "$SCRATCH/stderr"
    fi || { wait "$pid" || true; fail "SIGKILL during $stage: never saw $what: $(tail -2 "$SCRATCH/stderr")"; }
    kill -s KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    left=$(find "$SCRATCH/tmp" -mindepth 1)
    [[ -z $left ]] || fail "SIGKILL during $stage: the scratch dir holds $(tr '\n' ' ' <<<"$left")"
    [[ ! -e "$SCRATCH/dst/out" ]] || fail "SIGKILL during $stage: the destination appeared"
    pass "SIGKILL during $stage: nothing left in the scratch dir"
}
kill_during decode scratch:1
kill_during plan "stderr:slimage: merge"
kill_during write scratch:2
printf '[{"path": "etc/tiny.txt", "data": "tiny\\n"}]' >"$SCRATCH/tiny.json"
make_layout_from_dirs "$SCRATCH/tiny" img "$SCRATCH/tiny.json"

# SIGKILL while the new layers are written: the sink's staging dir beside the
# destination (out.slimage-tmp-XXXXXX) stays behind, the destination never
# appears, and the next run writing there removes the dead run's staging dir.
rm -rf "$SCRATCH/tmp" "$SCRATCH/dst"
mkdir "$SCRATCH/tmp" "$SCRATCH/dst"
SLIMAGE_TMPDIR="$SCRATCH/tmp" "$SLIMAGE" slim "$(in_layout in)" "oci:$SCRATCH/dst/out:img" \
    --profile none --compression gzip --jobs 2 2>"$SCRATCH/stderr" &
pid=$!
{ wait_for_scratch 2 "$pid" && wait_for "$SCRATCH/dst/out.slimage-tmp-*" "$pid"; } ||
    { wait "$pid" || true; fail "SIGKILL: never saw the layer write: $(tail -2 "$SCRATCH/stderr")"; }
kill -s KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
[[ ! -e "$SCRATCH/dst/out" ]] || fail "SIGKILL while writing: the destination appeared half-written"
compgen -G "$SCRATCH/dst/out.slimage-tmp-*" >/dev/null ||
    fail "SIGKILL while writing: no staging dir left behind, so the sweep below is not tested"
left=$(cd "$SCRATCH/dst" && echo out.slimage-tmp-*)
SLIMAGE_TMPDIR="$SCRATCH/tmp" "$SLIMAGE" slim "$(in_layout tiny)" "oci:$SCRATCH/dst/out:img" \
    --profile none 2>"$SCRATCH/stderr" || fail "SIGKILL while writing: the next run failed: $(tail -2 "$SCRATCH/stderr")"
[[ -z "$(compgen -G "$SCRATCH/dst/out.slimage-tmp-*")" ]] ||
    fail "SIGKILL while writing: the next run left $(cd "$SCRATCH/dst" && echo out.slimage-tmp-*)"
[[ "$(ls -A "$SCRATCH/dst/out" | sort | tr '\n' ' ')" == "blobs index.json oci-layout " ]] ||
    fail "SIGKILL while writing: the next output holds $(ls -A "$SCRATCH/dst/out" | tr '\n' ' ')"
skopeo inspect "oci:$SCRATCH/dst/out:img" >/dev/null || fail "SIGKILL while writing: skopeo cannot read the next output"
only_names_in "$SCRATCH/tmp"
pass "SIGKILL while writing: left $left beside the destination, which the next run removed"

# A batch interrupted after its first output is in place: that output stays
# whole and the message names it; the one under way leaves nothing.
printf '[{"path": "etc", "type": "dir"}, {"path": "etc/small.txt", "data": "small\\n"}]' \
    >"$SCRATCH/small.json"
make_layout_from_dirs "$SCRATCH/small" img "$SCRATCH/small.json"
rm -rf "$SCRATCH/tmp" "$SCRATCH/dst"
mkdir "$SCRATCH/tmp" "$SCRATCH/dst"
printf '%s %s\n%s %s\n' "$(in_layout small)" "oci:$SCRATCH/dst/first:img" \
    "$(in_layout in)" "oci:$SCRATCH/dst/second:img" >"$SCRATCH/list"
SLIMAGE_TMPDIR="$SCRATCH/tmp" "$SLIMAGE" batch "$SCRATCH/list" --parallel 1 --profile none \
    --compression gzip --jobs 2 --no-cache 2>"$SCRATCH/stderr" &
pid=$!
wait_for "$SCRATCH/dst/first/index.json" "$pid" ||
    { wait "$pid" || true; fail "batch: never saw the first output: $(tail -2 "$SCRATCH/stderr")"; }
wait_for_scratch 2 "$pid" ||
    { wait "$pid" || true; fail "batch: the second image never started: $(tail -2 "$SCRATCH/stderr")"; }
kill -s INT "$pid" 2>/dev/null || true
set +e
timeout 60 tail --pid="$pid" -f /dev/null
wait "$pid"; rc=$?
set -e
[[ $rc == 130 ]] || fail "batch SIGINT: exit $rc, want 130: $(tail -2 "$SCRATCH/stderr")"
grep -q "interrupted (SIGINT); written before it: oci:$SCRATCH/dst/first:img; nothing else" \
    "$SCRATCH/stderr" || fail "batch SIGINT: message does not name the first output: $(tail -2 "$SCRATCH/stderr")"
only_names_in "$SCRATCH/dst" first
only_names_in "$SCRATCH/tmp"
skopeo inspect --raw "oci:$SCRATCH/dst/first:img" >/dev/null || fail "batch SIGINT: the first output is not a valid image"
pass "SIGINT in a batch after its first output: exit 130, that output whole and named, nothing else"

# SIGKILL in a batch while its second image decodes (the first one's layers still
# cached by the batch): nothing left in the scratch dir.
rm -rf "$SCRATCH/tmp" "$SCRATCH/dst"
mkdir "$SCRATCH/tmp" "$SCRATCH/dst"
SLIMAGE_TMPDIR="$SCRATCH/tmp" "$SLIMAGE" batch "$SCRATCH/list" --parallel 1 --profile none \
    --compression gzip --jobs 2 --no-cache 2>"$SCRATCH/stderr" &
pid=$!
{ wait_for "$SCRATCH/dst/first/index.json" "$pid" && wait_for_scratch 2 "$pid"; } ||
    { wait "$pid" || true; fail "batch SIGKILL: the second image never started decoding: $(tail -2 "$SCRATCH/stderr")"; }
kill -s KILL "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
left=$(find "$SCRATCH/tmp" -mindepth 1)
[[ -z $left ]] || fail "batch SIGKILL: the scratch dir holds $(tr '\n' ' ' <<<"$left")"
pass "SIGKILL in a batch while decoding: nothing left in the scratch dir"
