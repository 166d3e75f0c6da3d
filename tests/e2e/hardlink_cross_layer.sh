#!/usr/bin/env bash
# hardlink_cross_layer: a hardlink in layer 2 to a file from layer 1 stays a hardlink
# with the file's content; deleting one name of a hardlinked pair keeps the other.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3
scratch

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "usr/bin/tool", "data": "#!/bin/sh\necho tool\n", "mode": 493},
 {"path": "usr/lib/pair-a", "data": "shared content"},
 {"path": "usr/lib/pair-b", "type": "hardlink", "target": "usr/lib/pair-a"}]
JSON
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "usr/bin/tool-alias", "type": "hardlink", "target": "usr/bin/tool"},
 {"path": "usr/lib/.wh.pair-a", "data": ""}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json" "$SCRATCH/l2.json"

for layers in keep squash; do
    slim slim "$(in_layout in)" "$(in_layout "out-$layers")" --profile none --layers "$layers"
    [[ $RC == 0 ]] || fail "--layers $layers exited $RC: $(cat "$SCRATCH/stderr")"
    unpack_image "$(in_layout "out-$layers")" "$SCRATCH/u-$layers"
    r="$SCRATCH/u-$layers/rootfs"
    [[ "$(stat -c %i "$r/usr/bin/tool")" == "$(stat -c %i "$r/usr/bin/tool-alias")" ]] ||
        fail "--layers $layers: usr/bin/tool-alias is no longer a hardlink of usr/bin/tool"
    cmp -s "$r/usr/bin/tool" "$r/usr/bin/tool-alias" || fail "--layers $layers: alias content differs"
    [[ ! -e "$r/usr/lib/pair-a" ]] || fail "--layers $layers: whited-out pair-a is back"
    [[ "$(cat "$r/usr/lib/pair-b" 2>/dev/null)" == "shared content" ]] ||
        fail "--layers $layers: pair-b lost its content when its link partner was deleted"
done
pass "cross-layer hardlinks survive, kept and squashed"
