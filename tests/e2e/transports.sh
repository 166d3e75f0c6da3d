#!/usr/bin/env bash
# transports: oci-archive and docker-archive in and out (made and checked with skopeo);
# every combination unpacks to the input's tree.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci skopeo jq python3 tar
scratch

cat >"$SCRATCH/l1.json" <<'JSON'
[{"path": "bin/app", "data": "#!/bin/sh\n", "mode": 493}, {"path": "etc/conf", "data": "a=1"}]
JSON
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "etc/conf", "data": "a=2"}, {"path": "var/log/x", "data": "log"}]
JSON
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json" "$SCRATCH/l2.json"
skopeo copy -q "oci:$SCRATCH/in:img" "oci-archive:$SCRATCH/in-oci.tar:img"
skopeo copy -q "oci:$SCRATCH/in:img" "docker-archive:$SCRATCH/in-docker.tar:example/img:1"
unpack_image "oci:$SCRATCH/in:img" "$SCRATCH/want"
tree_manifest "$SCRATCH/want/rootfs" >"$SCRATCH/want.txt"

n=0
for src in "oci-archive:$SCRATCH/in-oci.tar" "docker-archive:$SCRATCH/in-docker.tar" "oci:$SCRATCH/in:img"; do
    for dst in oci-archive docker-archive oci; do
        n=$((n + 1))
        case $dst in
            oci-archive) out="oci-archive:$SCRATCH/out$n.tar:img" ;;
            docker-archive) out="docker-archive:$SCRATCH/out$n.tar:example/slim:1" ;;
            oci) out="oci:$SCRATCH/out$n:img" ;;
        esac
        slim slim "$src" "$out" --profile none
        [[ $RC == 0 ]] || fail "$src -> $dst exited $RC: $(cat "$SCRATCH/stderr")"
        skopeo inspect "$out" >/dev/null 2>&1 || fail "$src -> $dst: skopeo inspect rejects $out"
        if [[ $dst == docker-archive ]]; then
            tar -tf "$SCRATCH/out$n.tar" | grep -x manifest.json >/dev/null || fail "$dst output has no manifest.json"
            tar -xOf "$SCRATCH/out$n.tar" manifest.json | jq -e '.[0].RepoTags | any(endswith("example/slim:1"))' >/dev/null ||
                fail "$dst output lacks RepoTags example/slim:1"
        fi
        unpack_image "$out" "$SCRATCH/u$n"
        diff "$SCRATCH/want.txt" <(tree_manifest "$SCRATCH/u$n/rootfs") >/dev/null ||
            fail "$src -> $dst: tree differs from the input's"
    done
done
pass "$n transport combinations round-trip"
