#!/usr/bin/env bash
# runtime_profile: `--profile runtime` on the small sample plus a layer holding
# the host's (bookworm) gcc/binutils toolchain drops gcc, cc1, as and ld, and
# the sample's smoke script still passes; the report shows the toolchain,
# dev-file and unreachable-library reasons. With a Triton-like package
# (dist-packages/triton/__init__.py compiles C with gcc and Python.h on import)
# the compiler stays, says why, and the import works in a chroot; with the
# profile's runtime_compilers emptied the same import fails.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 debootstrap zstd gcc dpkg
scratch

small_sample; sample=$SAMPLE

# The toolchain layer: the host's packages at their real paths (never through
# a usrmerge /lib symlink, which a layer dir would replace), plus what their
# programs load that is not glibc.
pkgs=(gcc-12 cpp-12 gcc cpp binutils binutils-x86-64-linux-gnu libbinutils libctf0 libctf-nobfd0
      libgprofng0 libisl23 libmpc3 libmpfr6 libjansson4 libgcc-12-dev libasan8 libtsan2 libubsan1
      liblsan0 libcc1-0)
for p in "${pkgs[@]}"; do dpkg -L "$p" >/dev/null 2>&1 || skip "needs the host's Debian package $p"; done
tc="$SCRATCH/toolchain"
mkdir -p "$tc"
canon() { printf '%s/%s\n' "$(realpath "$(dirname "$1")")" "$(basename "$1")"; }
{
    dpkg -L "${pkgs[@]}" | while read -r f; do
        [[ -e "$f" || -L "$f" ]] && [[ ! -d "$f" || -L "$f" ]] && canon "$f"
    done
    for exe in /usr/bin/x86_64-linux-gnu-gcc-12 /usr/lib/gcc/x86_64-linux-gnu/12/cc1 \
               /usr/bin/x86_64-linux-gnu-as /usr/bin/x86_64-linux-gnu-ld.bfd; do
        ldd "$exe" | awk '$3 ~ /^\// {print $3}' | while read -r lib; do canon "$lib"; done
    done
} | grep -Ev '/(libc|libm|libdl|libpthread|librt|libresolv|ld-linux-x86-64)\.so' | sort -u |
    sed 's|^/||' >"$SCRATCH/toolchain.list"
tar -C / --no-recursion -cf - -T "$SCRATCH/toolchain.list" | tar -C "$tc" -xf -
[[ -x "$tc/usr/bin/x86_64-linux-gnu-gcc-12" ]] || fail "toolchain layer has no gcc"

triton="$SCRATCH/triton"
mkdir -p "$triton/usr/local/lib/python3.11/dist-packages/triton"
cat >"$triton/usr/local/lib/python3.11/dist-packages/triton/__init__.py" <<'PY'
# Triton-like: compiles a C helper with the system C compiler and Python.h on import.
import ctypes, os, subprocess, sysconfig, tempfile
_d = tempfile.mkdtemp()
with open(os.path.join(_d, "k.c"), "w") as f:
    f.write("#include <Python.h>\nint k(void) { return 42; }\n")
subprocess.check_call(["gcc", "-shared", "-fPIC", "-I" + sysconfig.get_paths()["include"],
                       os.path.join(_d, "k.c"), "-o", os.path.join(_d, "k.so")])
assert ctypes.CDLL(os.path.join(_d, "k.so")).k() == 42
PY
append="$REPO_ROOT/fixtures/runtime/append-layer.py"
python3 "$append" "$sample" sample "$SCRATCH/tc-img" "$tc"
python3 "$append" "$sample" sample "$SCRATCH/triton-img" "$tc" "$triton"

# 1. runtime drops the toolchain; the smoke script passes.
slim slim "oci:$SCRATCH/tc-img:sample" "$(in_layout rt)" --profile runtime --report "$SCRATCH/rt.json"
[[ $RC == 0 ]] || fail "runtime slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
check_report_invariant "$SCRATCH/rt.json"
for reason in toolchain dev-file unreachable-library; do
    jq -e --arg r "$reason" '.removed[$r].bytes > 0' "$SCRATCH/rt.json" >/dev/null ||
        fail "report removes nothing as $reason: $(jq -c .removed "$SCRATCH/rt.json")"
done
unpack_image "$(in_layout rt)" "$SCRATCH/u-rt"
root="$SCRATCH/u-rt/rootfs"
for f in usr/bin/gcc usr/bin/gcc-12 usr/bin/x86_64-linux-gnu-gcc-12 usr/lib/gcc/x86_64-linux-gnu/12/cc1 \
         usr/bin/as usr/bin/ld usr/bin/x86_64-linux-gnu-ld.bfd usr/include/stdio.h; do
    [[ ! -e "$root/$f" && ! -L "$root/$f" ]] || fail "runtime kept $f"
done
[[ -f "$root/usr/share/doc/libc6/copyright" ]] || fail "runtime dropped a copyright file"
"$REPO_ROOT/fixtures/sample/smoke.sh" "$root" || fail "smoke test fails in the runtime-slimmed root"
before=$(jq .before.bytes "$SCRATCH/rt.json") after=$(jq .after.bytes "$SCRATCH/rt.json")

# 2. A Triton-like package keeps the C compiler, and says so.
slim slim "oci:$SCRATCH/triton-img:sample" "$(in_layout tr)" --profile runtime
[[ $RC == 0 ]] || fail "runtime slim (triton) exited $RC: $(tail -5 "$SCRATCH/stderr")"
"$SLIMAGE" why "oci:$SCRATCH/triton-img:sample" --profile runtime usr/bin/x86_64-linux-gnu-gcc-12 \
    >"$SCRATCH/why.txt" 2>/dev/null || true
grep -q 'runtime compiler triton: .*dist-packages/triton/__init__.py is kept' "$SCRATCH/why.txt" ||
    fail "why gcc does not name the triton trigger: $(cat "$SCRATCH/why.txt")"
unpack_image "$(in_layout tr)" "$SCRATCH/u-tr"
run_in_root "$SCRATCH/u-tr/rootfs" python3 -c 'import triton' ||
    fail "the Triton-like import cannot compile after a runtime slim"

# 3. Without runtime_compilers the same import fails: the check can fail.
printf '{"extends": "runtime", "runtime_compilers": []}\n' >"$SCRATCH/nocomp.json"
slim slim "oci:$SCRATCH/triton-img:sample" "$(in_layout nc)" --profile "$SCRATCH/nocomp.json"
[[ $RC == 0 ]] || fail "slim without runtime_compilers exited $RC: $(tail -5 "$SCRATCH/stderr")"
unpack_image "$(in_layout nc)" "$SCRATCH/u-nc"
! run_in_root "$SCRATCH/u-nc/rootfs" python3 -c 'import triton' 2>/dev/null ||
    fail "the Triton-like import still works without runtime_compilers (the check cannot fail)"
pass "runtime: $(human "$before") -> $(human "$after"), toolchain gone, smoke passes; triton keeps gcc"
