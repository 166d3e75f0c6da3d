# scripts/lib-image.sh — shell helpers shared by the sample-image builder, the
# benchmark and the e2e tests (source it; it defines functions only).
#
# OCI image layout spec: https://github.com/opencontainers/image-spec/blob/main/image-layout.md
# Quirk handled here: an OCI layout's blobs are addressed by the digest of their
# *compressed* bytes, while a config's rootfs.diff_ids are digests of the
# *uncompressed* tar; sizes below say which one they mean.

slimage_cache_dir() {
    local dir="${SLIMAGE_CACHE:-${HOME:-/root}/.cache/slimage}"
    mkdir -p "$dir"
    printf '%s\n' "$dir"
}

log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# blob_path LAYOUT DIGEST -> path of the blob file
blob_path() { printf '%s/blobs/%s/%s\n' "$1" "${2%%:*}" "${2#*:}"; }

# oci_manifest_digest LAYOUT [REF] -> digest of the manifest named REF (or the only one).
# Descends one level into a nested index (multi-platform) and picks linux/amd64.
oci_manifest_digest() {
    local layout="$1" ref="${2:-}" desc media digest
    if [[ -n "$ref" ]]; then
        desc=$(jq -c --arg r "$ref" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r)][0]' "$layout/index.json")
    else
        desc=$(jq -c '.manifests[0]' "$layout/index.json")
    fi
    [[ "$desc" != null ]] || { log "no manifest named '${ref}' in $layout"; return 1; }
    media=$(jq -r '.mediaType' <<<"$desc"); digest=$(jq -r '.digest' <<<"$desc")
    if [[ "$media" == *index* || "$media" == *manifest.list* ]]; then
        digest=$(jq -r '[.manifests[] | select(.platform.os=="linux" and .platform.architecture=="amd64")][0].digest' "$(blob_path "$layout" "$digest")")
    fi
    printf '%s\n' "$digest"
}

# oci_sizes LAYOUT [REF] -> JSON {layers, compressed_bytes, config_digest}
oci_sizes() {
    local layout="$1" manifest
    manifest=$(blob_path "$layout" "$(oci_manifest_digest "$layout" "${2:-}")")
    jq -c '{layers: (.layers | length), compressed_bytes: ([.layers[].size] | add // 0), config_digest: .config.digest}' "$manifest"
}

# oci_layer_blobs LAYOUT [REF] -> one "media_type path" line per layer, bottom first
oci_layer_blobs() {
    local layout="$1" manifest d m
    manifest=$(blob_path "$layout" "$(oci_manifest_digest "$layout" "${2:-}")")
    jq -r '.layers[] | "\(.mediaType) \(.digest)"' "$manifest" | while read -r m d; do
        printf '%s %s\n' "$m" "$(blob_path "$layout" "$d")"
    done
}

# decompress_stream MEDIA_TYPE FILE -> uncompressed tar on stdout
decompress_stream() {
    case "$1" in
        *zstd*) zstd -dcq -- "$2" ;;
        *gzip*) gzip -dc -- "$2" ;;
        *) cat -- "$2" ;;
    esac
}

# oci_uncompressed_bytes LAYOUT [REF] -> total bytes of the uncompressed layer tars
oci_uncompressed_bytes() {
    local total=0 m p n
    while read -r m p; do
        n=$(decompress_stream "$m" "$p" | wc -c)
        total=$((total + n))
    done < <(oci_layer_blobs "$@")
    printf '%s\n' "$total"
}

# tree_bytes DIR -> total apparent bytes of the regular files under DIR (hardlinks once)
tree_bytes() { du -sb --apparent-size -- "$1" | cut -f1; }

# unpack_oci LAYOUT REF DEST -> umoci bundle at DEST (rootfs at DEST/rootfs)
unpack_oci() {
    local layout="$1" ref="$2" dest="$3"
    if [[ -z "$ref" ]]; then
        ref=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // empty' "$layout/index.json")
    fi
    umoci unpack --image "$layout${ref:+:$ref}" "$dest" >/dev/null
}

# Mounts made by chroot_prepare, undone by chroot_release (call it from an EXIT trap).
CHROOT_MOUNTS=()

# chroot_prepare ROOT -> mounts /proc and a small tmpfs /dev (null, zero, urandom…)
# inside ROOT; never bind-mounts the host's /dev, so nothing in the chroot can
# reach host devices.
chroot_prepare() {
    local root="$1" n
    [[ -L "$root/proc" || -L "$root/dev" ]] && die "$root: /proc or /dev is a symlink; refusing to mount over it"
    mkdir -p "$root/proc" "$root/dev"
    if ! mountpoint -q "$root/proc"; then
        mount -t proc proc "$root/proc" && CHROOT_MOUNTS+=("$root/proc")
    fi
    if ! mountpoint -q "$root/dev"; then
        mount -t tmpfs -o mode=755,size=1m tmpfs "$root/dev" && CHROOT_MOUNTS+=("$root/dev")
        for n in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
            IFS=: read -r name major minor <<<"$n"
            mknod -m 666 "$root/dev/$name" c "$major" "$minor"
        done
        ln -s /proc/self/fd "$root/dev/fd"
    fi
}

chroot_release() {
    local i
    for ((i = ${#CHROOT_MOUNTS[@]} - 1; i >= 0; i--)); do
        umount "${CHROOT_MOUNTS[i]}" 2>/dev/null || umount -l "${CHROOT_MOUNTS[i]}" 2>/dev/null || true
    done
    CHROOT_MOUNTS=()
}

# save_tarball DIR FILE: numeric owners, xattrs, written beside FILE then renamed.
save_tarball() {
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$1" -cf - . | zstd -q -T2 -3 -o "$2.tmp" -f
    mv -f "$2.tmp" "$2"
}
load_tarball() {
    zstd -dcq "$1" | tar --numeric-owner --xattrs --xattrs-include='*' -xpf - -C "$2"
}

# human BYTES -> "123.4 MiB"
human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }
