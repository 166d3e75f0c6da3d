#!/usr/bin/env bash
# cli_diff: `slimage diff A B` names each entry added, removed and changed
# (with what changed: content, mode, …), counts them by layer and in total, in
# text and --json; an image diffed with itself shows nothing; a slimmed image
# diffed with its source shows exactly what slim removed.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3 gcc
scratch

mkdir -p "$SCRATCH/a1/etc" "$SCRATCH/a1/usr/bin" "$SCRATCH/a2/etc" "$SCRATCH/b1/etc" "$SCRATCH/b1/usr/bin" "$SCRATCH/b2/etc"
echo one >"$SCRATCH/a1/etc/a"; echo same >"$SCRATCH/a1/etc/same"; echo x >"$SCRATCH/a1/usr/bin/x"
chmod 0755 "$SCRATCH/a1/usr/bin/x"; echo bye >"$SCRATCH/a2/etc/gone"
echo two >"$SCRATCH/b1/etc/a"; echo same >"$SCRATCH/b1/etc/same"; echo x >"$SCRATCH/b1/usr/bin/x"
chmod 0700 "$SCRATCH/b1/usr/bin/x"; echo 'new!' >"$SCRATCH/b2/etc/new"
find "$SCRATCH"/a1 "$SCRATCH"/a2 "$SCRATCH"/b1 "$SCRATCH"/b2 -exec touch -h -d @1700000000 {} +
make_layout_from_dirs "$SCRATCH/A" img "$SCRATCH/a1" "$SCRATCH/a2"
make_layout_from_dirs "$SCRATCH/B" img "$SCRATCH/b1" "$SCRATCH/b2"

slim diff "$(in_layout A)" "$(in_layout B)" -q >"$SCRATCH/diff.txt"
[[ $RC == 0 ]] || fail "diff exited $RC: $(cat "$SCRATCH/stderr")"
cat >"$SCRATCH/want.txt" <<WANT
~ /etc/a (content)
- /etc/gone (4 B)
+ /etc/new (5 B)
~ /usr/bin/x (mode)
WANT
grep '^[-+~] ' "$SCRATCH/diff.txt" | diff "$SCRATCH/want.txt" - || fail "diff lists the wrong entries: $(cat "$SCRATCH/diff.txt")"
grep -Fxq 'added:   1 entries, 5 B' "$SCRATCH/diff.txt" || fail "wrong added total: $(cat "$SCRATCH/diff.txt")"
grep -Fxq 'removed: 1 entries, 4 B' "$SCRATCH/diff.txt" || fail "wrong removed total: $(cat "$SCRATCH/diff.txt")"
grep -Fxq 'changed: 2 entries, 6 B -> 6 B' "$SCRATCH/diff.txt" || fail "wrong changed total: $(cat "$SCRATCH/diff.txt")"
grep -q '^A layer 1 sha256:[0-9a-f]*…: 1 removed (4 B), 0 changed$' "$SCRATCH/diff.txt" ||
    fail "A's second layer does not hold the removed file: $(cat "$SCRATCH/diff.txt")"
grep -q '^B layer 1 sha256:[0-9a-f]*…: 1 added (5 B), 0 changed$' "$SCRATCH/diff.txt" ||
    fail "B's second layer does not hold the added file: $(cat "$SCRATCH/diff.txt")"
pass "diff names what was added, removed and changed, by layer and in total"

slim diff "$(in_layout A)" "$(in_layout B)" --json >"$SCRATCH/diff.json"
[[ $RC == 0 ]] || fail "diff --json exited $RC: $(cat "$SCRATCH/stderr")"
[[ "$(jq -c '[.totals.added.files, .totals.removed.files, .totals.changed.files, .layers_b[1].added.bytes_b]' "$SCRATCH/diff.json")" == "[1,1,2,5]" ]] ||
    fail "diff --json totals: $(jq -c .totals "$SCRATCH/diff.json")"
[[ "$(jq -c '[.files[] | select(.change == "changed") | {path, fields}]' "$SCRATCH/diff.json")" == \
   '[{"path":"/etc/a","fields":["content"]},{"path":"/usr/bin/x","fields":["mode"]}]' ]] ||
    fail "diff --json changed files: $(jq -c .files "$SCRATCH/diff.json")"
pass "diff --json carries the same entries and totals"

slim diff "$(in_layout A)" "$(in_layout A)" --json >"$SCRATCH/same.json"
[[ $RC == 0 && "$(jq '.files | length' "$SCRATCH/same.json")" == 0 ]] ||
    fail "an image diffed with itself shows changes: $(cat "$SCRATCH/same.json" "$SCRATCH/stderr")"

# A slimmed image against its source: exactly what slim's report says it
# removed (files) and stripped (content changed, same bytes before and after).
make_elf_root "$SCRATCH/root"
mkdir -p "$SCRATCH/root/usr/share/doc/hello"
echo 'read me' >"$SCRATCH/root/usr/share/doc/hello/README"; echo 'news' >"$SCRATCH/root/usr/share/doc/hello/NEWS"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
"$SLIMAGE" slim -q "$(in_layout in)" "oci:$SCRATCH/out:img" --drop 'usr/share/doc/**' --report "$SCRATCH/report.json" \
    2>"$SCRATCH/err" || fail "slim failed: $(cat "$SCRATCH/err")"
slim diff "$(in_layout in)" "oci:$SCRATCH/out:img" --json >"$SCRATCH/slim.json"
[[ $RC == 0 ]] || fail "diff of source and slimmed exited $RC: $(cat "$SCRATCH/stderr")"
[[ "$(jq '.totals.added.files' "$SCRATCH/slim.json")" == 0 ]] || fail "slimming added files: $(jq -c .totals "$SCRATCH/slim.json")"
[[ "$(jq -c '[.files[] | select(.change == "removed") | .path]' "$SCRATCH/slim.json")" == \
   '["/usr/share/doc/hello","/usr/share/doc/hello/NEWS","/usr/share/doc/hello/README"]' ]] ||
    fail "diff's removed entries are not the dropped files: $(jq -c .files "$SCRATCH/slim.json")"
[[ "$(jq -c '[.files[] | select(.fields // [] | index("content")) | .bytes_a] | add' "$SCRATCH/slim.json")" == \
   "$(jq '.counts.stripped.bytes' "$SCRATCH/report.json")" &&
   "$(jq -c '[.files[] | select(.fields // [] | index("content")) | .bytes_b] | add' "$SCRATCH/slim.json")" == \
   "$(jq '.counts.stripped.bytes_after' "$SCRATCH/report.json")" ]] ||
    fail "diff's changed content is not what the report says was stripped: $(jq -c .totals "$SCRATCH/slim.json")"
pass "source vs slimmed: exactly the dropped files removed and the stripped ones changed"
