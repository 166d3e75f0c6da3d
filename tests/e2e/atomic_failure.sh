#!/usr/bin/env bash
# atomic_failure: a bad input fails non-zero and leaves no output dir or file and no
# temp files beside it; an existing destination without --force is left as it was.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3
scratch

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "bin/ok", "data": "ok", "mode": 493}]
JSON
make_layout_from_dirs "$SCRATCH/good" img "$SCRATCH/l1.json"
# Corrupt the layer's last bytes (the layer is read to the end before the sink commits).
mkdir "$SCRATCH/src"; cp -a "$SCRATCH/good" "$SCRATCH/src/bad"
layer=$(oci_layer_blobs "$SCRATCH/src/bad" img | cut -d' ' -f2)
printf 'XXXXXXXX' | dd of="$layer" bs=1 seek=$(( $(stat -c %s "$layer") - 8 )) conv=notrunc status=none

mkdir "$SCRATCH/dst"
for dst in "oci:$SCRATCH/dst/out:img" "oci-archive:$SCRATCH/dst/out.tar:img" "docker-archive:$SCRATCH/dst/out.tar:x/y:1"; do
    slim slim "oci:$SCRATCH/src/bad:img" "$dst" --profile none
    [[ $RC != 0 ]] || fail "$dst: corrupt input accepted"
    (( RC < 128 )) || fail "$dst: slimage died with signal $((RC - 128))"
    [[ $RC == 1 ]] || fail "$dst: corrupt input exited $RC, want 1"
    grep -Eqx 'slimage: error: layer sha256:[0-9a-f]{12}…: gzip: corrupt data at compressed offset [0-9]+: CRC-32 or length mismatch' \
        "$SCRATCH/stderr" || fail "$dst: no error line naming the layer: $(tail -1 "$SCRATCH/stderr")"
    only_names_in "$SCRATCH/dst"
    only_names_in "$SCRATCH/src" bad
done
slim slim "oci:$SCRATCH/no/such/layout:img" "oci:$SCRATCH/dst/out:img"
[[ $RC == 1 ]] || fail "missing input exited $RC, want 1"
[[ "$(tail -1 "$SCRATCH/stderr")" == "slimage: error: oci:$SCRATCH/no/such/layout:img: not a directory" ]] ||
    fail "wrong error for a missing input: $(tail -1 "$SCRATCH/stderr")"
only_names_in "$SCRATCH/dst"

# Existing destination, no --force: refused, untouched.
mkdir "$SCRATCH/dst/existing"; echo precious >"$SCRATCH/dst/existing/file"
slim slim "oci:$SCRATCH/good:img" "oci:$SCRATCH/dst/existing:img" --profile none
[[ $RC == 1 ]] || fail "existing destination: exited $RC, want 1"
[[ "$(tail -1 "$SCRATCH/stderr")" == "slimage: error: oci:$SCRATCH/dst/existing:img: exists and is not an OCI layout (refusing to overwrite it)" ]] ||
    fail "wrong error for an existing destination: $(tail -1 "$SCRATCH/stderr")"
[[ "$(cat "$SCRATCH/dst/existing/file")" == precious ]] || fail "existing destination modified"
only_names_in "$SCRATCH/dst" existing
pass "failures leave nothing behind"
