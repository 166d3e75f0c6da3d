#!/usr/bin/env bash
# squash: --layers squash gives exactly one layer (one diff_id, matching its bytes)
# whose tree equals the merged input tree, and keeps the config (entrypoint, env).
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3
scratch

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "bin/run", "data": "#!/bin/sh\n", "mode": 493}, {"path": "etc/a", "data": "1"},
 {"path": "etc/b", "data": "2"}]
JSON
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "etc/a", "data": "changed"}, {"path": "etc/.wh.b", "data": ""}]
JSON
cat >"$SCRATCH/l3.json" <<'JSON'
[{"path": "srv/data", "data": "data", "uid": 33, "gid": 33}]
JSON
ENTRYPOINT=/bin/run make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json" "$SCRATCH/l2.json" "$SCRATCH/l3.json"

slim slim "$(in_layout in)" "$(in_layout out)" --profile none --layers squash
[[ $RC == 0 ]] || fail "squash exited $RC: $(cat "$SCRATCH/stderr")"
manifest=$(blob_path "$SCRATCH/out" "$(oci_manifest_digest "$SCRATCH/out" img)")
config=$(blob_path "$SCRATCH/out" "$(jq -r .config.digest "$manifest")")
[[ $(jq '.layers | length' "$manifest") == 1 ]] || fail "squashed image has $(jq '.layers | length' "$manifest") layers"
[[ $(jq '.rootfs.diff_ids | length' "$config") == 1 ]] || fail "config lists $(jq '.rootfs.diff_ids | length' "$config") diff_ids"
read -r media path < <(oci_layer_blobs "$SCRATCH/out" img)
diff_id="sha256:$(decompress_stream "$media" "$path" | sha256sum | cut -d' ' -f1)"
[[ "$diff_id" == "$(jq -r '.rootfs.diff_ids[0]' "$config")" ]] || fail "diff_id does not match the layer's uncompressed bytes"
[[ $(jq -r '.config.Entrypoint[0]' "$config") == /bin/run ]] || fail "entrypoint lost"

unpack_image "$(in_layout in)" "$SCRATCH/ui"
unpack_image "$(in_layout out)" "$SCRATCH/uo"
diff <(tree_manifest "$SCRATCH/ui/rootfs") <(tree_manifest "$SCRATCH/uo/rootfs") || fail "squashed tree differs from merged input"
pass "one layer, same tree, diff_id right"
