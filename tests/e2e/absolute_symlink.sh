#!/usr/bin/env bash
# absolute_symlink: absolute symlinks resolve inside the image root, never the host's —
# a library reached through one (alternatives-style) is kept, and the binary runs.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 gcc readelf
scratch

root="$SCRATCH/root"
make_elf_root "$root"
# Move the real library away and point the soname at it with an absolute symlink chain.
mkdir -p "$root/opt/greet" "$root/etc/alternatives"
mv "$root/usr/lib/greet/libgreet.so.1" "$root/opt/greet/libgreet.so.1.0"
ln -s /opt/greet/libgreet.so.1.0 "$root/etc/alternatives/libgreet"
ln -s /etc/alternatives/libgreet "$root/usr/lib/greet/libgreet.so.1"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$root"

slim slim "$(in_layout in)" "$(in_layout out)" --entrypoint /usr/bin/hello
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout out)" "$SCRATCH/u"
r="$SCRATCH/u/rootfs"
[[ "$(readlink "$r/usr/lib/greet/libgreet.so.1")" == /etc/alternatives/libgreet ]] ||
    fail "absolute symlink usr/lib/greet/libgreet.so.1 rewritten or dropped"
[[ "$(readlink "$r/etc/alternatives/libgreet")" == /opt/greet/libgreet.so.1.0 ]] ||
    fail "absolute symlink etc/alternatives/libgreet rewritten or dropped"
[[ -f "$r/opt/greet/libgreet.so.1.0" ]] || fail "library reached through absolute symlinks was dropped"
out=$(run_in_root "$r" /usr/bin/hello e2e) || fail "hello does not run in the slimmed root"
[[ "$out" == "hello, e2e (1)" ]] || fail "hello printed '$out'"
pass "absolute symlinks resolved inside the root"
