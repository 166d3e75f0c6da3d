#!/usr/bin/env bash
# determinism: two runs on the same input give byte-identical output (same manifest
# digest, same blobs), for gzip and zstd, layered and squashed, whatever --jobs.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
mkdir -p "$SCRATCH/root/var/cache/apt/archives" "$SCRATCH/root/usr/lib/python3/dist-packages/pkg/tests"
head -c 200000 /dev/urandom >"$SCRATCH/root/var/cache/apt/archives/x.deb"
echo 'def test(): pass' >"$SCRATCH/root/usr/lib/python3/dist-packages/pkg/tests/test_x.py"
cat >"$SCRATCH/l2.json" <<'JSON'
[{"path": "etc/motd", "data": "hi"}, {"path": "usr/bin/.wh.nothing", "data": ""}]
JSON
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root" "$SCRATCH/l2.json"

for compression in gzip zstd; do
    for layers in keep squash; do
        for run in 1 2; do
            slim slim "$(in_layout in)" "$(in_layout "out-$compression-$layers-$run")" \
                --compression "$compression" --layers "$layers" --strip unneeded --jobs $((run == 1 ? 1 : 3))
            [[ $RC == 0 ]] || fail "$compression/$layers run $run exited $RC: $(cat "$SCRATCH/stderr")"
        done
        a="$SCRATCH/out-$compression-$layers-1" b="$SCRATCH/out-$compression-$layers-2"
        [[ "$(top_digest "$a")" == "$(top_digest "$b")" ]] ||
            fail "$compression/$layers: manifest digests differ: $(top_digest "$a") vs $(top_digest "$b")"
        diff <(cd "$a" && find . -type f | sort | xargs sha256sum) \
             <(cd "$b" && find . -type f | sort | xargs sha256sum) >/dev/null ||
            fail "$compression/$layers: layout files differ between runs"
        if [[ $compression == zstd ]]; then
            jq -e '.layers | all(.mediaType | endswith("+zstd"))' \
                "$(blob_path "$a" "$(oci_manifest_digest "$a" img)")" >/dev/null ||
                fail "zstd output has non-zstd layers"
        fi
    done
done
pass "identical digests across runs with --jobs 1 and 3 (gzip, zstd; keep, squash)"
