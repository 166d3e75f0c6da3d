#!/usr/bin/env bash
# compression_levels: --level accepts each codec's own range (gzip 1-12, zstd 1-19) and
# refuses anything else as a usage error (exit 2) before reading the image; gzip level 12
# (libdeflate's top level) writes layers the system gzip reads back.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq gzip
scratch

expect_usage() {
    local want="$1"; shift
    slim slim "oci:$SCRATCH/does-not-exist:img" "$(in_layout out)" "$@"
    [[ $RC == 2 ]] || fail "$* exited $RC, want 2: $(cat "$SCRATCH/stderr")"
    grep -qF -- "$want" "$SCRATCH/stderr" || fail "$*: no '$want' in: $(cat "$SCRATCH/stderr")"
    [[ ! -e $SCRATCH/out ]] || fail "$*: wrote an output"
}
expect_usage "gzip levels are 1-12, not 13" --level 13
expect_usage "gzip levels are 1-12, not 0" --compression gzip --level 0
expect_usage "zstd levels are 1-19, not 20" --compression zstd --level 20
expect_usage "compression none has no levels" --compression none --level 5

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "etc/motd", "data": "hello hello hello hello hello"}, {"path": "etc/hostname", "data": "box"}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json"
slim slim "$(in_layout in)" "$(in_layout out)" --profile none --compression gzip --level 12 --drop etc/hostname
[[ $RC == 0 ]] || fail "--level 12 exited $RC: $(cat "$SCRATCH/stderr")"
manifest=$(blob_path "$SCRATCH/out" "$(top_digest "$SCRATCH/out")")
for digest in $(jq -r '.layers[].digest' "$manifest"); do
    gzip -dc <"$(blob_path "$SCRATCH/out" "$digest")" | tar -t >>"$SCRATCH/names" ||
        fail "gzip cannot read layer $digest"
done
grep -qx etc/motd "$SCRATCH/names" && ! grep -qx etc/hostname "$SCRATCH/names" ||
    fail "want etc/motd and no etc/hostname in the rewritten level-12 layer: $(cat "$SCRATCH/names")"
pass "out-of-range levels exit 2; gzip level 12 layers read back with gzip"
