#!/usr/bin/env bash
# sbom: `slim --sbom FILE` lists exactly the packages left in the slimmed
# image's databases. A small image with a hand-written dpkg database (two
# packages, one of them emptied by --drop), a machine-readable copyright file
# and a Python dist-info: the SPDX 2.3 SBOM (.spdx.json) has the required
# fields, the kept dpkg package and the distribution with their purls,
# versions and licenses, and names the removed file; the CycloneDX 1.5 SBOM
# (--sbom-format) validates against the official schema (npm's
# @cyclonedx/cyclonedx-library, fetched by scripts/setup.sh) and lists the
# same packages. Same input, same SBOM bytes; a name with no known extension
# is refused at the door (exit 2) and nothing is written.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3
scratch

root="$SCRATCH/root"
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/usr/share/keepme" "$root/usr/share/dropme" \
    "$root/usr/share/doc/keepme" "$root/usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info" \
    "$root/usr/lib/python3/dist-packages/foo_bar"
printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' >"$root/etc/os-release"
cat >"$root/var/lib/dpkg/status" <<'S'
Package: keepme
Status: install ok installed
Architecture: amd64
Version: 1:2.0+dfsg-1

Package: dropme
Status: install ok installed
Architecture: all
Version: 0.5-3

S
echo /usr/share/keepme/data >"$root/var/lib/dpkg/info/keepme.list"
echo /usr/share/dropme/data >"$root/var/lib/dpkg/info/dropme.list"
echo kept >"$root/usr/share/keepme/data"
echo dropped >"$root/usr/share/dropme/data"
cat >"$root/usr/share/doc/keepme/copyright" <<'C'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: keepme

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: debian/*
Copyright: 2021 Someone Else
License: MIT

Files: lib/*
Copyright: 2022 Someone
License: GPL-2+

License: GPL-2+
 This program is free software.
C
dist="$root/usr/lib/python3/dist-packages"
echo 'print("hi")' >"$dist/foo_bar/__init__.py"
printf 'Metadata-Version: 2.4\nName: Foo_Bar\nVersion: 1.0\nLicense-Expression: MIT OR Apache-2.0\n\nA description.\n' \
    >"$dist/Foo_Bar-1.0.dist-info/METADATA"
printf 'foo_bar/__init__.py,,\nFoo_Bar-1.0.dist-info/METADATA,,\nFoo_Bar-1.0.dist-info/RECORD,,\n' \
    >"$dist/Foo_Bar-1.0.dist-info/RECORD"
make_layout_from_dirs "$SCRATCH/in" img "$root"

# Refused at the door: no format from the name, nothing written.
slim slim "$(in_layout in)" "$(in_layout bad)" --sbom "$SCRATCH/image.json"
[[ $RC == 2 ]] || fail "--sbom image.json: exit $RC, want 2"
grep -q -- "--sbom $SCRATCH/image.json: cannot tell the format from the name" "$SCRATCH/stderr" ||
    fail "--sbom image.json: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/bad" && ! -e "$SCRATCH/image.json" ]] || fail "a refused run wrote something"

drop=(--profile none --drop '/usr/share/dropme/**' --force)
slim slim "$(in_layout in)" "$(in_layout out)" "${drop[@]}" --sbom "$SCRATCH/out.spdx.json" >/dev/null
[[ $RC == 0 ]] || fail "slim --sbom exited $RC: $(tail -5 "$SCRATCH/stderr")"
s="$SCRATCH/out.spdx.json"
manifest=$(top_digest "$SCRATCH/out")

# SPDX 2.3's required fields.
jq -e --arg m "$manifest" '.spdxVersion == "SPDX-2.3" and .dataLicense == "CC0-1.0" and .SPDXID == "SPDXRef-DOCUMENT"
    and (.name | length > 0) and .documentNamespace == ("https://slimage.invalid/spdx/sha256-" + ($m | ltrimstr("sha256:")))
    and (.creationInfo.created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"))
    and (.creationInfo.creators | length > 0)
    and all(.packages[]; (.SPDXID | test("^SPDXRef-[A-Za-z0-9.-]+$")) and (.name | length > 0) and .downloadLocation)' \
    "$s" >/dev/null || fail "SPDX required fields missing: $(jq -c 'del(.packages, .relationships)' "$s")"
# Exactly the packages left: keepme and Foo_Bar, not dropme.
jq -S '[.packages[1:][] | {name, versionInfo, purl: .externalRefs[0].referenceLocator, licenseDeclared, licenseComments}]' \
    "$s" >"$SCRATCH/got-packages"
jq -S -n '[{"name": "keepme", "versionInfo": "1:2.0+dfsg-1",
            "purl": "pkg:deb/debian/keepme@1%3A2.0%2Bdfsg-1?arch=amd64&distro=debian-12",
            "licenseDeclared": "NOASSERTION", "licenseComments": "declared by the package: GPL-2+, MIT"},
           {"name": "Foo_Bar", "versionInfo": "1.0", "purl": "pkg:pypi/foo-bar@1.0",
            "licenseDeclared": "MIT OR Apache-2.0", "licenseComments": null}]' >"$SCRATCH/want-packages"
diff "$SCRATCH/want-packages" "$SCRATCH/got-packages" >&2 || fail "SPDX packages differ"
jq -e '.packages[0].primaryPackagePurpose == "CONTAINER" and
    ([.packages[0].annotations[].comment] | index("removed usr/share/dropme/data (drop-glob)") != null)' "$s" >/dev/null ||
    fail "SPDX: the removed file is not named: $(jq -c '[.packages[0].annotations[]?.comment]' "$s")"

# Deterministic: the same run again (same destination) gives the same bytes.
slim slim "$(in_layout in)" "$(in_layout out)" "${drop[@]}" --sbom "$SCRATCH/again.spdx.json" >/dev/null
[[ $RC == 0 ]] || fail "second slim exited $RC"
cmp -s "$s" "$SCRATCH/again.spdx.json" || fail "two runs wrote different SPDX documents"

slim slim "$(in_layout in)" "$(in_layout out3)" "${drop[@]}" --sbom "$SCRATCH/out.json" --sbom-format cyclonedx >/dev/null
[[ $RC == 0 ]] || fail "slim --sbom-format cyclonedx exited $RC: $(tail -5 "$SCRATCH/stderr")"
c="$SCRATCH/out.json"
jq -e '.bomFormat == "CycloneDX" and .specVersion == "1.5" and
    [.components[].purl] == ["pkg:deb/debian/keepme@1%3A2.0%2Bdfsg-1?arch=amd64&distro=debian-12", "pkg:pypi/foo-bar@1.0"] and
    ([.metadata.component.properties[] | select(.name == "slimage:removed") | .value] ==
     ["usr/share/dropme/data", "var/lib/dpkg/info/dropme.list"]) and
    ([.metadata.component.properties[] | select(.name == "slimage:changed") | .value] == ["var/lib/dpkg/status"])' \
    "$c" >/dev/null || fail "CycloneDX content: $(jq -c '{components: [.components[].purl], metadata}' "$c")"
schema=$(bash "$REPO_ROOT/scripts/fetch-cyclonedx-schema.sh" 2>"$SCRATCH/fetch.err") ||
    skip "no CycloneDX schema (scripts/setup.sh fetches it with npm): $(tail -1 "$SCRATCH/fetch.err")"
python3 -c 'import jsonschema' 2>/dev/null || skip "no python3 jsonschema (python3-jsonschema)"
cat >"$SCRATCH/validate.py" <<'PY'
# validate.py SCHEMA_DIR BOM: bom-1.5 with its $refs resolved offline; RefResolver
# works in Debian's jsonschema 4.10 and (deprecated) in newer ones.
import json, sys, warnings
import jsonschema
warnings.simplefilter("ignore", DeprecationWarning)
d = sys.argv[1]
load = lambda n: json.load(open(f"{d}/{n}"))
bom = load("bom-1.5.SNAPSHOT.schema.json")
store = {"http://cyclonedx.org/schema/" + n: load(n)
         for n in ("spdx.SNAPSHOT.schema.json", "jsf-0.82.SNAPSHOT.schema.json")}
cls = jsonschema.validators.validator_for(bom)
validator = cls(bom, resolver=jsonschema.RefResolver.from_schema(bom, store=store))
errors = sorted(validator.iter_errors(json.load(open(sys.argv[2]))), key=lambda e: list(e.path))
for e in errors[:5]:
    print(f"{'/'.join(map(str, e.path))}: {e.message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
python3 "$SCRATCH/validate.py" "$schema" "$c" || fail "CycloneDX SBOM does not validate against bom-1.5"
# The validator is not a rubber stamp: a BOM without its required bomFormat fails.
jq 'del(.bomFormat)' "$c" >"$SCRATCH/broken.json"
! python3 "$SCRATCH/validate.py" "$schema" "$SCRATCH/broken.json" 2>/dev/null || fail "the schema check accepts a broken BOM"
pass "SPDX and CycloneDX list keepme and Foo_Bar (not the emptied dropme), licenses and purls; schema-valid; deterministic"
