#!/usr/bin/env bash
# profile_roundtrip: `slimage profiles show NAME` saved to a file is a profile: --profile
# FILE plans exactly what --profile NAME plans, for every built-in profile.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need python3 gcc jq
scratch

# Something for most rules to act on: an ELF closure, a cache, tests, headers, pycache.
make_elf_root "$SCRATCH/root"
mkdir -p "$SCRATCH/root/var/cache/apt/archives" "$SCRATCH/root/usr/include" \
    "$SCRATCH/root/usr/lib/python3/dist-packages/pkg/tests" "$SCRATCH/root/usr/lib/python3/dist-packages/pkg/__pycache__"
head -c 3000 /dev/zero >"$SCRATCH/root/var/cache/apt/archives/x.deb"
echo 'int x;' >"$SCRATCH/root/usr/include/x.h"
echo 'import os' >"$SCRATCH/root/usr/lib/python3/dist-packages/pkg/__init__.py"
echo 'def test(): pass' >"$SCRATCH/root/usr/lib/python3/dist-packages/pkg/tests/test_x.py"
echo 'pyc' >"$SCRATCH/root/usr/lib/python3/dist-packages/pkg/__pycache__/x.pyc"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"

names=$("$SLIMAGE" profiles --json | jq -r '.[].name')
[[ -n "$names" ]] || fail "profiles --json lists no built-in"
n=0
for name in $names; do
    "$SLIMAGE" profiles show "$name" >"$SCRATCH/$name.json" || fail "profiles show $name exited $?"
    set +e
    "$SLIMAGE" plan "$(in_layout in)" --profile "$name" --json >"$SCRATCH/$name.builtin" 2>"$SCRATCH/err-b"
    rc_b=$?
    "$SLIMAGE" plan "$(in_layout in)" --profile "$SCRATCH/$name.json" --json >"$SCRATCH/$name.file" 2>"$SCRATCH/err-f"
    rc_f=$?
    set -e
    [[ $rc_f == "$rc_b" ]] || fail "$name: plan with the saved file exited $rc_f, the built-in $rc_b: $(cat "$SCRATCH/err-f")"
    jq -e 'type == "object" and has("actions")' "$SCRATCH/$name.builtin" >/dev/null ||
        fail "$name: plan --json has no actions: $(head -c 300 "$SCRATCH/$name.builtin") $(cat "$SCRATCH/err-b")"
    a=$(jq -cS '[.actions[]] | sort_by(.path)' "$SCRATCH/$name.builtin")
    b=$(jq -cS '[.actions[]] | sort_by(.path)' "$SCRATCH/$name.file")
    [[ "$a" == "$b" ]] || fail "$name: the saved profile plans differently:
builtin: $a
file:    $b"
    [[ "$a" != "[]" ]] && n=$((n + 1))
done
(( n > 0 )) || fail "no built-in profile planned any action on the fixture"
pass "profiles show output round-trips for $(wc -w <<<"$names") built-ins ($n with actions)"
