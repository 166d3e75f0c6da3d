#!/usr/bin/env bash
# low_disk_elf: in low-disk mode (`slim --scratch-budget 0`) pass 1 writes a big ELF file
# (over 256 KiB) to a scratch file of its own, takes from it what the plan reads (ELF
# header and kind, dynamic section, library-name strings) and drops it: the file is a
# hole in the layer's tar like any content no analysis reads. One strip would rewrite is
# copied into the tar instead (spilled whole). The plan is the same as a normal run's, so
# is the image: a CUDA library reached only by a string in a summarized library stays, an
# unreachable one goes, the unstripped program is stripped. plan --json predicts the
# bytes left out; the decode line and the report count both kinds.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc strip
scratch

src="$SCRATCH/src" root="$SCRATCH/root" lib="$SCRATCH/root/usr/lib/x86_64-linux-gnu"
mkdir -p "$src" "$root/usr/bin" "$lib"
# pad: read-only bytes that make each file "big" (over 256 KiB).
cat >"$src/loader.c" <<'C'
static const volatile char pad[400000] = {1};
const char *loader_target = "libcublas.so.12";  /* dlopen'ed by name: the string heuristic */
int loader(void) { return pad[7] + loader_target[0]; }
C
cat >"$src/cuda.c" <<'C'
static const volatile char pad[300000] = {2};
int CUDA_FN(void) { return pad[3]; }
C
cat >"$src/app.c" <<'C'
static const volatile char pad[300000] = {3};
int loader(void);
int main(void) { return loader() + pad[5]; }
C
gcc -O1 -shared -fPIC -Wl,-soname,libloader.so.1 -o "$lib/libloader.so.1" "$src/loader.c"
gcc -O1 -shared -fPIC -DCUDA_FN=cublas -Wl,-soname,libcublas.so.12 -o "$lib/libcublas.so.12" "$src/cuda.c"
gcc -O1 -shared -fPIC -DCUDA_FN=cufft -Wl,-soname,libcufft.so.11 -o "$lib/libcufft.so.11" "$src/cuda.c"
# Stripped as Debian ships libraries: slimage's strip finds nothing more to take.
strip --strip-unneeded -R .comment "$lib/libloader.so.1" "$lib/libcublas.so.12" "$lib/libcufft.so.11"
gcc -O1 -g -o "$root/usr/bin/app" "$src/app.c" -L"$lib" -l:libloader.so.1  # symbols: strip rewrites it
echo small >"$root/usr/bin/small"
# A dpkg package whose copyright file (read for the SBOM's licenses) is over 256 KiB:
# pass 1 spills it like any file an analysis reads.
make_dpkg_root "$root"
mkdir -p "$root/usr/share/doc/keepme"
{ printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: MIT\n'
  head -c $((300 << 10)) /dev/zero | tr '\0' 'x'; echo; } >"$root/usr/share/doc/keepme/copyright"
size() { stat -c %s "$1"; }
summarized=$(( $(size "$lib/libloader.so.1") + $(size "$lib/libcublas.so.12") + $(size "$lib/libcufft.so.11") ))
whole=$(size "$root/usr/bin/app")
((whole > 262144)) || fail "fixture: usr/bin/app is $whole bytes, not big"

ENTRYPOINT=/usr/bin/app make_layout_from_dirs "$SCRATCH/in" img "$root"
SRC="oci:$SCRATCH/in:img"
ARGS=(--compression gzip --level 1)
export SLIMAGE_TMPDIR="$SCRATCH/tmp"
mkdir "$SLIMAGE_TMPDIR"
run() { slim_to "$1" "$SRC" "${ARGS[@]}" "${@:2}"; }  # run NAME ARGS...
run normal
run low --scratch-budget 0
run low1 --scratch-budget 0 --jobs 1
field() { jq -c "$2" "$SCRATCH/$1.json"; }
n=$(jq -r .manifest_digest "$SCRATCH/normal.json") l=$(jq -r .manifest_digest "$SCRATCH/low.json") l1=$(jq -r .manifest_digest "$SCRATCH/low1.json")
[[ $n == "$l" && $n == "$l1" ]] || fail "low-disk output differs: normal $n, low-disk $l, low-disk --jobs 1 $l1"

grep -q "internal error" "$SCRATCH/low.err" && fail "low-disk run: $(grep "internal error" "$SCRATCH/low.err")"

# The plan both wrote: the string-reached CUDA library kept (no action: kept as is), the
# other dropped, app stripped.
fate() { jq -r --arg p "$2" '.actions[] | select(.path == $p) | .fate + " " + .kind' "$SCRATCH/$1.json"; }
for run in normal low; do
    [[ $(fate $run usr/lib/x86_64-linux-gnu/libcublas.so.12) == "" ]] ||
        fail "$run: libcublas.so.12 (reached by a string in libloader.so.1): $(fate $run usr/lib/x86_64-linux-gnu/libcublas.so.12)"
    [[ $(fate $run usr/lib/x86_64-linux-gnu/libcufft.so.11) == "drop unreachable-cuda" ]] ||
        fail "$run: libcufft.so.11: $(fate $run usr/lib/x86_64-linux-gnu/libcufft.so.11)"
    [[ $(fate $run usr/bin/app) == "strip stripped" ]] || fail "$run: usr/bin/app: $(fate $run usr/bin/app)"
done

# Pass 1's counts: three summarized, app spilled whole, nothing else left out (of each
# summarized file, the whole 4 KiB blocks: its partial ones are spilled).
left_out=$(whole_blocks "$SCRATCH/in" usr/lib/x86_64-linux-gnu/{libloader.so.1,libcublas.so.12,libcufft.so.11})
((left_out > summarized - 3 * 8192 && left_out < summarized)) || fail "whole_blocks: $left_out of $summarized"
want="{\"bytes\":$summarized,\"files\":3}/{\"bytes\":$whole,\"files\":1}/$left_out"
got="$(field low .scratch.elf_summarized)/$(field low .scratch.elf_spilled_whole)/$(field low .scratch.unspilled_bytes)"
[[ $got == "$want" ]] || fail "report: summarized/spilled whole/unspilled: $got, want $want"
grep -q "low-disk mode (--scratch-budget 0): $(human $left_out) not spilled, big ELF files summarized 3 ($(human $summarized)), spilled whole 1 ($(human $whole))$" "$SCRATCH/low.err" ||
    fail "decode line: $(grep decode "$SCRATCH/low.err")"
[[ $(field normal '.scratch | has("elf_summarized")') == false ]] || fail "normal run reports elf_summarized"
pn=$(jq .scratch.peak_bytes "$SCRATCH/normal.json") pl=$(jq .scratch.peak_bytes "$SCRATCH/low.json")
((pl < pn)) || fail "low-disk scratch peak $pl is not below the normal run's $pn"
only_names_in "$SLIMAGE_TMPDIR"

# plan --json predicts what pass 1 leaves out (the same summarizer on the decoded bytes).
"$SLIMAGE" plan "$SRC" --json -q >"$SCRATCH/plan.json" 2>"$SCRATCH/stderr" || fail "plan failed: $(cat "$SCRATCH/stderr")"
[[ $(jq .scratch.low_disk.unspilled_bytes "$SCRATCH/plan.json") == "$left_out" ]] ||
    fail "plan --json unspilled_bytes: $(jq -c .scratch.low_disk "$SCRATCH/plan.json"), want $left_out"

# With --cuda-arch the GPU pass reads every ELF file's fat binaries: no big ELF file is
# summarized, nor goes through a scratch file of its own; all are spilled as they come.
run arch --scratch-budget 0 --cuda-arch sm_90
[[ $(field arch .scratch.elf_summarized.files)/$(field arch .scratch.elf_spilled_whole.files) == 0/0 ]] ||
    fail "--cuda-arch: summarized $(field arch .scratch.elf_summarized), spilled whole $(field arch .scratch.elf_spilled_whole)"
pass "same manifest $n (--jobs default and 1): 3 big ELF files summarized ($summarized bytes), 1 spilled whole; peak $pl < $pn"
