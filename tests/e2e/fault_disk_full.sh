#!/usr/bin/env bash
# fault_disk_full: a full disk (a 2 MiB tmpfs) under the destination, or under the
# scratch dir ($SLIMAGE_TMPDIR), fails the slim with a "No space left on device" error
# that names the file, leaves no output and no temp files on that disk, and leaves the
# input untouched. An existing layout on the full disk keeps its old contents.
# --scratch DIR takes precedence over the environment. A destination whose disk clearly
# cannot hold the output (less free than half the estimate) is refused before anything is
# written, with the numbers; one that passes that check and still fills fails cleanly.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 mount umount
scratch

# 8 MiB of incompressible data: too big for the 2 MiB disks, whatever the encoding.
mkdir -p "$SCRATCH/root/data"
head -c $((8 << 20)) /dev/urandom >"$SCRATCH/root/data/blob"
echo small >"$SCRATCH/root/data/small"
COMPRESSION=none make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
before=$(input_digest "$SCRATCH/in")
# Outputs the destination check lets through (free space above half the estimate) that
# still do not fit: 3 MiB into an OCI layout, 1.5 MiB into an archive (staged blobs + tar).
for size in 3072 1536; do
    mkdir -p "$SCRATCH/root-$size/data"
    head -c $((size << 10)) /dev/urandom >"$SCRATCH/root-$size/data/blob"
    COMPRESSION=none make_layout_from_dirs "$SCRATCH/in-$size" img "$SCRATCH/root-$size"
done
# 8 MiB that gzip shrinks to a few KiB: small enough to pass the free-space check up front,
# too big for the scratch disk once decoded.
mkdir -p "$SCRATCH/root-gz/data"
python3 -c 'import sys; sys.stdout.write("slimage fills the scratch disk\n" * (8 << 15))' >"$SCRATCH/root-gz/data/text"
COMPRESSION=gzip make_layout_from_dirs "$SCRATCH/in-gz" img "$SCRATCH/root-gz"

small_disk() {  # small_disk DIR: a fresh 2 MiB tmpfs at DIR (the scratch trap unmounts it)
    mkdir -p "$1"
    mount -t tmpfs -o size=2m slimage-e2e "$1" || skip "cannot mount a tmpfs"
}
disk_full_error() {  # disk_full_error WHAT DIR: the run failed cleanly, naming a file in DIR
    [[ $RC != 0 ]] || fail "$1: succeeded on a full disk"
    (( RC < 128 )) || fail "$1: killed by signal $((RC - 128))"
    grep -q "No space left on device" "$SCRATCH/stderr" ||
        fail "$1: no 'No space left on device' error: $(cat "$SCRATCH/stderr")"
    grep "No space left on device" "$SCRATCH/stderr" | grep -qF "$2/" ||
        fail "$1: the error does not name the file under $2: $(tail -1 "$SCRATCH/stderr")"
    [[ "$(input_digest "$SCRATCH/in")" == "$before" ]] || fail "$1: the input changed"
    grep -q "needs at least" "$SCRATCH/stderr" && fail "$1: refused up front, not by a full disk: $(tail -1 "$SCRATCH/stderr")"
    return 0
}

# 1. The destination's disk is full: nothing is left there. Also in low-disk mode, which
#    stages the rewritten layer in the destination's own staging dir.
export SLIMAGE_TMPDIR="$SCRATCH/tmp"
mkdir "$SLIMAGE_TMPDIR"
small_disk "$SCRATCH/full-dst"
for mode in normal low-disk; do
    extra=()
    [[ $mode == low-disk ]] && extra=(--scratch-budget 0)
    for dst in "oci:$SCRATCH/full-dst/out:img" "oci-archive:$SCRATCH/full-dst/out.tar:img" \
               "docker-archive:$SCRATCH/full-dst/out.tar:x/y:1"; do
        input=in-1536
        [[ $dst == oci:* ]] && input=in-3072
        slim slim "$(in_layout $input)" "$dst" --profile none --compression gzip --level 1 "${extra[@]}"
        disk_full_error "$mode $dst" "$SCRATCH/full-dst"
        only_names_in "$SCRATCH/full-dst"
        only_names_in "$SLIMAGE_TMPDIR"
    done
done

# 2. An existing layout on the full disk: refused the same way, its files unchanged.
cat >"$SCRATCH/tiny.json" <<'JSON'
[{"path": "bin/ok", "data": "ok", "mode": 493}]
JSON
make_layout_from_dirs "$SCRATCH/full-dst/existing" old "$SCRATCH/tiny.json"
# Its files, not its dirs: staging inside blobs/sha256 touches that dir's mtime.
files_of() { (cd "$1" && find . ! -type d -printf '%p %m %s %T@\n' | LC_ALL=C sort &&
              find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); }
existing=$(files_of "$SCRATCH/full-dst/existing")
slim slim "$(in_layout in-3072)" "oci:$SCRATCH/full-dst/existing:new" --profile none --compression gzip --level 1
disk_full_error "existing layout" "$SCRATCH/full-dst/existing"
diff <(echo "$existing") <(files_of "$SCRATCH/full-dst/existing") >&2 || fail "existing layout changed"
only_names_in "$SCRATCH/full-dst" existing
rm -rf "$SCRATCH/full-dst/existing"
pass "full destination disk: clear error, nothing left, input and existing layout unchanged"

# 3. The scratch disk fills up while decoding: nothing left in either place.
small_disk "$SCRATCH/full-tmp"
export SLIMAGE_TMPDIR="$SCRATCH/full-tmp"
mkdir "$SCRATCH/dst"
slim slim "$(in_layout in-gz)" "oci:$SCRATCH/dst/out:img" --profile none
disk_full_error "full scratch disk" "$SCRATCH/full-tmp"
only_names_in "$SCRATCH/full-tmp"
only_names_in "$SCRATCH/dst"
pass "full scratch disk: clear error, no scratch files left, no output"

# 4. --scratch DIR beats $SLIMAGE_TMPDIR and $TMPDIR: the same full disk, chosen by the flag.
export SLIMAGE_TMPDIR="$SCRATCH/tmp" TMPDIR="$SCRATCH/tmp"
slim slim "$(in_layout in-gz)" "oci:$SCRATCH/dst/out:img" --profile none --scratch "$SCRATCH/full-tmp"
disk_full_error "--scratch on a full disk" "$SCRATCH/full-tmp"
only_names_in "$SCRATCH/full-tmp"
only_names_in "$SCRATCH/tmp"
only_names_in "$SCRATCH/dst"
slim slim "$(in_layout in)" "oci:$SCRATCH/dst/out:img" --scratch "$SCRATCH/no-such-dir"
[[ $RC == 2 ]] || fail "--scratch to a missing dir exited $RC, want 2: $(cat "$SCRATCH/stderr")"
grep -qF -- "--scratch" "$SCRATCH/stderr" || fail "--scratch error does not name the flag: $(cat "$SCRATCH/stderr")"
pass "--scratch DIR is where scratch goes; a missing DIR is a usage error"

# 5. The layers' compressed size alone exceeds the scratch disk: the run switches to
# low-disk mode (tests/e2e/low_disk.sh), which decodes without spilling the 8 MiB file.
# The layer is rewritten (data/small is dropped) and the kept file streams from a second
# decode straight into the destination's staged layer: the same short disk writes it.
slim slim "$(in_layout in)" "oci:$SCRATCH/dst/streamed:img" --profile none --drop /data/small \
    --scratch "$SCRATCH/full-tmp" --report "$SCRATCH/streamed.json"
[[ $RC == 0 ]] || fail "short scratch, the kept file streamed: exit $RC: $(tail -3 "$SCRATCH/stderr")"
grep -q "low-disk mode (automatic: " "$SCRATCH/stderr" || fail "no switch to low-disk mode: $(cat "$SCRATCH/stderr")"
[[ $(jq -c '.scratch | [.refill_bytes, .streamed_bytes]' "$SCRATCH/streamed.json") == "[0,8388608]" ]] ||
    fail "the kept 8 MiB was not streamed: $(jq -c .scratch "$SCRATCH/streamed.json")"
only_names_in "$SCRATCH/full-tmp"
rm -rf "$SCRATCH/dst/streamed"
# The same two files in a tar not in path order, and a second kept one (data/a, 1 MiB):
# the writer reads data/a first (streamed), then data/blob, which the decode has passed:
# refused before refilling its 8 MiB, with the numbers.
mkdir -p "$SCRATCH/root-rev/data"
cp "$SCRATCH/root/data/blob" "$SCRATCH/root/data/small" "$SCRATCH/root-rev/data/"
head -c $((1 << 20)) /dev/urandom >"$SCRATCH/root-rev/data/a"
LAYER_ORDER=reversed COMPRESSION=none make_layout_from_dirs "$SCRATCH/in-rev" img "$SCRATCH/root-rev"
slim slim "$(in_layout in-rev)" "oci:$SCRATCH/dst/out:img" --profile none --drop /data/small --scratch "$SCRATCH/full-tmp"
[[ $RC == 1 ]] || fail "short scratch exited $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -q "low-disk mode (automatic: " "$SCRATCH/stderr" || fail "no switch to low-disk mode: $(cat "$SCRATCH/stderr")"
grep -qE "scratch $SCRATCH/full-tmp: needs at least 8\.0 MiB \(low-disk mode: the kept content to refill for a layer\), the filesystem has [0-9.]+ [KM]iB free" "$SCRATCH/stderr" ||
    fail "no up-front refusal with the numbers: $(cat "$SCRATCH/stderr")"
grep -q "decode" "$SCRATCH/stderr" && ! grep -q "No space left" "$SCRATCH/stderr" ||
    fail "refusal came from a full disk, not the check: $(cat "$SCRATCH/stderr")"
only_names_in "$SCRATCH/full-tmp"
only_names_in "$SCRATCH/dst"
slim slim "$(in_layout in)" "oci:$SCRATCH/dst/reused:img" --profile none --scratch "$SCRATCH/full-tmp"
[[ $RC == 0 ]] || fail "a reused layer on a short scratch disk: exit $RC: $(tail -1 "$SCRATCH/stderr")"
grep -q "refill" "$SCRATCH/stderr" && fail "a reused layer was refilled: $(grep refill "$SCRATCH/stderr")"
only_names_in "$SCRATCH/full-tmp"
rm -rf "$SCRATCH/dst/reused"
pass "a scratch disk smaller than the compressed layers: low-disk mode; kept content in path order streamed, out of order refused before the refill, with the numbers; a reused layer is not refilled"

# 6. The output estimate (8 MiB kept at the input's ratio, 1.0) is more than twice the 2 MiB
# destination disk: refused after the plan, before the write stage, with the numbers; for
# an archive, which stages its blobs beside FILE, the whole estimate is needed.
export SLIMAGE_TMPDIR="$SCRATCH/tmp"
unset TMPDIR
for dst in "oci:$SCRATCH/full-dst/out:img" "oci-archive:$SCRATCH/full-dst/out.tar:img" \
           "docker-archive:$SCRATCH/full-dst/out.tar:x/y:1"; do
    slim slim "$(in_layout in)" "$dst" --profile none --compression gzip --level 1
    [[ $RC == 1 ]] || fail "$dst: short destination exited $RC, want 1: $(cat "$SCRATCH/stderr")"
    if [[ $dst == oci:* ]]; then
        want="destination $SCRATCH/full-dst: needs at least 4\.0 MiB \(half the output estimate: 8\.0 MiB of kept files at the input's compression ratio\), the filesystem has [0-9.]+ [KM]iB free"
    else
        want="destination $SCRATCH/full-dst: needs at least 8\.0 MiB \(the output estimate, staged and then archived: 8\.0 MiB of kept files at the input's compression ratio\), the filesystem has [0-9.]+ [KM]iB free"
    fi
    grep -qE "$want" "$SCRATCH/stderr" || fail "$dst: no up-front refusal with the numbers: $(cat "$SCRATCH/stderr")"
    grep -qE "^slimage: (plan|merge) " "$SCRATCH/stderr" || fail "$dst: refused before the plan: $(cat "$SCRATCH/stderr")"
    grep -qE "^slimage: (write|verify) " "$SCRATCH/stderr" && fail "$dst: the write stage ran: $(cat "$SCRATCH/stderr")"
    [[ "$(input_digest "$SCRATCH/in")" == "$before" ]] || fail "$dst: the input changed"
    only_names_in "$SCRATCH/full-dst"
    only_names_in "$SLIMAGE_TMPDIR"
done
pass "a destination disk under half the output estimate: refused before writing, with the numbers"
