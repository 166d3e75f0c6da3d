#!/usr/bin/env bash
# package_db: the package database tells the truth. The small sample slimmed
# with the default profile plus --drop of every file of two dpkg packages:
# a leaf one (nothing depends on it) and one a staying package depends on.
# In a chroot of the output, dpkg -V, dpkg --audit, apt-get check (and pip
# check where pip is present) report nothing the input did not report, beyond
# the package the report names "listed, files removed"; the leaf package is
# gone from `dpkg -l` with its info/ files; the other's .list is emptied.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 debootstrap zstd gcc
scratch

small_sample; sample=$SAMPLE
unpack_image "oci:$sample:sample" "$SCRATCH/in"
in="$SCRATCH/in/rootfs"

# Two packages whose files are data (usr/share, usr/include, static archives,
# .so dev links): one nothing depends on, one exactly one package depends on.
read -r leaf dependency dependent < <(python3 - "$in" <<'PY'
import os, re, sys
root = sys.argv[1]
records = open(f"{root}/var/lib/dpkg/status").read().split("\n\n")
pkgs = {}
for r in records:
    m = re.search(r"^Package: (.*)$", r, re.M)
    if not m or "Status: install ok installed" not in r:
        continue
    deps = set()
    for f in ("Depends", "Pre-Depends"):
        d = re.search(rf"^{f}: (.*)$", r, re.M)
        for alt in re.split("[,|]", d.group(1)) if d else []:
            deps.add(alt.strip().split(" ")[0].split(":")[0])
    arch = re.search(r"^Architecture: (.*)$", r, re.M).group(1)
    pkgs[m.group(1)] = (deps, "Essential: yes" in r, arch)
def files(p):
    for base in (p, f"{p}:{pkgs[p][2]}"):
        path = f"{root}/var/lib/dpkg/info/{base}.list"
        if os.path.exists(path):
            return [l.strip() for l in open(path) if l.strip() and not os.path.isdir(root + l.strip())]
    return []
def data_only(p):
    fs = files(p)
    return fs and all(f.startswith(("/usr/share/", "/usr/include/")) or f.endswith((".a", ".so")) for f in fs)
rdeps = {p: [q for q in pkgs if p in pkgs[q][0]] for p in pkgs}
leaf = next(p for p in sorted(pkgs) if not rdeps[p] and not pkgs[p][1] and data_only(p))
dep = next(p for p in sorted(pkgs) if len(rdeps[p]) == 1 and not pkgs[p][1] and data_only(p))
print(leaf, dep, rdeps[dep][0])
PY
)
[[ -n "$leaf" && -n "$dependency" ]] || skip "no data-only packages in the sample"
# list_of PACKAGE -> its info/*.list in the input (plain or arch-qualified name)
list_of() {
    local f
    for f in "$in/var/lib/dpkg/info/$1.list" "$in/var/lib/dpkg/info/$1:"*.list; do
        [[ -f "$f" ]] && { echo "$f"; return 0; }
    done
    fail "$1: no info/*.list"
}
drops=()
for p in "$leaf" "$dependency"; do
    list=$(list_of "$p")
    while read -r f; do
        [[ -n "$f" && ! -d "$in$f" ]] && drops+=(--drop "${f#/}")
    done <"$list"
done

slim slim "oci:$sample:sample" "$(in_layout out)" --report "$SCRATCH/report.json" "${drops[@]}" --force
[[ $RC == 0 ]] || fail "slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
r="$SCRATCH/report.json"
check_report_invariant "$r"
jq -e --arg p "$leaf" '[.package_db.removed[] | select(.database == "dpkg") | .name] == [$p]' "$r" >/dev/null ||
    fail "report: removed packages $(jq -c .package_db.removed "$r"), want [$leaf]"
jq -e --arg p "$dependency" --arg by "needed by $dependent" \
    '[.package_db.listed_files_removed[] | select(.database == "dpkg") | [.name, .kept_by]] == [[$p, $by]]' "$r" >/dev/null ||
    fail "report: listed, files removed $(jq -c .package_db.listed_files_removed "$r"), want $dependency (needed by $dependent)"

unpack_image "$(in_layout out)" "$SCRATCH/out"
out="$SCRATCH/out/rootfs"

# Each check's output on the input and on the output, lines sorted.
check() {
    local root="$1"; shift
    run_in_root "$root" "$@" 2>&1 | grep -v '^Reading \|^Building dependency' | sort || true
}
for root in in out; do
    check "$SCRATCH/$root/rootfs" dpkg -V >"$SCRATCH/$root.verify"
    check "$SCRATCH/$root/rootfs" dpkg --audit >"$SCRATCH/$root.audit"
    check "$SCRATCH/$root/rootfs" apt-get check >"$SCRATCH/$root.apt"
    if [[ -x "$SCRATCH/$root/rootfs/usr/bin/pip" ]] || run_in_root "$SCRATCH/$root/rootfs" python3 -m pip --version >/dev/null 2>&1; then
        check "$SCRATCH/$root/rootfs" python3 -m pip check >"$SCRATCH/$root.pip"
    else
        : >"$SCRATCH/$root.pip"
    fi
done
# dpkg -V names files, not packages: the listed-but-emptied package's files are expected.
dep_files=$(list_of "$dependency")
new_verify=$(comm -13 "$SCRATCH/in.verify" "$SCRATCH/out.verify" | awk '{print $NF}' | grep -vxFf "$dep_files" || true)
[[ -z "$new_verify" ]] || fail "dpkg -V reports what slimming caused: $(head -5 <<<"$new_verify")"
for c in audit apt pip; do
    new=$(comm -13 "$SCRATCH/in.$c" "$SCRATCH/out.$c")
    [[ -z "$new" ]] || fail "$c reports what slimming caused: $(head -5 <<<"$new")"
done

run_in_root "$out" dpkg-query -W -f '${Package}\n' >"$SCRATCH/out.packages"
! grep -qx "$leaf" "$SCRATCH/out.packages" || fail "dpkg -l still lists $leaf"
grep -qx "$dependency" "$SCRATCH/out.packages" || fail "dpkg -l lost $dependency, which $dependent needs"
[[ -z "$(ls "$out/var/lib/dpkg/info/" | grep -E "^$leaf(:[a-z0-9]+)?\.[a-z]+$")" ]] || fail "$leaf's info/ files kept"
removed_verify=$(grep -c . "$SCRATCH/out.verify" || true)
pass "removed $leaf, kept $dependency listed (needed by $dependent); dpkg -V lines: $(grep -c . "$SCRATCH/in.verify" || true) in, $removed_verify out"
