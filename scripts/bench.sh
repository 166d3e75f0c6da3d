#!/usr/bin/env bash
# bench.sh — slimage against the pipeline a user would script today, and the codec limit.
#
# usage: scripts/bench.sh [--small] [--repeat N] [--out DIR] [--fresh] [IMAGE_DIR]
#   IMAGE_DIR: an OCI layout (its first ref: "sample", or "torch" from make-torch-image.sh);
#              default: build/reuse the sample image. Checks free space first (~4.5x the input).
#   Resumes where it stopped: every finished run is kept in OUT/rows with what measured it
#   (the image, the row's flags, its binary's sha256: slimage, codec_floor_bench, the peer
#   script and umoci; the floor's deflate rows, the output they encode). A second call with
#   the same OUT measures only the runs it lacks, or whose key changed: a new slimage
#   binary re-measures the slimage rows and keeps the peer's 14 minutes.
#   --fresh: start OUT afresh.
#   --repeat N: run each slimage and floor row N times and report the median run
#               with the spread (wall times vary by 10-20% between runs on a VM; default 3)
#   --cuda-arch LIST: one more row, slimage-gzip-cuda-arch (slim --cuda-arch LIST), to set
#               against slimage-gzip (issue 17: GPU-code pruning costs at most 10% more time)
#   --skip ROW: leave a slimage row out (slimage-gzip-l3, slimage-zstd, slimage-lowdisk); repeatable
#   SLIMAGE=path/to/slimage (default build/slimage); missing -> its rows are skipped
#
# Rows, each timed with /usr/bin/time -v (wall clock, peak RSS) and with the peak
# bytes under its scratch dir (TMPDIR, sampled every 0.2 s):
#   slimage-gzip, slimage-zstd   slimage slim with the default profile (gzip level 5, zstd 3)
#   slimage-gzip-l3              the same with --level 3 (libdeflate 3: faster, a little larger)
#   slimage-lowdisk              slimage slim --scratch-budget 0 (gzip): low-disk mode
#   peer                         umoci unpack -> strip --strip-unneeded every *.so* ->
#                                rm tests/__pycache__/examples dirs, apt and pip caches ->
#                                umoci repack into a fresh one-layer image
#   floor-inflate                every input layer decoded with slimage's decoders (ISA-L
#                                inflate, libzstd), one layer per core (build/codec_floor_bench)
#   floor-deflate-gzip, -gzip-l3, -zstd
#                                slimage's output layers, uncompressed, encoded with the same
#                                encoders at the same level on all cores (gzip members at
#                                level 5, and at level 3 for the --level 3 row; multi-threaded
#                                libzstd at 3)
# codec floor (gzip) = inflate + deflate-gzip; (gzip level 3) = inflate + deflate-gzip-l3;
# (zstd) = inflate + deflate-zstd: the same libraries slimage uses with nothing else in the
# way, each slimage row set against the floor of its own codec and level. Decode and encode
# overlap in slimage, so a ratio under 1.0 is possible. Targets (issue 17): slimage gzip
# <= 0.15x peer, zstd <= 0.10x peer, <= 1.0x codec floor, peak RSS <= 1 GiB.
# slimage rows also carry their --report's own figures: "reported" scratch (bytes written
# minus freed, at their peak) and "RSS stage", the stage that raised peak RSS last. du
# cannot see slimage's scratch (its files are unnamed, O_TMPFILE): the du "scratch" column
# is the peer's only, "-" for slimage rows.
# Writes a table to stdout and OUT/bench.json. Not a test: nothing here asserts.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
source "$here/lib-image.sh"

small=0 repeat=3 out="" image="" cuda_arch="" skip=" " fresh=0
while (($#)); do
    case "$1" in
        --small) small=1 ;;
        --repeat) repeat="$2"; shift ;;
        --cuda-arch) cuda_arch="$2"; shift ;;
        --skip) skip+="$2 "; shift ;;
        --out) out="$2"; shift ;;
        --fresh) fresh=1 ;;
        -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
        *) image="$1" ;;
    esac
    shift
done
for tool in umoci jq pigz zstd gzip strip; do command -v "$tool" >/dev/null || die "missing $tool"; done
[[ -x /usr/bin/time ]] || die "needs GNU time at /usr/bin/time (apt-get install time)"
slimage="${SLIMAGE:-$repo/build/slimage}"
[[ -x "$slimage" ]] || { log "no slimage at $slimage: its rows are skipped"; slimage=""; }

variant=$([[ $small == 1 ]] && echo small || echo full)
kind=$([[ -d /usr/local/cuda/lib64 ]] && echo cuda || echo nocuda)
cache=$(slimage_cache_dir)
if [[ -z "$image" ]]; then
    image="$cache/sample-$variant-$kind"
    flags=(); [[ $small == 1 ]] && flags+=(--small); [[ $kind == nocuda ]] && flags+=(--no-cuda)
    "$here/make-sample-image.sh" "${flags[@]}" "$image" >&2
fi
ref=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // "sample"' "$image/index.json")
if [[ "$image" != "$cache/sample-$variant-$kind" ]]; then
    variant=$(basename "$image") kind=$ref  # another image (e.g. the torch one): name rows after it
fi
out="${out:-$cache/bench-$variant-$kind}"
floor="${CODEC_FLOOR:-$repo/build/codec_floor_bench}"
if [[ ! -x "$floor" ]]; then
    log "building codec_floor_bench"
    cmake --build "$repo/build" --target codec_floor_bench -j"$(nproc)" >&2 || die "cannot build codec_floor_bench"
fi
# Each row's runs are kept in OUT/rows with a key saying what measured them (the row's
# binary by sha256, the image, its flags); a later call keeps a run whose key still holds.
if ((fresh == 1)) || [[ ! -d "$out/rows" ]]; then
    rm -rf -- "$out"; mkdir -p "$out/rows"
else
    log "resuming in $out: runs whose binary, image and flags are unchanged are kept"
fi
sha16() { sha256sum <"$1" | cut -c1-16; }
image_id=$(jq -r '.manifests[0].digest' "$image/index.json")
slimage_id=$([[ -n $slimage ]] && sha16 "$slimage" || true) floor_id=$(sha16 "$floor")
# row_key NAME: what NAME's runs are measured with
row_key() {
    case "$1" in
        slimage-gzip-cuda-arch) echo "image=$image_id slimage=$slimage_id cuda_arch=$cuda_arch" ;;
        slimage-*) echo "image=$image_id slimage=$slimage_id" ;;
        peer) echo "image=$image_id peer=$(sha16 "$out/work/peer.sh") $(umoci --version | head -1)" ;;
        floor-inflate) echo "image=$image_id floor=$floor_id" ;;
        floor-deflate-*) echo "floor=$floor_id output=$(jq -r '.manifests[0].digest' "$plain_from/index.json")" ;;
    esac
}
# Free space first. At its fullest the disk holds slimage's gzip output (the floor reads it
# back; the other slimage outputs are removed once measured) beside the peer's unpacked
# tree (about 2.5x the compressed input) and its repacked image (about 1x); later, the
# floor's uncompressed output tar beside that gzip output. So about 4.5x the compressed
# input: refuse at once with the numbers rather than fail an hour in.
in_bytes=$(oci_sizes "$image" "$ref" | jq .compressed_bytes)
need=$((in_bytes * 9 / 2 - $(du -sb "$out" | cut -f1))) avail=$(df --output=avail -B1 "$out" | tail -1)
((need > 0)) || need=0  # resumed: what OUT already holds counts toward it
((avail >= need)) || die "$out: needs about $(human "$need") free (4.5x the $(human "$in_bytes") compressed input), has $(human "$avail")"
log "$image:$ref: $(human "$in_bytes") compressed; $(human "$avail") free for about $(human "$need") of outputs and scratch"
trap 'rm -rf -- "$out/work"' EXIT
rm -rf -- "$out/work"; mkdir "$out/work"  # a run killed with SIGKILL skips the trap

declare -A wall rss size scratch reported_scratch rss_stage
# peak_bytes DIR FILE: until killed, keeps in FILE the most bytes DIR has held
peak_bytes() {
    local peak=0 now
    while :; do
        now=$(du -sb "$1" 2>/dev/null | cut -f1) || now=0
        ((${now:-0} > peak)) && { peak=$now; echo "$peak" >"$2"; }
        sleep 0.2
    done
}
# measure NAME CMD... : wall seconds and peak RSS (KiB) from /usr/bin/time -v; the
# command runs with TMPDIR set to a fresh dir whose peak size is scratch[NAME]
measure() {
    local name="$1" tmp="$out/work/tmp-$1" poller; shift
    log "running $name"
    rm -rf -- "$tmp"; mkdir -p "$tmp"; echo 0 >"$out/$name.scratch"
    peak_bytes "$tmp" "$out/$name.scratch" & poller=$!
    TMPDIR="$tmp" /usr/bin/time -v -o "$out/$name.time" "$@" >"$out/$name.log" 2>&1 ||
        { kill "$poller"; tail -5 "$out/$name.log" >&2; die "$name failed"; }
    kill "$poller"; wait "$poller" 2>/dev/null || true
    scratch[$name]=$(cat "$out/$name.scratch")
    rm -rf -- "$tmp"
    wall[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0;
        for (i = 1; i <= n; i++) s = s * 60 + t[i]; print s}' "$out/$name.time")
    rss[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out/$name.time")
}

declare -A runs
# measure_slimage NAME DEST CMD... : measure, --repeat times (DEST, unless -, removed
# before each run); keeps the median run's wall time, the highest peak RSS,
# and every wall time in runs[NAME].
measure_slimage() {
    local name="$1" dest="$2" i walls=() peak=0 done key; shift 2
    key=$(row_key "$name")
    # The output (and --report) other steps read comes from the last run: gone, it runs again.
    [[ $dest == - || -d $dest ]] || rm -f -- "$out/rows/$name.run$((repeat - 1))"
    for ((i = 0; i < repeat; i++)); do
        done="$out/rows/$name.run$i"
        if [[ -f $done && $(sed -n 2p "$done") == "$key" ]]; then  # measured by an earlier call
            read -r "wall[$name]" "rss[$name]" <"$done"
            log "$name run $((i + 1)): kept from before (${wall[$name]} s)"
        else
            [[ $dest == - ]] || rm -rf -- "$dest"
            measure "$name" "$@"
            printf '%s %s\n%s\n' "${wall[$name]}" "${rss[$name]}" "$key" >"$done.tmp" && mv -- "$done.tmp" "$done"
        fi
        walls+=("${wall[$name]}")
        ((rss[$name] > peak)) && peak=${rss[$name]}
    done
    runs[$name]="${walls[*]}"
    wall[$name]=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(((repeat + 1) / 2))p")
    rss[$name]=$peak
}

# row_kept NAME [DIR]: true, with NAME's figures loaded, when a call before this one finished
# the row (and DIR, its output another row reads, is still there). row_save NAME: keep them.
row_kept() {
    [[ -f "$out/rows/$1.row" && ( -z ${2:-} || -d ${2:-} ) ]] || return 1
    [[ $(sed -n 1p "$out/rows/$1.row") == "# $(row_key "$1")" ]] || return 1
    source "$out/rows/$1.row"
    log "$1: kept from before (${wall[$1]} s)"
}
row_save() {
    local n="$1"
    { echo "# $(row_key "$n")"; printf 'wall[%q]=%q\n' "$n" "${wall[$n]:-}"; printf 'rss[%q]=%q\n' "$n" "${rss[$n]:-}"
      printf 'size[%q]=%q\n' "$n" "${size[$n]:-}"; printf 'scratch[%q]=%q\n' "$n" "${scratch[$n]:-}"
      printf 'reported_scratch[%q]=%q\n' "$n" "${reported_scratch[$n]:-}"
      printf 'rss_stage[%q]=%q\n' "$n" "${rss_stage[$n]:-}"; printf 'runs[%q]=%q\n' "$n" "${runs[$n]:-}"
    } >"$out/rows/$n.row.tmp"
    mv -- "$out/rows/$n.row.tmp" "$out/rows/$n.row"
}

# from_report NAME REPORT: the run's own figures, from its --report: scratch bytes at their
# peak as slimage counts them (written minus freed) and the stage that raised peak RSS.
from_report() {
    reported_scratch[$1]=$(jq '.scratch.peak_bytes // 0' "$2")
    rss_stage[$1]=$(jq -r '.peak_rss.stage // "-"' "$2")
}

if [[ -n "$slimage" ]]; then
    # Untimed warm-up: the input's blobs into the page cache, and the first
    # process to touch gigabytes of fresh memory on a VM pays for it; without
    # this the first timed row (and only it) carries both.
    log "warm-up: slimage inspect"
    "$slimage" inspect --quiet "oci:$image:$ref" >/dev/null
    for c in gzip zstd; do
        [[ $skip == *" slimage-$c "* ]] && continue
        row_kept "slimage-$c" "$([[ $c == gzip ]] && echo "$out/slim-gzip")" && continue
        measure_slimage "slimage-$c" "$out/slim-$c" "$slimage" slim "oci:$image:$ref" "oci:$out/slim-$c:$ref" \
            --compression "$c" --report "$out/slim-$c.report.json" --force
        size[slimage-$c]=$(oci_sizes "$out/slim-$c" "$ref" | jq .compressed_bytes)
        from_report "slimage-$c" "$out/slim-$c.report.json"
        row_save "slimage-$c"
        [[ $c == gzip ]] || rm -rf -- "$out/slim-$c"  # measured; only the gzip output is read again
    done
    if [[ -n $cuda_arch ]] && ! row_kept slimage-gzip-cuda-arch; then
        measure_slimage slimage-gzip-cuda-arch "$out/slim-cuda-arch" "$slimage" slim "oci:$image:$ref" \
            "oci:$out/slim-cuda-arch:$ref" --compression gzip --cuda-arch "$cuda_arch" \
            --report "$out/slim-cuda-arch.report.json" --force
        size[slimage-gzip-cuda-arch]=$(oci_sizes "$out/slim-cuda-arch" "$ref" | jq .compressed_bytes)
        from_report slimage-gzip-cuda-arch "$out/slim-cuda-arch.report.json"
        row_save slimage-gzip-cuda-arch
        rm -rf -- "$out/slim-cuda-arch"
    fi
    # --level 3: the fast gzip mode, a little larger.
    [[ $skip == *" slimage-gzip-l3 "* ]] || row_kept slimage-gzip-l3 || {
    measure_slimage slimage-gzip-l3 "$out/slim-gzip-l3" "$slimage" slim "oci:$image:$ref" "oci:$out/slim-gzip-l3:$ref" \
        --compression gzip --level 3 --report "$out/slim-gzip-l3.report.json" --force
    size[slimage-gzip-l3]=$(oci_sizes "$out/slim-gzip-l3" "$ref" | jq .compressed_bytes)
    from_report slimage-gzip-l3 "$out/slim-gzip-l3.report.json"
    row_save slimage-gzip-l3
    rm -rf -- "$out/slim-gzip-l3"
    }
    # --scratch-budget 0: low-disk mode (spill only what the analysis reads, refill kept
    # content before the write); the same output, less scratch, one more decode.
    [[ $skip == *" slimage-lowdisk "* ]] || row_kept slimage-lowdisk || {
    measure_slimage slimage-lowdisk "$out/slim-lowdisk" "$slimage" slim "oci:$image:$ref" "oci:$out/slim-lowdisk:$ref" \
        --compression gzip --scratch-budget 0 --report "$out/slim-lowdisk.report.json" --force
    size[slimage-lowdisk]=$(oci_sizes "$out/slim-lowdisk" "$ref" | jq .compressed_bytes)
    from_report slimage-lowdisk "$out/slim-lowdisk.report.json"
    row_save slimage-lowdisk
    rm -rf -- "$out/slim-lowdisk"
    }
fi

cat >"$out/work/peer.sh" <<'PEER'
#!/usr/bin/env bash
# What people script today: unpack, strip, delete the usual suspects, repack as one layer.
set -euo pipefail
image="$1" ref="$2" work="$3" dest="$4"
umoci unpack --image "$image:$ref" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"
find "$root" -name '*.so*' -type f -print0 | xargs -0 -r strip --strip-unneeded 2>/dev/null || true
find "$root" -depth -type d \( -name tests -o -name __pycache__ -o -name examples \) -exec rm -rf {} +
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/root/.cache/pip
umoci init --layout "$dest"
umoci new --image "$dest:$ref"
umoci unpack --image "$dest:$ref" "$work/fresh" >/dev/null
rmdir "$work/fresh/rootfs" && mv "$root" "$work/fresh/rootfs"
umoci repack --image "$dest:$ref" "$work/fresh"
PEER
# Its unpacked trees go under its TMPDIR, so they count as its scratch.
row_kept peer "$out/peer" || {
rm -rf -- "$out/peer"
measure peer bash -c 'exec bash "$1" "$2" "$3" "$TMPDIR" "$4"' peer "$out/work/peer.sh" "$image" "$ref" "$out/peer"
size[peer]=$(oci_sizes "$out/peer" "$ref" | jq .compressed_bytes)
row_save peer
}

# Codec floor: slimage's own decoders and encoders, alone, on all cores.
oci_layer_blobs "$image" "$ref" | cut -d' ' -f2 >"$out/work/input-layers"
row_kept floor-inflate || {
    measure_slimage floor-inflate - sh -c 'xargs "$1" inflate <"$2"' sh "$floor" "$out/work/input-layers"
    row_save floor-inflate
}
plain_from=$([[ -n "$slimage" ]] && echo "$out/slim-gzip" || echo "$out/peer")
# NAME COMPRESSION LEVEL: the gzip level-3 floor only where its slimage row runs.
floors=("gzip gzip 5" "zstd zstd 3")
[[ $skip == *" slimage-gzip-l3 "* ]] || floors+=("gzip-l3 gzip 3")
for f in "${floors[@]}"; do
    read -r name c level <<<"$f"
    row_kept "floor-deflate-$name" && continue
    if [[ ! -f "$out/work/output.tar" ]]; then
        oci_layer_blobs "$plain_from" "$ref" | while read -r m p; do decompress_stream "$m" "$p"; done >"$out/work/output.tar"
        stat -c %s "$out/work/output.tar" >"$out/rows/output-tar-bytes"
    fi
    measure_slimage "floor-deflate-$name" - "$floor" deflate --compression "$c" --level "$level" "$out/work/output.tar"
    size[floor-deflate-$name]=$(cut -d' ' -f3 "$out/floor-deflate-$name.log")
    row_save "floor-deflate-$name"
done
out_plain=$(cat "$out/rows/output-tar-bytes")
rm -f -- "$out/work/output.tar"

limit_gzip=$(echo "${wall[floor-inflate]} + ${wall[floor-deflate-gzip]}" | bc -l)
limit_zstd=$(echo "${wall[floor-inflate]} + ${wall[floor-deflate-zstd]}" | bc -l)
limit_gzip_l3=null
[[ -n ${wall[floor-deflate-gzip-l3]:-} ]] && limit_gzip_l3=$(echo "${wall[floor-inflate]} + ${wall[floor-deflate-gzip-l3]}" | bc -l)
input=$(oci_sizes "$image" "$ref")

python3 - "$out/bench.json" "$image" "$variant-$kind" "${wall[peer]}" "$limit_gzip" "$limit_zstd" "$limit_gzip_l3" \
    "$(jq .compressed_bytes <<<"$input")" "$out_plain" <<PY
import json, sys
path, image, variant, peer, lim_gz, lim_zstd, lim_gz3, in_bytes, out_plain = sys.argv[1:]
peer, lim = float(peer), {"gzip": float(lim_gz), "zstd": float(lim_zstd)}
if lim_gz3 != "null":
    lim["gzip-l3"] = float(lim_gz3)
rows = {}
for line in """$(for k in "${!wall[@]}"; do echo "$k ${wall[$k]} ${rss[$k]} ${size[$k]:-null} ${scratch[$k]:-0} ${reported_scratch[$k]:-null} ${rss_stage[$k]:--} ${runs[$k]:-}"; done)""".split("\n"):
    if not line.strip():
        continue
    name, w, r, s, sc, rsc, stage, *each = line.split()
    codec = "zstd" if name.endswith("zstd") else "gzip-l3" if name.endswith("-l3") else "gzip"
    rows[name] = {"wall_s": float(w), "peak_rss_kib": int(r), "output_bytes": None if s == "null" else int(s),
                  "peak_scratch_bytes": None if name.startswith("slimage") else int(sc),  # du: blind to unnamed files
                  "reported_scratch_peak_bytes": None if rsc == "null" else int(rsc),
                  "peak_rss_stage": None if stage == "-" else stage,
                  "ratio_to_peer": round(float(w) / peer, 3) if peer else None,
                  "codec_floor": codec if name.startswith("slimage") and codec in lim else None,
                  "ratio_to_codec_limit": round(float(w) / lim[codec], 3)
                  if name.startswith("slimage") and codec in lim else None}
    if each:
        rows[name]["runs_wall_s"] = [float(x) for x in each]
targets = {"slimage-gzip": {"ratio_to_peer": 0.15, "ratio_to_codec_limit": 1.0, "peak_rss_kib": 1 << 20},
           "slimage-gzip-l3": {"ratio_to_peer": 0.15, "ratio_to_codec_limit": 1.0, "peak_rss_kib": 1 << 20},
           "slimage-zstd": {"ratio_to_peer": 0.10, "ratio_to_codec_limit": 1.0, "peak_rss_kib": 1 << 20}}
if "slimage-gzip-cuda-arch" in rows and "slimage-gzip" in rows:
    r = rows["slimage-gzip-cuda-arch"]
    r["ratio_to_slimage_gzip"] = round(r["wall_s"] / rows["slimage-gzip"]["wall_s"], 3)
    targets["slimage-gzip-cuda-arch"] = {"ratio_to_slimage_gzip": 1.10, "peak_rss_kib": 1 << 20}
for name, t in targets.items():
    if name in rows:
        rows[name]["meets"] = {k: rows[name][k] is not None and rows[name][k] <= v for k, v in t.items()}
doc = {"image": image, "variant": variant, "input_compressed_bytes": int(in_bytes),
       "output_uncompressed_bytes": int(out_plain), "codec_limit_s": lim, "rows": rows, "targets": targets}
json.dump(doc, open(path, "w"), indent=1, sort_keys=True)
order = ["slimage-gzip", "slimage-gzip-cuda-arch", "slimage-gzip-l3", "slimage-lowdisk", "slimage-zstd", "peer", "floor-inflate", "floor-deflate-gzip",
         "floor-deflate-gzip-l3", "floor-deflate-zstd"]
print(f"{'row':22} {'wall s':>8} {'x peer':>7} {'x floor':>8} {'RSS MiB':>8} {'RSS stage':>9} {'scratch':>9} "
      f"{'reported':>9} {'output':>10} {'runs':>13}  meets targets")
for name in order:
    if name not in rows:
        continue
    r = rows[name]
    fmt = lambda v, f: "-" if v is None else format(v, f)
    spread = lambda r: (f"{min(r['runs_wall_s']):.1f}-{max(r['runs_wall_s']):.1f} x{len(r['runs_wall_s'])}"
                        if len(r.get("runs_wall_s", [])) > 1 else "1")
    rep = lambda v: "-" if v is None else f"{v / 2**20:.1f}M"
    outb = "-" if r["output_bytes"] is None else f"{r['output_bytes'] / 2**20:.1f}M"
    meets = " ".join(f"{k}={'yes' if ok else 'NO'}" for k, ok in r.get("meets", {}).items())
    print(f"{name:22} {r['wall_s']:8.2f} {fmt(r['ratio_to_peer'], '7.3f')} {fmt(r['ratio_to_codec_limit'], '8.3f')} "
          f"{r['peak_rss_kib'] / 1024:8.1f} {r['peak_rss_stage'] or '-':>9} {rep(r['peak_scratch_bytes']):>9} "
          f"{rep(r['reported_scratch_peak_bytes']):>9} "
          f"{outb:>10} {spread(r):>13}  {meets}")
l3 = f", gzip level 3 {lim['gzip-l3']:.2f}s" if "gzip-l3" in lim else ""
print(f"codec floor: gzip {lim['gzip']:.2f}s{l3}, zstd {lim['zstd']:.2f}s; input {int(in_bytes) / 2**20:.1f}M compressed")
PY
log "wrote $out/bench.json"
