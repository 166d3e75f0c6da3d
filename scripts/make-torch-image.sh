#!/usr/bin/env bash
# make-torch-image.sh — builds the 10 GB+ PyTorch CUDA image of issue 17 from Debian packages.
#
# usage: scripts/make-torch-image.sh [--force] OUTDIR
#
# Writes an OCI image layout at OUTDIR (ref "torch"), built with umoci so that each layer
# is a real diff:
#   1. Debian trixie, debootstrap --variant=minbase, components main contrib non-free
#   2. python3-torch-cuda (contrib) with the non-free CUDA 12 libraries it pulls
#      (cudart, cuBLAS, cuDNN, NCCL, …); apt caches and lists LEFT IN, like a careless RUN
#   3. a devel layer: nvidia-cuda-toolkit, build-essential, python3-dev (caches left in)
#   4. the app (/usr/local/bin/torch-app, fixtures/torch/app.py) as the entrypoint
# NVIDIA's EULA debconf questions are preseeded (accepted) so apt runs non-interactively.
#
# Resumable, and offline on a rerun: downloaded .debs are kept in $CACHE/torch/debs and
# apt's lists in $CACHE/torch/lists; the layout under construction lives in
# $CACHE/torch/layout and each finished layer leaves a stamp there, so a rerun continues
# after the last finished layer. CACHE is ${SLIMAGE_CACHE:-$HOME/.cache/slimage}.
# Needs about 50 GB free (input, outputs and a peer's unpacked tree for scripts/bench.sh);
# it checks first and says what it needs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib-image.sh
source "$here/lib-image.sh"

usage() { echo "usage: $0 [--force] OUTDIR" >&2; exit 2; }
force=0 out=""
while (($#)); do
    case "$1" in
        --force) force=1 ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) [[ -z "$out" ]] || usage; out="$1" ;;
    esac
    shift
done
[[ -n "$out" ]] || usage
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot and umoci unpack need it)"
for tool in debootstrap umoci jq zstd tar; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done

ref=torch stamp=torch-trixie-v1
if [[ -f "$out/index.json" && "$(cat "$out/.slimage-sample" 2>/dev/null)" == "$stamp" && $force == 0 ]]; then
    log "$out already holds the $stamp image (use --force to rebuild)"
    exit 0
fi

cache=$(slimage_cache_dir)/torch
debs="$cache/debs" lists="$cache/lists" layout="$cache/layout" bundle="$cache/bundle"
mkdir -p "$debs" "$lists"
[[ $force == 1 ]] && rm -rf -- "$layout" "$bundle"
rootfs="$bundle/rootfs"

# -- free space: what is left to write, against what the filesystem has -------
need_gib=${SLIMAGE_TORCH_NEED_GIB:-50}
have_gib=$(( $(df --output=avail -B1 "$cache" | tail -1) >> 30 ))
done_gib=$(( $(du -sb "$cache" | cut -f1) >> 30 ))
if (( have_gib + done_gib < need_gib )); then
    die "needs about ${need_gib} GiB on $(df --output=target "$cache" | tail -1) for the image, its build" \
        "tree, slim outputs and the peer's unpacked tree; ${have_gib} GiB free (+${done_gib} GiB already" \
        "built in $cache). Free space or set SLIMAGE_CACHE elsewhere."
fi
log "free: ${have_gib} GiB (+${done_gib} GiB already in $cache); needs about ${need_gib} GiB in all"

cleanup() { chroot_release; }
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$SECONDS
arch=amd64
mirror=${SLIMAGE_MIRROR:-http://deb.debian.org/debian}

repack() {  # repack STAGE CREATED_BY: one layer, then a stamp so a rerun skips it
    umoci repack --refresh-bundle --history.created_by "$2" --image "$layout:$ref" "$bundle"
    : >"$layout/.stage-$1"
    echo "$1" >"$bundle/.stage"
}
stage_done() { [[ -f "$layout/.stage-$1" ]]; }

# The bundle must match the last finished layer; a stage cut short leaves it dirty.
if [[ ! -f "$layout/index.json" ]]; then
    rm -rf -- "$layout" "$bundle"
    umoci init --layout "$layout"
    umoci new --image "$layout:$ref"
fi
last=$(cd "$layout" && { ls -1 .stage-* 2>/dev/null || true; } | sed 's/^\.stage-//' | sort -n | tail -1)
if [[ ! -f "$bundle/.stage" || "$(cat "$bundle/.stage")" != "${last:-0}" ]]; then
    log "unpacking the layout after layer ${last:-0} (resuming)"
    rm -rf -- "$bundle"
    umoci unpack --image "$layout:$ref" "$bundle" >/dev/null
    echo "${last:-0}" >"$bundle/.stage"
fi

# apt_install CHROOT_ROOT PACKAGE...: apt-get install with the .deb and lists caches; the
# .debs it downloads end up both in the cache and in the image (caches left in on purpose).
apt_install() {
    local root="$1"; shift
    echo dirty >"$bundle/.stage"
    mkdir -p "$root/var/cache/apt/archives" "$root/var/lib/apt/lists"
    cp -aln "$debs/." "$root/var/cache/apt/archives/" 2>/dev/null || true
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    # nvidia-cudnn (which libtorch-cuda depends on) is an installer: its postinst asks for
    # NVIDIA's licence, then downloads cuDNN from developer.download.nvidia.com. Decline
    # here, so the package installs offline; provide_cudnn below puts the libraries in.
    cat >"$root/tmp/preseed" <<'EOF'
nvidia-cudnn nvidia-cudnn/question select I Decline
nvidia-cudnn nvidia-cudnn/license note
EOF
    chroot_prepare "$root"
    local update='apt-get update -q'
    if [[ -n "$(ls -A "$lists" 2>/dev/null)" ]]; then
        cp -a "$lists/." "$root/var/lib/apt/lists/"
        update=true  # offline rerun: the cached lists are what the first run resolved against
    fi
    local rc=0
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
        chroot "$root" sh -c "debconf-set-selections /tmp/preseed && $update &&
            apt-get install -y -q --download-only \"\$@\" && apt-get install -y -q \"\$@\"" sh "$@" \
        >"$cache/apt.log" 2>&1 || rc=$?
    # Keep whatever was downloaded, even after a failure, so a rerun does not fetch it again.
    cp -aln "$root/var/cache/apt/archives/." "$debs/" 2>/dev/null || true
    rm -f "$debs/lock"; rm -rf "$debs/partial"
    [[ -n "$(ls -A "$lists" 2>/dev/null)" ]] || cp -a "$root/var/lib/apt/lists/." "$lists/"
    rm -rf "$lists/partial" "$lists/lock"
    chroot_release
    rm -f "$root/tmp/preseed"
    : >"$root/etc/resolv.conf"
    ((rc == 0)) || { tail -30 "$cache/apt.log" >&2; die "apt-get install $* failed (log: $cache/apt.log)"; }
}

# provide_cudnn ROOT: what nvidia-cudnn's postinst would install into /usr/lib/<multiarch>.
# With NVIDIA's archive in $CACHE/torch (cudnn-linux-x86_64-*_cuda12-archive.tar.xz, the
# file update-nvidia-cudnn downloads) it runs the package's own installer on it, offline;
# otherwise it copies the cuDNN 9 libraries of the local CUDA toolkit
# (${SLIMAGE_CUDNN_DIR:-/usr/local/cuda/lib64}): the same layout (libcudnn.so.9, a small
# front that dlopens libcudnn_{ops,cnn,adv,graph,engines_*}.so.9), not the same build.
provide_cudnn() {
    local root="$1" multiarch=usr/lib/x86_64-linux-gnu archive f
    archive=$(ls "$cache"/cudnn-linux-x86_64-*_cuda12-archive.tar.xz 2>/dev/null | head -1 || true)
    if [[ -n "$archive" ]]; then
        mkdir -p "$root/tmp/cudnn"
        cp -- "$archive" "$root/tmp/cudnn/"
        chroot "$root" update-nvidia-cudnn --update --tmpdir /tmp/cudnn \
            --filelist /var/lib/nvidia-cudnn/filelist.txt >>"$cache/apt.log" 2>&1 ||
            die "update-nvidia-cudnn failed (log: $cache/apt.log)"
        rm -rf -- "$root/tmp/cudnn"
        return
    fi
    local src=${SLIMAGE_CUDNN_DIR:-/usr/local/cuda/lib64}
    [[ -e "$src/libcudnn.so.9" ]] ||
        die "no cuDNN: put NVIDIA's cudnn-linux-x86_64-9.*_cuda12-archive.tar.xz in $cache, or set SLIMAGE_CUDNN_DIR"
    log "cuDNN: developer.download.nvidia.com is not used; copying cuDNN 9 from $src"
    for f in "$src"/libcudnn*.so*; do
        cp -a --remove-destination -- "$f" "$root/$multiarch/"
    done
    ls -1 "$src"/libcudnn*.so* | sed "s|^$src|/$multiarch|" >"$root/var/lib/nvidia-cudnn/filelist.txt"
}

if ! stage_done 1; then
    log "layer 1: debootstrap trixie minbase"
    echo dirty >"$bundle/.stage"
    find "$rootfs" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
    mkdir -p "$rootfs/var/cache/apt/archives"
    cp -aln "$debs/." "$rootfs/var/cache/apt/archives/" 2>/dev/null || true
    debootstrap --variant=minbase --arch="$arch" --components=main,contrib,non-free,non-free-firmware \
        trixie "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
        { tail -20 "$cache/debootstrap.log" >&2; die "debootstrap failed (log: $cache/debootstrap.log)"; }
    cp -aln "$rootfs/var/cache/apt/archives/." "$debs/" 2>/dev/null || true
    rm -rf "$debs/partial" "$debs/lock"
    # Like Debian's official images: no device nodes, no downloaded .debs in the base.
    find "$rootfs/dev" -mindepth 1 -delete
    find "$rootfs/var/cache/apt/archives" -name '*.deb' -delete
    repack 1 "debootstrap --variant=minbase trixie (main contrib non-free)"
fi

if ! stage_done 2; then
    log "layer 2: python3-torch-cuda and its CUDA 12 libraries (several GB to download)"
    apt_install "$rootfs" python3-torch-cuda python3-numpy
    provide_cudnn "$rootfs"
    repack 2 "apt-get install python3-torch-cuda python3-numpy"
fi

if ! stage_done 3; then
    log "layer 3: devel (nvidia-cuda-toolkit, build-essential, python3-dev)"
    apt_install "$rootfs" nvidia-cuda-toolkit build-essential python3-dev
    repack 3 "apt-get install nvidia-cuda-toolkit build-essential python3-dev"
fi

if ! stage_done 4; then
    log "layer 4: app"
    echo dirty >"$bundle/.stage"
    install -m 0755 "$repo/fixtures/torch/app.py" "$rootfs/usr/local/bin/torch-app"
    repack 4 "COPY app.py /usr/local/bin/torch-app"
    umoci config --image "$layout:$ref" --os linux --architecture "$arch" \
        --config.entrypoint /usr/local/bin/torch-app \
        --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        --config.env LANG=C.UTF-8 --config.env NVIDIA_VISIBLE_DEVICES=all \
        --history.created_by 'ENTRYPOINT ["/usr/local/bin/torch-app"]'
    umoci gc --layout "$layout"
fi

if [[ -e "$out" ]]; then
    # Only ever replace an OCI layout (or an empty dir): OUTDIR may be a typo for something precious.
    [[ -f "$out/oci-layout" || -z "$(ls -A -- "$out" 2>/dev/null)" ]] ||
        die "$out exists and is not an OCI layout; refusing to replace it"
    rm -rf -- "$out"
fi
mkdir -p "$(dirname "$out")"
# Blobs are immutable and content-addressed: hard links cost no space when on one filesystem.
cp -al -- "$layout" "$out.tmp" 2>/dev/null || cp -a -- "$layout" "$out.tmp"
rm -f "$out.tmp"/.stage-*
cp --remove-destination -- "$layout/index.json" "$out.tmp/index.json"
echo "$stamp" >"$out.tmp/.slimage-sample"
mv -- "$out.tmp" "$out"

sizes=$(oci_sizes "$out" "$ref")
log "wrote $out (ref $ref) in $((SECONDS - start))s"
printf 'layers %s, compressed %s, files %s\n' \
    "$(jq -r .layers <<<"$sizes")" \
    "$(human "$(jq -r .compressed_bytes <<<"$sizes")")" \
    "$(human "$(tree_bytes "$rootfs")")"
