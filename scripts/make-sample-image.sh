#!/usr/bin/env bash
# make-sample-image.sh — builds the realistic, fat sample image slimage is measured on.
#
# usage: scripts/make-sample-image.sh [--small] [--no-cuda] [--force] OUTDIR
#
# Writes an OCI image layout at OUTDIR (ref "sample"), built with umoci so that each
# layer is a real diff (umoci repack writes .wh. whiteouts for deletions):
#   1. Debian bookworm, debootstrap --variant=minbase (cached as a tarball)
#   2. python3 + numpy + dev packages via apt in a chroot; apt caches, a pip cache,
#      a /tmp leftover and numpy's tests dirs all LEFT IN (cached as a tarball too)
#   3. CUDA (only if /usr/local/cuda/lib64 exists and no --no-cuda): a toolkit tree with
#      soname symlink chains, wheel-style nvidia/*/lib copies, and a CPython extension
#      (fixtures/sample/gpuext.c) reaching libcudart through RUNPATH $ORIGIN/nvidia/…
#   4. the app (/usr/local/bin/app), plus files overwritten and deleted from lower layers
# Caches live in ${SLIMAGE_CACHE:-$HOME/.cache/slimage}; a rerun needs no network.
# OCI layout: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib-image.sh
source "$here/lib-image.sh"

usage() { echo "usage: $0 [--small] [--no-cuda] [--force] OUTDIR" >&2; exit 2; }
small=0 cuda=1 force=0 out=""
while (($#)); do
    case "$1" in
        --small) small=1 ;;
        --no-cuda) cuda=0 ;;
        --force) force=1 ;;
        -h|--help) usage ;;
        -*) usage ;;
        *) [[ -z "$out" ]] || usage; out="$1" ;;
    esac
    shift
done
[[ -n "$out" ]] || usage
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, chroot and umoci unpack need it)"
for tool in debootstrap umoci jq zstd tar gcc python3; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
cuda_lib=/usr/local/cuda/lib64
[[ -d "$cuda_lib" ]] || cuda=0

variant=$([[ $small == 1 ]] && echo small || echo full)
stamp="$variant-$([[ $cuda == 1 ]] && echo cuda || echo nocuda)"
if [[ -f "$out/index.json" && -f "$out/.slimage-sample" && $force == 0 ]] &&
   [[ "$(cat "$out/.slimage-sample")" == "$stamp" ]]; then
    log "$out already holds the $stamp sample (use --force to rebuild)"
    exit 0
fi

cache=$(slimage_cache_dir)
mkdir -p "$cache/tmp"
work=$(mktemp -d "$cache/tmp/build.XXXXXX")
cleanup() {
    chroot_release
    rm -rf -- "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start=$SECONDS
arch=amd64
mirror=${SLIMAGE_MIRROR:-http://deb.debian.org/debian}

# -- cached stages ----------------------------------------------------------

base_tar="$cache/debootstrap-bookworm-minbase-$arch.tar.zst"
if [[ ! -f "$base_tar" ]]; then
    log "debootstrap bookworm minbase (cached afterwards in $base_tar)"
    debootstrap --variant=minbase --arch="$arch" bookworm "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    # Like Debian's official images: no device nodes, no downloaded .debs in the base.
    find "$work/base/dev" -mindepth 1 -delete
    find "$work/base/var/cache/apt/archives" -name '*.deb' -delete
    save_tarball "$work/base" "$base_tar"
    rm -rf -- "$work/base"
fi

if [[ $small == 1 ]]; then
    packages=(python3 python3-numpy python3-dev zlib1g-dev)
    apt_flags=(--no-install-recommends)
else
    packages=(python3 python3-numpy python3-dev libpython3-dev libc6-dev zlib1g-dev
              libssl-dev libffi-dev python3-pip python3-setuptools python3-scipy)
    apt_flags=()
fi
apt_tar="$cache/bookworm-apt-$variant-$arch.tar.zst"
if [[ ! -f "$apt_tar" ]]; then
    log "apt-get install ${packages[*]} (cached afterwards in $apt_tar)"
    mkdir "$work/apt"
    load_tarball "$base_tar" "$work/apt"
    cp /etc/resolv.conf "$work/apt/etc/resolv.conf"
    chroot_prepare "$work/apt"
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
        chroot "$work/apt" sh -c 'apt-get update -q && apt-get install -y -q "$@"' sh \
        "${apt_flags[@]}" "${packages[@]}" >"$work/apt.log" 2>&1 ||
        { tail -30 "$work/apt.log" >&2; die "apt-get install failed"; }
    chroot_release
    : >"$work/apt/etc/resolv.conf"
    save_tarball "$work/apt" "$apt_tar"
    rm -rf -- "$work/apt"
fi

# -- layers -----------------------------------------------------------------

layout="$work/layout" bundle="$work/bundle"
rootfs="$bundle/rootfs"
umoci init --layout "$layout"
umoci new --image "$layout:sample"
umoci unpack --image "$layout:sample" "$bundle" >/dev/null

repack() {  # repack CREATED_BY
    umoci repack --refresh-bundle --history.created_by "$1" --image "$layout:sample" "$bundle"
}

log "layer 1: debootstrap minbase"
load_tarball "$base_tar" "$rootfs"
repack "debootstrap --variant=minbase bookworm"

log "layer 2: python3, numpy, dev packages, caches left in"
find "$rootfs" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +
load_tarball "$apt_tar" "$rootfs"
# A pip-style cache and a build leftover: deterministic junk, incompressible like real wheels.
python3 - "$rootfs" <<'PY'
import os, random, sys
root = sys.argv[1]
rng = random.Random(1234)
def junk(path, size):
    path = os.path.join(root, path.lstrip("/"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(rng.randbytes(size))
for i in range(24):
    junk(f"/root/.cache/pip/http-v2/{i:x}/{rng.getrandbits(64):016x}", 300_000 + i * 20_000)
junk("/root/.cache/pip/wheels/3a/7f/numpy-1.24.2-cp311-cp311-linux_x86_64.whl", 4_000_000)
junk("/root/.cache/pip/selfcheck/stale.json", 1_000)
junk("/tmp/build-leftover/obj/module.o", 2_500_000)
junk("/tmp/build-leftover/build.log", 100_000)
PY
repack "apt-get install ${packages[*]}"

if [[ $cuda == 1 ]]; then
    log "layer 3: CUDA toolkit libraries, nvidia wheels, gpuext extension"
    if [[ $small == 1 ]]; then
        toolkit=(libcudart.so libcufft.so libcurand.so)
        wheels=(cuda_runtime:libcudart.so.13 cufft:libcufftw.so.12)
    else
        toolkit=(libcudart.so libcublas.so libcublasLt.so libcufft.so libcurand.so libcusparse.so
                 libnvJitLink.so libnvrtc.so libnvrtc-builtins.so libnccl.so libcudnn.so
                 libcudnn_adv.so libcudnn_cnn.so libcudnn_engines_precompiled.so
                 libcudnn_engines_runtime_compiled.so libcudnn_graph.so libcudnn_heuristic.so
                 libcudnn_ops.so)
        wheels=(cuda_runtime:libcudart.so.13 cublas:libcublas.so.13 cublas:libcublasLt.so.13
                cufft:libcufft.so.12 nvrtc:libnvrtc.so.13 nvrtc:libnvrtc-builtins.so.13.0)
    fi
    # nvidia/cuda images: /usr/local/cuda -> cuda-13.0, lib64 -> targets/x86_64-linux/lib
    tk="$rootfs/usr/local/cuda-13.0/targets/x86_64-linux/lib"
    mkdir -p "$tk"
    ln -sfn cuda-13.0 "$rootfs/usr/local/cuda"
    ln -sfn targets/x86_64-linux/lib "$rootfs/usr/local/cuda-13.0/lib64"
    for link in "${toolkit[@]}"; do
        # Copy the whole soname chain: libX.so -> libX.so.N [-> libX.so.N.M …] -> file.
        name="$link"
        while :; do
            src="$cuda_lib/$name"
            [[ -e "$src" ]] || die "$src: missing from the CUDA toolkit"
            cp -a -- "$src" "$tk/$name"
            [[ -L "$src" ]] || break
            name=$(readlink "$src"); name=${name##*/}
        done
    done
    site="$rootfs/usr/local/lib/python3.11/dist-packages"
    mkdir -p "$site/nvidia"
    : >"$site/nvidia/__init__.py"
    for spec in "${wheels[@]}"; do
        pkg=${spec%%:*} lib=${spec#*:}
        mkdir -p "$site/nvidia/$pkg/lib"
        : >"$site/nvidia/$pkg/__init__.py"
        cp -L -- "$cuda_lib/$lib" "$site/nvidia/$pkg/lib/$lib"
    done
    # gpuext: NEEDED libcudart.so.13, found only through RUNPATH $ORIGIN/nvidia/cuda_runtime/lib.
    gcc -O2 -shared -fPIC -Wall -DGPUEXT_CUDA -I"$rootfs/usr/include/python3.11" \
        -o "$site/gpuext.cpython-311-x86_64-linux-gnu.so" "$repo/fixtures/sample/gpuext.c" \
        "$cuda_lib/libcudart.so.13" -Wl,--enable-new-dtags,-rpath,'$ORIGIN/nvidia/cuda_runtime/lib'
    repack "copy CUDA 13 libraries; pip install nvidia-*-cu13 (simulated); build gpuext"
fi

log "layer 4: app, overwrites and deletions"
site="$rootfs/usr/local/lib/python3.11/dist-packages"
if [[ ! -e "$site/gpuext.cpython-311-x86_64-linux-gnu.so" ]]; then
    # Without CUDA the extension is still built (no libcudart), so the import path is exercised.
    mkdir -p "$site"
    gcc -O2 -shared -fPIC -Wall -I"$rootfs/usr/include/python3.11" \
        -o "$site/gpuext.cpython-311-x86_64-linux-gnu.so" "$repo/fixtures/sample/gpuext.c"
fi
install -m 0755 "$repo/fixtures/sample/app.py" "$rootfs/usr/local/bin/app"
echo "slimage sample image ($stamp)" >"$rootfs/etc/motd"              # overwrite
rm -rf -- "$rootfs/root/.cache/pip/selfcheck"                          # whiteout of a dir
rm -f -- "$rootfs/tmp/build-leftover/build.log"                        # whiteout of a file
rm -rf -- "$rootfs/usr/share/doc/python3-numpy"                        # whiteout across layers
repack "COPY app.py /usr/local/bin/app"

env_args=(--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
          --config.env LANG=C.UTF-8)
[[ $cuda == 1 ]] && env_args+=(--config.env LD_LIBRARY_PATH=/usr/local/cuda/lib64
                               --config.env NVIDIA_VISIBLE_DEVICES=all)
umoci config --image "$layout:sample" --os linux --architecture "$arch" \
    --config.entrypoint /usr/local/bin/app "${env_args[@]}" \
    --history.created_by 'ENTRYPOINT ["/usr/local/bin/app"]'
umoci gc --layout "$layout"
echo "$stamp" >"$layout/.slimage-sample"

if [[ -e "$out" ]]; then
    # Only ever replace an OCI layout (or an empty dir): OUTDIR may be a typo for something precious.
    [[ -f "$out/oci-layout" || -z "$(ls -A -- "$out" 2>/dev/null)" ]] ||
        die "$out exists and is not an OCI layout; refusing to replace it"
    rm -rf -- "$out"
fi
mkdir -p "$(dirname "$out")"
mv -- "$layout" "$out"

sizes=$(oci_sizes "$out" sample)
log "wrote $out (ref sample, $stamp) in $((SECONDS - start))s"
printf 'layers %s, compressed %s, uncompressed %s\n' \
    "$(jq -r .layers <<<"$sizes")" \
    "$(human "$(jq -r .compressed_bytes <<<"$sizes")")" \
    "$(human "$(oci_uncompressed_bytes "$out" sample)")"
