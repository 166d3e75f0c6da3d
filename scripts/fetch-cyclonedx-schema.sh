#!/usr/bin/env bash
# Fetches the official CycloneDX 1.5 JSON schema (with the SPDX license-id
# and JSF schemas it refers to) from the npm registry, as shipped by
# @cyclonedx/cyclonedx-library, into the cache: tests/e2e/sbom.sh validates
# slimage's --sbom output against it offline. Run by scripts/setup.sh; safe
# to run again (a no-op once cached).
#   bash scripts/fetch-cyclonedx-schema.sh   -> prints the schema directory
set -euo pipefail
source "$(dirname "$0")/lib-image.sh"

version=6.13.1
sha256=de9ac3e6e59be24d0b5345d98761304ff2c55458bd31888771d7e932fc531533
dir="$(slimage_cache_dir)/cyclonedx-schema-$version"
files=(bom-1.5.SNAPSHOT.schema.json spdx.SNAPSHOT.schema.json jsf-0.82.SNAPSHOT.schema.json)
have=1
for f in "${files[@]}"; do [[ -s "$dir/$f" ]] || have=0; done
if ((have == 0)); then
    tmp=$(mktemp -d)
    trap 'rm -rf -- "$tmp"' EXIT
    (cd "$tmp" && npm pack --silent "@cyclonedx/cyclonedx-library@$version" >/dev/null)
    tgz="$tmp/cyclonedx-cyclonedx-library-$version.tgz"
    echo "$sha256  $tgz" | sha256sum -c --quiet - || { echo "fetch-cyclonedx-schema: checksum mismatch" >&2; exit 1; }
    tar -xzf "$tgz" -C "$tmp" "${files[@]/#/package/res/schema/}"
    mkdir -p "$dir.new"
    cp "${files[@]/#/$tmp/package/res/schema/}" "$dir.new/"
    rm -rf -- "$dir" && mv "$dir.new" "$dir"
fi
printf '%s\n' "$dir"
