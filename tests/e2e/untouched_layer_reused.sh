#!/usr/bin/env bash
# untouched_layer_reused: a layer the plan does not touch is copied, not re-compressed:
# same digest, same diff_id; the touched layer gets a new one.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3
scratch

mkdir -p "$SCRATCH/l1/usr/share/data"
for i in 1 2 3; do head -c 300000 /dev/urandom >"$SCRATCH/l1/usr/share/data/blob$i"; done
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "app/run", "data": "#!/bin/sh\n", "mode": 493}, {"path": "junk/drop-me", "data": "junk junk"}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1" "$SCRATCH/l2.json"

slim slim "$(in_layout in)" "$(in_layout out)" --profile none --strip none --layers keep \
    --compression gzip --drop '/junk/**'
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
layers() { jq -r '.layers[].digest' "$(blob_path "$1" "$(oci_manifest_digest "$1" img)")"; }
mapfile -t before < <(layers "$SCRATCH/in")
mapfile -t after < <(layers "$SCRATCH/out")
[[ ${#after[@]} == 2 ]] || fail "output has ${#after[@]} layers, want 2"
[[ "${after[0]}" == "${before[0]}" ]] || fail "untouched layer 0 re-encoded: ${before[0]} -> ${after[0]}"
[[ "${after[1]}" != "${before[1]}" ]] || fail "layer 1 lost junk/drop-me yet kept its digest"
pass "untouched layer keeps digest ${after[0]:0:19}…"
