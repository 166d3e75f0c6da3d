#!/usr/bin/env bash
# pip_check: in a chroot of a slimmed image, `python3 -m pip check` reports
# nothing the slimming caused. The small sample has no pip and no wheel-installed
# distribution, so the fixture is the small sample plus one layer (umoci insert)
# (written below: umoci 0.4.7's `insert` writes a truncated tar) holding the
# host's Debian pip (python3-pip, the sample's own Debian release)
# and three crafted distributions in /usr/local/lib/python3.11/dist-packages with
# METADATA and RECORD: app-tool (Requires-Dist: needed-lib), needed-lib and
# leaf-extra. The slim drops every file of needed-lib and leaf-extra: leaf-extra
# leaves the database (pip no longer lists it), needed-lib stays listed because
# app-tool requires it, and pip check, run by the image's own python3, prints
# the same lines before and after (with needed-lib's dist-info gone it would
# print "app-tool 2.0 requires needed-lib, which is not installed.").
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3
scratch
[[ -d /usr/lib/python3/dist-packages/pip ]] || skip "no Debian python3-pip on the host (scripts/setup.sh installs it)"

small_sample
# Blobs are never rewritten: hard links where the filesystem allows; index.json is copied.
mkdir "$SCRATCH/fixture"
cp -al "$SAMPLE/blobs" "$SCRATCH/fixture/" 2>/dev/null || cp -r "$SAMPLE/blobs" "$SCRATCH/fixture/"
cp "$SAMPLE/index.json" "$SAMPLE/oci-layout" "$SCRATCH/fixture/"
add="$SCRATCH/add"
mkdir -p "$add/usr/lib/python3/dist-packages"
cp -a /usr/lib/python3/dist-packages/pip /usr/lib/python3/dist-packages/pip-*.dist-info "$add/usr/lib/python3/dist-packages/"
site="$add/usr/local/lib/python3.11/dist-packages"
# dist NAME VERSION MODULE [REQUIRES]: a wheel-installed distribution, RECORD with hashes.
dist() {
    local name=$1 version=$2 module=$3 requires=${4:-} info
    info="$site/${name//-/_}-$version.dist-info"
    mkdir -p "$site/$module" "$info"
    printf 'VALUE = "%s"\n' "$name" >"$site/$module/__init__.py"
    printf 'Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s\n' "$name" "$version" \
        "${requires:+Requires-Dist: $requires}" >"$info/METADATA"
    printf 'pip\n' >"$info/INSTALLER"
    (cd "$site" && for f in "$module/__init__.py" "${info#$site/}/METADATA" "${info#$site/}/INSTALLER"; do
         printf '%s,sha256=%s,%s\n' "$f" "$(python3 -c 'import base64,hashlib,sys; print(base64.urlsafe_b64encode(hashlib.sha256(open(sys.argv[1],"rb").read()).digest()).rstrip(b"=").decode())' "$f")" "$(stat -c %s "$f")"
     done; echo "${info#$site/}/RECORD,,") >"$info/RECORD"
}
dist app-tool 2.0 app_tool 'needed-lib>=1.0'
dist needed-lib 1.0 needed_lib
dist leaf-extra 0.1 leaf_extra
# add_layer LAYOUT REF DIR: DIR as a new top layer of the image REF (a manifest).
add_layer() {
    python3 - "$@" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
layout, ref, src = sys.argv[1:4]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    path = f"{layout}/blobs/sha256/{d}"
    if not os.path.exists(path):  # existing blobs may be links into the sample cache: never rewritten
        with open(path, "wb") as f:
            f.write(data)
    return "sha256:" + d
def read(digest):
    return json.load(open(f"{layout}/blobs/sha256/{digest[7:]}"))
index = json.load(open(f"{layout}/index.json"))
entry = next(m for m in index["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
manifest = read(entry["digest"])
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
    def owner(t):
        t.uid = t.gid = 0; t.uname = t.gname = "root"; t.mtime = 0
        return t
    for name in sorted(os.listdir(src)):
        tar.add(os.path.join(src, name), arcname=name, filter=owner)
raw = raw.getvalue()
layer = gzip.compress(raw, mtime=0)
config = read(manifest["config"]["digest"])
config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(raw).hexdigest())
config.setdefault("history", []).append({"created_by": "pip_check.sh: pip and three distributions"})
config_bytes = json.dumps(config).encode()
manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": put(layer), "size": len(layer)})
manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "digest": put(config_bytes), "size": len(config_bytes)}
manifest_bytes = json.dumps(manifest).encode()
entry["digest"], entry["size"] = put(manifest_bytes), len(manifest_bytes)
os.unlink(f"{layout}/index.json")  # a copy, but never write through a link
json.dump(index, open(f"{layout}/index.json", "w"))
PY
}
add_layer "$SCRATCH/fixture" sample "$add" || fail "fixture: cannot add the layer"

slim slim "oci:$SCRATCH/fixture:sample" "$(in_layout out)" \
    --drop '/usr/local/lib/python3.11/dist-packages/needed_lib/**' \
    --drop '/usr/local/lib/python3.11/dist-packages/leaf_extra/**' --force --report "$SCRATCH/report.json" >/dev/null
[[ $RC == 0 ]] || fail "slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
unpack_image "oci:$SCRATCH/fixture:sample" "$SCRATCH/in" || fail "umoci cannot unpack the fixture"
unpack_image "$(in_layout out)" "$SCRATCH/out" || fail "umoci cannot unpack the output"

for root in in out; do
    run_in_root "$SCRATCH/$root/rootfs" python3 -m pip --version >/dev/null 2>"$SCRATCH/$root.pip-version" ||
        fail "$root: pip does not run in the chroot: $(tail -3 "$SCRATCH/$root.pip-version")"
    run_in_root "$SCRATCH/$root/rootfs" python3 -m pip check 2>&1 | sort >"$SCRATCH/$root.check" || true
    run_in_root "$SCRATCH/$root/rootfs" python3 -m pip list --format=json 2>/dev/null |
        jq -r '.[].name' | sort >"$SCRATCH/$root.list"
done
new=$(comm -13 "$SCRATCH/in.check" "$SCRATCH/out.check")
[[ -z "$new" ]] || fail "pip check reports what slimming caused: $new"
grep -qx 'No broken requirements found.' "$SCRATCH/out.check" ||
    fail "pip check in the output: $(cat "$SCRATCH/out.check")"
for want in app-tool needed-lib; do grep -qx "$want" "$SCRATCH/out.list" || fail "pip list lost $want"; done
! grep -qx leaf-extra "$SCRATCH/out.list" || fail "pip list still lists leaf-extra, all of whose files are gone"
grep -qx leaf-extra "$SCRATCH/in.list" || fail "fixture: pip does not list leaf-extra in the input"
# The check can fail: the output with needed-lib's dist-info removed is broken.
rm -rf "$SCRATCH/out/rootfs/usr/local/lib/python3.11/dist-packages/needed_lib-1.0.dist-info"
run_in_root "$SCRATCH/out/rootfs" python3 -m pip check >"$SCRATCH/broken.check" 2>&1 && fail "pip check passes a broken database"
grep -qF 'app-tool 2.0 requires needed-lib, which is not installed.' "$SCRATCH/broken.check" ||
    fail "pip check on a broken database: $(cat "$SCRATCH/broken.check")"
pass "pip check clean in the slimmed root; leaf-extra gone from pip list, needed-lib kept (app-tool requires it)"
