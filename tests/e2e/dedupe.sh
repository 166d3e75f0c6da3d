#!/usr/bin/env bash
# dedupe: a toolkit + wheel image with the same libraries twice stores them once and
# both consumers still load them with the real loader in a chroot. Layer 1: the
# toolkit copy in usr/local/cuda/lib64 (libcompute needs libcomputehelp through
# RUNPATH $ORIGIN), a program using it, the same pair again in usr/share/compat/lib
# with its own program, and a data file twice (the hardlink cases).
# Layer 2: the identical wheel copy under dist-packages/nvidia/x/lib with its own
# program, and an identical copy of the toolkit program (never symlinked).
# docs/dedupe.md says why each case is safe.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 gcc
scratch

l1="$SCRATCH/l1" l2="$SCRATCH/l2" src="$SCRATCH/src"
cuda=usr/local/cuda/lib64 wheel=usr/lib/python3/dist-packages/nvidia/x/lib
make_elf_root "$l1"
compat=usr/share/compat/lib
mkdir -p "$src" "$l1/$cuda" "$l1/$compat" "$l1/usr/share/data" "$l2/$wheel" "$l2/usr/bin" "$l2/opt/tk/bin"
cat >"$src/help.c" <<'C'
int helper(void) { return 40; }
C
cat >"$src/compute.c" <<'C'
int helper(void);
static int calls;
int compute(void) { return helper() + 2 + calls++; }
C
cat >"$src/app.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
int compute(void);
int main(void) {
    Dl_info info;
    dladdr((void *)compute, &info);
    printf("%s %d %s\n", APP, compute(), info.dli_fname);
    return 0;
}
C
cat >"$src/both.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
    void *a = dlopen(argv[1], RTLD_NOW), *b = dlopen(argv[2], RTLD_NOW);
    if (!a || !b) return 1;
    printf("%s\n", a == b ? "one object" : "two objects");
    return 0;
}
C
gcc -O1 -shared -fPIC -Wl,-soname,libcomputehelp.so.1 -o "$l1/$cuda/libcomputehelp.so.1" "$src/help.c"
gcc -O1 -shared -fPIC -Wl,-soname,libcompute.so.1 -o "$l1/$cuda/libcompute.so.1" "$src/compute.c" \
    -L"$l1/$cuda" -l:libcomputehelp.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN'
cp -p "$l1/$cuda/libcompute.so.1" "$l1/$cuda/libcomputehelp.so.1" "$l2/$wheel/"
cp -p "$l1/$cuda/libcompute.so.1" "$l1/$cuda/libcomputehelp.so.1" "$l1/$compat/"
gcc -O1 -o "$l1/usr/bin/both" "$src/both.c" -ldl
gcc -O1 -DAPP='"compat"' -o "$l1/usr/bin/compat-app" "$src/app.c" -L"$l1/$compat" -l:libcompute.so.1 \
    -Wl,--enable-new-dtags,-rpath,/$compat,-rpath-link,"$l1/$compat"
gcc -O1 -DAPP='"toolkit"' -o "$l1/usr/bin/tk-app" "$src/app.c" -L"$l1/$cuda" -l:libcompute.so.1 \
    -Wl,--enable-new-dtags,-rpath,/$cuda,-rpath-link,"$l1/$cuda"
gcc -O1 -DAPP='"wheel"' -o "$l2/usr/bin/wheel-app" "$src/app.c" -L"$l2/$wheel" -l:libcompute.so.1 \
    -Wl,--enable-new-dtags,-rpath,/$wheel,-rpath-link,"$l2/$wheel"
cp -p "$l1/usr/bin/tk-app" "$l2/opt/tk/bin/tk-app"
head -c 8192 /dev/zero | tr '\0' 'x' >"$l1/usr/share/data/a.bin"
cp -p "$l1/usr/share/data/a.bin" "$l1/usr/share/data/b.bin"
make_layout_from_dirs "$SCRATCH/in" img "$l1" "$l2"

slim slim "$(in_layout in)" "$(in_layout out)" --report "$SCRATCH/report.json"
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
check_report_invariant "$SCRATCH/report.json"
[[ $(jq '.deduped.files' "$SCRATCH/report.json") == 5 ]] ||
    fail "report: deduped $(jq -c .deduped "$SCRATCH/report.json"), want 5 files (2 wheel and 2 compat libraries, b.bin)"
unpack_image "$(in_layout out)" "$SCRATCH/u"
r="$SCRATCH/u/rootfs"

# Across layers: the wheel's libraries are relative symlinks to the toolkit's.
for lib in libcompute.so.1 libcomputehelp.so.1; do
    [[ -L "$r/$wheel/$lib" ]] || fail "$wheel/$lib is not a symlink: $(ls -l "$r/$wheel/$lib")"
    target=$(readlink "$r/$wheel/$lib")
    [[ "$target" == "../../../../../../local/cuda/lib64/$lib" ]] || fail "$wheel/$lib -> $target"
    [[ -f "$r/$cuda/$lib" && ! -L "$r/$cuda/$lib" ]] || fail "the toolkit copy $cuda/$lib is not a regular file"
done
# Within a layer: a hardlink (one inode, two names).
for lib in libcompute.so.1 libcomputehelp.so.1; do
    [[ $(stat -c %i "$r/$cuda/$lib") == $(stat -c %i "$r/$compat/$lib") ]] ||
        fail "$compat/$lib is not a hardlink of $cuda/$lib"
done
[[ $(stat -c %i "$r/usr/share/data/a.bin") == $(stat -c %i "$r/usr/share/data/b.bin") ]] ||
    fail "usr/share/data/b.bin is not a hardlink of a.bin"
cmp -s "$r/usr/share/data/b.bin" "$l1/usr/share/data/b.bin" || fail "b.bin content changed"
# Executables never become symlinks.
[[ -f "$r/opt/tk/bin/tk-app" && ! -L "$r/opt/tk/bin/tk-app" ]] || fail "opt/tk/bin/tk-app is not a regular file"

# Both consumers load through their own paths: the loader keeps the path it opened.
out_tk=$(run_in_root "$r" /usr/bin/tk-app) || fail "tk-app failed in the slimmed root: $out_tk"
out_wheel=$(run_in_root "$r" /usr/bin/wheel-app) || fail "wheel-app failed in the slimmed root: $out_wheel"
out_copy=$(run_in_root "$r" /opt/tk/bin/tk-app) || fail "opt/tk/bin/tk-app failed: $out_copy"
out_compat=$(run_in_root "$r" /usr/bin/compat-app) || fail "compat-app failed in the slimmed root: $out_compat"
[[ "$out_compat" == "compat 42 /$compat/libcompute.so.1" ]] || fail "compat-app printed: $out_compat"
# One inode reached by two paths (hardlink or symlink) is one loaded object in glibc;
# before dedupe the two copies were two objects.
for other in "$compat" "$wheel"; do
    one=$(run_in_root "$r" /usr/bin/both "/$cuda/libcompute.so.1" "/$other/libcompute.so.1") || fail "both failed"
    [[ "$one" == "one object" ]] || fail "dlopen of /$cuda and /$other copies: $one"
done
[[ "$out_tk" == "toolkit 42 /$cuda/libcompute.so.1" ]] || fail "tk-app printed: $out_tk"
[[ "$out_wheel" == "wheel 42 /$wheel/libcompute.so.1" ]] || fail "wheel-app printed: $out_wheel"
[[ "$out_copy" == "toolkit 42 /$cuda/libcompute.so.1" ]] || fail "opt/tk/bin/tk-app printed: $out_copy"

# `why` names the copy a link points to.
why=$("$SLIMAGE" why "$(in_layout in)" "/$wheel/libcompute.so.1" 2>&1) || fail "why exited non-zero: $why"
grep -qF "written as symlink -> ../../../../../../local/cuda/lib64/libcompute.so.1 (the copy $cuda/libcompute.so.1)" <<<"$why" ||
    fail "why does not name the copy: $why"
grep -qF 'safe: a shared library' <<<"$why" || fail "why does not say why it is safe: $why"

# --layers squash: one layer, the same links.
slim slim "$(in_layout in)" "$(in_layout squash)" --layers squash
[[ $RC == 0 ]] || fail "slim --layers squash exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout squash)" "$SCRATCH/s"
q="$SCRATCH/s/rootfs"
[[ "$(readlink "$q/$wheel/libcompute.so.1")" == "../../../../../../local/cuda/lib64/libcompute.so.1" ]] ||
    fail "--layers squash: $wheel/libcompute.so.1 is not the symlink"
[[ $(stat -c %i "$q/$cuda/libcompute.so.1") == $(stat -c %i "$q/$compat/libcompute.so.1") ]] ||
    fail "--layers squash: $compat/libcompute.so.1 is not a hardlink"
out_wheel=$(run_in_root "$q" /usr/bin/wheel-app) || fail "--layers squash: wheel-app failed: $out_wheel"
[[ "$out_wheel" == "wheel 42 /$wheel/libcompute.so.1" ]] || fail "--layers squash: wheel-app printed: $out_wheel"

# --no-dedupe keeps two regular files everywhere.
slim slim "$(in_layout in)" "$(in_layout plain)" --no-dedupe --report "$SCRATCH/plain.json"
[[ $RC == 0 ]] || fail "slim --no-dedupe exited $RC: $(cat "$SCRATCH/stderr")"
check_report_invariant "$SCRATCH/plain.json"
unpack_image "$(in_layout plain)" "$SCRATCH/p"
p="$SCRATCH/p/rootfs"
[[ -z "$(find "$p/$wheel" -type l)" ]] || fail "--no-dedupe: symlinks in $wheel: $(find "$p/$wheel" -type l)"
[[ $(stat -c %h "$p/usr/share/data/b.bin") == 1 ]] || fail "--no-dedupe: b.bin is hardlinked"
[[ $(jq '.deduped.files' "$SCRATCH/plain.json") == 0 ]] || fail "--no-dedupe: report says deduped"
out_wheel=$(run_in_root "$p" /usr/bin/wheel-app) || fail "--no-dedupe: wheel-app failed: $out_wheel"
[[ "$out_wheel" == "wheel 42 /$wheel/libcompute.so.1" ]] || fail "--no-dedupe: wheel-app printed: $out_wheel"
two=$(run_in_root "$p" /usr/bin/both "/$cuda/libcompute.so.1" "/$wheel/libcompute.so.1") || fail "both failed"
[[ "$two" == "two objects" ]] || fail "--no-dedupe: dlopen of both copies: $two"
pass "identical libraries stored once (symlink across layers, hardlink within), both programs load"
