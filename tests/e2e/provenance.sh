#!/usr/bin/env bash
# provenance: the slimmed manifest says where it came from and what was done —
# org.opencontainers.image.base.digest, io.slimage.{version,profile,options,removed}
# — the new history entry says it in one line (naming --drop … --force), the
# --report JSON lists every action exactly as `plan --json` does, and none of it
# depends on where the input lay (two copies in two dirs: one output digest).
source "$(dirname "$0")/lib.sh"
need_slimage; need skopeo jq python3
scratch

cat >"$SCRATCH/l1.json" <<'J'
[{"path": "app/run", "data": "#!/bin/sh\n", "mode": 493},
 {"path": "junk/a", "size_zero": 3000}, {"path": "junk/b", "size_zero": 2000},
 {"path": "var/cache/apt/archives/x.deb", "size_zero": 7000}]
J
make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/l1.json"
cp -r "$SCRATCH/in" "$SCRATCH/elsewhere"
input=$(top_digest "$SCRATCH/in")

slim slim "$(in_layout in)" "$(in_layout out)" --drop '/junk/**' --force --report "$SCRATCH/report.json" >/dev/null
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect "$(in_layout out)" >/dev/null || fail "skopeo inspect rejects the output"
manifest=$(blob_path "$SCRATCH/out" "$(top_digest "$SCRATCH/out")")
version=$("$SLIMAGE" --version 2>/dev/null | grep -o '[0-9][0-9.]*' | head -1)
jq -S --arg d "$input" --arg v "$version" -n '{
  "org.opencontainers.image.base.digest": $d, "io.slimage.version": $v, "io.slimage.profile": "default",
  "io.slimage.options": "--drop '"'/junk/**'"' --force",
  "io.slimage.removed": "{\"cache\":{\"bytes\":7000,\"files\":1},\"drop-glob\":{\"bytes\":5000,\"files\":2}}"}' \
    >"$SCRATCH/want-annotations"
diff "$SCRATCH/want-annotations" <(jq -S .annotations "$manifest") >&2 || fail "manifest annotations differ"
config=$(blob_path "$SCRATCH/out" "$(jq -r .config.digest "$manifest")")
want="slimage: removed 11.7 KiB: cache 1 file (6.8 KiB), drop-glob 2 files (4.9 KiB); profile default --drop '/junk/**' --force"
got=$(jq -r '.history[-1].created_by' "$config")
[[ "$got" == "$want" ]] || fail "history line: got '$got', want '$want'"
pass "annotations and history line name the input, the options and what was removed"

"$SLIMAGE" plan "$(in_layout in)" --drop '/junk/**' --json >"$SCRATCH/plan.json" 2>/dev/null || true
diff <(jq -S .actions "$SCRATCH/plan.json") <(jq -S '.actions // .images[0].report.actions' "$SCRATCH/report.json") >&2 ||
    fail "--report actions differ from plan --json"
jq -e '[.actions[] | select(.path == "junk/a")] == [{"path": "junk/a", "fate": "drop", "kind": "drop-glob",
    "reason": "matches --drop /junk/**", "bytes": 3000, "bytes_after": 0}]' "$SCRATCH/report.json" >/dev/null ||
    fail "report has no exact action for junk/a: $(jq -c '.actions' "$SCRATCH/report.json")"
pass "--report lists every action as plan --json does"

slim slim "$(in_layout elsewhere)" "$(in_layout out2)" --drop '/junk/**' --force >/dev/null
[[ $RC == 0 ]] || fail "second slim exited $RC: $(cat "$SCRATCH/stderr")"
[[ $(top_digest "$SCRATCH/out") == $(top_digest "$SCRATCH/out2") ]] ||
    fail "the output digest depends on the input's path"
pass "the same input from another dir gives the same digest"
