#!/usr/bin/env bash
# batch: `slimage batch LIST` over three OCI layouts sharing a base layer, plus
# one broken source. The broken one fails alone (exit 1, the others written and
# valid); the shared base layer is decoded and rewritten once; a second run takes every
# rewritten layer from the disk cache and writes the same digests; --shard 0/2
# and 1/2 together cover the list exactly once.
source "$(dirname "$0")/lib.sh"
need_slimage; need skopeo jq python3
scratch

# Base layer (shared byte for byte): a passwd and an apt cache the default
# profile drops, so the base layer is rewritten, not reused.
cat >"$SCRATCH/base.json" <<'J'
[{"path": "etc", "type": "dir"},
 {"path": "etc/passwd", "data": "root:x:0:0::/root:/bin/sh\n"},
 {"path": "var/cache/apt/archives/big.deb", "size_zero": 200000},
 {"path": "usr/share/base.txt", "data": "shared base\n"}]
J
for n in a b c; do
    printf '[{"path": "srv/%s.txt", "data": "image %s\\n"}, {"path": "tmp/junk-%s", "size_zero": 5000}]' \
        "$n" "$n" "$n" >"$SCRATCH/top-$n.json"
    make_layout_from_dirs "$SCRATCH/in-$n" img "$SCRATCH/base.json" "$SCRATCH/top-$n.json"
done
base_a=$(jq -r '.manifests[0].digest' "$SCRATCH/in-a/index.json")
[[ -n "$base_a" ]] || fail "fixture has no manifest"

cat >"$SCRATCH/list" <<L
# three good images and one that does not exist
oci:$SCRATCH/in-a:img   oci:$SCRATCH/out-a:img
oci:$SCRATCH/in-b:img   oci:$SCRATCH/out-b:img   # trailing comment

oci:$SCRATCH/missing:img oci:$SCRATCH/out-missing:img
oci:$SCRATCH/in-c:img   oci:$SCRATCH/out-c:img
L

slim batch "$SCRATCH/list" --cache "$SCRATCH/cache" --report "$SCRATCH/r1.json" --parallel 3 \
    >"$SCRATCH/table1"
[[ $RC == 1 ]] || fail "batch with a broken source exited $RC, want 1: $(cat "$SCRATCH/stderr")"
jq -e '.totals.images == 4 and .totals.ok == 3 and .totals.failed == 1' "$SCRATCH/r1.json" >/dev/null ||
    fail "report totals: $(jq -c .totals "$SCRATCH/r1.json")"
jq -e '[.images[] | select(.status == "failed")] | length == 1 and .[0].source == "oci:'"$SCRATCH"'/missing:img" and (.[0].error | length > 0)' \
    "$SCRATCH/r1.json" >/dev/null || fail "the broken source is not the one failure: $(jq -c '[.images[] | {source, status, error}]' "$SCRATCH/r1.json")"
grep -q "failed.*missing:img" "$SCRATCH/table1" || fail "summary table has no failed row: $(cat "$SCRATCH/table1")"
[[ ! -e "$SCRATCH/out-missing" ]] || fail "the failed image left an output"
for n in a b c; do
    skopeo inspect "oci:$SCRATCH/out-$n:img" >"$SCRATCH/inspect-$n.json" 2>&1 ||
        fail "out-$n is not a valid image: $(cat "$SCRATCH/inspect-$n.json")"
    jq -e '.Layers | length == 2' "$SCRATCH/inspect-$n.json" >/dev/null || fail "out-$n: not 2 layers"
    jq -e --arg s "oci:$SCRATCH/in-$n:img" '.images[] | select(.source == $s) | .status == "ok" and
        .report.layers.rewritten + .report.layers.from_cache == 2 and .bytes_after < .bytes_before' \
        "$SCRATCH/r1.json" >/dev/null || fail "report for in-$n: $(jq -c --arg s "oci:$SCRATCH/in-$n:img" '.images[] | select(.source == $s) | del(.report)' "$SCRATCH/r1.json")"
done
pass "one broken source fails alone; the three others are written and valid"

# 4 distinct layer blobs (the base + 3 tops) over 6 layer uses: each decoded once.
distinct=$(for n in a b c; do skopeo inspect --raw "oci:$SCRATCH/in-$n:img" | jq -r '.layers[].digest'; done | sort -u | wc -l)
[[ $distinct == 4 ]] || fail "fixture: expected 4 distinct input layers, got $distinct"
jq -e '.totals.layers_decoded == 4 and .totals.layers_decode_shared == 2' "$SCRATCH/r1.json" >/dev/null ||
    fail "shared base layer not decoded once: $(jq -c .totals "$SCRATCH/r1.json")"
jq -e '[.images[].layers_decoded] | add == 4' "$SCRATCH/r1.json" >/dev/null ||
    fail "per-image decode counts do not add up: $(jq -c '[.images[] | {layers_decoded, layers_decode_shared}]' "$SCRATCH/r1.json")"
# Rewritten once too: the three images run at once (--parallel 3) and share the
# rewritten base layer; one encodes it, the other two wait and take it from the cache.
jq -e '[.images[] | select(.status == "ok") | .report.layers.rewritten] | add == 4' "$SCRATCH/r1.json" >/dev/null ||
    fail "shared base layer encoded more than once: $(jq -c '[.images[] | select(.status == "ok") | .report.layers]' "$SCRATCH/r1.json")"
pass "the shared base layer is decoded once and rewritten once for three images"

# Second run: every rewritten layer comes from the disk cache, same digests.
rewritten_first=$(jq '[.images[] | select(.status == "ok") | .report.layers.rewritten + .report.layers.from_cache] | add' "$SCRATCH/r1.json")
grep -v missing "$SCRATCH/list" | sed 's/out-/again-/g' >"$SCRATCH/list2"
slim batch "$SCRATCH/list2" --cache "$SCRATCH/cache" --report "$SCRATCH/r2.json"
[[ $RC == 0 ]] || fail "second batch exited $RC: $(cat "$SCRATCH/stderr")"
jq -e --argjson n "$rewritten_first" '.totals.layers_from_cache == $n and ([.images[].layers_rewritten] | add) == 0' \
    "$SCRATCH/r2.json" >/dev/null || fail "second run did not hit the cache for all $rewritten_first layers: $(jq -c '[.images[] | {layers_rewritten, layers_from_cache}]' "$SCRATCH/r2.json")"
for n in a b c; do
    [[ $(top_digest "$SCRATCH/out-$n") == $(top_digest "$SCRATCH/again-$n") ]] ||
        fail "image $n: cached run wrote another digest"
done
ls "$SCRATCH/cache" | grep -qv '^[0-9a-f]\{64\}$' && fail "cache holds temp entries: $(ls "$SCRATCH/cache")"
pass "a second run takes all $rewritten_first rewritten layers from the cache, same digests"

# Shards: 0/2 and 1/2 together run every job exactly once.
grep -v missing "$SCRATCH/list" | sed 's/out-/shard-/g' >"$SCRATCH/list3"
for i in 0 1; do
    slim batch "$SCRATCH/list3" --shard "$i/2" --no-cache --report "$SCRATCH/s$i.json"
    [[ $RC == 0 ]] || fail "shard $i/2 exited $RC: $(cat "$SCRATCH/stderr")"
done
jq -r '.images[].source' "$SCRATCH/s0.json" "$SCRATCH/s1.json" | sort >"$SCRATCH/sharded"
grep -v '^#' "$SCRATCH/list3" | awk 'NF {print $1}' | sort >"$SCRATCH/want"
diff "$SCRATCH/want" "$SCRATCH/sharded" >/dev/null ||
    fail "shards do not cover the list once: $(cat "$SCRATCH/sharded")"
[[ $(jq '.images | length' "$SCRATCH/s0.json") == 2 && $(jq '.images | length' "$SCRATCH/s1.json") == 1 ]] ||
    fail "shard sizes are not 2 and 1"
jq -e '.cache == null and .totals.layers_from_cache == 0' "$SCRATCH/s0.json" >/dev/null || fail "--no-cache used a cache"
for n in a b c; do [[ -d "$SCRATCH/shard-$n" ]] || fail "shard output $n missing"; done
pass "--shard 0/2 and 1/2 cover the list exactly once"

slim batch "$SCRATCH/list3" --shard 2/2 --no-cache
[[ $RC != 0 ]] && grep -q -- "--shard 2/2" "$SCRATCH/stderr" || fail "--shard 2/2 accepted: $RC"
printf 'oci:%s/in-a:img\n' "$SCRATCH" >"$SCRATCH/bad-list"
slim batch "$SCRATCH/bad-list" --no-cache
[[ $RC != 0 ]] && grep -q "bad-list:1: expected" "$SCRATCH/stderr" || fail "a one-field line was accepted: $(cat "$SCRATCH/stderr")"
pass "bad --shard and bad list lines are errors with their location"
