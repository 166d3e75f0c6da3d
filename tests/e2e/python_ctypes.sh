#!/usr/bin/env bash
# python_ctypes: a Python entrypoint that loads a CUDA library through ctypes
# (CDLL("libcurand.so.10")) and asks ctypes.util.find_library("cudart") keeps
# both libraries and what find_library runs (/sbin/ldconfig, etc/ld.so.cache)
# even when the profile drops those, runs in a chroot of the output and prints
# the loaded path; `why` names the file and line. With "python_library_scan":
# false the library and ldconfig go, and the same program fails — the check can fail.
# The image: the small sample plus one layer (the program, an ld.so.conf.d
# entry for the CUDA dir and the ld.so.cache ldconfig builds from it).
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 ldconfig gzip tar debootstrap zstd gcc
scratch

[[ -d /usr/local/cuda/lib64 ]] || skip "needs the CUDA toolkit at /usr/local/cuda (the sample's libcurand)"
small_sample; sample=$SAMPLE

# -- the extra layer ----------------------------------------------------------
layer="$SCRATCH/layer" mini="$SCRATCH/mini"
mkdir -p "$layer/app" "$layer/etc/ld.so.conf.d" "$mini"
cat >"$layer/app/ctypes_app.py" <<'PY'
import ctypes, ctypes.util
try:
    curand = ctypes.CDLL("libcurand.so.10")
    loaded = [l.split()[-1] for l in open("/proc/self/maps") if "libcurand.so" in l][0]
    print("curand loaded", loaded)
except OSError as e:
    print("curand failed:", e)
print("cudart found", ctypes.util.find_library("cudart"))
PY
echo /usr/local/cuda/lib64 >"$layer/etc/ld.so.conf.d/cuda.conf"
# The image's cache rebuilt with the CUDA dir: ldconfig over the library dirs of its layers.
while read -r m p; do
    decompress_stream "$m" "$p" | tar -x -C "$mini" --wildcards --anchored \
        'etc/ld.so.conf*' 'lib' 'lib64' 'usr/lib/x86_64-linux-gnu/*' 'usr/local/cuda*' 2>/dev/null || true
done < <(oci_layer_blobs "$sample" sample)
cp "$layer/etc/ld.so.conf.d/cuda.conf" "$mini/etc/ld.so.conf.d/"
ldconfig -X -r "$mini"
ldconfig -p -C "$mini/etc/ld.so.cache" | grep -q 'libcudart.so.13 ' || fail "fixture: no libcudart in the rebuilt cache"
cp "$mini/etc/ld.so.cache" "$layer/etc/ld.so.cache"
rm -rf -- "$mini"

# -- the image: the sample's blobs (hard links, never written) + the layer -----
in="$SCRATCH/in"
mkdir -p "$in/blobs"
cp -al "$sample/blobs/sha256" "$in/blobs/"
python3 - "$HOSTILE_PY" "$sample" "$in" "$layer" <<'PY'
import gzip, hashlib, importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("hostile", sys.argv[1])
hostile = importlib.util.module_from_spec(spec); spec.loader.exec_module(hostile)
src, out, layer_dir = sys.argv[2:5]
def blob(layout, digest):
    with open(os.path.join(layout, "blobs", *digest.split(":", 1)), "rb") as f:
        return f.read()
def put(data):  # new blobs only; a path shared with the sample is never opened for writing
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", *digest.split(":", 1))
    if not os.path.exists(path):
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
    return digest, len(data)
desc = json.load(open(os.path.join(src, "index.json")))["manifests"][0]
manifest = json.loads(blob(src, desc["digest"]))
config = json.loads(blob(src, manifest["config"]["digest"]))
tar = hostile.layer_from_dir(layer_dir)
digest, size = put(gzip.compress(tar, mtime=0))
manifest["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
config["rootfs"]["diff_ids"].append("sha256:" + hashlib.sha256(tar).hexdigest())
config["config"]["Entrypoint"] = ["/usr/bin/python3", "/app/ctypes_app.py"]
config["config"].pop("Cmd", None)
config.setdefault("history", []).append({"created_by": "COPY ctypes_app.py /app/ (python_ctypes e2e)"})
digest, size = put(json.dumps(config).encode())
manifest["config"].update(digest=digest, size=size)
digest, size = put(json.dumps(manifest).encode())
index = {"schemaVersion": 2, "manifests": [{"mediaType": desc["mediaType"], "digest": digest, "size": size,
         "annotations": {"org.opencontainers.image.ref.name": "img"}}]}
json.dump(index, open(os.path.join(out, "index.json"), "w"))
open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
PY

# -- profiles: one drops ldconfig and the cache (as a runtime profile might), one also turns the scan off
cat >"$SCRATCH/drops.json" <<'JSON'
{"extends": "default", "drop+": ["usr/sbin/ldconfig", "etc/ld.so.cache"]}
JSON
cat >"$SCRATCH/noscan.json" <<'JSON'
{"extends": "drops.json", "python_library_scan": false}
JSON

run_app() {  # run_app ROOT -> the program's output, with the image's LD_LIBRARY_PATH
    run_in_root "$1" /usr/bin/env LD_LIBRARY_PATH=/usr/local/cuda/lib64 /usr/bin/python3 /app/ctypes_app.py 2>&1 || true
}

# -- scan on: kept, runs, and `why` names the line ------------------------------
slim slim "oci:$in:img" "$(in_layout on)" --profile "$SCRATCH/drops.json"
[[ $RC == 0 ]] || fail "slim (scan on) exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout on)" "$SCRATCH/u-on"
root="$SCRATCH/u-on/rootfs"
lib=/$(cd "$root" && realpath -e --relative-to=. usr/local/cuda/lib64/libcurand.so.10) ||
    fail "libcurand.so.10 dropped though the entrypoint loads it"
[[ -f "$root$lib" ]] || fail "libcurand.so.10 dangles in the output"
[[ -f "$root/usr/sbin/ldconfig" && -f "$root/etc/ld.so.cache" ]] ||
    fail "ldconfig or ld.so.cache dropped though find_library runs them"
out=$(run_app "$root")
want=$(printf 'curand loaded %s\ncudart found libcudart.so.13' "$lib")
[[ "$out" == "$want" ]] || fail "slimmed image (scan on): got [$out], want [$want]"

set +e
why=$("$SLIMAGE" why "oci:$in:img" "$lib" --profile "$SCRATCH/drops.json" 2>&1); rc=$?
why_ld=$("$SLIMAGE" why "oci:$in:img" /usr/sbin/ldconfig --profile "$SCRATCH/drops.json" 2>&1)
set -e
[[ $rc == 0 ]] || fail "why exited $rc: $why"
grep -qF 'python ctypes: app/ctypes_app.py:3 CDLL("libcurand.so.10")' <<<"$why" ||
    fail "why does not name the ctypes call: $why"
grep -qF 'python ctypes: app/ctypes_app.py:8 find_library("cudart"): find_library runs /sbin/ldconfig -p' <<<"$why_ld" ||
    fail "why does not name the find_library call for ldconfig: $why_ld"

# -- scan off: the same program fails -------------------------------------------
slim slim "oci:$in:img" "$(in_layout off)" --profile "$SCRATCH/noscan.json"
[[ $RC == 0 ]] || fail "slim (scan off) exited $RC: $(cat "$SCRATCH/stderr")"
unpack_image "$(in_layout off)" "$SCRATCH/u-off"
root="$SCRATCH/u-off/rootfs"
[[ ! -e "$root$lib" && ! -e "$root/usr/sbin/ldconfig" && ! -e "$root/etc/ld.so.cache" ]] ||
    fail "scan off: libcurand, ldconfig or ld.so.cache still there"
out=$(run_app "$root")
want=$(printf 'curand failed: libcurand.so.10: cannot open shared object file: No such file or directory\ncudart found None')
[[ "$out" == "$want" ]] || fail "slimmed image (scan off): got [$out], want [$want]"
pass "ctypes-loaded libcurand and find_library's ldconfig kept (program runs); lost with the scan off"
