#!/usr/bin/env bash
# html_report: `slim --html FILE` and `slimage report R.json --html FILE` write
# one self-contained page (no script, nothing fetched) that a real browser
# renders without a console message, and whose numbers equal the report's.
# The small sample is slimmed with --report, --html and --cuda-arch sm_90;
# Debian's headless chromium dumps the DOM, and every named number — totals,
# each reason's files and bytes, each layer's compressed and uncompressed
# size, GPU code, the largest kept files — is read back from it and compared
# exactly with the JSON (the small sample keeps no GPU code: its GPU table
# holds the zero totals, still compared). The page rebuilt from the report alone is the same
# bytes; the largest kept file's chains are `slimage why`'s; the tree holds
# every directory of at least 0.1% and its bytes add up. A screenshot goes to
# $BUILD_DIR/html_report.png.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3 chromium
scratch

# Bad input: the place named, exit 2 at the door or 1 for a file that is no report, nothing written.
expect_error() {  # RC MESSAGE CMD...
    local rc=$1 message=$2; shift 2
    slim "$@"
    [[ $RC == "$rc" ]] || fail "$* exited $RC, not $rc: $(cat "$SCRATCH/stderr")"
    [[ "$(cat "$SCRATCH/stderr")" == "slimage: error: $message" ]] || fail "$*: $(cat "$SCRATCH/stderr")"
    [[ ! -e "$SCRATCH/o.html" ]] || fail "$*: wrote o.html"
}
echo '{"x":' >"$SCRATCH/bad.json"
echo '{"after": {}}' >"$SCRATCH/other.json"
expect_error 2 "REPORT $SCRATCH/none.json: no such file" report "$SCRATCH/none.json" --html "$SCRATCH/o.html"
expect_error 1 "$SCRATCH/bad.json: not JSON" report "$SCRATCH/bad.json" --html "$SCRATCH/o.html"
expect_error 1 "$SCRATCH/other.json: not a slimage report: key 'before' not found" \
    report "$SCRATCH/other.json" --html "$SCRATCH/o.html"
expect_error 2 "--html $SCRATCH/no/o.html: directory $SCRATCH/no does not exist" \
    report "$SCRATCH/other.json" --html "$SCRATCH/no/o.html"
expect_error 2 "--html $SCRATCH/no/o.html: directory $SCRATCH/no does not exist" \
    slim oci:/nonexistent:x "oci:$SCRATCH/never:x" --html "$SCRATCH/no/o.html"

small_sample; sample=$SAMPLE

slim slim -q "oci:$sample:sample" "oci:$SCRATCH/out:slim" --cuda-arch sm_90 \
    --report "$SCRATCH/r.json" --html "$SCRATCH/r.html"
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
check_report_invariant "$SCRATCH/r.json"
[[ -s "$SCRATCH/r.html" ]] || fail "no HTML written"

# Self-contained: no script, no stylesheet or image fetched, no URL but SVG's namespace name.
if grep -Eiq '<script|<link|<img|<iframe|url\(' "$SCRATCH/r.html"; then fail "the page loads something"; fi
urls=$(grep -Eo 'https?://[^" ]*' "$SCRATCH/r.html" | sort -u)
[[ "$urls" == "http://www.w3.org/2000/svg" ]] || fail "URLs in the page: $urls"

# From the report alone: the same page; --json re-prints the report.
"$SLIMAGE" report "$SCRATCH/r.json" --html "$SCRATCH/again.html" >"$SCRATCH/summary.txt" ||
    fail "slimage report --html failed"
cmp -s "$SCRATCH/r.html" "$SCRATCH/again.html" || fail "report --html differs from slim --html"
grep -q '^  saved by reason:$' "$SCRATCH/summary.txt" || fail "slimage report prints no summary: $(cat "$SCRATCH/summary.txt")"
"$SLIMAGE" report "$SCRATCH/r.json" --json | jq -S . >"$SCRATCH/reprinted.json"
jq -S . "$SCRATCH/r.json" | cmp -s - "$SCRATCH/reprinted.json" || fail "report --json is not the report"

# A real browser: the DOM as rendered, and every console message it logged.
browser=(chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run
         --user-data-dir="$SCRATCH/chromium" --enable-logging=stderr --v=0)
"${browser[@]}" --dump-dom "file://$SCRATCH/r.html" >"$SCRATCH/dom.html" 2>"$SCRATCH/chromium.log" ||
    fail "chromium --dump-dom failed: $(tail -5 "$SCRATCH/chromium.log")"
if grep -Ei 'CONSOLE|Uncaught|Refused to' "$SCRATCH/chromium.log"; then fail "console messages while rendering"; fi
grep -q '<svg class="treemap"' "$SCRATCH/dom.html" || fail "no treemap in the rendered DOM"

python3 - "$SCRATCH/r.json" "$SCRATCH/dom.html" <<'PY' || fail "numbers in the page differ from the report"
import json, sys
from html.parser import HTMLParser

report = json.load(open(sys.argv[1]))

class Numbers(HTMLParser):
    def __init__(self):
        super().__init__(); self.values = {}; self.key = None; self.treemaps = 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and a.get("class") == "treemap": self.treemaps += 1
        if "data-k" in a:
            assert a["data-k"] not in self.values, "twice: " + a["data-k"]
            self.key = a["data-k"]; self.values[self.key] = ""
    def handle_data(self, data):
        if self.key: self.values[self.key] += data
    def handle_endtag(self, tag):
        self.key = None

dom = Numbers(); dom.feed(open(sys.argv[2]).read())
got = {k: int(v.replace(",", "")) for k, v in dom.values.items()}
want = {}
for side in ("before", "after"):
    for f in ("files", "bytes", "compressed_bytes", "layers"):
        want[f"{side}.{f}"] = report[side][f]
    layers = report["layer_sizes"][side]
    assert len(layers) == report[side]["layers"], (side, len(layers))
    assert sum(l["size"] for l in layers) == report[side]["compressed_bytes"], side
    for i, l in enumerate(layers):
        want[f"layers.{side}.{i}.size"] = l["size"]
        want[f"layers.{side}.{i}.uncompressed_size"] = l["uncompressed_size"]
want["saved_bytes"] = report["saved_bytes"]
for kind, r in report["removed"].items():
    want[f"removed.{kind}.files"] = r["files"]; want[f"removed.{kind}.bytes"] = r["bytes"]
for k in ("stripped", "deduped"):
    want[f"{k}.files"] = report[k]["files"]; want[f"{k}.bytes"] = report[k]["bytes_saved"]
want["package_db.bytes"] = report["package_db"]["bytes_saved"]
gpu = report["gpu_code"]
want["gpu.bytes_before"] = gpu["bytes_before"]; want["gpu.bytes_after"] = gpu["bytes_after"]
by_code = {}
for lib in gpu["by_library"].values():
    for label, b in lib.get("by_code", {}).items():
        c = by_code.setdefault(label, [0, 0]); c[0] += b["before"]; c[1] += b["after"]
for label, (b, a) in by_code.items():
    want[f"gpu.{label}.before"] = b; want[f"gpu.{label}.after"] = a
for i, f in enumerate(report["largest_kept"]):
    want[f"largest.{i}.bytes_after"] = f["bytes_after"]
bad = {k: (got.get(k), want.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)}
assert not bad, f"page != report: {sorted(bad.items())[:10]}"
assert len([k for k in want if k.startswith("removed.")]) > 2 and report["largest_kept"], "too little to check"
assert dom.treemaps == 2, dom.treemaps

# The tree: every directory >= 0.1% of the image, bytes adding up to the report's.
tree = report["tree"]
assert tree["bytes"] == report["before"]["bytes"] and tree["bytes_after"] == report["after"]["bytes"]
for kind, r in report["removed"].items():
    assert tree["fates"].get("removed:" + kind, 0) == r["bytes"], kind
def walk(n, depth):
    assert sum(n["fates"].values()) == n["bytes"], n["path"]
    for c in n["children"]:
        assert c["bytes"] * 1000 >= tree["bytes"], c["path"]
        assert c["path"].rsplit("/", 1)[0] == n["path"] or depth == 0, c["path"]
        for f, v in c["fates"].items(): assert v <= n["fates"].get(f, 0), (c["path"], f)
        walk(c, depth + 1)
walk(tree, 0)
print(f"{len(got)} numbers equal; {len(report['removed'])} reasons, "
      f"{report['before']['layers']}+{report['after']['layers']} layers, {len(by_code)} GPU code kinds")
PY

# The largest kept file's chains are the ones `slimage why` prints.
top=$(jq -r '.largest_kept[0].path' "$SCRATCH/r.json")
"$SLIMAGE" why -q "oci:$sample:sample" "$top" --cuda-arch sm_90 --json >"$SCRATCH/why.json" 2>/dev/null ||
    fail "slimage why $top failed"
[[ "$(jq -c .chains "$SCRATCH/why.json")" == "$(jq -c '.largest_kept[0].chains' "$SCRATCH/r.json")" ]] ||
    fail "chains of $top differ from slimage why's"

shot="${BUILD_DIR:-$SCRATCH}/html_report.png"
"${browser[@]}" --screenshot="$shot" --window-size=1400,2000 --hide-scrollbars "file://$SCRATCH/r.html" \
    2>"$SCRATCH/shot.log" || fail "chromium --screenshot failed: $(tail -5 "$SCRATCH/shot.log")"
[[ -s "$shot" ]] || fail "no screenshot"
pass "page numbers equal the report's; no console messages; screenshot $shot"
