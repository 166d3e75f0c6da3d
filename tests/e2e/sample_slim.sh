#!/usr/bin/env bash
# sample_slim: the --small sample image (python3, numpy, CUDA if the host has it) slimmed
# with the default profile: ≥50% fewer file bytes (with CUDA), the report's bytes add up,
# the smoke script passes in a chroot of the output, and `slimage verify` is happy.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 debootstrap zstd gcc
scratch

small_sample; sample=$SAMPLE
kind=cuda; [[ -d /usr/local/cuda/lib64 ]] || kind=nocuda

slim slim "oci:$sample:sample" "$(in_layout out)" --report "$SCRATCH/report.json"
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
r="$SCRATCH/report.json"
check_report_invariant "$r"
before=$(jq .before.bytes "$r") after=$(jq .after.bytes "$r")
echo "sample_slim: $(human "$before") -> $(human "$after") ($(( 100 * after / before ))%)" >&2
if [[ $kind == cuda ]]; then
    (( after * 2 <= before )) || fail "only $(( 100 - 100 * after / before ))% smaller; want ≥50%"
else
    (( after < before )) || fail "no smaller"
fi
jq -e '.removed | length > 0' "$r" >/dev/null || fail "report lists no removal reasons"

unpack_image "$(in_layout out)" "$SCRATCH/u"
root="$SCRATCH/u/rootfs"
[[ ! -e "$root/root/.cache/pip" || -z "$(ls -A "$root/root/.cache/pip")" ]] || fail "pip cache kept"
[[ -z "$(find "$root/var/cache/apt/archives" -name '*.deb' 2>/dev/null)" ]] || fail "apt .debs kept"
if [[ $kind == cuda ]]; then
    find "$root" -name 'libcudart.so.13*' | grep . >/dev/null || fail "libcudart dropped though gpuext needs it"
    ! find "$root" -name 'libcufft.so.12*' | grep . >/dev/null || fail "unreachable libcufft kept"
fi
"$REPO_ROOT/fixtures/sample/smoke.sh" "$root" || fail "smoke test fails in the slimmed root"

set +e; "$SLIMAGE" verify "$(in_layout out)" >"$SCRATCH/verify.txt" 2>&1; rc=$?; set -e
[[ $rc == 0 ]] || fail "verify exited $rc: $(head -5 "$SCRATCH/verify.txt")"
pass "$(( 100 - 100 * after / before ))% smaller, smoke passes, verify ok"
