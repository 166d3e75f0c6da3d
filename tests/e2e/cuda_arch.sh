#!/usr/bin/env bash
# cuda_arch: --cuda-arch sm_80 prunes the fat binaries of an nvcc-built library
# and executable (cubins for sm_75, sm_80, sm_90 plus compute_90 PTX, and a
# library built with -Xfatbin -compress-all) to the sm_80 cubins: an
# independent lister (fatbin/fatbin_list.py) and cuobjdump (if present) see
# exactly those, readelf parses the files, their lengths are unchanged, the
# host program still loads and runs, the report counts GPU bytes, slimming the
# output again changes nothing, and a bad --cuda-arch is a usage error. A library with
# sm_90 and sm_90a cubins side by side keeps both with --cuda-arch sm_90.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc readelf
NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
[[ -x $NVCC ]] || skip "needs nvcc ($NVCC)"
scratch
LIST="python3 $E2E_DIR/fatbin/fatbin_list.py"

# A usage error, before anything is read (the source does not even exist).
slim slim "oci:$SCRATCH/nowhere:img" "$(in_layout never)" --cuda-arch sm_8x
[[ $RC == 2 ]] || fail "--cuda-arch sm_8x exited $RC, want 2"
grep -q "sm_XY (sm_90)" "$SCRATCH/stderr" || fail "usage error does not list the forms: $(cat "$SCRATCH/stderr")"

root="$SCRATCH/root" src="$SCRATCH/src"
make_elf_root "$root"
mkdir -p "$src" "$root/usr/lib/cuda"
for l in libstdc++.so.6 libgcc_s.so.1 libm.so.6; do cp -L "/lib/x86_64-linux-gnu/$l" "$root/lib/x86_64-linux-gnu/"; done
cat >"$src/k.cu" <<'CU'
__global__ void add(float* a, float b) { a[threadIdx.x] += b; }
extern "C" int run_add() {
  float* d;
  if (cudaMalloc(&d, 64) != cudaSuccess) return 1;
  add<<<1, 16>>>(d, 1.0f);
  return cudaDeviceSynchronize() != cudaSuccess;
}
CU
cat >"$src/app.cu" <<'CU'
#include <cstdio>
extern "C" int run_add();
__global__ void twice(float* a) { a[threadIdx.x] *= 2; }
int main() {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  std::printf("loaded; devices %d (%s); run %d\n", e == cudaSuccess ? n : 0, cudaGetErrorName(e),
              e == cudaSuccess && n ? run_add() : -1);
  return 0;
}
CU
GENCODE=(-gencode arch=compute_75,code=sm_75 -gencode arch=compute_80,code=sm_80
         -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90)
$NVCC -shared -Xcompiler -fPIC "${GENCODE[@]}" -o "$root/usr/lib/cuda/libk.so" "$src/k.cu"
$NVCC -shared -Xcompiler -fPIC -Xfatbin -compress-all "${GENCODE[@]}" -o "$root/usr/lib/cuda/libkz.so" "$src/k.cu"
$NVCC "${GENCODE[@]}" -o "$root/usr/bin/app" "$src/app.cu" -L"$root/usr/lib/cuda" -lk \
    -Xlinker --enable-new-dtags,-rpath,/usr/lib/cuda
files=(usr/bin/app usr/lib/cuda/libk.so usr/lib/cuda/libkz.so)

ENTRYPOINT=/usr/bin/app make_layout_from_dirs "$SCRATCH/in" img "$root"
# inspect lists GPU code by target; why says what happens to each kind.
"$SLIMAGE" inspect -q --json "$(in_layout in)" >"$SCRATCH/inspect.json"
jq -e '.gpu_code.libraries == 3 and .gpu_code.by_code["sm_75 cubin"] > 0
       and .gpu_code.by_code["compute_90 ptx"] > 0' "$SCRATCH/inspect.json" >/dev/null ||
    fail "inspect gpu_code: $(jq -c .gpu_code "$SCRATCH/inspect.json")"
why=$("$SLIMAGE" why -q "$(in_layout in)" usr/lib/cuda/libk.so --profile none --cuda-arch sm_80)
grep -q '^usr/lib/cuda/libk.so: keep (gpu-pruned): GPU code pruned to sm_80' <<<"$why" || fail "why: $why"
grep -q 'removed sm_75 cubin: no listed GPU loads it' <<<"$why" || fail "why lists no removed sm_75 cubin: $why"
grep -q 'kept sm_80 cubin: sm_80 loads it' <<<"$why" || fail "why lists no kept sm_80 cubin: $why"
slim slim "$(in_layout in)" "$(in_layout out)" --profile none --keep 'usr/lib/cuda/**' \
    --cuda-arch sm_80 --report "$SCRATCH/report.json"
[[ $RC == 0 ]] || fail "slim --cuda-arch sm_80 exited $RC: $(cat "$SCRATCH/stderr")"
check_report_invariant "$SCRATCH/report.json"
unpack_image "$(in_layout out)" "$SCRATCH/u"
for f in "${files[@]}"; do
    a="$root/$f" b="$SCRATCH/u/rootfs/$f"
    [[ $(stat -c %s "$a") == $(stat -c %s "$b") ]] || fail "$f: length changed"
    readelf -SW "$b" >/dev/null || fail "$f: readelf cannot parse it"
    before=$($LIST "$a") || fail "$f: input fatbin does not parse"
    after=$($LIST "$b") || fail "$f: pruned fatbin does not parse: $after"
    grep -q ' 75 ' <<<"$before" || fail "$f: fixture has no sm_75 cubin: $before"
    want=$(grep '^[0-9]* cubin 80 ' <<<"$before" | awk '{print $1, $2, $3}')
    got=$(awk '{print $1, $2, $3}' <<<"$after")
    [[ "$got" == "$want" ]] || fail "$f: entries after pruning:
$got
want:
$want"
    # Kept payloads unchanged: the sm_80 sizes match entry for entry.
    [[ $(grep ' cubin 80 ' <<<"$before" | awk '{print $4}') == $(awk '{print $4}' <<<"$after") ]] ||
        fail "$f: kept entries changed size"
    if command -v cuobjdump >/dev/null || [[ -x /usr/local/cuda/bin/cuobjdump ]]; then
        cob=$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)
        $cob --list-elf "$b" | grep -v 'sm_80' | grep -q . && fail "$f: cuobjdump lists non-sm_80 code"
        $cob --list-elf "$b" | grep -q sm_80 || fail "$f: cuobjdump lists no sm_80 cubin"
    fi
done
# The compressed fixture really is compressed (flag 0x8000 on its cubins).
python3 - "$root/usr/lib/cuda/libkz.so" <<'PY' || fail "libkz.so: -Xfatbin -compress-all produced no compressed cubin"
import subprocess, sys, struct
d = open(sys.argv[1], "rb").read()
i = d.find(struct.pack("<I", 0xBA55ED50))
hs, = struct.unpack_from("<H", d, i + 6)
flags, = struct.unpack_from("<Q", d, i + hs + 40)
sys.exit(0 if flags & 0x8000 else 1)
PY
out=$(run_in_root "$SCRATCH/u/rootfs" /usr/bin/app) || fail "pruned app does not run: $out"
[[ "$out" == loaded* ]] || fail "pruned app printed '$out'"
jq -e '.gpu_code.libraries == 3 and .gpu_code.bytes_after < .gpu_code.bytes_before
       and (.gpu_code.by_library["usr/lib/cuda/libk.so"].by_code["sm_75 cubin"].after == 0)
       and (.gpu_code.by_library["usr/lib/cuda/libk.so"].by_code["sm_80 cubin"].after > 0)' \
    "$SCRATCH/report.json" >/dev/null || fail "report gpu_code: $(jq -c .gpu_code "$SCRATCH/report.json")"

# Strip and prune compose: stripped files are smaller, hold the same sm_80 entries, and run.
slim slim "$(in_layout in)" "$(in_layout outs)" --profile none --strip unneeded --keep 'usr/lib/cuda/**' \
    --cuda-arch sm_80
[[ $RC == 0 ]] || fail "slim --strip unneeded --cuda-arch sm_80 exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout outs)" "$SCRATCH/us"
for f in "${files[@]}"; do
    a="$SCRATCH/u/rootfs/$f" b="$SCRATCH/us/rootfs/$f"
    (( $(stat -c %s "$b") < $(stat -c %s "$a") )) || fail "$f: --strip unneeded did not shrink it"
    [[ $($LIST "$a") == $($LIST "$b") ]] || fail "$f: stripped+pruned entries differ from pruned ones"
done
out=$(run_in_root "$SCRATCH/us/rootfs" /usr/bin/app) || fail "stripped+pruned app does not run: $out"

# Slimming the slimmed image again changes no byte of these files.
slim slim "$(in_layout out)" "$(in_layout out2)" --profile none --keep 'usr/lib/cuda/**' --cuda-arch sm_80
[[ $RC == 0 ]] || fail "second slim exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout out2)" "$SCRATCH/u2"
for f in "${files[@]}"; do
    cmp -s "$SCRATCH/u/rootfs/$f" "$SCRATCH/u2/rootfs/$f" || fail "$f: pruning twice changed bytes"
done
# A container with both sm_90 and sm_90a cubins (PyTorch builds its CUTLASS 3 kernels so):
# an H100/H200's driver runs the sm_90a one (scripts/gpu-check.sh), and the sm_90 one can
# be a stub that traps, so --cuda-arch sm_90 keeps both; sm_80 code goes.
ra="$SCRATCH/root-a"
make_elf_root "$ra"
mkdir -p "$ra/usr/lib/cuda"
$NVCC -shared -Xcompiler -fPIC -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
    -gencode arch=compute_90a,code=sm_90a -o "$ra/usr/lib/cuda/libka.so" "$src/k.cu"
make_layout_from_dirs "$SCRATCH/in-a" img "$ra"
why=$("$SLIMAGE" why -q "$(in_layout in-a)" usr/lib/cuda/libka.so --profile none --cuda-arch sm_90)
grep -q 'kept sm_90a cubin: sm_90 loads it' <<<"$why" || fail "why keeps no sm_90a cubin for sm_90: $why"
slim slim "$(in_layout in-a)" "$(in_layout out-a)" --profile none --keep 'usr/lib/cuda/**' --cuda-arch sm_90
[[ $RC == 0 ]] || fail "slim --cuda-arch sm_90 exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout out-a)" "$SCRATCH/ua"
before=$($LIST "$ra/usr/lib/cuda/libka.so") after=$($LIST "$SCRATCH/ua/rootfs/usr/lib/cuda/libka.so")
want=$(grep -E '^[0-9]+ cubin 90a? ' <<<"$before" | awk '{print $1, $2, $3}')
grep -q 'cubin 90a$' <<<"$want" || fail "fixture has no sm_90a cubin: $before"
[[ $(awk '{print $1, $2, $3}' <<<"$after") == "$want" ]] || fail "libka.so after --cuda-arch sm_90:
$after
want:
$want"
pass "--cuda-arch sm_80 keeps exactly the sm_80 cubins; files load, lengths kept, idempotent; sm_90 keeps sm_90a"
