#!/usr/bin/env python3
"""fatbin_list.py FILE [SECTION]: one line per fat binary entry of an ELF's
.nv_fatbin section, "<container-index> <kind> <sm><a|f|> <payload-size>",
written for the tests independently of slimage's reader (python struct, LE).
Exits 1 if a container does not parse exactly or non-zero bytes sit between
containers."""
import struct
import subprocess
import sys

path = sys.argv[1]
section = sys.argv[2] if len(sys.argv) > 2 else ".nv_fatbin"
out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout
off = size = None
for line in out.splitlines():
    parts = line.replace("[ ", "[").split()
    if len(parts) > 5 and parts[1] == section:
        off, size = int(parts[4], 16), int(parts[5], 16)
if off is None:
    sys.exit(f"{path}: no {section}")
data = open(path, "rb").read()[off:off + size]
at, index = 0, 0
kinds = {1: "ptx", 2: "cubin"}
while at < len(data):
    if data[at] == 0:
        at += 1
        continue
    magic, version, hsize, fat = struct.unpack_from("<IHHQ", data, at)
    if magic != 0xBA55ED50 or at + hsize + fat > len(data):
        sys.exit(f"{path}: bad container at {at:#x}")
    e, end = at + hsize, at + hsize + fat
    while e < end:
        kind, _, ehs, psz = struct.unpack_from("<HHIQ", data, e)
        sm, = struct.unpack_from("<I", data, e + 28)
        flags, = struct.unpack_from("<Q", data, e + 40)
        suffix = "a" if flags & 0x100000 else "f" if flags & 0x200000 else ""
        print(index, kinds.get(kind, f"kind{kind}"), f"{sm}{suffix}", psz)
        e += ehs + psz
    if e != end:
        sys.exit(f"{path}: container at {at:#x} does not end at its size")
    at, index = end, index + 1
