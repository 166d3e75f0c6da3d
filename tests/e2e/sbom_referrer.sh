#!/usr/bin/env bash
# sbom_referrer: `slim --sbom FILE --sbom-attach` also attaches the SBOM to the new
# image as an OCI 1.1 referrer: an artifact manifest (artifactType = the SBOM's media
# type, the empty config {} with data e30=, one layer = the SBOM's very bytes,
# subject = the new image manifest).
#  1. OCI layout: the referrer is listed in index.json after the image, with no
#     ref.name; the image's manifest digest is the one a run without
#     --sbom-attach writes (the provenance annotations do not change); the same run
#     twice gives the same bytes; skopeo and umoci still read the image.
#  2. oci-archive: the same entry inside the tar. docker-archive: refused at the door.
#  3. A two-platform index: one SBOM referrer per platform manifest.
#  4. Debian's docker-registry 2.8 (no referrers API, no OCI-Subject header): the
#     referrers tag schema index (tag sha256-<hex> of the image) lists the referrer,
#     whose SBOM blob, read back over HTTP, is FILE byte for byte.
#  5. batch --sbom DIR --sbom-attach: one SBOM per image, each attached to its image.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 tar skopeo umoci
scratch

root="$SCRATCH/root"
make_dpkg_root "$root"
make_layout_from_dirs "$SCRATCH/in" img "$root"
drop=(--profile none --drop '/junk/**' --force)
empty=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a

# check_referrer LAYOUT SBOM_FILE TYPE SUBJECT: the layout's index lists one
# referrer of SUBJECT after the image, untagged, whose layer is SBOM_FILE's bytes.
check_referrer() {
    local layout="$1" file="$2" type="$3" subject="$4" entry m layer
    entry=$(jq -c --arg t "$type" '[.manifests[] | select(.artifactType == $t)]' "$layout/index.json")
    [[ $(jq length <<<"$entry") == 1 ]] || fail "$layout: want one $type referrer in index.json: $(cat "$layout/index.json")"
    jq -e '.[0] | (.annotations["org.opencontainers.image.ref.name"] // "") == ""
        and .mediaType == "application/vnd.oci.image.manifest.v1+json"' <<<"$entry" >/dev/null ||
        fail "$layout: the referrer entry is tagged or mistyped: $entry"
    m=$(blob_path "$layout" "$(jq -r '.[0].digest' <<<"$entry")")
    [[ $(jq -r '.[0].size' <<<"$entry") == $(stat -c %s "$m") ]] || fail "$layout: referrer size differs from its blob"
    jq -e --arg t "$type" --arg s "$subject" --arg e "$empty" '.artifactType == $t and .schemaVersion == 2
        and .config == {mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2, data: "e30="}
        and (.layers | length) == 1 and .layers[0].mediaType == $t and .subject.digest == $s
        and .subject.mediaType == "application/vnd.oci.image.manifest.v1+json"' "$m" >/dev/null ||
        fail "$layout: referrer manifest: $(cat "$m")"
    [[ $(jq -r .subject.size "$m") == $(stat -c %s "$(blob_path "$layout" "$subject")") ]] ||
        fail "$layout: the subject's size is not its manifest's"
    [[ $(printf '{}' | cmp - "$(blob_path "$layout" "$empty")" && echo same) == same ]] ||
        fail "$layout: the empty config blob is not {}"
    layer=$(blob_path "$layout" "$(jq -r '.layers[0].digest' "$m")")
    cmp -s "$file" "$layer" || fail "$layout: the attached SBOM differs from $file"
}

# 1. OCI layout.
slim slim "$(in_layout in)" "$(in_layout plain)" "${drop[@]}" --sbom "$SCRATCH/plain.spdx.json" >/dev/null
[[ $RC == 0 ]] || fail "slim --sbom exited $RC: $(tail -5 "$SCRATCH/stderr")"
jq -e '.manifests | length == 1' "$SCRATCH/plain/index.json" >/dev/null || fail "--sbom alone attached something"
slim slim "$(in_layout in)" "$(in_layout out)" "${drop[@]}" --sbom "$SCRATCH/out.spdx.json" --sbom-attach \
    --report "$SCRATCH/out.report.json" >/dev/null
[[ $RC == 0 ]] || fail "slim --sbom-attach exited $RC: $(tail -5 "$SCRATCH/stderr")"
image=$(top_digest "$SCRATCH/out")
# The report names the referrer, its subject and the SBOM blob exactly as written.
ref_entry=$(jq -c '[.manifests[] | select(.artifactType == "application/spdx+json")][0]' "$SCRATCH/out/index.json")
want=$(jq -cn --argjson e "$ref_entry" --arg s "$image" --arg b "sha256:$(sha256sum "$SCRATCH/out.spdx.json" | cut -d' ' -f1)" \
    --argjson n "$(stat -c %s "$SCRATCH/out.spdx.json")" \
    '[{artifact_type: "application/spdx+json", digest: $e.digest, sbom_bytes: $n, sbom_digest: $b, subject: $s}]')
[[ $(jq -c '.sbom_referrers' "$SCRATCH/out.report.json") == "$want" ]] ||
    fail "report's sbom_referrers: $(jq -c .sbom_referrers "$SCRATCH/out.report.json"), want $want"
[[ $image == "$(top_digest "$SCRATCH/plain")" ]] || fail "--sbom-attach changed the image's manifest"
jq -e '.manifests[0].annotations["org.opencontainers.image.ref.name"] == "img"' "$SCRATCH/out/index.json" >/dev/null ||
    fail "the image is no longer first and tagged in index.json"
check_referrer "$SCRATCH/out" "$SCRATCH/out.spdx.json" application/spdx+json "$image"
# The SBOM names its destination; otherwise --sbom-attach changes nothing in it.
unnamed() { jq 'del(.name, .packages[0].name)' "$1"; }
diff <(unnamed "$SCRATCH/plain.spdx.json") <(unnamed "$SCRATCH/out.spdx.json") >&2 || fail "--sbom-attach changed the SBOM"
skopeo inspect "$(in_layout out)" >/dev/null || fail "skopeo inspect rejects the output"
unpack_image "$(in_layout out)" "$SCRATCH/u-out" || fail "umoci cannot unpack the output"
# The referrer listed with the image is not taken for a second image.
slim inspect "oci:$SCRATCH/out" >/dev/null
[[ $RC == 0 ]] || fail "inspect oci:DIR (no ref) of a layout with a referrer: $(cat "$SCRATCH/stderr")"
# The same run again into the same layout: the same bytes, the referrer listed once.
cp "$SCRATCH/out/index.json" "$SCRATCH/first-index.json"
slim slim "$(in_layout in)" "$(in_layout out)" "${drop[@]}" --sbom "$SCRATCH/again.spdx.json" --sbom-attach >/dev/null
[[ $RC == 0 ]] || fail "slim into the existing layout exited $RC: $(tail -3 "$SCRATCH/stderr")"
cmp -s "$SCRATCH/out.spdx.json" "$SCRATCH/again.spdx.json" || fail "two runs wrote different SBOMs"
cmp -s "$SCRATCH/first-index.json" "$SCRATCH/out/index.json" ||
    fail "a second run changed index.json: $(diff "$SCRATCH/first-index.json" "$SCRATCH/out/index.json")"
pass "OCI layout: SBOM referrer listed untagged after the image, its bytes the --sbom file; image unchanged; deterministic"

# 2. oci-archive (CycloneDX), and docker-archive refused before anything is read.
slim slim "$(in_layout in)" "oci-archive:$SCRATCH/out.tar:img" "${drop[@]}" --sbom "$SCRATCH/tar.cdx.json" --sbom-attach >/dev/null
[[ $RC == 0 ]] || fail "oci-archive --sbom-attach exited $RC: $(tail -5 "$SCRATCH/stderr")"
mkdir "$SCRATCH/tar" && tar -C "$SCRATCH/tar" -xf "$SCRATCH/out.tar"
check_referrer "$SCRATCH/tar" "$SCRATCH/tar.cdx.json" application/vnd.cyclonedx+json "$(top_digest "$SCRATCH/tar")"
skopeo inspect "oci-archive:$SCRATCH/out.tar:img" >/dev/null || fail "skopeo rejects the oci-archive"
slim slim "$(in_layout in)" "docker-archive:$SCRATCH/out-docker.tar" "${drop[@]}" --sbom "$SCRATCH/d.spdx.json" --sbom-attach
[[ $RC == 2 ]] || fail "docker-archive --sbom-attach: exit $RC, want 2"
grep -qF -- "--sbom-attach: docker-archive:$SCRATCH/out-docker.tar: a docker archive cannot hold an OCI referrer" "$SCRATCH/stderr" ||
    fail "docker-archive --sbom-attach: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/out-docker.tar" && ! -e "$SCRATCH/d.spdx.json" ]] || fail "a refused run wrote something"
slim slim "$(in_layout in)" "$(in_layout x)" "${drop[@]}" --sbom-attach
[[ $RC == 2 ]] && grep -qF -- "--sbom-attach: needs --sbom FILE" "$SCRATCH/stderr" ||
    fail "--sbom-attach without --sbom: exit $RC: $(cat "$SCRATCH/stderr")"
pass "oci-archive holds the referrer; docker-archive and a missing --sbom are refused at the door (exit 2)"

# 3. Two platforms: one SBOM per platform manifest, each naming its image.
for arch in amd64 arm64; do PLATFORM=linux/$arch make_layout_from_dirs "$SCRATCH/$arch" img "$root"; done
python3 "$HOSTILE_PY" index "$SCRATCH/multi" img "$SCRATCH/amd64:linux/amd64" "$SCRATCH/arm64:linux/arm64"
slim slim "$(in_layout multi)" "$(in_layout mout)" "${drop[@]}" --sbom "$SCRATCH/multi.spdx.json" --sbom-attach >/dev/null
[[ $RC == 0 ]] || fail "multi-platform --sbom-attach exited $RC: $(tail -5 "$SCRATCH/stderr")"
index=$(blob_path "$SCRATCH/mout" "$(top_digest "$SCRATCH/mout")")
want=$(jq -c '[.manifests[].digest] | sort' "$index")
got=$(for d in $(jq -r '.manifests[] | select(.artifactType == "application/spdx+json") | .digest' "$SCRATCH/mout/index.json"); do
          jq -r .subject.digest "$(blob_path "$SCRATCH/mout" "$d")"; done | jq -R . | jq -sc 'sort')
[[ $(jq length <<<"$want") == 2 && "$got" == "$want" ]] || fail "multi-platform: referrer subjects $got, want $want"
for d in $(jq -r '.manifests[] | select(.artifactType) | .digest' "$SCRATCH/mout/index.json"); do
    m=$(blob_path "$SCRATCH/mout" "$d")
    jq -e --arg s "$(jq -r .subject.digest "$m")" '.packages[0].versionInfo == $s and
        .documentNamespace == ("https://slimage.invalid/spdx/sha256-" + ($s | ltrimstr("sha256:")))' \
        "$(blob_path "$SCRATCH/mout" "$(jq -r '.layers[0].digest' "$m")")" >/dev/null ||
        fail "multi-platform: the SBOM of $d does not name its own image"
done
pass "image index: one SBOM referrer per platform manifest, each about its own image"

# 4. A registry without the referrers API: the referrers tag schema.
need docker-registry curl
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
registry_private_home
registry_start plain "$SCRATCH/registry" || fail "cannot start the registry"
slim slim "$(in_layout in)" "docker://$REGISTRY/app:slim" "${drop[@]}" --tls-verify=false \
    --sbom "$SCRATCH/reg.spdx.json" --sbom-attach >/dev/null
[[ $RC == 0 ]] || fail "docker:// --sbom-attach exited $RC: $(tail -5 "$SCRATCH/stderr")"
pushed=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/app:slim")
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/app/referrers/$pushed") == 404 ]] ||
    fail "fixture: the registry answers the referrers API; this half tests the tag fallback"
accept='Accept: application/vnd.oci.image.index.v1+json'
curl -sf -H "$accept" "http://$REGISTRY/v2/app/manifests/sha256-${pushed#sha256:}" >"$SCRATCH/tag-index.json" ||
    fail "no referrers tag sha256-${pushed#sha256:}"
jq -e '.mediaType == "application/vnd.oci.image.index.v1+json" and (.manifests | length) == 1 and
    .manifests[0].artifactType == "application/spdx+json"' "$SCRATCH/tag-index.json" >/dev/null ||
    fail "referrers tag index: $(cat "$SCRATCH/tag-index.json")"
ref=$(jq -r '.manifests[0].digest' "$SCRATCH/tag-index.json")
curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REGISTRY/v2/app/manifests/$ref" >"$SCRATCH/ref.json" ||
    fail "cannot read the referrer $ref"
[[ "sha256:$(sha256sum <"$SCRATCH/ref.json" | cut -d' ' -f1)" == "$ref" ]] || fail "the referrer's bytes do not hash to $ref"
jq -e --arg s "$pushed" '.subject.digest == $s and .artifactType == "application/spdx+json"' "$SCRATCH/ref.json" >/dev/null ||
    fail "registry referrer: $(cat "$SCRATCH/ref.json")"
curl -sf "http://$REGISTRY/v2/app/blobs/$(jq -r '.layers[0].digest' "$SCRATCH/ref.json")" >"$SCRATCH/reg-blob" ||
    fail "cannot read the SBOM blob"
cmp -s "$SCRATCH/reg.spdx.json" "$SCRATCH/reg-blob" || fail "the SBOM in the registry differs from the --sbom file"
# The same run again: the same referrer, listed once.
slim slim "$(in_layout in)" "docker://$REGISTRY/app:slim" "${drop[@]}" --tls-verify=false \
    --sbom "$SCRATCH/reg2.spdx.json" --sbom-attach >/dev/null
[[ $RC == 0 ]] || fail "second docker:// --sbom-attach exited $RC: $(tail -5 "$SCRATCH/stderr")"
curl -sf -H "$accept" "http://$REGISTRY/v2/app/manifests/sha256-${pushed#sha256:}" | cmp -s - "$SCRATCH/tag-index.json" ||
    fail "a second run changed the referrers tag index"
# slimage's own signature check sees the SBOM referrer and knows it signs nothing.
slim slim "docker://$REGISTRY/app:slim" "$(in_layout back)" --profile none --tls-verify=false >/dev/null
[[ $RC == 0 ]] || fail "re-slimming the attached image: exit $RC: $(cat "$SCRATCH/stderr")"
pass "docker-registry 2.8: the referrers tag schema lists the SBOM referrer; the blob is the --sbom file"

# 5. batch --sbom DIR --sbom-attach: one SBOM per image, attached to it.
printf '%s %s\n%s %s\n' "$(in_layout in)" "$(in_layout b1)" "$(in_layout amd64)" "$(in_layout b2)" >"$SCRATCH/list"
mkdir "$SCRATCH/sboms"
slim batch "$SCRATCH/list" "${drop[@]}" --no-cache --sbom "$SCRATCH/sboms" --sbom-attach --report "$SCRATCH/batch.json" >/dev/null
[[ $RC == 0 ]] || fail "batch --sbom exited $RC: $(tail -5 "$SCRATCH/stderr")"
for b in b1 b2; do
    f="$SCRATCH/sboms/oci_${SCRATCH//[^A-Za-z0-9._-]/_}_${b}_img.spdx.json"
    [[ -f "$f" ]] || fail "batch: no SBOM for $b: $(ls "$SCRATCH/sboms")"
    jq -e --arg m "$(top_digest "$SCRATCH/$b")" '.packages[0].versionInfo == $m' "$f" >/dev/null ||
        fail "batch: $f does not name $b's manifest"
    check_referrer "$SCRATCH/$b" "$f" application/spdx+json "$(top_digest "$SCRATCH/$b")"
    jq -e --arg f "$f" --arg d "$(in_layout $b)" '.images[] | select(.destination == $d) | .sbom == $f' "$SCRATCH/batch.json" >/dev/null ||
        fail "batch report does not name $f"
done
[[ $(ls "$SCRATCH/sboms" | wc -l) == 2 ]] || fail "batch wrote other files: $(ls "$SCRATCH/sboms")"
slim batch "$SCRATCH/list" --sbom "$SCRATCH/no-such-dir"
[[ $RC == 2 ]] && grep -qF -- "--sbom $SCRATCH/no-such-dir: directory $SCRATCH/no-such-dir does not exist" "$SCRATCH/stderr" ||
    fail "batch --sbom missing dir: exit $RC: $(cat "$SCRATCH/stderr")"
pass "batch --sbom DIR: one SBOM per image, named after its destination, each attached to its image"
