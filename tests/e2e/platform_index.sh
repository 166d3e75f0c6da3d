#!/usr/bin/env bash
# platform_index: an image index over linux/amd64 and linux/arm64/v8 — every platform is
# rewritten by default; --platform keeps only the one asked for. The summary prints one
# table per platform headed by it; plan --json and --report carry a platform per image.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 tar
scratch

# arm64's junk is larger, so a table printed under the wrong heading shows.
for arch in amd64 arm64; do
    size=2000; platform=linux/amd64
    [[ $arch == arm64 ]] && size=3000 platform=linux/arm64/v8
    cat >"$SCRATCH/$arch.json" <<JSON
[{"path": "etc/arch", "data": "$arch"}, {"path": "junk/big-$arch", "data": "$(printf 'x%.0s' $(seq $size))"}]
JSON
    PLATFORM=$platform make_layout_from_dirs "$SCRATCH/$arch" img "$SCRATCH/$arch.json"
done
python3 "$HOSTILE_PY" index "$SCRATCH/in" img "$SCRATCH/amd64:linux/amd64" "$SCRATCH/arm64:linux/arm64/v8"

# platform_files LAYOUT OS/ARCH -> the names in that platform's layers
platform_files() {
    local layout="$1" os=${2%/*} arch=${2#*/} index manifest m d
    index=$(blob_path "$layout" "$(top_digest "$layout")")
    manifest=$(jq -r --arg o "$os" --arg a "$arch" \
        '[.manifests[] | select(.platform.os == $o and .platform.architecture == $a)][0].digest // empty' "$index")
    [[ -n "$manifest" ]] || return 1
    jq -r '.layers[] | "\(.mediaType) \(.digest)"' "$(blob_path "$layout" "$manifest")" | while read -r m d; do
        decompress_stream "$m" "$(blob_path "$layout" "$d")" | tar -t
    done
}

"$SLIMAGE" slim "$(in_layout in)" "$(in_layout all)" --profile none --drop '/junk/**' \
    --report "$SCRATCH/report.json" >"$SCRATCH/stdout" 2>"$SCRATCH/stderr" ||
    fail "slim of the index exited $?: $(cat "$SCRATCH/stderr")"
# One table per platform, each under its platform, with that platform's numbers.
headings=$(awk '/^linux\//' "$SCRATCH/stdout" | tr '\n' ' ')
[[ "$headings" == "linux/amd64: linux/arm64/v8: " ]] ||
    fail "summary headings are [$headings], want [linux/amd64: linux/arm64/v8: ]: $(cat "$SCRATCH/stdout")"
saved=$(awk '/^linux\//{p=$1} /^    drop-glob/{print p, $4, $5}' "$SCRATCH/stdout" | tr '\n' ' ')
[[ "$saved" == "linux/amd64: 2.0 KiB linux/arm64/v8: 2.9 KiB " ]] ||
    fail "saved by drop-glob per platform: [$saved]: $(cat "$SCRATCH/stdout")"
[[ $(jq -r '.images | map(.platform) | join(" ")' "$SCRATCH/report.json") == "linux/amd64 linux/arm64/v8" ]] ||
    fail "--report platforms: $(jq -c '.images | map(.platform)' "$SCRATCH/report.json")"
"$SLIMAGE" plan "$(in_layout in)" --profile none --drop '/junk/**' --json >"$SCRATCH/plan.json" \
    2>"$SCRATCH/stderr" || fail "plan --json exited $?: $(cat "$SCRATCH/stderr")"
got=$(jq -r 'map("\(.platform)=\(.actions | map(.path) | join(","))") | join(" ")' "$SCRATCH/plan.json")
[[ "$got" == "linux/amd64=junk/big-amd64 linux/arm64/v8=junk/big-arm64" ]] ||
    fail "plan --json platforms and actions: [$got]"
jq -e '.manifests[0].mediaType | test("index")' "$SCRATCH/all/index.json" >/dev/null ||
    fail "output of a multi-platform input is not an index"
for p in linux/amd64 linux/arm64; do
    files=$(platform_files "$SCRATCH/all" "$p") || fail "output index lost $p"
    grep -q 'etc/arch' <<<"$files" || fail "$p: etc/arch missing"
    ! grep -q 'junk/big' <<<"$files" || fail "$p: --drop '/junk/**' not applied"
done

slim slim "$(in_layout in)" "$(in_layout arm)" --profile none --platform linux/arm64
[[ $RC == 0 ]] || fail "--platform linux/arm64 exited $RC: $(cat "$SCRATCH/stderr")"
archs=$(python3 - "$SCRATCH/arm" <<'PY'
import json, os, sys
lay = sys.argv[1]
def blob(d): return json.load(open(os.path.join(lay, "blobs", *d.split(":"))))
out = []
def walk(desc):
    doc = blob(desc["digest"])
    if "manifests" in doc:
        for d in doc["manifests"]: walk(d)
    else:
        out.append(blob(doc["config"]["digest"])["architecture"])
for d in json.load(open(os.path.join(lay, "index.json")))["manifests"]: walk(d)
print(" ".join(sorted(out)))
PY
)
[[ "$archs" == arm64 ]] || fail "--platform linux/arm64 output holds architectures [$archs]"
pass "both platforms rewritten and labelled; --platform selects one"
