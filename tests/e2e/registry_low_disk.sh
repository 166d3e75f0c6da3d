#!/usr/bin/env bash
# registry_low_disk: low-disk mode from a docker:// source. Pass 2 downloads the blobs
# holding kept unspilled content again and streams it into the layer being written (the
# same digest and diff_id checks as the first download; nothing compressed is cached in
# scratch), so the output is the very image a normal run writes.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
need_slimage; need_root; need docker-registry skopeo jq python3 curl
scratch
registry_private_home
registry_start plain "$SCRATCH/registry" || fail "cannot start the registry"

# Two layers: big files in the second (one kept, one dropped), small ones in the first.
mkdir -p "$SCRATCH/l1/etc" "$SCRATCH/l2/data"
echo "root:x:0:0::/root:/bin/sh" >"$SCRATCH/l1/etc/passwd"
head -c $((3 << 20)) /dev/urandom >"$SCRATCH/l2/data/kept.bin"
head -c $((8 << 20)) /dev/urandom >"$SCRATCH/l2/data/dropped.bin"
make_layout_from_dirs "$SCRATCH/layout" img "$SCRATCH/l1" "$SCRATCH/l2"
skopeo copy -q --dest-tls-verify=false "oci:$SCRATCH/layout:img" "docker://$REGISTRY/app:1" >/dev/null ||
    fail "skopeo could not push the image"

ARGS=(--profile none --drop '/data/dropped.bin' --tls-verify=false --compression gzip --level 1)
for mode in normal low; do
    extra=()
    [[ $mode == low ]] && extra=(--scratch-budget 0)
    slim slim "docker://$REGISTRY/app:1" "oci:$SCRATCH/out-$mode:img" "${ARGS[@]}" "${extra[@]}" \
        --report "$SCRATCH/$mode.json" >/dev/null
    [[ $RC == 0 ]] || fail "$mode: slim exited $RC: $(tail -3 "$SCRATCH/stderr")"
    cp "$SCRATCH/stderr" "$SCRATCH/$mode.err"
done
n=$(jq -r .manifest_digest "$SCRATCH/normal.json") l=$(jq -r .manifest_digest "$SCRATCH/low.json")
[[ $n == "$l" ]] || fail "docker:// low-disk output $l differs from normal $n"
[[ $(jq -r .scratch.mode "$SCRATCH/low.json") == low-disk ]] || fail "not low-disk: $(jq -c .scratch "$SCRATCH/low.json")"
grep -q "refill .* 3.0 MiB of kept content streamed from its re-decoded layers to the encoder (within the write)$" "$SCRATCH/low.err" ||
    fail "the kept 3 MiB was not streamed from a second download: $(grep -i refill "$SCRATCH/low.err")"
pn=$(jq .scratch.peak_bytes "$SCRATCH/normal.json") pl=$(jq .scratch.peak_bytes "$SCRATCH/low.json")
((pl < pn)) || fail "low-disk scratch peak $pl is not below the normal run's $pn"
pass "docker:// source: same manifest $n; scratch peak normal $pn, low-disk $pl (the layer downloaded again)"
