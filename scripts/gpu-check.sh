#!/usr/bin/env bash
# gpu-check.sh — proof on a real NVIDIA GPU that --cuda-arch keeps the code the GPU runs.
# Not a test (CI has no GPU): run it by hand where nvidia-smi, nvcc and, for part 2, a
# python3 with a CUDA PyTorch are installed. Needs tar and python3; no umoci, no network.
#
# usage: scripts/gpu-check.sh SLIMAGE OUTDIR [ARCH]
#   ARCH: the GPU's sm_XY (default: read from nvidia-smi's compute capability).
#
# Part 1, synthetic: nvcc builds a library with one kernel as sm_80, sm_90, sm_90a cubins
# and compute_90 PTX (once plain, once -Xfatbin -compress-all) and a program that reports
# which variant ran (__CUDA_ARCH__, 9001 for the sm_90a cubin). Each --cuda-arch choice is
# slimmed through a one-layer OCI image and run: the driver's pick before, and what runs
# (or the CUDA error) after. A choice that leaves this GPU nothing to run must fail with
# cudaErrorNoKernelImageForDevice: the negative control.
# Part 2, real libraries: torch/ and nvidia/ of the installed PyTorch as one layer,
# slimmed with --profile none (GPU_CHECK_ARGS) --cuda-arch ARCH, unpacked, and imported from there: every
# check in fixtures/gpu/torch_checks.py (cuBLAS/cuBLASLt, cuDNN, cuFFT, cuSOLVER,
# cuSPARSE, NCCL, attention, ATen kernels) must pass and give bit-identical results in
# the original and the pruned tree, and the pruned libraries must be the ones mapped.
# GPU_CHECK_PARTS="1" or "2" runs one part; GPU_CHECK_ARGS replaces part 2's
# "--profile none" (e.g. "--profile pytorch": that profile's drops must not break torch);
# GPU_CHECK_FRAMEWORK=jax runs part 2 on JAX's jax/, jaxlib/, jax_plugins/, its CUDA
# plugin and nvidia/ with fixtures/gpu/jax_checks.py (cuBLAS, cuDNN, cuFFT, cuSOLVER,
# cuSPARSE and XLA's own kernels). Prints one line per result; OUTDIR gets the
# logs and reports. Exit 1 if a check fails.
set -uo pipefail
(($# >= 2)) || { echo "usage: $0 SLIMAGE OUTDIR [ARCH]" >&2; exit 2; }
SLIMAGE=$(readlink -f "$1") OUT=$(mkdir -p "$2" && cd "$2" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd) repo=$(dirname "$here")
NVCC=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
PY=${PYTHON:-python3}
W=$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")
trap 'rm -rf -- "$W"' EXIT
failed=0
say() { printf '%s\n' "$*" | tee -a "$OUT/summary.txt"; }
bad() { say "FAIL $*"; failed=1; }

ARCH=${3:-}
if [[ -z $ARCH ]]; then
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1)
    ARCH=sm_${cc/./}
fi
say "gpu: $(nvidia-smi --query-gpu=name,compute_cap,driver_version --format=csv,noheader | head -1); arch $ARCH"
say "nvcc: $($NVCC --version | tail -1)"

# layout LAYOUT DIR [TAR-ARGS...]: DIR's tree (or the members TAR-ARGS name) as the one
# uncompressed layer of an OCI layout (ref img), written by the tests' layout tool.
layout() {
    local out=$1 dir=$2; shift 2
    (($#)) || set -- .
    tar -C "$dir" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$W/layer.tar" "$@" &&
        "$PY" "$repo/fixtures/hostile/make-hostile.py" layout --compression none "$out" img "$W/layer.tar"
    local rc=$?
    rm -f "$W/layer.tar"
    return $rc
}

# unpack LAYOUT DIR: extracts the (uncompressed) layers of LAYOUT:img into DIR.
unpack() {
    mkdir -p "$2"
    local l
    for l in $("$PY" - "$1" <<'PY'
import json, sys
o = sys.argv[1]
idx = json.load(open(o + "/index.json"))
m = json.load(open(o + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
for l in m["layers"]:
    assert l["mediaType"].endswith(".tar"), l["mediaType"]
    print(o + "/blobs/sha256/" + l["digest"][7:])
PY
    ); do tar -C "$2" -xf "$l" || return 1; done
}

# slim NAME SRCLAYOUT ARGS...: slims into $W/NAME, report in $OUT/NAME.json, log in $OUT/NAME.log.
slim() {
    local name=$1 src=$2; shift 2
    local t0=$SECONDS
    "$SLIMAGE" slim "oci:$src:img" "oci:$W/$name:img" --compression none --scratch "$W" \
        --report "$OUT/$name.json" "$@" >"$OUT/$name.log" 2>&1 ||
        { bad "$name: slimage exited $?: $(tail -3 "$OUT/$name.log")"; return 1; }
    say "$name: slimmed in $((SECONDS - t0)) s"
}

# ---- part 1: synthetic, the driver's choice -------------------------------------------
entries() {  # entries ROOT: the GPU code cuobjdump lists in ROOT's two libraries
    local l
    for l in plain compressed; do
        printf '%s [%s] ' "$l" "$("$(command -v cuobjdump || echo "${NVCC%/nvcc}/cuobjdump")" -lelf -lptx "$1/usr/lib/cuda/lib$l.so" 2>&1 |
            grep -o 'sm_[0-9a-z]*\.\(cubin\|ptx\)\|compute_[0-9a-z]*\.ptx' | paste -sd' ')"
    done
}
part1() {
    local src=$W/p1src root=$W/p1root
    mkdir -p "$src" "$root/usr/lib/cuda" "$root/usr/bin"
    cat >"$src/k.cu" <<'CU'
#include <cuda_runtime.h>
__global__ void mark(int* o) {
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)
  *o = 9001;
#elif defined(__CUDA_ARCH__)
  *o = __CUDA_ARCH__;
#endif
}
extern "C" int NAME(int* value) {  // 0 and *value, or the CUDA error
  int* d = nullptr;
  cudaError_t e = cudaMalloc(&d, sizeof(int));
  if (e == cudaSuccess) { mark<<<1, 1>>>(d); e = cudaGetLastError(); }
  if (e == cudaSuccess) e = cudaMemcpy(value, d, sizeof(int), cudaMemcpyDeviceToHost);
  cudaFree(d);
  return e;
}
CU
    cat >"$src/app.cu" <<'CU'
#include <cstdio>
#include <cuda_runtime.h>
extern "C" int run_plain(int*);
extern "C" int run_compressed(int*);
int main() {
  int v = 0, e = run_plain(&v);
  std::printf("plain %s", e ? cudaGetErrorName(cudaError_t(e)) : "");
  if (!e) std::printf("%d", v);
  v = 0, e = run_compressed(&v);
  std::printf(" compressed %s", e ? cudaGetErrorName(cudaError_t(e)) : "");
  if (!e) std::printf("%d", v);
  std::printf("\n");
}
CU
    local gencode=(-gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90
                   -gencode arch=compute_90a,code=sm_90a -gencode arch=compute_90,code=compute_90)
    "$NVCC" -shared -Xcompiler -fPIC "${gencode[@]}" -DNAME=run_plain -o "$root/usr/lib/cuda/libplain.so" "$src/k.cu" &&
    "$NVCC" -shared -Xcompiler -fPIC -Xfatbin -compress-all "${gencode[@]}" -DNAME=run_compressed \
        -o "$root/usr/lib/cuda/libcompressed.so" "$src/k.cu" &&
    "$NVCC" -o "$root/usr/bin/app" "$src/app.cu" -L"$root/usr/lib/cuda" -lplain -lcompressed \
        -Xlinker -rpath,'$ORIGIN/../lib/cuda' || { bad "part 1: nvcc failed"; return; }
    layout "$W/p1" "$root" || { bad "part 1: layout"; return; }
    local orig i=0 args
    orig=$("$root/usr/bin/app" 2>&1)
    say "part 1 original: $orig; $(entries "$root")"
    while IFS='|' read -r want args; do
        i=$((i + 1))
        [[ $want == = ]] && want=$orig
        slim "p1-$i" "$W/p1" --profile none $args || continue
        rm -rf "$W/u"; unpack "$W/p1-$i" "$W/u" || { bad "p1-$i: unpack"; continue; }
        got=$("$W/u/usr/bin/app" 2>&1)
        if [[ $got == "$want" ]]; then say "ok   part 1 $args: $got; $(entries "$W/u")"
        else bad "part 1 $args: got '$got', want '$want'; $(entries "$W/u")"; fi
        rm -rf "$W/p1-$i"
    done <<EOF
=|--cuda-arch sm_90a
=|--cuda-arch sm_90
=|--cuda-arch sm_90 --cuda-ptx none
plain 900 compressed 900|--cuda-arch sm_100
plain cudaErrorNoKernelImageForDevice compressed cudaErrorNoKernelImageForDevice|--cuda-arch sm_80 --cuda-ptx none
EOF
}

# ---- part 2: the installed framework's own CUDA libraries -------------------------------
part2() {
    local fw=${GPU_CHECK_FRAMEWORK:-torch} sp d dirs=()
    sp=$("$PY" -c "import os, $fw; print(os.path.dirname(os.path.dirname($fw.__file__)))" 2>/dev/null) ||
        { say "part 2 skipped: $PY has no $fw"; return; }
    case $fw in
        torch) for d in torch nvidia; do [[ -d $sp/$d ]] && dirs+=("$d"); done ;;
        jax) for d in jax jaxlib jax_plugins "$sp"/jax_cuda*_plugin nvidia; do
                 d=${d#"$sp"/}; [[ -d $sp/$d ]] && dirs+=("$d")
             done ;;
        *) bad "part 2: GPU_CHECK_FRAMEWORK=$fw: expected torch or jax"; return ;;
    esac
    say "part 2: $sp/{${dirs[*]}}: $(du -sh "${dirs[@]/#/$sp/}" | awk '{print $1}' | paste -sd' ')"
    local t0=$SECONDS
    layout "$W/p2" "$sp" --exclude=__pycache__ --transform='s,^,sp/,' "${dirs[@]}" || { bad "part 2: layout"; return; }
    say "part 2: layer written in $((SECONDS - t0)) s"
    # shellcheck disable=SC2086  # GPU_CHECK_ARGS is a list of words
    "$SLIMAGE" plan -q --json "oci:$W/p2:img" ${GPU_CHECK_ARGS:---profile none} --cuda-arch "$ARCH" \
        >"$OUT/p2plan.json" 2>"$OUT/p2plan.err" || bad "part 2: plan exited $?: $(tail -3 "$OUT/p2plan.err")"
    # shellcheck disable=SC2086
    slim p2out "$W/p2" ${GPU_CHECK_ARGS:---profile none} --cuda-arch "$ARCH" -j "$(nproc)" || return
    "$PY" - "$OUT/p2out.json" <<'PY' | tee -a "$OUT/summary.txt"
import json, sys
r = json.load(open(sys.argv[1]))
g = r.get("gpu_code", {})
print(f"part 2 GPU code: {g.get('bytes_before', 0)/2**20:.0f} MiB -> {g.get('bytes_after', 0)/2**20:.0f} MiB "
      f"in {g.get('libraries')} libraries")
PY
    rm -rf "$W/p2"; unpack "$W/p2out" "$W/pruned" || { bad "part 2: unpack"; return; }
    rm -rf "$W/p2out"
    say "part 2 sizes: original $(du -shc "${dirs[@]/#/$sp/}" | tail -1 | cut -f1), pruned $(du -sh "$W/pruned/sp" | cut -f1)"
    local checks=$repo/fixtures/gpu/${fw}_checks.py
    (cd "$W" && timeout 300 "$PY" "$checks" "$sp" >"$OUT/orig.txt" 2>"$OUT/orig.err")
    (cd "$W" && PYTHONPATH="$W/pruned/sp" timeout 300 "$PY" "$checks" "$W/pruned/sp" >"$OUT/pruned.txt" 2>"$OUT/pruned.err")
    local passed=0
    while IFS= read -r line; do
        name=${line%%: *}
        [[ $line == *": ok "* ]] && passed=$((passed + 1))
        other=$(grep -F -m1 -- "$name: " "$OUT/pruned.txt" || echo "$name: missing")
        if [[ $line == *": ok "* && $other == "$line" ]]; then say "ok   part 2 $line"
        elif [[ $line == *": ok "* && $other == *": ok "* && ${other##*~} == "${line##*~}" ]]; then
            say "ok   part 2 $name: same sum, other bits: ${line#*: ok } / ${other#*: ok }"
        elif [[ $line == *": info "* ]]; then say "info part 2 original: $line | pruned: ${other#*: }"
        elif [[ $line == "$other" ]]; then say "info part 2 fails the same in both: $line"
        else bad "part 2 original '$line', pruned '$other'"; fi
    done <"$OUT/orig.txt"
    ((passed)) || bad "part 2: no check passed in the original: $(tail -3 "$OUT/orig.err")"
}

[[ ${GPU_CHECK_PARTS:-1 2} == *1* ]] && part1
[[ ${GPU_CHECK_PARTS:-1 2} == *2* ]] && part2
say "$( ((failed)) && echo 'gpu-check: FAILED' || echo 'gpu-check: all passed')"
exit $failed
