#!/usr/bin/env bash
# Builds every libFuzzer target under ASan+UBSan (clang) and runs each for
# SECONDS (default 60), starting from tests/fuzz/corpus/<target>/. A crash
# fails the run; copy the crash file into that corpus dir as a regression input.
# Each run also starts from a few small seeds generated here (a tiny tar, /bin/true's
# head, a minimal manifest, the built-in profiles, the host ld.so.cache), never committed.
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSLIMAGE_FUZZ=ON -DSLIMAGE_TESTS=OFF "-DSLIMAGE_SANITIZE=address;undefined" >/dev/null
targets=$(for f in tests/fuzz/*_fuzz.cpp; do basename "$f" .cpp; done)
# shellcheck disable=SC2086  # one word per target
cmake --build build-fuzz -j"$(nproc)" --target $targets

# seed NAME DIR: a few small valid inputs for fuzzer NAME, written into DIR.
seed() {
  local name="$1" dir="$2"
  case "$name" in
    tar_reader_fuzz)
      python3 - "$dir" <<'PY'
import gzip, io, sys, tarfile
def tar(fmt, pax=None):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=fmt, pax_headers=pax or {}) as t:
        for name, data in (("bin/ok", b"ok\n"), ("etc/.wh.old", b"")):
            i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o755; t.addfile(i, io.BytesIO(data))
        i = tarfile.TarInfo("usr/lib"); i.type = tarfile.DIRTYPE; t.addfile(i)
        i = tarfile.TarInfo("lib"); i.type = tarfile.SYMTYPE; i.linkname = "usr/lib"; t.addfile(i)
        i = tarfile.TarInfo("bin/ok2"); i.type = tarfile.LNKTYPE; i.linkname = "bin/ok"; t.addfile(i)
    return b.getvalue()
out = sys.argv[1]
open(out + "/seed-ustar.tar", "wb").write(tar(tarfile.USTAR_FORMAT))
open(out + "/seed-gnu.tar", "wb").write(tar(tarfile.GNU_FORMAT))
pax = tar(tarfile.PAX_FORMAT, {"comment": "x" * 200})
open(out + "/seed-pax.tar", "wb").write(pax)
open(out + "/seed-pax.tar.gz", "wb").write(gzip.compress(pax, mtime=0))
PY
      if command -v zstd >/dev/null; then zstd -q -c "$dir/seed-pax.tar" >"$dir/seed-pax.tar.zst"; fi ;;
    elf_reader_fuzz|strip_fuzz)
      head -c 65536 /bin/true >"$dir/seed-true-head"
      local lib
      lib=$(ls /lib/x86_64-linux-gnu/libz.so.1 /usr/lib/x86_64-linux-gnu/libz.so.1 2>/dev/null | head -1 || true)
      [ -n "$lib" ] && head -c 65536 "$lib" >"$dir/seed-libz-head" || true ;;
    manifest_fuzz)
      cat >"$dir/seed-manifest.json" <<'JSON'
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}]}
JSON
      cat >"$dir/seed-index.json" <<'JSON'
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"platform":{"architecture":"amd64","os":"linux"}}]}
JSON
      cat >"$dir/seed-config.json" <<'JSON'
{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/ok"],"Env":["PATH=/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"]}}
JSON
      ;;
    profile_fuzz)
      local p
      for p in profiles/*.json; do cp "$p" "$dir/seed-$(basename "$p")"; done ;;
    fatbin_fuzz)
      # First byte: byte order, --cuda-ptx and list; then a .nv_fatbin section
      # cut from an nvcc-built library when nvcc is here.
      if [ -x /usr/local/cuda/bin/nvcc ]; then
        local t
        t=$(mktemp -d)
        echo '__global__ void k(float* a) { a[0] = 1; }' >"$t/k.cu"
        if /usr/local/cuda/bin/nvcc -shared -Xcompiler -fPIC -gencode arch=compute_75,code=sm_75 \
             -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
             -o "$t/k.so" "$t/k.cu" 2>/dev/null; then
          { printf '\x00'; objcopy -O binary --only-section=.nv_fatbin "$t/k.so" /dev/stdout; } >"$dir/seed-nvcc" || true
        fi
        rm -rf "$t"
      fi ;;
    pipeline_fuzz)
      # Byte 0: options (tests/fuzz/pipeline_fuzz.cpp); then layer tars split at
      # "SLIMAGE-LAYER": an entrypoint ELF and a library, a cache the default
      # profile drops, whiteouts and an opaque dir over the lower layer, links.
      python3 - "$dir" <<'PY'
import gzip, io, os, sys, tarfile
def tar(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, kind, data in entries:
            i = tarfile.TarInfo(name)
            if kind == "dir": i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
            elif kind == "sym": i.type = tarfile.SYMTYPE; i.linkname = data; t.addfile(i)
            elif kind == "hard": i.type = tarfile.LNKTYPE; i.linkname = data; t.addfile(i)
            else: i.size = len(data); i.mode = 0o755; t.addfile(i, io.BytesIO(data))
    return b.getvalue()
def elf(path, cap=1 << 20):
    try: return open(path, "rb").read(cap)
    except OSError: return b"\x7fELF"
sep = b"SLIMAGE-LAYER"
base = tar([("bin", "dir", b""), ("bin/ok", "file", elf("/bin/true")),
            ("lib/x86_64-linux-gnu/libz.so.1", "file", elf("/lib/x86_64-linux-gnu/libz.so.1")),
            ("lib64", "sym", "lib"), ("var/cache/apt/archives/x.deb", "file", b"x" * 5000),
            ("usr/share/doc/a/README", "file", b"doc\n"), ("etc/passwd", "file", b"root:x:0:0::/:/bin/sh\n")])
top = tar([("usr/share/doc/.wh.a", "file", b""), ("etc/.wh..wh..opq", "file", b""),
           ("etc/hostname", "file", b"fuzz\n"), ("bin/ok2", "hard", "bin/ok"),
           ("usr/lib/python3/dist-packages/pkg/tests/test_x.py", "file", b"def test(): pass\n")])
out = sys.argv[1]
for flags, name, layers in ((0x00, "keep-gzip", [base, top]), (0x01, "squash-gzip", [base, top]),
                            (0x02, "keep-zstd", [gzip.compress(base, mtime=0), top]),
                            (0x24, "strip-debug-none", [base]), (0x08, "sh-entry", [top, base, top])):
    open(os.path.join(out, "seed-" + name), "wb").write(bytes([flags]) + sep.join(layers))
PY
      ;;
    ld_cache_fuzz)
      [ -r /etc/ld.so.cache ] && head -c 65536 /etc/ld.so.cache >"$dir/seed-ld.so.cache" || true ;;
  esac
}

status=0
for src in tests/fuzz/*_fuzz.cpp; do
  name=$(basename "$src" .cpp)
  corpus=tests/fuzz/corpus/$name
  mkdir -p "$corpus"
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  rm -f "$work/README"
  seed "$name" "$work"
  echo "fuzz: $name for ${seconds}s ($(ls "$work" | wc -l) seeds)" >&2
  if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=0 ./"$name" -max_total_time="$seconds" \
        -rss_limit_mb=2048 -artifact_prefix="$work/" "$work" >"$work/log" 2>&1); then
    echo "fuzz: $name FAILED; artifacts in $work" >&2
    tail -40 "$work/log" >&2
    status=1
  else
    grep -E "^#[0-9]+.*DONE" "$work/log" | tail -1 >&2 || true
    rm -rf "$work"
  fi
done
exit $status
