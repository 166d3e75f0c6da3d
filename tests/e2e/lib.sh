# tests/e2e/lib.sh — helpers for the one-behaviour e2e scripts (source it first).
#
#   need TOOL...                 skip (exit 77) when a tool is missing
#   need_slimage                 skip unless $SLIMAGE names an executable
#   scratch                      $SCRATCH: a fresh dir, removed (mounts released) on exit
#   make_layout_from_dirs OUT REF LAYER...   OCI layout from dirs / .tar / .json specs
#                                (COMPRESSION=gzip|zstd|none, PLATFORM=os/arch, ENTRYPOINT=,
#                                CONFIG_JSON='{"User": …}' merged into the config's "config")
#   unpack_image SRC DIR         any transport -> umoci bundle at DIR (rootfs at DIR/rootfs)
#   tree_manifest DIR            sorted listing of every entry's metadata + content hash
#   input_digest DIR             one sha256 over DIR's sorted listing (type, mode, size, mtime)
#                                and every file's bytes: compare before/after to see DIR unchanged
#   run_in_root ROOT CMD...      chroot with /proc mounted ($ORIGIN needs /proc/self/exe), clean env
#   make_elf_root DIR            a tiny runnable root: /usr/bin/hello -> libgreet.so.1 -> libc
#   fail MSG / pass MSG          result lines; fail exits 1
#   check_report_invariant FILE  before.bytes == after + removed + stripped + deduped + package_db
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip.
set -euo pipefail

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$E2E_DIR/../.." && pwd)
HOSTILE_PY="$REPO_ROOT/fixtures/hostile/make-hostile.py"
TEST_NAME=$(basename "$0" .sh)
# shellcheck source=../../scripts/lib-image.sh
source "$REPO_ROOT/scripts/lib-image.sh"

skip() { echo "SKIP $TEST_NAME: $*" >&2; exit 77; }
fail() { echo "FAIL $TEST_NAME: $*" >&2; exit 1; }
pass() { echo "ok   $TEST_NAME: $*" >&2; }

need() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null 2>&1 || skip "needs $tool"
    done
}

need_slimage() {
    [[ -n "${SLIMAGE:-}" ]] || skip "SLIMAGE is not set"
    [[ -x "$SLIMAGE" ]] || skip "SLIMAGE=$SLIMAGE is not executable"
}

need_root() { [[ $(id -u) == 0 ]] || skip "needs root (umoci unpack, chroot)"; }

scratch() {
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/slimage-e2e-$TEST_NAME.XXXXXX")
    trap '_scratch_cleanup' EXIT
    trap 'exit 130' INT TERM
}
_scratch_cleanup() {
    local rc=$? m
    chroot_release
    # Never rm -rf through a mount: unmount anything still mounted below SCRATCH first.
    for m in $(awk -v d="$SCRATCH/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
    if awk -v d="$SCRATCH/" 'index($5, d) == 1 {found = 1} END {exit !found}' /proc/self/mountinfo; then
        echo "$SCRATCH: mounts remain below it; not removing it" >&2
        return $rc
    fi
    [[ -n "${KEEP_SCRATCH:-}" ]] && echo "kept $SCRATCH" >&2 || rm -rf -- "$SCRATCH"
    return $rc
}

# start_fixture_server SCRIPT ARGS...: runs a fixture server (python3 SCRIPT ARGS...
# PORT_FILE) in the background, logging to $SCRATCH/server.log, waits for its port
# and stops it when the test exits (keeping the test's status). Sets $SERVER_PORT.
start_fixture_server() {
    python3 "$@" "$SCRATCH/port" 2>"$SCRATCH/server.log" &
    SERVER=$!
    trap '_stop_fixture_server' EXIT
    for _ in $(seq 1 100); do [[ -s "$SCRATCH/port" ]] && break; sleep 0.1; done
    [[ -s "$SCRATCH/port" ]] || fail "fixture server $1 did not start: $(cat "$SCRATCH/server.log")"
    SERVER_PORT=$(cat "$SCRATCH/port")
}
_stop_fixture_server() {
    local rc=$?
    set +e  # the cleanup must run to the end, and keep the test's status
    kill "$SERVER" 2>/dev/null
    wait "$SERVER" 2>/dev/null
    (exit $rc)
    _scratch_cleanup
}

# make_dpkg_root DIR: a tiny Debian root: os-release, one dpkg package (keepme,
# one file) and a /junk/file no package owns.
make_dpkg_root() {
    mkdir -p "$1/etc" "$1/var/lib/dpkg/info" "$1/usr/share/keepme" "$1/junk"
    printf 'ID=debian\nVERSION_ID="12"\n' >"$1/etc/os-release"
    printf 'Package: keepme\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n\n' >"$1/var/lib/dpkg/status"
    echo /usr/share/keepme/data >"$1/var/lib/dpkg/info/keepme.list"
    echo kept >"$1/usr/share/keepme/data"
    echo junk >"$1/junk/file"
}

# slim ARGS... : runs $SLIMAGE, keeping stderr in $SCRATCH/stderr and the exit code in $RC
slim() {
    set +e
    "$SLIMAGE" "$@" 2>"$SCRATCH/stderr"
    RC=$?
    set -e
    return 0
}

# slim_to NAME SRC ARGS...: slims SRC into oci:$SCRATCH/NAME:img with --report
# $SCRATCH/NAME.json (stdout in NAME.out, stderr kept as NAME.err); fails unless it exits 0.
slim_to() {
    local name=$1 src=$2
    shift 2
    slim slim "$src" "oci:$SCRATCH/$name:img" --report "$SCRATCH/$name.json" "$@" >"$SCRATCH/$name.out"
    [[ $RC == 0 ]] || fail "$name: slim exited $RC: $(tail -3 "$SCRATCH/stderr")"
    cp "$SCRATCH/stderr" "$SCRATCH/$name.err"
}

# small_sample: sets $SAMPLE to the --small sample layout (ref `sample`), with CUDA
# when the host has /usr/local/cuda; builds it once (cached), skips if it cannot.
small_sample() {
    local kind=cuda flag=()
    [[ -d /usr/local/cuda/lib64 ]] || { kind=nocuda; flag=(--no-cuda); }
    SAMPLE="${SLIMAGE_SAMPLE:-$(slimage_cache_dir)/sample-small-$kind}"
    "$REPO_ROOT/scripts/make-sample-image.sh" --small "${flag[@]}" "$SAMPLE" >&2 ||
        skip "could not build the sample image (no network and no cache?)"
}

make_layout_from_dirs() {
    local args=(layout --compression "${COMPRESSION:-gzip}" --platform "${PLATFORM:-linux/amd64}")
    [[ -n "${ENTRYPOINT:-}" ]] && args+=(--entrypoint "$ENTRYPOINT")
    [[ -n "${CONFIG_JSON:-}" ]] && args+=(--config-json "$CONFIG_JSON")
    python3 "$HOSTILE_PY" "${args[@]}" "$@"
}

# unpack_image SRC DIR — SRC is oci:DIR[:REF], oci-archive:…, docker-archive:… or a bare layout dir.
unpack_image() {
    local src="$1" dest="$2" layout ref
    case "$src" in
        oci:*) src=${src#oci:} ;;
        oci-archive:*|docker-archive:*|docker://*)
            layout=$(mktemp -d "$SCRATCH/unpack-src.XXXXXX")
            skopeo copy -q "$src" "oci:$layout:image" >/dev/null || return 1
            src="$layout:image" ;;
    esac
    if [[ -d "$src" ]]; then
        layout=$src ref=""
    else
        layout=${src%:*} ref=${src##*:}
    fi
    if find "$layout/blobs" -type f -size -1024k -print0 | xargs -0 -r grep -l 'tar+zstd' | grep . >/dev/null; then
        # umoci 0.4 reads gzip and plain tar only: unpack a decompressed copy.
        local plain
        plain=$(mktemp -d "$SCRATCH/unpack-plain.XXXXXX")
        rmdir "$plain"
        python3 "$HOSTILE_PY" decompress "$layout" "$plain"
        layout=$plain
    fi
    unpack_oci "$layout" "$ref" "$dest"
}

# tree_manifest DIR — one line per entry, sorted by path:
#   path type mode uid gid size sha256|- link-target|- hardlink-group|- xattrs [mtime]
# (set TREE_MTIME=1 to include mtimes). Names print with Python's repr-ish escaping.
tree_manifest() {
    python3 - "$1" <<'PY'
import hashlib, os, stat, sys
root = os.fsencode(sys.argv[1])
with_mtime = os.environ.get("TREE_MTIME") == "1"
inodes = {}
rows = []
def esc(b):
    return b.decode("utf-8", "backslashreplace").encode("unicode_escape").decode()
for dirpath, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(dirs + files):
        full = os.path.join(dirpath, name)
        rel = os.path.relpath(full, root)
        st = os.lstat(full)
        kind = {stat.S_IFREG: "f", stat.S_IFDIR: "d", stat.S_IFLNK: "l", stat.S_IFCHR: "c",
                stat.S_IFBLK: "b", stat.S_IFIFO: "p", stat.S_IFSOCK: "s"}[stat.S_IFMT(st.st_mode)]
        digest = target = group = "-"
        size = st.st_size if kind == "f" else 0
        if kind == "f":
            h = hashlib.sha256()
            with open(full, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            digest = h.hexdigest()[:16]
            if st.st_nlink > 1:
                group = esc(inodes.setdefault((st.st_dev, st.st_ino), rel))
        elif kind == "l":
            target = esc(os.readlink(full))
        elif kind in "cb":
            size = f"{os.major(st.st_rdev)},{os.minor(st.st_rdev)}"
        try:
            names = sorted(os.listxattr(full, follow_symlinks=False))
        except OSError:
            names = []
        xattrs = ",".join(f"{n}={os.getxattr(full, n, follow_symlinks=False).hex()}" for n in names) or "-"
        row = [esc(rel), kind, oct(stat.S_IMODE(st.st_mode)), str(st.st_uid), str(st.st_gid),
               str(size), digest, target, group, xattrs]
        if with_mtime:
            row.append(str(int(st.st_mtime)))
        rows.append(" ".join(row))
for r in sorted(rows):
    print(r)
PY
}

input_digest() {
    (cd "$1" && { find . -printf '%p %y %m %s %T@ %l\n' | LC_ALL=C sort
                  find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; }) |
        sha256sum | cut -d' ' -f1
}

# layer_listing LAYOUT [REF] — `tar -tv`-style names of every layer, "== layer N" between.
layer_listing() {
    local i=0 m p
    while read -r m p; do
        echo "== layer $i"
        decompress_stream "$m" "$p" | tar -t
        i=$((i + 1))
    done < <(oci_layer_blobs "$@")
}

# make_elf_root DIR — a runnable root with debug info to strip:
#   /usr/bin/hello (NEEDED libgreet.so.1, RUNPATH $ORIGIN/../lib/greet), libgreet, host libc + ld.so
make_elf_root() {
    local root="$1" src="$SCRATCH/elf-src" libdir
    need gcc
    mkdir -p "$src" "$root/usr/bin" "$root/usr/lib/greet" "$root/lib64" "$root/lib/x86_64-linux-gnu"
    cat >"$src/greet.c" <<'C'
#include <stdio.h>
static int calls;
int greet(const char *who) { calls++; return printf("hello, %s (%d)\n", who, calls) < 0; }
C
    cat >"$src/hello.c" <<'C'
int greet(const char *who);
int main(int argc, char **argv) { return greet(argc > 1 ? argv[1] : "world"); }
C
    gcc -g -O1 -shared -fPIC -Wl,-soname,libgreet.so.1 -o "$root/usr/lib/greet/libgreet.so.1" "$src/greet.c"
    ln -s libgreet.so.1 "$root/usr/lib/greet/libgreet.so"
    gcc -g -O1 -o "$root/usr/bin/hello" "$src/hello.c" -L"$root/usr/lib/greet" -lgreet \
        -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib/greet'
    # The host's libc and loader (same Debian release as the sample image).
    cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
    cp -L /lib/x86_64-linux-gnu/libc.so.6 "$root/lib/x86_64-linux-gnu/"
}

# human BYTES — as slimage's messages write sizes ("1.5 MiB", "512 B")
human() { python3 -c 'import sys
v, u = float(sys.argv[1]), 0
while v >= 1024 and u < 4: v, u = v / 1024, u + 1
print(sys.argv[1] + " B" if u == 0 else "%.1f %s" % (v, ["B", "KiB", "MiB", "GiB", "TiB"][u]))' "$1"; }

# whole_blocks LAYOUT_DIR PATH... -> the bytes in whole 4 KiB blocks of those files'
# content in the decoded layer tars of the layout's first manifest: what low-disk mode
# leaves out of scratch for each file it does not spill (its partial blocks are written).
whole_blocks() { python3 - "$@" <<'PY'
import json, sys, tarfile
layout, want = sys.argv[1], {p.lstrip("/") for p in sys.argv[2:]}
blob = lambda d: open(f"{layout}/blobs/{d.replace(':', '/')}", "rb")
manifest = json.load(blob(json.load(open(f"{layout}/index.json"))["manifests"][0]["digest"]))
total = 0
for layer in manifest["layers"]:
    with blob(layer["digest"]) as f, tarfile.open(fileobj=f, mode="r|*") as tar:
        for m in tar:
            name = m.name[2:] if m.name.startswith("./") else m.name
            if m.isreg() and name in want:
                total += max(0, (m.offset_data + m.size) // 4096 * 4096 - (m.offset_data + 4095) // 4096 * 4096)
print(total)
PY
}

# in_layout NAME -> oci:$SCRATCH/NAME:img ; the usual SRC/DST spelling in these tests
in_layout() { printf 'oci:%s/%s:img\n' "$SCRATCH" "$1"; }

# manifest_digest LAYOUT_DIR -> digest of the (only) top-level manifest or index
top_digest() { jq -r '.manifests[0].digest' "$1/index.json"; }

# no_temp_files DIR: DIR holds nothing but the names given after it
only_names_in() {
    local dir="$1"; shift
    local have want
    have=$(ls -A -- "$dir" | sort | tr '\n' ' ')
    want=""
    (($#)) && want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
    [[ "$have" == "$want" ]] || fail "$dir holds [$have], want [$want] (half-written output or temp files left?)"
}

# Mounts and unmounts itself: it is often called in $(…), a subshell whose mounts the
# EXIT trap would never see.
run_in_root() {
    local root="$1" rc=0; shift
    chroot_prepare "$root"
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
        chroot "$root" "$@" || rc=$?
    chroot_release
    return $rc
}

check_report_invariant() {
    jq -e '.before.bytes == .after.bytes + ([.removed[]?.bytes] | add // 0) + (.stripped.bytes_saved // 0) + (.deduped.bytes_saved // 0) + (.package_db.bytes_saved // 0)' \
        "$1" >/dev/null || fail "$1: before.bytes != after.bytes + removed + stripped + deduped: $(jq -c '{before: .before.bytes, after: .after.bytes, removed: ([.removed[]?.bytes] | add), stripped: .stripped.bytes_saved, deduped: .deduped.bytes_saved, package_db: .package_db.bytes_saved}' "$1")"
}
