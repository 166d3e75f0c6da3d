#!/usr/bin/env bash
# batch_rows: a batch's table numbers images by their place in the list from 0, as
# --shard I/N counts them (image k is in shard k mod N), and a failed row ends with its
# cause — the error or the refusal, shortened — not an exit code.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need python3 gcc jq
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/elf" img "$SCRATCH/root"
echo '[{"path": "srv/a.txt", "data": "a\n"}]' >"$SCRATCH/plain.json"
make_layout_from_dirs "$SCRATCH/plain" img "$SCRATCH/plain.json"
cat >"$SCRATCH/list" <<L
oci:$SCRATCH/elf:img      oci:$SCRATCH/out-0:img
oci:$SCRATCH/missing:img  oci:$SCRATCH/out-1:img
oci:$SCRATCH/plain:img    oci:$SCRATCH/out-2:img
oci:$SCRATCH/plain:img    oci:$SCRATCH/out-3:img
L

# --drop of the ELF's own library: slim refuses image 0 (verify); image 1 does not exist.
slim batch "$SCRATCH/list" --no-cache --profile none --drop '/usr/lib/greet/**' \
    --report "$SCRATCH/all.json" >"$SCRATCH/table"
[[ $RC == 1 ]] || fail "batch exited $RC, want 1: $(cat "$SCRATCH/stderr")"
# check_rows TABLE REPORT "INDEX STATUS CAUSE-PREFIX"... : each row's number, status and
# cause, and the cause is the report's error (shortened to 100 bytes).
check_rows() {
    python3 - "$@" <<'PY' || fail "rows of $1: $(cat "$1")"
import json, re, sys
table, report, want = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = [l.rstrip("\n") for l in open(table) if re.match(r"\d+ +[a-z-]+ +\d+\.\d ", l)]
images = json.load(open(report))["images"]
ok = len(rows) == len(want) == len(images)
for row, w, img in zip(rows, want, images):
    index, status, prefix = w.split(" ", 2)
    cols = row.split()
    cause = row.split(" -> ", 1)[1].split(": ", 1)[1] if ": " in row.split(" -> ", 1)[1] else ""
    error = img.get("error", "")
    short = error if len(error.encode()) <= 100 else None
    good = cols[0] == index and cols[1] == status and img["index"] == int(index) \
        and cause.startswith(prefix if prefix != "-" else "") and (prefix != "-" or cause == "") \
        and (short is None or cause == short) and (short is not None or (cause.endswith("…") and
             error.startswith(cause[:-1]) and len(cause.encode()) <= 100))
    if not good:
        print(f"row {row!r}: want {w!r}, report error {error!r}", file=sys.stderr)
        ok = False
sys.exit(0 if ok else 1)
PY
}
check_rows "$SCRATCH/table" "$SCRATCH/all.json" \
    "0 verify-failed 1 libraries would be missing: /usr/bin/hello needs libgreet.so.1" \
    "1 failed oci:$SCRATCH/missing:img: " "2 ok -" "3 ok -"
pass "rows numbered from 0; failed rows name the refusal and the error"

slim batch "$SCRATCH/list" --no-cache --profile none --shard 1/2 --report "$SCRATCH/s1.json" >"$SCRATCH/s1"
[[ $RC == 1 ]] || fail "--shard 1/2 exited $RC, want 1: $(cat "$SCRATCH/stderr")"
check_rows "$SCRATCH/s1" "$SCRATCH/s1.json" "1 failed oci:$SCRATCH/missing:img: " "3 ok -"
grep -q '^slimage: \[#3 oci:' "$SCRATCH/stderr" || fail "progress prefix does not use the list index: $(cat "$SCRATCH/stderr")"
pass "--shard 1/2 takes images 1 and 3, and the rows say so"
