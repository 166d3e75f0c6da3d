#!/usr/bin/env bash
# progress_lines: the live progress lines tell the truth. Two images slimmed at once
# (batch --parallel 2) each count only their own bytes, on lines of their own; the write
# stage's total leaves out a layer reused as is (image 0's 24 MiB base), so it is the
# 8 MiB actually written; done never goes back; a line is never printed unchanged.
# On a terminal (SLIMAGE_PROGRESS=tty) the live block leaves nothing behind.
source "$(dirname "$0")/lib.sh"
need_slimage; need python3
scratch

mkdir -p "$SCRATCH/a0" "$SCRATCH/a1/junk" "$SCRATCH/b0/junk"
head -c $((24 << 20)) /dev/urandom >"$SCRATCH/a0/base.bin"
head -c $((8 << 20)) /dev/urandom >"$SCRATCH/a1/data.bin"
head -c $((4 << 20)) /dev/urandom >"$SCRATCH/b0/data.bin"
echo x >"$SCRATCH/a1/junk/x"; echo y >"$SCRATCH/b0/junk/y"
make_layout_from_dirs "$SCRATCH/A" img "$SCRATCH/a0" "$SCRATCH/a1"
make_layout_from_dirs "$SCRATCH/B" img "$SCRATCH/b0"
printf '%s %s\n%s %s\n' "$(in_layout A)" "$(in_layout outA)" "$(in_layout B)" "$(in_layout outB)" >"$SCRATCH/list"

# check_lines STDERR: the live lines' invariants; prints "IMAGE STAGE TOTAL" per stage seen.
check_lines() {
    python3 - "$1" <<'PY'
import re, sys
units = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
def size(s):
    n, u = s.split()
    return float(n) * units[u]
live = re.compile(r"^slimage: \[#(\d+) [^\]]+\] (\w+)\s+(\S+ \S+) / (\S+ \S+)  (\S+ \S+)/s(  ETA \d+ s)?$")
last, totals, bad = {}, {}, []
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    m = live.match(line)
    if not m:
        end = re.match(r"^(slimage: \[#\d+ [^\]]+)\] (\w+) +\d+\.\d+ s", line)
        if end:  # a stage ended: the next one starts from nothing
            last.pop((end.group(1), end.group(2)), None)
        continue
    image, stage, done, total = m.group(1), m.group(2), size(m.group(3)), m.group(4)
    key = (line.split("] ", 1)[0], stage)
    if done > size(total):
        bad.append("done past total: " + line)
    if key in last:
        pdone, ptotal, pline = last[key]
        if pline == line:
            bad.append("printed unchanged: " + line)
        if done < pdone:
            bad.append("done went back: " + line)
    last[key] = (done, total, line)
    totals.setdefault((image, stage), set()).add(total)
for b in bad:
    print("BAD " + b)
for (image, stage), t in sorted(totals.items()):
    print(image, stage, ",".join(sorted(t)))
PY
}

SLIMAGE_PROGRESS=plain SLIMAGE_PROGRESS_INTERVAL_MS=2 \
    slim batch "$SCRATCH/list" --parallel 2 --no-cache --profile none --drop '/junk/**'
[[ $RC == 0 ]] || fail "batch exited $RC: $(cat "$SCRATCH/stderr")"
check_lines "$SCRATCH/stderr" >"$SCRATCH/lines"
! grep -q '^BAD' "$SCRATCH/lines" || fail "$(grep '^BAD' "$SCRATCH/lines" | head -5)"
grep -qx '0 write 8.0 MiB' "$SCRATCH/lines" ||
    fail "image 0's write total is not the 8 MiB written (the reused 24 MiB layer left out): $(cat "$SCRATCH/lines")"
grep -qx '1 write 4.0 MiB' "$SCRATCH/lines" || fail "image 1's write total is not 4 MiB: $(cat "$SCRATCH/lines")"
pass "per-image live lines: own totals, reused layer left out, never back, never unchanged"

# A terminal: replay what was drawn; at the end no live line is left on the screen and
# every stage line is there once per image.
SLIMAGE_PROGRESS=tty SLIMAGE_PROGRESS_INTERVAL_MS=2 \
    slim batch "$SCRATCH/list" --parallel 2 --no-cache --profile none --drop '/junk/**'
[[ $RC == 0 ]] || fail "tty batch exited $RC: $(cat "$SCRATCH/stderr")"
python3 - "$SCRATCH/stderr" <<'PY' || fail "terminal replay: $(tail -c 2000 "$SCRATCH/stderr" | cat -v)"
import re, sys
data = open(sys.argv[1], encoding="utf-8", newline="").read()  # keep \r
screen, row, most = [""], 0, 0
for tok in re.findall(r"\x1b\[(\d*)([AJK])|(\r)|(\n)|([^\x1b\r\n]+)", data):
    n, op, cr, nl, text = tok
    if op == "A":
        row = max(0, row - int(n or 1))
    elif op == "J":
        del screen[row + 1:]
        screen[row] = ""
    elif op == "K" or cr:
        screen[row] = "" if op == "K" else screen[row]
    elif nl:
        row += 1
        if row == len(screen):
            screen.append("")
    else:
        screen[row] = text
    live = [l for l in screen if re.search(r" / \S+ \S+  \S+ \S+/s", l)]
    most = max(most, len(live))
    if len({l.split("]")[0] for l in live}) != len(live):
        sys.exit("two live lines for one image: %r" % live)
live = [l for l in screen if re.search(r" / \S+ \S+  \S+ \S+/s", l)]
if live:
    sys.exit("live lines left on the screen: %r" % live)
for image in ("#0", "#1"):
    ends = [l for l in screen if l.startswith("slimage: [" + image + " ") and re.search(r"\] write +\d", l)]
    if len(ends) != 1:
        sys.exit("image %s: %d write lines on the screen" % (image, len(ends)))
print("most live lines at once:", most)
PY
pass "terminal: one live line per image, nothing left behind"
