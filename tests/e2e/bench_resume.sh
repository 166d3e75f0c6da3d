#!/usr/bin/env bash
# bench_resume: scripts/bench.sh resumes where it stopped (issue 17: a 10 GB image's
# bench outlasts a session). A second call with the same OUT, image, flags and
# binaries measures only the runs it lacks; a different slimage binary
# re-measures only its rows, and --fresh starts OUT afresh. Runs the script for real
# on a two-file image, --repeat 2.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 gcc pigz zstd gzip strip bc
[[ -x /usr/bin/time ]] || skip "needs GNU time at /usr/bin/time"
floor="$BUILD_DIR/codec_floor_bench"
[[ -x $floor ]] || fail "no $floor: the benches are built with everything else"
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
bench() { SLIMAGE="$1" CODEC_FLOOR="$floor" bash "$REPO_ROOT/scripts/bench.sh" --repeat 2 \
    --cuda-arch sm_80 --skip slimage-lowdisk --out "$SCRATCH/b" "${@:2}" "$SCRATCH/in" >"$SCRATCH/table" 2>"$SCRATCH/log"; }
# rows_of: each row's run walls and output bytes, as bench.json has them
rows_of() { jq -S '.rows | map_values({wall_s, runs_wall_s, output_bytes})' "$SCRATCH/b/bench.json"; }
measured() { grep -c '^bench.sh: running ' "$SCRATCH/log" || true; }

bench "$SLIMAGE" || { cat "$SCRATCH/log" >&2; fail "first call: rc $?"; }
first=$(rows_of)
# 4 slimage rows x 2 runs, the peer once, 4 floor rows x 2 runs (inflate; deflate
# gzip at 5 and at 3, for the --level 3 row; zstd)
[[ $(measured) == 17 ]] || fail "first call measured $(measured) runs, want 17"
[[ $(jq '.rows | length' "$SCRATCH/b/bench.json") == 9 ]] || fail "rows: $(jq -c '.rows | keys' "$SCRATCH/b/bench.json")"

# Everything done: nothing runs again, the same table comes out, and a stale work
# dir (a call killed with SIGKILL skips its cleanup) is no obstacle.
mkdir -p "$SCRATCH/b/work/leftover"
bench "$SLIMAGE" || fail "second call: rc $?"
[[ $(measured) == 0 ]] || fail "a finished bench measured $(measured) runs again"
grep -q '^bench.sh: resuming in ' "$SCRATCH/log" || fail "no 'resuming' line: $(head -3 "$SCRATCH/log")"
[[ $(rows_of) == "$first" ]] || fail "kept rows differ: $(diff <(echo "$first") <(rows_of))"

# Stopped during slimage-zstd's second run: its first run is kept, the rows after it
# (and the floor rows) measured, the rows before it kept.
rm -f "$SCRATCH/b/rows/slimage-zstd.row" "$SCRATCH/b/rows/slimage-zstd.run1" \
    "$SCRATCH/b/rows/floor-deflate-zstd.row" "$SCRATCH/b/rows/floor-deflate-zstd.run"*
bench "$SLIMAGE" || fail "resumed call: rc $?"
want="bench.sh: running slimage-zstd
bench.sh: running floor-deflate-zstd
bench.sh: running floor-deflate-zstd"
[[ $(grep '^bench.sh: running ' "$SCRATCH/log") == "$want" ]] ||
    fail "resumed call ran: $(grep '^bench.sh: running ' "$SCRATCH/log" | tr '\n' ';')"
grep -q '^bench.sh: slimage-zstd run 1: kept from before' "$SCRATCH/log" || fail "zstd run 1 not kept"
[[ $(jq '.rows["slimage-zstd"].runs_wall_s | length' "$SCRATCH/b/bench.json") == 2 ]] || fail "zstd runs"
for row in slimage-gzip slimage-gzip-cuda-arch slimage-gzip-l3 peer floor-inflate floor-deflate-gzip floor-deflate-gzip-l3; do
    [[ $(rows_of | jq -c ".\"$row\"") == "$(jq -c ".\"$row\"" <<<"$first")" ]] ||
        fail "$row not kept as it was: $(rows_of | jq -c ".\"$row\"") against $(jq -c ".\"$row\"" <<<"$first")"
done

# Each slimage row is set against the floor of its own codec and level: the limit
# is inflate + that deflate row, and the ratio is the row's wall over it, rounded to
# 3 decimals (0.39 s / 0.16 s = 2.4375 is written 2.438: half a unit off, plus the
# float's own error, so the tolerance is half a unit and a hair).
for pair in "slimage-gzip gzip" "slimage-gzip-l3 gzip-l3" "slimage-zstd zstd"; do
    read -r row codec <<<"$pair"
    jq -e --arg r "$row" --arg c "$codec" '
        .rows[$r].codec_floor == $c and
        ((.codec_limit_s[$c] - .rows["floor-inflate"].wall_s - .rows["floor-deflate-" + $c].wall_s) | fabs) < 1e-6 and
        ((.rows[$r].ratio_to_codec_limit - .rows[$r].wall_s / .codec_limit_s[$c]) | fabs) <= 0.0005 + 1e-9' \
        "$SCRATCH/b/bench.json" >/dev/null ||
        fail "$row: not set against the $codec floor: $(jq -c --arg r "$row" '{row: .rows[$r], limits: .codec_limit_s}' "$SCRATCH/b/bench.json")"
done

resumed=$(rows_of)

# Another slimage binary (one byte more): its rows are measured again; the peer, the
# inflate floor and (the output being the same bytes) the deflate floor are kept.
cp "$SLIMAGE" "$SCRATCH/slimage2" && printf x >>"$SCRATCH/slimage2"
bench "$SCRATCH/slimage2" || fail "call with another binary: rc $?"
want="slimage-gzip slimage-gzip slimage-zstd slimage-zstd slimage-gzip-cuda-arch slimage-gzip-cuda-arch slimage-gzip-l3 slimage-gzip-l3 "
[[ $(grep '^bench.sh: running ' "$SCRATCH/log" | cut -d' ' -f3 | tr '\n' ' ') == "$want" ]] ||
    fail "another binary ran: $(grep '^bench.sh: running ' "$SCRATCH/log" | tr '\n' ';')"
for row in peer floor-inflate floor-deflate-gzip floor-deflate-gzip-l3 floor-deflate-zstd; do
    [[ $(rows_of | jq -c ".\"$row\"") == "$(jq -c ".\"$row\"" <<<"$resumed")" ]] || fail "$row not kept for another binary"
done
# --fresh: afresh even with everything kept.
bench "$SCRATCH/slimage2" --fresh || fail "--fresh: rc $?"
[[ $(measured) == 17 ]] || fail "--fresh measured $(measured) runs, want 17"
pass "finished rows kept, a stopped row resumed at its run, another binary re-measures only its rows, --fresh starts afresh"
