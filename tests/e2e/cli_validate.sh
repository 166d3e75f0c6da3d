#!/usr/bin/env bash
# cli_validate: usage errors are caught at the door, before any image byte is
# read: exit 2, the offending word, and the nearest valid word where one is
# close. Every case points at a real image, so a check that ran late would
# show up as a decode (or a written output) rather than the exact message.
source "$(dirname "$0")/lib.sh"
need_slimage; need python3 gcc
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
src=$(in_layout in)
before=$(input_digest "$SCRATCH/in")

# expect WANT_LINE ARGS...: exit 2, stderr's last line exactly WANT_LINE, no output written.
expect() {
    local want=$1; shift
    set +e
    "$SLIMAGE" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"; local rc=$?
    set -e
    [[ $rc == 2 ]] || fail "slimage $* exited $rc, want 2: $(cat "$SCRATCH/err")"
    [[ "$(tail -1 "$SCRATCH/err")" == "$want" ]] ||
        fail "slimage $*: stderr ends '$(tail -1 "$SCRATCH/err")', want '$want'"
    ! grep -q '^slimage: decode' "$SCRATCH/err" || fail "slimage $* decoded layers before failing"
    [[ ! -e "$SCRATCH/dst" && ! -e "$SCRATCH/dst.tar" ]] || fail "slimage $* wrote an output"
}

expect 'slimage: error: unknown command slimm; did you mean slim?' slimm "$src" "oci:$SCRATCH/dst:x"
expect 'slimage: error: unknown command frobnicate' frobnicate
expect 'slimage: error: unknown option --platfrom for slim; did you mean --platform?' \
    slim "$src" "oci:$SCRATCH/dst:x" --platfrom linux/amd64
expect 'slimage: error: platform "linux": want OS/ARCH[/VARIANT], e.g. linux/arm64/v8' \
    slim "$src" "oci:$SCRATCH/dst:x" --platform linux
expect 'slimage: error: platform "linux": want OS/ARCH[/VARIANT], e.g. linux/arm64/v8' \
    inspect "$src" --platform linux
expect 'slimage: error: --profile defualt: no built-in profile or file of that name; did you mean default?' \
    slim "$src" "oci:$SCRATCH/dst:x" --profile defualt
expect 'slimage: error: --profile defualt: no built-in profile or file of that name; did you mean default?' \
    plan "$src" --profile defualt
printf '{"stirp": "debug"}\n' >"$SCRATCH/typo.json"
set +e; "$SLIMAGE" slim "$src" "oci:$SCRATCH/dst:x" --profile "$SCRATCH/typo.json" >/dev/null 2>"$SCRATCH/err"; rc=$?; set -e
[[ $rc == 2 ]] || fail "a typo'd profile file exited $rc, want 2: $(cat "$SCRATCH/err")"
grep -q "^slimage: error: profile $SCRATCH/typo.json:1:.*'stirp'.*did you mean 'strip'" "$SCRATCH/err" ||
    fail "a typo'd profile file: $(cat "$SCRATCH/err")"
! grep -q '^slimage: decode' "$SCRATCH/err" || fail "a typo'd profile file was found after decoding"
for t in dir docker-daemon containers-storage; do
    expect "slimage: error: $t:$SCRATCH/foo: unsupported transport $t: (slimage reads and writes oci:, oci-archive:, docker-archive: and docker://)" \
        inspect "$t:$SCRATCH/foo"
done
expect "slimage: error: dir:$SCRATCH/dst: unsupported transport dir: (slimage reads and writes oci:, oci-archive:, docker-archive: and docker://)" \
    slim "$src" "dir:$SCRATCH/dst"
expect "slimage: error: --report $SCRATCH/nodir/r.json: directory $SCRATCH/nodir does not exist" \
    slim "$src" "oci:$SCRATCH/dst:x" --report "$SCRATCH/nodir/r.json"
expect "slimage: error: oci-archive:$SCRATCH/nodir/dst.tar: directory $SCRATCH/nodir does not exist" \
    slim "$src" "oci-archive:$SCRATCH/nodir/dst.tar"
touch "$SCRATCH/afile"
expect "slimage: error: oci:$SCRATCH/afile/dst:x: $SCRATCH/afile is not a directory" \
    slim "$src" "oci:$SCRATCH/afile/dst:x"
expect "slimage: error: --authfile $SCRATCH/none.json: no such file" \
    inspect "$src" --authfile "$SCRATCH/none.json"
expect "slimage: error: --shard 4/4: I must be below N (shards are numbered from 0)" \
    batch - --shard 4/4

[[ "$(input_digest "$SCRATCH/in")" == "$before" ]] || fail "the source layout changed"

# The door lets a good command through.
"$SLIMAGE" slim -q "$src" "oci:$SCRATCH/dst:x" --report "$SCRATCH/r.json" 2>"$SCRATCH/err" ||
    fail "a good slim failed: $(cat "$SCRATCH/err")"
[[ -f "$SCRATCH/r.json" ]] || fail "a good slim wrote no report"
pass "usage errors exit 2 at the door, naming the word and its nearest valid one"
