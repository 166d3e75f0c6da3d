#!/usr/bin/env bash
# layer_fidelity: layers keep what their own tar said.
#  1. Two images on one base layer, whose upper layers re-declare the base's
#     directories with other mtimes and modes: the default profile drops the
#     base's apt cache, so the base layer is rewritten, and it comes out with the
#     same digest in both images, slimmed separately or in one batch (a rewritten
#     layer's directories keep the base layer's headers, never the merged view's).
#  2. `--profile none` is an identity on layers: whiteouts with mode 0000, an
#     opaque directory, hardlinks, setuid and mode-0000 files, a device — every
#     output layer is the input blob (same digests); skopeo and umoci accept it.
#  3. A cross-layer hardlink between two rewritten layers stays a hardlink.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need skopeo umoci jq python3
scratch

cat >"$SCRATCH/base.json" <<'J'
[{"path": "usr", "type": "dir", "mtime": 1600000000},
 {"path": "usr/lib", "type": "dir", "mtime": 1600000001},
 {"path": "usr/lib/base.txt", "data": "shared base\n"},
 {"path": "usr/lib/base-link.txt", "type": "hardlink", "target": "usr/lib/base.txt"},
 {"path": "usr/share", "type": "dir", "mode": 448, "mtime": 1600000002},
 {"path": "usr/share/doc.txt", "data": "doc\n"},
 {"path": "var/cache/apt/archives/big.deb", "size_zero": 200000}]
J
cat >"$SCRATCH/top-a.json" <<'J'
[{"path": "usr", "type": "dir", "mtime": 1700000100},
 {"path": "usr/lib", "type": "dir", "mode": 509, "mtime": 1700000101},
 {"path": "usr/lib/a.txt", "data": "image a\n"}]
J
cat >"$SCRATCH/top-b.json" <<'J'
[{"path": "usr/lib", "type": "dir", "mtime": 1700000900, "uid": 7},
 {"path": "usr/share", "type": "dir", "mode": 493, "mtime": 1700000901},
 {"path": "usr/lib/b.txt", "data": "image b\n"}]
J
for n in a b; do make_layout_from_dirs "$SCRATCH/in-$n" img "$SCRATCH/base.json" "$SCRATCH/top-$n.json"; done
layers() { jq -r '.layers[].digest' "$(blob_path "$1" "$(oci_manifest_digest "$1" img)")"; }
[[ $(layers "$SCRATCH/in-a" | head -1) == $(layers "$SCRATCH/in-b" | head -1) ]] ||
    fail "fixture: the two inputs do not share their base layer"

for n in a b; do
    slim slim "$(in_layout "in-$n")" "$(in_layout "sep-$n")" >/dev/null
    [[ $RC == 0 ]] || fail "slim in-$n exited $RC: $(cat "$SCRATCH/stderr")"
    skopeo inspect "$(in_layout "sep-$n")" >/dev/null || fail "skopeo inspect rejects sep-$n"
done
printf '%s %s\n' "$(in_layout in-a)" "$(in_layout batch-a)" "$(in_layout in-b)" "$(in_layout batch-b)" \
    >"$SCRATCH/list"
slim batch "$SCRATCH/list" --no-cache --parallel 2 >/dev/null
[[ $RC == 0 ]] || fail "batch exited $RC: $(cat "$SCRATCH/stderr")"
base_in=$(layers "$SCRATCH/in-a" | head -1)
declare -A base
for out in sep-a sep-b batch-a batch-b; do
    mapfile -t l < <(layers "$SCRATCH/$out")
    [[ ${#l[@]} == 2 ]] || fail "$out has ${#l[@]} layers, want 2"
    base[$out]=${l[0]}
done
[[ ${base[sep-a]} != "$base_in" ]] || fail "the base layer lost its apt cache yet kept its digest"
for out in sep-b batch-a batch-b; do
    [[ ${base[$out]} == "${base[sep-a]}" ]] ||
        fail "base layer differs: sep-a ${base[sep-a]} vs $out ${base[$out]}"
done
# The rewritten base layer's own directory headers, not the upper layers'.
decompress_stream application/vnd.oci.image.layer.v1.tar+gzip "$(blob_path "$SCRATCH/sep-b" "${base[sep-b]}")" |
    TZ=UTC tar -tv --numeric-owner --full-time | awk '{print $1, $2, $4, $5, $6}' | grep ' usr/' >"$SCRATCH/base-listing"
cat >"$SCRATCH/want-listing" <<'W'
drwxr-xr-x 0/0 2020-09-13 12:26:40 usr/
drwxr-xr-x 0/0 2020-09-13 12:26:41 usr/lib/
-rw-r--r-- 0/0 2023-11-14 22:13:20 usr/lib/base-link.txt
hrw-r--r-- 0/0 2023-11-14 22:13:20 usr/lib/base.txt
drwx------ 0/0 2020-09-13 12:26:42 usr/share/
-rw-r--r-- 0/0 2023-11-14 22:13:20 usr/share/doc.txt
W
diff "$SCRATCH/want-listing" "$SCRATCH/base-listing" >&2 || fail "rewritten base layer's headers differ from the base's own"
pass "shared base layer: one digest (${base[sep-a]:0:19}…) in two images, separately and in a batch"

# 2. --profile none: every layer is the input blob.
cat >"$SCRATCH/l1.json" <<'J'
[{"path": "etc/a", "data": "a"}, {"path": "etc/b", "data": "b", "mode": 0},
 {"path": "usr/bin/tool", "data": "#!/bin/sh\n", "mode": 2541},
 {"path": "usr/bin/tool2", "type": "hardlink", "target": "usr/bin/tool"},
 {"path": "usr/share/doc/pkg/README", "data": "readme"},
 {"path": "srv/secret", "type": "dir", "mode": 0},
 {"path": "dev/null", "type": "char", "major": 1, "minor": 3, "mode": 438}]
J
cat >"$SCRATCH/l2.json" <<'J'
[{"path": "etc/.wh.a", "data": "", "mode": 0},
 {"path": "usr/share/doc/.wh..wh..opq", "data": "", "mode": 0},
 {"path": "usr/share/doc/new", "data": "new doc"},
 {"path": "usr/bin/tool3", "type": "hardlink", "target": "usr/bin/tool"}]
J
make_layout_from_dirs "$SCRATCH/in-none" img "$SCRATCH/l1.json" "$SCRATCH/l2.json"
slim slim "$(in_layout in-none)" "$(in_layout out-none)" --profile none >/dev/null
[[ $RC == 0 ]] || fail "--profile none exited $RC: $(cat "$SCRATCH/stderr")"
diff <(layers "$SCRATCH/in-none") <(layers "$SCRATCH/out-none") >&2 ||
    fail "--profile none changed layer digests"
skopeo inspect "$(in_layout out-none)" >/dev/null || fail "skopeo inspect rejects the --profile none output"
unpack_image "$(in_layout in-none)" "$SCRATCH/u-in"
unpack_image "$(in_layout out-none)" "$SCRATCH/u-out"
diff <(tree_manifest "$SCRATCH/u-in/rootfs") <(tree_manifest "$SCRATCH/u-out/rootfs") >&2 ||
    fail "--profile none output unpacks to another tree"
pass "--profile none keeps every layer digest (whiteouts mode 0000, opaque dir, hardlinks, odd modes)"

# 3. A hardlink in an upper layer to a file of a lower layer, both rewritten
#    (each loses a dropped file): it stays a hardlink, the bytes are not stored twice.
python3 - "$SCRATCH" <<'PY'
import base64, json, os, sys
blob = base64.b64encode(os.urandom(100000)).decode()
json.dump([{"path": "usr/lib/big", "data_b64": blob}, {"path": "junk/a", "data": "a"}],
          open(sys.argv[1] + "/h1.json", "w"))
json.dump([{"path": "usr/lib/big-alias", "type": "hardlink", "target": "usr/lib/big"},
           {"path": "junk/b", "data": "b"}], open(sys.argv[1] + "/h2.json", "w"))
PY
make_layout_from_dirs "$SCRATCH/in-hl" img "$SCRATCH/h1.json" "$SCRATCH/h2.json"
slim slim "$(in_layout in-hl)" "$(in_layout out-hl)" --profile none --drop '/junk/**' >/dev/null
[[ $RC == 0 ]] || fail "hardlink image: exit $RC: $(cat "$SCRATCH/stderr")"
mapfile -t hl < <(layers "$SCRATCH/out-hl")
[[ ${#hl[@]} == 2 ]] || fail "hardlink image: ${#hl[@]} layers, want 2"
top=$(decompress_stream application/vnd.oci.image.layer.v1.tar+gzip "$(blob_path "$SCRATCH/out-hl" "${hl[1]}")" |
      tar -tv | awk '{print $1, $3, $6, $7, $8, $9}' | grep big-alias)
[[ "$top" == "hrw-r--r-- 0 usr/lib/big-alias link to usr/lib/big" ]] ||
    fail "upper layer carries the bytes again: '$top'"
unpack_image "$(in_layout out-hl)" "$SCRATCH/u-hl"
cmp -s "$SCRATCH/u-hl/rootfs/usr/lib/big" "$SCRATCH/u-hl/rootfs/usr/lib/big-alias" || fail "big-alias content differs"
pass "a cross-layer hardlink between rewritten layers stays a hardlink"
