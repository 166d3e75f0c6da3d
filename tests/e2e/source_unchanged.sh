#!/usr/bin/env bash
# source_unchanged: slimming (strip, drops, squash, zstd) never modifies the input
# layout: every file's bytes, mode and mtime are the same afterwards.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
mkdir -p "$SCRATCH/root/root/.cache/pip"; head -c 50000 /dev/urandom >"$SCRATCH/root/root/.cache/pip/x"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
skopeo copy -q "oci:$SCRATCH/in:img" "oci-archive:$SCRATCH/in.tar:img" 2>/dev/null || true

fingerprint() {
    input_digest "$SCRATCH/in"
    [[ ! -f "$SCRATCH/in.tar" ]] || { stat -c '%a %s %Y' "$SCRATCH/in.tar"; sha256sum <"$SCRATCH/in.tar"; }
}
before=$(fingerprint)
slim slim "$(in_layout in)" "$(in_layout out1)" --strip unneeded --layers squash --compression zstd
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
if [[ -f "$SCRATCH/in.tar" ]]; then
    slim slim "oci-archive:$SCRATCH/in.tar:img" "oci-archive:$SCRATCH/out2.tar:img" --strip debug
    [[ $RC == 0 ]] || fail "slim of oci-archive exited $RC: $(cat "$SCRATCH/stderr")"
fi
after=$(fingerprint)
diff <(echo "$before") <(echo "$after") || fail "input changed by slimming"
pass "input byte-for-byte unchanged"
