#!/usr/bin/env bash
# make-arch-image.sh — builds a foreign-architecture image (Debian bookworm, python3,
# numpy on OpenBLAS, a small C app) on an amd64 host WITHOUT binfmt_misc.
#
# usage: scripts/make-arch-image.sh [--arch arm64|armhf] [--force] OUTDIR
#
# Writes an OCI image layout at OUTDIR (ref = the arch, e.g. "arm64") with two layers,
# and a docker-archive beside it (OUTDIR.docker.tar) when skopeo is installed:
#   1. base: `debootstrap --foreign --variant=minbase --include=python3,python3-numpy,
#      libopenblas0-pthread`, finished by hand (below); apt's downloaded .debs left in
#      var/cache/apt/archives, as an unclean `apt-get install` leaves them;
#   2. app: /usr/local/bin/archapp (NEEDED libgreet.so.1, dlopen("libarchplugin.so.1")),
#      built with the Debian cross compiler, and the ld.so.cache that `RUN ldconfig`
#      would write. Dropped (app layer still written) when no cross compiler is installed.
#
# debootstrap --second-stage runs the foreign dpkg, which needs binfmt_misc. Instead the
# first stage's package set (debootstrap/debpaths) is finished here:
#   - every .deb is extracted (dpkg-deb -x) and registered in var/lib/dpkg: its control
#     fields plus "Status: install ok installed" in status, its file list as
#     info/PKG[:ARCH].list and its control files (md5sums, postinst…) as info/PKG.*;
#     maintainer scripts are NOT run;
#   - the `update-alternatives --install` lines of every postinst are replayed with the
#     host's update-alternatives --root (libblas.so.3 / liblapack.so.3 -> OpenBLAS at
#     priority 100 over the reference BLAS at 10, awk -> mawk…), as configure would;
#   - the foreign ldconfig (static) runs under qemu-user (qemu-aarch64-static -r) to
#     write a real etc/ld.so.cache with that architecture's flags.
# Caches live in ${SLIMAGE_CACHE:-$HOME/.cache/slimage}; a rerun needs no network.
# OCI layout: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
# shellcheck source=lib-image.sh
source "$here/lib-image.sh"

usage() { echo "usage: $0 [--arch arm64|armhf] [--force] OUTDIR" >&2; exit 2; }
arch=arm64 force=0 out=""
while (($#)); do
    case "$1" in
        --arch) (($# > 1)) || usage; arch="$2"; shift ;;
        --arch=*) arch="${1#*=}" ;;
        --force) force=1 ;;
        -h|--help|-*) usage ;;
        *) [[ -z "$out" ]] || usage; out="$1" ;;
    esac
    shift
done
[[ -n "$out" ]] || usage

# arch -> GNU triplet, qemu-user binary, cross compiler, OCI platform
case "$arch" in
    arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static cc=aarch64-linux-gnu-gcc
           platform=(--os linux --architecture arm64) variant=v8 ;;
    armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm-static cc=arm-linux-gnueabihf-gcc
           platform=(--os linux --architecture arm) variant=v7 ;;
    *) die "--arch $arch: want arm64 or armhf" ;;
esac
[[ $(id -u) == 0 ]] || die "must run as root (debootstrap, ldconfig -r and umoci unpack need it)"
for tool in debootstrap umoci jq zstd tar dpkg-deb update-alternatives "$qemu"; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
command -v "$cc" >/dev/null || { log "no $cc: the image gets no C app"; cc=""; }

stamp="$arch-$([[ -n "$cc" ]] && echo app || echo noapp)-3"
if [[ -f "$out/index.json" && -f "$out/.slimage-arch" && $force == 0 ]] &&
   [[ "$(cat "$out/.slimage-arch")" == "$stamp" ]]; then
    log "$out already holds the $stamp image (use --force to rebuild)"
    exit 0
fi

cache=$(slimage_cache_dir)
mkdir -p "$cache/tmp"
work=$(mktemp -d "$cache/tmp/arch.XXXXXX")
trap 'rm -rf -- "$work"' EXIT
trap 'exit 130' INT TERM
mirror=${SLIMAGE_MIRROR:-http://deb.debian.org/debian}

# register_deb ROOT DEB: what `dpkg --unpack` + `--configure` record, scripts not run.
register_deb() {
    local root="$1" deb="$2" ctl="$work/ctl" name multi info f
    name=$(dpkg-deb -f "$deb" Package)
    multi=$(dpkg-deb -f "$deb" Multi-Arch)
    info="$name"; [[ "$multi" == same ]] && info="$name:$(dpkg-deb -f "$deb" Architecture)"
    # --keep-directory-symlink: bookworm's merged /usr (bin -> usr/bin…) must survive a
    # package that ships ./bin/ (dpkg-deb -x would replace the symlink with a directory).
    dpkg-deb --fsys-tarfile "$deb" | tar -x --keep-directory-symlink -C "$root"
    {
        dpkg-deb -f "$deb" | sed '1a Status: install ok installed'
        echo
    } >>"$root/var/lib/dpkg/status"
    # The file list as dpkg writes it: "/." first, no "./" prefix, no trailing "/".
    dpkg-deb --fsys-tarfile "$deb" | tar -t | sed -e 's#^\./#/#' -e 's#/$##' -e 's#^$#/.#' \
        >"$root/var/lib/dpkg/info/$info.list"
    rm -rf -- "$ctl"; mkdir "$ctl"
    dpkg-deb -e "$deb" "$ctl"
    for f in "$ctl"/*; do
        [[ "${f##*/}" == control ]] && continue
        cp -- "$f" "$root/var/lib/dpkg/info/$info.${f##*/}"
    done
}

# replay_alternatives ROOT POSTINST: its `update-alternatives --install` lines, with --root.
replay_alternatives() {
    local root="$1" line words=() w args
    while IFS= read -r line; do
        read -ra words <<<"$line"
        args=()
        for w in "${words[@]:1}"; do
            case "$w" in '||'|'&&'|';'|'>'*|'2>'*) break ;; esac
            [[ "$w" == *'$'* ]] && { log "$2: skipped (shell variable): $line"; continue 2; }
            args+=("$w")
        done
        update-alternatives --root "$root" --quiet "${args[@]}" ||
            die "$2: update-alternatives failed: $line"
    done < <(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$2" | grep -E '^[[:space:]]*update-alternatives[[:space:]]+--install[[:space:]]')
}

base_tar="$cache/bookworm-$arch-numpy-foreign-2.tar.zst"
if [[ ! -f "$base_tar" ]]; then
    log "debootstrap --foreign $arch bookworm + python3, numpy, OpenBLAS (cached afterwards in $base_tar)"
    root="$work/base"
    debootstrap --foreign --variant=minbase --arch="$arch" \
        --include=python3,python3-numpy,libopenblas0-pthread bookworm "$root" "$mirror" \
        >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
    : >"$root/var/lib/dpkg/status"
    mkdir -p "$root/var/lib/dpkg/info"
    debs=()
    while read -r _ path; do debs+=("$root$path"); done <"$root/debootstrap/debpaths"
    log "extracting and registering ${#debs[@]} packages"
    for deb in "${debs[@]}"; do register_deb "$root" "$deb"; done
    for f in "$root"/var/lib/dpkg/info/*.postinst; do replay_alternatives "$root" "$f"; done
    # Like the second stage: no debootstrap leftovers, no device nodes; the .debs stay.
    rm -rf -- "$root/debootstrap"
    find "$root/dev" -mindepth 1 -delete
    echo "$arch" >"$root/var/lib/dpkg/arch"
    "$qemu" "$root/sbin/ldconfig" -r "$root" || die "ldconfig -r (under $qemu) failed"
    save_tarball "$root" "$base_tar"
    rm -rf -- "$root"
fi

layout="$work/layout" bundle="$work/bundle"
rootfs="$bundle/rootfs"
umoci init --layout "$layout"
umoci new --image "$layout:$arch"
umoci config --image "$layout:$arch" "${platform[@]}" \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.env LANG=C.UTF-8 \
    --config.cmd "$([[ -n "$cc" ]] && echo /usr/local/bin/archapp || echo /usr/bin/python3)"
umoci unpack --image "$layout:$arch" "$bundle" >/dev/null
repack() { umoci repack --refresh-bundle --history.created_by "$1" --image "$layout:$arch" "$bundle"; }

log "layer 1: debootstrap --foreign $arch, finished by hand"
load_tarball "$base_tar" "$rootfs"
# debootstrap run in a container makes proc a symlink to the host's /proc: an image has
# an empty directory there.
for d in proc sys; do
    [[ -L "$rootfs/$d" ]] && rm -f -- "$rootfs/$d"
    mkdir -p "$rootfs/$d"
done
chmod 555 "$rootfs/proc" "$rootfs/sys"
repack "debootstrap --foreign --variant=minbase --arch=$arch bookworm; python3 python3-numpy libopenblas0-pthread"

log "layer 2: archapp, libgreet, libarchplugin; ldconfig"
if [[ -n "$cc" ]]; then
    lib="$rootfs/usr/local/lib"
    mkdir -p "$lib" "$rootfs/usr/local/bin"
    "$cc" -O2 -shared -fPIC -Wall -Wl,-soname,libgreet.so.1 -o "$lib/libgreet.so.1.0" "$repo/fixtures/arch/greet.c"
    ln -sfn libgreet.so.1.0 "$lib/libgreet.so.1"
    "$cc" -O2 -shared -fPIC -Wall -Wl,-soname,libarchplugin.so.1 -o "$lib/libarchplugin.so.1" "$repo/fixtures/arch/plugin.c"
    "$cc" -O2 -Wall -o "$rootfs/usr/local/bin/archapp" "$repo/fixtures/arch/archapp.c" "$lib/libgreet.so.1"
fi
# The Dockerfile's `RUN ldconfig`: the cache now lists /usr/local/lib as well.
"$qemu" "$rootfs/sbin/ldconfig" -r "$rootfs" || die "ldconfig -r (under $qemu) failed"
repack "build archapp ($cc); ldconfig"

# OCI's variant is not in umoci config: set it in the manifest's config and index.
umoci gc --layout "$layout"
python3 - "$layout" "$arch" "$variant" <<'PY'
import hashlib, json, os, sys
layout, ref, variant = sys.argv[1:]
def blob(d): return os.path.join(layout, "blobs", *d.split(":"))
def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode()
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob(d), "wb") as f: f.write(data)
    return d, len(data)
index = json.load(open(os.path.join(layout, "index.json")))
desc = index["manifests"][0]
manifest = json.load(open(blob(desc["digest"])))
config = json.load(open(blob(manifest["config"]["digest"])))
config["variant"] = variant
manifest["config"]["digest"], manifest["config"]["size"] = put(config)
desc["digest"], desc["size"] = put(manifest)
desc["platform"] = {"os": config["os"], "architecture": config["architecture"], "variant": variant}
json.dump(index, open(os.path.join(layout, "index.json"), "w"))
PY
umoci gc --layout "$layout"

rm -rf -- "$out" "$out.docker.tar"
mkdir -p "$(dirname "$out")"
mv -- "$layout" "$out"
if command -v skopeo >/dev/null; then
    skopeo copy -q "oci:$out:$arch" "docker-archive:$out.docker.tar:slimage/arch-sample:$arch" ||
        die "skopeo: docker-archive failed"
fi
echo "$stamp" >"$out/.slimage-arch"
log "wrote $out (oci, ref $arch) and $out.docker.tar: $(jq -c . <<<"$(oci_sizes "$out" "$arch")")"
