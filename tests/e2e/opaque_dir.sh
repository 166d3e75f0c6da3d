#!/usr/bin/env bash
# opaque_dir: .wh..wh..opq in an upper layer hides everything below in that dir, but
# not the upper layer's own entries nor the dir's siblings.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 tar
scratch

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "opt/app/old1", "data": "1"}, {"path": "opt/app/sub/old2", "data": "2"},
 {"path": "opt/keep/file", "data": "k"}]
JSON
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "opt/app", "type": "dir", "mode": 448},
 {"path": "opt/app/.wh..wh..opq", "data": ""}, {"path": "opt/app/new", "data": "n"}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json" "$SCRATCH/l2.json"

for layers in keep squash; do
    slim slim "$(in_layout in)" "$(in_layout "out-$layers")" --profile none --layers "$layers"
    [[ $RC == 0 ]] || fail "--layers $layers exited $RC: $(cat "$SCRATCH/stderr")"
    unpack_image "$(in_layout "out-$layers")" "$SCRATCH/u-$layers"
    r="$SCRATCH/u-$layers/rootfs"
    got=$(cd "$r/opt/app" && find . -mindepth 1 | sort | tr '\n' ' ')
    [[ "$got" == "./new " ]] || fail "--layers $layers: opt/app holds [$got], want [./new ]"
    [[ $(stat -c %a "$r/opt/app") == 700 ]] || fail "--layers $layers: opaque dir lost its own mode"
    [[ -f "$r/opt/keep/file" ]] || fail "--layers $layers: sibling dir opt/keep lost"
done
! layer_listing "$SCRATCH/out-squash" img | grep '\.wh\.' >/dev/null || fail "squashed output keeps an opaque marker"
pass "opaque dir hides the lower layer only"
