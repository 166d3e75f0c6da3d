#!/usr/bin/env bash
# roundtrip_none: `--profile none` rewrites nothing — skopeo accepts the output and
# umoci unpacks the very same tree (paths, modes, owners, content, links, xattrs).
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci skopeo jq python3
scratch

mkdir -p "$SCRATCH/l1/etc" "$SCRATCH/l1/usr/bin" "$SCRATCH/l1/var/empty"
echo "root:x:0:0::/root:/bin/sh" >"$SCRATCH/l1/etc/passwd"
printf '#!/bin/sh\necho hi\n' >"$SCRATCH/l1/usr/bin/hi"; chmod 0755 "$SCRATCH/l1/usr/bin/hi"
ln -s hi "$SCRATCH/l1/usr/bin/hello"
ln "$SCRATCH/l1/usr/bin/hi" "$SCRATCH/l1/usr/bin/hi-hardlink"
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "etc/passwd", "data": "root:x:0:0::/root:/bin/bash\n"},
 {"path": "etc/shadow", "data": "root:*::0:::::\n", "mode": 416, "uid": 0, "gid": 42},
 {"path": "home/user", "type": "dir", "uid": 1000, "gid": 1000, "mode": 488},
 {"path": "usr/bin/sudo", "data": "x", "mode": 2541},
 {"path": "usr/bin/ping", "data": "x", "mode": 493,
  "xattrs_b64": {"security.capability": "AQAAAgAgAAAAAAAAAAAAAAAAAAA="}}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1" "$SCRATCH/l2.json"

slim slim "$(in_layout in)" "$(in_layout out)" --profile none --report "$SCRATCH/report.json"
[[ $RC == 0 ]] || fail "slim --profile none exited $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect "$(in_layout out)" >/dev/null || fail "skopeo inspect rejects the output"

unpack_image "$(in_layout in)" "$SCRATCH/in.bundle"
unpack_image "$(in_layout out)" "$SCRATCH/out.bundle"
diff <(tree_manifest "$SCRATCH/in.bundle/rootfs") <(tree_manifest "$SCRATCH/out.bundle/rootfs") ||
    fail "output tree differs from input tree"

check_report_invariant "$SCRATCH/report.json"
jq -e '([.removed[]?.files] | add // 0) == 0' "$SCRATCH/report.json" >/dev/null ||
    fail "profile none removed files: $(jq -c .removed "$SCRATCH/report.json")"
pass "output unpacks to the input's tree"
