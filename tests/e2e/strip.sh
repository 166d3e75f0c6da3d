#!/usr/bin/env bash
# strip: --strip debug and unneeded shrink ELF files but keep their program headers
# byte-for-byte (readelf -lW), drop .debug_* sections, and the binary still runs.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc readelf
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
unpack_image "$(in_layout in)" "$SCRATCH/ui"
segments() { readelf -lW "$1" | sed -n '/^Program Headers:/,/^ Section to Segment/p'; }

for mode in debug unneeded; do
    slim slim "$(in_layout in)" "$(in_layout "out-$mode")" --profile none --strip "$mode" \
        --report "$SCRATCH/$mode.json"
    [[ $RC == 0 ]] || fail "--strip $mode exited $RC: $(cat "$SCRATCH/stderr")"
    check_report_invariant "$SCRATCH/$mode.json"
    unpack_image "$(in_layout "out-$mode")" "$SCRATCH/u-$mode"
    for f in usr/bin/hello usr/lib/greet/libgreet.so.1; do
        a="$SCRATCH/ui/rootfs/$f" b="$SCRATCH/u-$mode/rootfs/$f"
        diff <(segments "$a") <(segments "$b") >/dev/null || fail "--strip $mode: $f program headers changed"
        (( $(stat -c %s "$b") < $(stat -c %s "$a") )) || fail "--strip $mode: $f not smaller"
        ! readelf -SW "$b" | grep '\.debug_' >/dev/null || fail "--strip $mode: $f keeps .debug_* sections"
        readelf -dW "$b" | grep NEEDED >/dev/null || [[ $f == *libgreet* ]] || fail "--strip $mode: $f lost its dynamic section"
    done
    if [[ $mode == unneeded ]] && readelf -SW "$SCRATCH/u-$mode/rootfs/usr/bin/hello" | grep ' \.symtab ' >/dev/null; then
        fail "--strip unneeded: .symtab kept"
    fi
    out=$(run_in_root "$SCRATCH/u-$mode/rootfs" /usr/bin/hello strip) || fail "--strip $mode: hello does not run"
    [[ "$out" == "hello, strip (1)" ]] || fail "--strip $mode: hello printed '$out'"
    jq -e '.stripped.files >= 2 and .stripped.bytes_saved > 0' "$SCRATCH/$mode.json" >/dev/null ||
        fail "--strip $mode: report says $(jq -c .stripped "$SCRATCH/$mode.json")"
done
pass "stripped ELF keeps program headers and runs"
