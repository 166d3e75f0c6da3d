#!/usr/bin/env bash
# low_disk_fatbin: in low-disk mode pass 1 copies a big ELF file for its summarizer
# without its CUDA fat binaries (containers found by their header as the stream goes by),
# wherever they lie: .nv_fatbin, .rodata, .data. What the dlopen scan reads around a
# library name stays in the copy even inside a container, so a name there still keeps its
# library. A file the summarizer declines (strip rewrites it) is re-decoded whole before
# the plan, as its copy lacks bytes. The image is the very same as a normal run's; the
# report and the decode and refetch lines count each kind.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc strip
scratch

src="$SCRATCH/src" root="$SCRATCH/root" lib="$SCRATCH/root/usr/lib/x86_64-linux-gnu"
mkdir -p "$src" "$root/usr/bin" "$lib"
# container FILE SIZE [STRING]: a fat binary container (u32 magic 0xBA55ED50, u16 version
# 1, u16 header size 16, u64 fat size) of SIZE bytes of GPU-code-like noise, with STRING
# (NUL-terminated) in the middle.
container() {
    python3 - "$@" <<'PY'
import random, struct, sys
path, size = sys.argv[1], int(sys.argv[2])
payload = bytearray(random.Random(size).randbytes(size))
if len(sys.argv) > 3:
    s = b"\0" + sys.argv[3].encode() + b"\0"
    payload[size // 2:size // 2 + len(s)] = s
open(path, "wb").write(struct.pack("<IHHQ", 0xBA55ED50, 1, 16, size) + payload)
PY
}
container "$src/gpu.bin" $((3 << 20))
container "$src/ro.bin" $((2 << 20)) libcurand.so.10
container "$src/data.bin" $((1 << 20))
# lib SONAME SECTION BLOB C: a shared library with BLOB's bytes in SECTION (.incbin).
lib() {
    local soname=$1 section=$2 blob=$3 flags=$4
    printf '__asm__(".section %s,\\"%s\\"\\n.balign 8\\n.incbin \\"%s\\"\\n.previous");\n%s\n' \
        "$section" "$([[ $section == .data ]] && echo aw || echo a)" "$blob" "$5" >"$src/$soname.c"
    gcc -O1 -shared -fPIC $flags -Wl,-soname,"$soname" -o "$lib/$soname" "$src/$soname.c"
}
# libgpu: its fat binary in .nv_fatbin; a dlopen'ed name in .rodata.
lib libgpu.so.1 .nv_fatbin "$src/gpu.bin" "" 'const char *t = "libcublas.so.12"; int gpu(void) { return t[0]; }'
# libro: its container in .rodata, a dlopen'ed name inside it (the scan reads .rodata).
lib libro.so.1 .rodata "$src/ro.bin" "" 'int ro(void) { return 1; }'
# libdata: its container in .data; symbols and debug info left in: strip rewrites it.
lib libdata.so.1 .data "$src/data.bin" "-g" 'int data(void) { return 2; }'
strip --strip-unneeded -R .comment "$lib/libgpu.so.1" "$lib/libro.so.1"
cat >"$src/cuda.c" <<'C'
static const volatile char pad[300000] = {2};
int CUDA_FN(void) { return pad[3]; }
C
for l in cublas.so.12 curand.so.10 cufft.so.11; do
    gcc -O1 -shared -fPIC -DCUDA_FN="f_${l%%.*}" -Wl,-soname,"lib$l" -o "$lib/lib$l" "$src/cuda.c"
    strip --strip-unneeded -R .comment "$lib/lib$l"
done
cat >"$src/app.c" <<'C'
int gpu(void); int ro(void); int data(void);
int main(void) { return gpu() + ro() + data(); }
C
gcc -O1 -s -o "$root/usr/bin/app" "$src/app.c" -L"$lib" -l:libgpu.so.1 -l:libro.so.1 -l:libdata.so.1
ENTRYPOINT=/usr/bin/app make_layout_from_dirs "$SCRATCH/in" img "$root"
export SLIMAGE_TMPDIR="$SCRATCH/tmp"
mkdir "$SLIMAGE_TMPDIR"
# The same image normally and in low-disk mode.
for run in normal low; do
    slim_to $run "oci:$SCRATCH/in:img" --compression gzip --level 1 $([[ $run == low ]] && echo --scratch-budget 0)
done
field() { jq -c "$2" "$SCRATCH/$1.json"; }
n=$(jq -r .manifest_digest "$SCRATCH/normal.json") l=$(jq -r .manifest_digest "$SCRATCH/low.json")
[[ $n == "$l" ]] || fail "low-disk output differs: normal $n, low-disk $l"
grep -q "internal error" "$SCRATCH/low.err" && fail "low-disk run: $(grep "internal error" "$SCRATCH/low.err")"

fate() { jq -r --arg p "usr/lib/x86_64-linux-gnu/$2" '.actions[] | select(.path == $p) | .fate + " " + .kind' "$SCRATCH/$1.json"; }
for run in normal low; do
    [[ $(fate $run libcublas.so.12) == "" ]] || fail "$run: libcublas.so.12 (a name in libgpu's .rodata): $(fate $run libcublas.so.12)"
    [[ $(fate $run libcurand.so.10) == "" ]] ||
        fail "$run: libcurand.so.10 (a name inside libro's fat binary in .rodata): $(fate $run libcurand.so.10)"
    [[ $(fate $run libcufft.so.11) == "drop unreachable-cuda" ]] || fail "$run: libcufft.so.11: $(fate $run libcufft.so.11)"
    [[ $(fate $run libdata.so.1) == "strip stripped" ]] || fail "$run: libdata.so.1: $(fate $run libdata.so.1)"
done

# Counts: libgpu and libro summarized (and the three stand-in CUDA libraries), libdata
# re-decoded whole; nothing spilled whole as it came.
size() { stat -c %s "$lib/$1"; }
summarized=$(( $(size libgpu.so.1) + $(size libro.so.1) + $(size libcublas.so.12) + $(size libcurand.so.10) + $(size libcufft.so.11) ))
refetched=$(size libdata.so.1)
want="{\"bytes\":$summarized,\"files\":5}/{\"bytes\":0,\"files\":0}/{\"bytes\":$refetched,\"files\":1}"
got="$(field low .scratch.elf_summarized)/$(field low .scratch.elf_spilled_whole)/$(field low .scratch.elf_refetched)"
[[ $got == "$want" ]] || fail "report: summarized/spilled whole/refetched: $got, want $want"
grep -q "big ELF files summarized 5 ($(human $summarized)), spilled whole 0 (0 B), re-decoded whole 1 ($(human $refetched))$" "$SCRATCH/low.err" ||
    fail "decode line: $(grep decode "$SCRATCH/low.err")"
grep -q "refetch .* $(human $refetched) of big ELF files re-decoded whole (declined by the summarizer, as strip rewrites them, and copied without their fat binaries)$" "$SCRATCH/low.err" ||
    fail "refetch line: $(grep -i refetch "$SCRATCH/low.err")"
pn=$(field normal .scratch.peak_bytes) pl=$(field low .scratch.peak_bytes)
((pl < pn)) || fail "low-disk scratch peak $pl is not below the normal run's $pn"
# libgpu's copy alone would be 3 MiB: its fat binary was left out of it.
((pl < $(size libgpu.so.1))) || fail "low-disk scratch peak $pl: libgpu.so.1 ($(size libgpu.so.1) bytes) copied whole?"
only_names_in "$SLIMAGE_TMPDIR"
pass "same manifest $n: 5 big ELF files summarized from copies without their fat binaries, 1 re-decoded whole; peak $pl < $pn"
