#!/usr/bin/env bash
# whiteout: a .wh.NAME in an upper layer hides NAME (file or whole dir) of lower layers,
# both when layers are kept and when squashed (where no .wh. entry may remain).
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 tar
scratch

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "etc/a", "data": "a"}, {"path": "etc/b", "data": "b"},
 {"path": "usr/share/doc/pkg/README", "data": "readme"}, {"path": "usr/share/doc/pkg/sub/x", "data": "x"},
 {"path": "usr/share/doc/other/README", "data": "other"}]
JSON
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "etc/.wh.a", "data": ""}, {"path": "usr/share/doc/.wh.pkg", "data": ""}]
JSON
cat >"$SCRATCH/l3.json" <<'JSON'
[{"path": "etc/a", "data": "a is back"}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json" "$SCRATCH/l2.json"
make_layout_from_dirs "$SCRATCH/in3" img "$SCRATCH/l1.json" "$SCRATCH/l2.json" "$SCRATCH/l3.json"

for layers in keep squash; do
    slim slim "$(in_layout in)" "$(in_layout "out-$layers")" --profile none --layers "$layers"
    [[ $RC == 0 ]] || fail "--layers $layers exited $RC: $(cat "$SCRATCH/stderr")"
    unpack_image "$(in_layout "out-$layers")" "$SCRATCH/u-$layers"
    r="$SCRATCH/u-$layers/rootfs"
    [[ ! -e "$r/etc/a" ]] || fail "--layers $layers: whited-out etc/a is back"
    [[ ! -e "$r/usr/share/doc/pkg" ]] || fail "--layers $layers: whited-out dir usr/share/doc/pkg is back"
    [[ "$(cat "$r/etc/b")" == b && -f "$r/usr/share/doc/other/README" ]] ||
        fail "--layers $layers: a sibling of a whiteout went missing"
done
if layer_listing "$SCRATCH/out-squash" img | grep '\.wh\.' >/dev/null; then
    fail "squashed output still holds whiteout entries: $(layer_listing "$SCRATCH/out-squash" img | grep '\.wh\.')"
fi

# A file re-created above its whiteout is visible again.
slim slim "$(in_layout in3)" "$(in_layout out3)" --profile none --layers squash
[[ $RC == 0 ]] || fail "3-layer squash exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout out3)" "$SCRATCH/u3"
[[ "$(cat "$SCRATCH/u3/rootfs/etc/a")" == "a is back" ]] || fail "file re-created above its whiteout is missing"
pass "whiteouts hide lower files and dirs, kept and squashed"
