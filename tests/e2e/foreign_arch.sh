#!/usr/bin/env bash
# foreign_arch: an arm64 and an armhf image (scripts/make-arch-image.sh: Debian bookworm,
# python3, numpy on OpenBLAS through Debian's alternatives, a C app with a DT_NEEDED library
# and one it dlopens by soname, both found only through that arch's ld.so.cache) slimmed with
# the default and the runtime profile on this amd64 host. Without binfmt_misc, each root
# runs the app and numpy under qemu-user: qemu-aarch64-static (qemu-arm-static) is copied
# into the unpacked root and run by chroot (`qemu -L ROOT` would not do: the kernel resolves the absolute symlinks of
# /etc/alternatives against the host's /, not ROOT). Checked, exactly:
#   - both roots: archapp prints its two lines; numpy multiplies, inverts, and has
#     OpenBLAS's libblas.so.3 and liblapack.so.3 mapped (the alternatives' choice);
#   - the PT_INTERP chain (lib -> usr/lib, ld-linux-aarch64.so.1 -> …) and the
#     alternatives' symlinks are kept hop by hop, their targets byte-identical;
#   - apt's .debs and numpy's tests dirs are dropped: their bytes in the input equal the
#     report's bytes for them; slim, plan --json, inspect --json and verify say linux/arm64/v8
#     (linux/arm/v7); the runtime profile drops the reference BLAS/LAPACK the alternatives
#     did not choose, with their exact sizes, and keeps OpenBLAS, ld.so and the plugin;
#   - the SPDX SBOM lists every dpkg package of the input with its version and arch.
# FOREIGN_ARCHES="arm64" runs one of them.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 debootstrap zstd dpkg-deb update-alternatives \
    readelf
scratch

arch_vars() {  # arch -> triplet qemu cross-compiler PT_INTERP uname-m archapp-word platform
    case "$1" in
        arm64) echo aarch64-linux-gnu qemu-aarch64-static aarch64-linux-gnu-gcc /lib/ld-linux-aarch64.so.1 aarch64 aarch64 linux/arm64/v8 ;;
        armhf) echo arm-linux-gnueabihf qemu-arm-static arm-linux-gnueabihf-gcc /lib/ld-linux-armhf.so.3 armv7l arm linux/arm/v7 ;;
    esac
}
# SLIMAGE_E2E_QUICK (the sanitizer runs): arm64 only; the plain run does both.
default_arches="arm64 armhf"
[[ -n "${SLIMAGE_E2E_QUICK:-}" ]] && default_arches=arm64
arches=(${FOREIGN_ARCHES:-$default_arches})
for arch in "${arches[@]}"; do
    [[ $arch == arm64 || $arch == armhf ]] || fail "FOREIGN_ARCHES: unknown arch $arch"
    read -r triplet qemu cc _ <<<"$(arch_vars "$arch")"
    need "$qemu" "$cc"
done

foreign_arch() {
local arch="$1" triplet qemu cc want_interp machine word platform
read -r triplet qemu cc want_interp machine word platform <<<"$(arch_vars "$arch")"
SCRATCH="$TOP/$arch"; mkdir -p "$SCRATCH"
local image="$(slimage_cache_dir)/arch-$arch"
"$REPO_ROOT/scripts/make-arch-image.sh" --arch "$arch" "$image" >&2 ||
    skip "could not build the $arch image (no network and no cache?)"
local src="oci:$image:$arch"

slim slim "$src" "$(in_layout out)" --report "$SCRATCH/report.json" --sbom "$SCRATCH/sbom.spdx.json"
[[ $RC == 0 ]] || fail "$arch: slim exited $RC: $(cat "$SCRATCH/stderr")"
r="$SCRATCH/report.json"
check_report_invariant "$r"
[[ "$(jq -r .platform "$r")" == "$platform" ]] || fail "$arch: report platform $(jq -r .platform "$r"), want $platform"

unpack_image "$src" "$SCRATCH/in"
unpack_image "$(in_layout out)" "$SCRATCH/out"
in="$SCRATCH/in/rootfs" out="$SCRATCH/out/rootfs"

# smoke ROOT: the app and numpy, under qemu-user in a chroot of ROOT.
smoke() {
    local root="$1" got
    cp "$(command -v "$qemu")" "$root/.qemu"
    got=$(run_in_root "$root" /.qemu /usr/local/bin/archapp 2>&1) ||
        fail "$arch: $root: archapp failed: $got"
    [[ "$got" == "greet: hello from $word"$'\n'"plugin: 42" ]] || fail "$arch: $root: archapp printed [$got]"
    got=$(run_in_root "$root" /.qemu /usr/bin/python3 -B -c '
import numpy as np, platform
a = np.arange(9.0).reshape(3, 3) + 3 * np.eye(3)
b = a @ np.linalg.inv(a)
assert np.allclose(b, np.eye(3)), b
rows = a.tolist()                           # the same product in plain Python
want = [[sum(rows[i][k] * rows[k][j] for k in range(3)) for j in range(3)] for i in range(3)]
assert (a @ a).tolist() == want == [[24.0, 24.0, 33.0], [60.0, 87.0, 96.0], [105.0, 132.0, 168.0]], (a @ a).tolist()
maps = open("/proc/self/maps").read()
libs = sorted({l.split()[-1] for l in maps.splitlines() if "/libblas.so" in l or "/liblapack.so" in l})
print(platform.machine(), " ".join(libs))' 2>&1) || fail "$arch: $root: numpy failed: $got"
    rm -f "$root/.qemu"
    [[ "$got" == "$machine /usr/lib/$triplet/openblas-pthread/libblas.so.3 /usr/lib/$triplet/openblas-pthread/liblapack.so.3" ]] ||
        fail "$arch: $root: numpy under qemu printed [$got]"
}
smoke "$in"
smoke "$out"
pass "$arch: archapp (NEEDED + dlopen via ld.so.cache) and numpy on OpenBLAS run under $qemu in the input and the slimmed root"

# chain ROOT PATH -> every hop from PATH to the file ("path -> target" per symlink, then
# "path sha256"), each symlink resolved inside ROOT.
chain() {
    python3 - "$1" "$2" <<'PY'
import hashlib, os, sys
root, path = sys.argv[1], sys.argv[2].lstrip("/")
for _ in range(40):
    # resolve the directories on the way (lib -> usr/lib) inside root, then the name
    parts, cur = path.split("/"), ""
    for i, p in enumerate(parts):
        nxt = f"{cur}/{p}" if cur else p
        full = os.path.join(root, nxt)
        if os.path.islink(full):
            t = os.readlink(full)
            print(f"{nxt} -> {t}")
            t = t.lstrip("/") if t.startswith("/") else os.path.normpath(os.path.join(cur, t))
            path = "/".join([t] + parts[i + 1:])
            break
        cur = nxt
    else:
        print(path, hashlib.sha256(open(os.path.join(root, path), "rb").read()).hexdigest())
        sys.exit(0)
sys.exit("symlink loop")
PY
}
interp=$(readelf -lW "$in/usr/bin/python3.11" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[[ "$interp" == "$want_interp" ]] || fail "$arch: python3's PT_INTERP is [$interp]"
for p in "$interp" usr/lib/$triplet/libblas.so.3 usr/lib/$triplet/liblapack.so.3; do
    want=$(chain "$in" "$p") || fail "$arch: $p: no chain in the input"
    got=$(chain "$out" "$p" 2>&1) || fail "$arch: $p: chain broken in the slimmed root: $got (input: $want)"
    [[ "$got" == "$want" ]] || fail "$arch: $p: chain [$got], want [$want]"
done
blas=$(chain "$in" usr/lib/$triplet/libblas.so.3)
[[ "$(sed -n 2p <<<"$blas")" == "etc/alternatives/libblas.so.3-$triplet -> /usr/lib/$triplet/openblas-pthread/libblas.so.3" ]] ||
    fail "$arch: the input's libblas.so.3 alternative is not OpenBLAS: $blas"
pass "$arch: PT_INTERP $interp and the libblas/liblapack alternatives kept hop by hop"

# Dropped: apt's .debs (cache) and numpy's tests dirs, with the input's exact bytes.
debs=$(cd "$in" && find var/cache/apt/archives -name '*.deb' -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
ndebs=$(find "$in/var/cache/apt/archives" -name '*.deb' -type f | wc -l)
((ndebs > 100)) || fail "$arch: only $ndebs .debs in the input's apt cache"
got=$(jq '[.actions[] | select(.fate == "drop" and (.path | test("^var/cache/apt/archives/[^/]+\\.deb$"))) | .bytes] | [length, add]' -c "$r")
[[ "$got" == "[$ndebs,$debs]" ]] || fail "$arch: report drops [count,bytes] $got of the apt .debs, want [$ndebs,$debs]"
[[ -z "$(find "$out/var/cache/apt/archives" -name '*.deb' 2>/dev/null)" ]] || fail "$arch: .debs kept in the slimmed root"
tests=$(cd "$in" && find usr/lib/python3/dist-packages/numpy -path '*/tests/*' -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
got=$(jq '[.actions[] | select(.fate == "drop" and (.path | test("^usr/lib/python3/dist-packages/numpy/(.*/)?tests/.")) and .kind != "dir") | .bytes] | add' "$r")
[[ "$got" == "$tests" ]] || fail "$arch: report drops $got bytes of numpy tests dirs, want $tests"
[[ ! -e "$out/usr/lib/python3/dist-packages/numpy/core/tests" ]] || fail "$arch: numpy/core/tests kept"
pass "$arch: dropped $ndebs apt .debs ($debs bytes) and numpy's tests ($tests bytes), as the report says"

# The runtime profile drops unreachable libraries: the reference BLAS and LAPACK the
# alternatives did not choose go, with their exact sizes; OpenBLAS, the loader and the
# plugin archapp dlopens by soname stay, and both programs still run.
slim slim "$src" "$(in_layout runtime)" --profile runtime --report "$SCRATCH/runtime.json"
[[ $RC == 0 ]] || fail "$arch: slim --profile runtime exited $RC: $(cat "$SCRATCH/stderr")"
check_report_invariant "$SCRATCH/runtime.json"
want=""
for p in usr/lib/$triplet/blas/libblas.so.3 usr/lib/$triplet/lapack/liblapack.so.3; do
    want+="$p dangling-symlink 0"$'\n'"$p.11.0 unreachable-library $(stat -c %s "$in/$p.11.0")"$'\n'
done
got=$(jq -r '.actions[] | select(.fate == "drop" and (.path | test("/(blas|lapack|openblas-pthread)/lib"))) | "\(.path) \(.kind) \(.bytes)"' "$SCRATCH/runtime.json" | sort)
[[ "$got" == "${want%$'\n'}" ]] || fail "$arch: runtime drops [$got] of the BLAS/LAPACK libraries, want [${want%$'\n'}]"
unpack_image "$(in_layout runtime)" "$SCRATCH/rt"
for p in usr/local/lib/libarchplugin.so.1 usr/lib/$triplet/openblas-pthread/libopenblas.so.0; do
    [[ -f "$SCRATCH/rt/rootfs/$p" ]] || fail "$arch: runtime: $p dropped"
done
for p in "$interp" usr/lib/$triplet/libblas.so.3 usr/lib/$triplet/liblapack.so.3; do
    got=$(chain "$SCRATCH/rt/rootfs" "$p" 2>&1 | sed 's/ [0-9a-f]\{64\}$//') || fail "$arch: runtime: $p: chain broken: $got"
    [[ "$got" == "$(chain "$in" "$p" | sed 's/ [0-9a-f]\{64\}$//')" ]] || fail "$arch: runtime: $p: chain [$got]"
done
smoke "$SCRATCH/rt/rootfs"
pass "$arch: runtime profile: reference BLAS/LAPACK dropped ($(jq -r '.after.bytes' "$SCRATCH/runtime.json") bytes left), OpenBLAS, ld.so and the dlopen plugin kept, both programs run"

# The other commands on the input name the platform and agree.
set +e
"$SLIMAGE" verify "$src" --json >"$SCRATCH/verify.json" 2>"$SCRATCH/verify.err"; rc=$?
set -e
[[ $rc == 0 ]] || fail "$arch: verify exited $rc: $(cat "$SCRATCH/verify.err")"
"$SLIMAGE" plan "$src" --json >"$SCRATCH/plan.json" 2>/dev/null || fail "$arch: plan --json failed"
[[ "$(jq -r .platform "$SCRATCH/plan.json")" == "$platform" ]] || fail "$arch: plan --json platform $(jq -r .platform "$SCRATCH/plan.json")"
"$SLIMAGE" inspect "$src" --json >"$SCRATCH/inspect.json" 2>/dev/null || fail "$arch: inspect --json failed"
[[ "$(jq -r '.platform // .images[0].platform' "$SCRATCH/inspect.json")" == "$platform" ]] ||
    fail "$arch: inspect --json platform $(jq -c '.platform // .images[0].platform' "$SCRATCH/inspect.json")"
"$SLIMAGE" why "$src" usr/lib/$triplet/openblas-pthread/libblas.so.3 >"$SCRATCH/why.txt" 2>&1 ||
    fail "$arch: why failed: $(cat "$SCRATCH/why.txt")"
grep -q '_multiarray_umath' "$SCRATCH/why.txt" || fail "$arch: why does not reach OpenBLAS from numpy: $(cat "$SCRATCH/why.txt")"
"$SLIMAGE" why "$src" usr/local/lib/libgreet.so.1.0 >"$SCRATCH/why-greet.txt" 2>&1 || fail "$arch: why libgreet failed"
grep -q 'ld.so.cache' "$SCRATCH/why-greet.txt" || fail "$arch: why does not say libgreet came from ld.so.cache: $(cat "$SCRATCH/why-greet.txt")"
pass "$arch: verify, plan --json, inspect --json say $platform; why reaches OpenBLAS and libgreet"

# The SBOM lists every dpkg package of the input, version and arch.
want=$(python3 - "$in/var/lib/dpkg/status" <<'PY'
import re, sys
for r in open(sys.argv[1]).read().split("\n\n"):
    f = dict(re.findall(r"^([A-Za-z-]+): (.*)$", r, re.M))
    if "install ok installed" in f.get("Status", ""):
        print(f"pkg:deb/debian/{f['Package']}@{f['Version']}?arch={f['Architecture']}&distro=debian-12")
PY
)
want=$(sort <<<"$want")
got=$(jq -r '.packages[].externalRefs[]? | select(.referenceType == "purl") | .referenceLocator | select(startswith("pkg:deb/"))' "$SCRATCH/sbom.spdx.json" |
      python3 -c 'import sys, urllib.parse; [print(urllib.parse.unquote(l.strip())) for l in sys.stdin]' | sort)
[[ "$got" == "$want" ]] || fail "$arch: SBOM deb purls differ from the input's dpkg status: $(diff <(echo "$want") <(echo "$got") | head -5)"
grep -q "?arch=$arch&" <<<"$got" || fail "$arch: no arch=$arch purl"
pass "$arch: SBOM: $(wc -l <<<"$got") dpkg packages, versions and arch as installed"
}

# Each arch works in $TOP/ARCH (in_layout and unpack_image write under $SCRATCH);
# the cleanup removes all of $TOP.
TOP=$SCRATCH
trap 'SCRATCH=$TOP; _scratch_cleanup' EXIT
for arch in "${arches[@]}"; do foreign_arch "$arch"; done
