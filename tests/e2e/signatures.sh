#!/usr/bin/env bash
# signatures: a rewrite invalidates signatures and attestations, so slimage refuses
# a signed or attested input unless --remove-signatures is given, and then never
# writes an index that lists an attestation of a manifest it replaced.
#  1. OCI layout with a cosign signature tag (sha256-<hex>.sig in index.json);
#  2. OCI layout whose index holds a BuildKit attestation manifest, and one that
#     lists an OCI 1.1 signature referrer (subject = the image);
#  2c. the same layouts as oci-archive tars: the same refusals;
#  3. a loopback registry holding app:1 and its sha256-<hex>.sig tag, and app2:1
#     with a notation signature under the referrers tag schema (no referrers API).
# skopeo inspect and umoci unpack accept every output.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need skopeo umoci jq python3 docker-registry curl
scratch

printf '[{"path": "etc/motd", "data": "signed\\n"}]' >"$SCRATCH/l1.json"
make_layout_from_dirs "$SCRATCH/signed" img "$SCRATCH/l1.json"
cp -r "$SCRATCH/signed" "$SCRATCH/attested"
image_digest=$(top_digest "$SCRATCH/signed")

# add_blob LAYOUT FILE -> digest
add_blob() {
    local d; d=$(sha256sum "$2" | cut -d' ' -f1)
    cp "$2" "$1/blobs/sha256/$d"; echo "sha256:$d"
}
# A cosign-shaped artifact: a manifest whose one layer is the simple-signing payload.
printf '{"critical":{"image":{"docker-manifest-digest":"%s"}}}' "$image_digest" >"$SCRATCH/payload"
echo '{}' >"$SCRATCH/empty"
for layout in signed attested; do
    payload=$(add_blob "$SCRATCH/$layout" "$SCRATCH/payload")
    cfg=$(add_blob "$SCRATCH/$layout" "$SCRATCH/empty")
    jq -n --arg p "$payload" --argjson ps "$(stat -c %s "$SCRATCH/payload")" --arg c "$cfg" '{schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: 3},
        layers: [{mediaType: "application/vnd.dev.cosign.simplesigning.v1+json", digest: $p, size: $ps}]}' \
        >"$SCRATCH/$layout.artifact"
done
sig=$(add_blob "$SCRATCH/signed" "$SCRATCH/signed.artifact")
sig_tag="sha256-${image_digest#sha256:}.sig"
jq --arg d "$sig" --argjson s "$(stat -c %s "$SCRATCH/signed.artifact")" --arg t "$sig_tag" \
    '.manifests += [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
                     annotations: {"org.opencontainers.image.ref.name": $t}}]' \
    "$SCRATCH/signed/index.json" >"$SCRATCH/index.tmp" && mv "$SCRATCH/index.tmp" "$SCRATCH/signed/index.json"
skopeo inspect --raw "oci:$SCRATCH/signed:$sig_tag" >/dev/null || fail "fixture: skopeo cannot read the .sig tag"

slim slim "oci:$SCRATCH/signed:img" "$(in_layout out-refused)" --profile none
[[ $RC == 1 ]] || fail "signed input: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
want="oci:$SCRATCH/signed:img: cosign signature tag $sig_tag: a rewrite invalidates it; pass --remove-signatures to write the image without it"
grep -qxF "error: $want" "$SCRATCH/stderr" || grep -qF "$want" "$SCRATCH/stderr" ||
    fail "signed input: unexpected message: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/out-refused" ]] || fail "a refused run left an output"
slim slim "oci:$SCRATCH/signed:img" "$(in_layout out-signed)" --profile none --remove-signatures >/dev/null \
    --report "$SCRATCH/signed-report.json"
[[ $RC == 0 ]] || fail "--remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
jq -e --arg t "cosign signature tag $sig_tag" '.images[0].removed_signatures // .removed_signatures | . == [$t]' \
    "$SCRATCH/signed-report.json" >/dev/null ||
    fail "report does not name the signature: $(jq -c '.. | .removed_signatures? // empty' "$SCRATCH/signed-report.json")"
skopeo inspect "$(in_layout out-signed)" >/dev/null || fail "skopeo inspect rejects the output"
unpack_image "$(in_layout out-signed)" "$SCRATCH/u-signed" || fail "umoci cannot unpack the output"
pass "cosign .sig tag: refused, then written without it with --remove-signatures"

# 2. A BuildKit attestation manifest beside the image in its index.
att=$(add_blob "$SCRATCH/attested" "$SCRATCH/attested.artifact")
img_desc=$(jq -c '.manifests[0] | del(.annotations)' "$SCRATCH/attested/index.json")
jq -n --argjson img "$img_desc" --arg a "$att" --argjson asz "$(stat -c %s "$SCRATCH/attested.artifact")" \
    --arg d "$image_digest" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [$img, {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $a, size: $asz,
        platform: {os: "unknown", architecture: "unknown"},
        annotations: {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": $d}}]}' \
    >"$SCRATCH/attested.index"
idx=$(add_blob "$SCRATCH/attested" "$SCRATCH/attested.index")
jq -n --arg d "$idx" --argjson s "$(stat -c %s "$SCRATCH/attested.index")" '{schemaVersion: 2, manifests: [
    {mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
     annotations: {"org.opencontainers.image.ref.name": "img"}}]}' >"$SCRATCH/attested/index.json"
skopeo inspect "oci:$SCRATCH/attested:img" >/dev/null || fail "fixture: skopeo rejects the attested layout"

slim slim "oci:$SCRATCH/attested:img" "$(in_layout out-refused)" --profile none
[[ $RC == 1 ]] || fail "attested input: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "oci:$SCRATCH/attested:img: attestation manifest $att for $image_digest: a rewrite invalidates it; pass --remove-signatures" \
    "$SCRATCH/stderr" || fail "attested input: unexpected message: $(cat "$SCRATCH/stderr")"
slim slim "oci:$SCRATCH/attested:img" "$(in_layout out-attested)" --profile none --remove-signatures >/dev/null \
    --report "$SCRATCH/attested-report.json"
[[ $RC == 0 ]] || fail "attested --remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
jq -e --arg t "attestation manifest $att for $image_digest" '[.. | .removed_signatures? // empty] | .[0] == [$t]' \
    "$SCRATCH/attested-report.json" >/dev/null || fail "report does not name the attestation"
out_index=$(blob_path "$SCRATCH/out-attested" "$(top_digest "$SCRATCH/out-attested")")
jq -e '.manifests | length == 1 and (.[0].annotations["vnd.docker.reference.type"] // "") == ""' "$out_index" >/dev/null ||
    fail "the new index still lists an attestation: $(cat "$out_index")"
for d in $(jq -r '.manifests[].digest' "$out_index"); do
    [[ -f $(blob_path "$SCRATCH/out-attested" "$d") ]] || fail "index names a missing blob $d"
done
skopeo inspect "$(in_layout out-attested)" >/dev/null || fail "skopeo inspect rejects the attested output"
unpack_image "$(in_layout out-attested)" "$SCRATCH/u-attested" || fail "umoci cannot unpack the attested output"
pass "attestation manifest: refused, then dropped from the index with --remove-signatures"

# 2b. An OCI 1.1 referrer: a notation signature whose subject is the image, listed
#     in index.json without a tag; an SBOM referrer beside it is no signature.
cp -r "$SCRATCH/signed" "$SCRATCH/referred"
jq '.manifests |= map(select(.annotations["org.opencontainers.image.ref.name"] == "img"))'     "$SCRATCH/referred/index.json" >"$SCRATCH/index.tmp" && mv "$SCRATCH/index.tmp" "$SCRATCH/referred/index.json"
img_size=$(jq -r '.manifests[0].size' "$SCRATCH/referred/index.json")
for kind in signature sbom; do
    type=$([[ $kind == signature ]] && echo application/vnd.cncf.notary.signature || echo application/spdx+json)
    jq -n --arg t "$type" --arg p "$payload" --argjson ps "$(stat -c %s "$SCRATCH/payload")" --arg d "$image_digest"         --argjson s "$img_size" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
        artifactType: $t,
        config: {mediaType: "application/vnd.oci.empty.v1+json", digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2},
        layers: [{mediaType: "application/octet-stream", digest: $p, size: $ps}],
        subject: {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s}}' >"$SCRATCH/$kind.referrer"
    printf '{}' >"$SCRATCH/empty2"; add_blob "$SCRATCH/referred" "$SCRATCH/empty2" >/dev/null
    add_blob "$SCRATCH/referred" "$SCRATCH/payload" >/dev/null
    r=$(add_blob "$SCRATCH/referred" "$SCRATCH/$kind.referrer")
    [[ $kind == signature ]] && notation=$r
    jq --arg d "$r" --argjson s "$(stat -c %s "$SCRATCH/$kind.referrer")" --arg t "$type"         '.manifests += [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s, artifactType: $t}]'         "$SCRATCH/referred/index.json" >"$SCRATCH/index.tmp" && mv "$SCRATCH/index.tmp" "$SCRATCH/referred/index.json"
done
slim slim "oci:$SCRATCH/referred:img" "$(in_layout out-refused)" --profile none
[[ $RC == 1 ]] || fail "referred input: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "oci:$SCRATCH/referred:img: signature referrer $notation (application/vnd.cncf.notary.signature) of $image_digest: a rewrite invalidates it; pass --remove-signatures"     "$SCRATCH/stderr" || fail "referred input: unexpected message: $(cat "$SCRATCH/stderr")"
slim slim "oci:$SCRATCH/referred:img" "$(in_layout out-referred)" --profile none --remove-signatures >/dev/null
[[ $RC == 0 ]] || fail "referred --remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect "$(in_layout out-referred)" >/dev/null || fail "skopeo inspect rejects the referred output"
pass "signature referrer (OCI 1.1 subject): refused, then written with --remove-signatures; an SBOM referrer is no signature"

# 2c. The same layouts packed as oci-archive tars: the tag and the referrer are
#     found inside the tar, named the same way.
for layout in signed referred; do
    tar -C "$SCRATCH/$layout" -cf "$SCRATCH/$layout.tar" . || fail "fixture: cannot pack $layout"
done
slim slim "oci-archive:$SCRATCH/signed.tar:img" "$(in_layout out-refused)" --profile none
[[ $RC == 1 ]] || fail "signed oci-archive: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "oci-archive:$SCRATCH/signed.tar:img: cosign signature tag $sig_tag: a rewrite invalidates it; pass --remove-signatures" \
    "$SCRATCH/stderr" || fail "signed oci-archive: unexpected message: $(cat "$SCRATCH/stderr")"
slim slim "oci-archive:$SCRATCH/referred.tar:img" "$(in_layout out-refused)" --profile none
[[ $RC == 1 ]] || fail "referred oci-archive: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "oci-archive:$SCRATCH/referred.tar:img: signature referrer $notation (application/vnd.cncf.notary.signature) of $image_digest: a rewrite invalidates it" \
    "$SCRATCH/stderr" || fail "referred oci-archive: unexpected message: $(cat "$SCRATCH/stderr")"
[[ ! -e "$SCRATCH/out-refused" ]] || fail "a refused oci-archive run left an output"
slim slim "oci-archive:$SCRATCH/referred.tar:img" "$(in_layout out-referred-tar)" --profile none --remove-signatures \
    --report "$SCRATCH/referred-tar-report.json" >/dev/null
[[ $RC == 0 ]] || fail "referred oci-archive --remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
jq -e --arg t "signature referrer $notation (application/vnd.cncf.notary.signature) of $image_digest" \
    '.removed_signatures == [$t]' "$SCRATCH/referred-tar-report.json" >/dev/null ||
    fail "oci-archive report: $(jq -c .removed_signatures "$SCRATCH/referred-tar-report.json")"
pass "oci-archive with a .sig tag or a signature referrer: refused, then written with --remove-signatures"

# 3. The registry: app:1 and its .sig tag.
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
registry_private_home
registry_start plain "$SCRATCH/registry" || fail "cannot start the registry"
mapfile -t flags < <(registry_skopeo_flags dest)
skopeo copy -q "${flags[@]}" "oci:$SCRATCH/signed:img" "docker://$REGISTRY/app:1" >/dev/null ||
    fail "skopeo cannot push the image"
pushed=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/app:1")
reg_tag="sha256-${pushed#sha256:}.sig"
skopeo copy -q "${flags[@]}" "oci:$SCRATCH/signed:$sig_tag" "docker://$REGISTRY/app:$reg_tag" >/dev/null ||
    fail "skopeo cannot push the .sig tag"
slim slim "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:slim" --profile none --tls-verify=false
[[ $RC == 1 ]] || fail "registry signed input: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "docker://$REGISTRY/app:1: cosign signature tag $reg_tag: a rewrite invalidates it" "$SCRATCH/stderr" ||
    fail "registry signed input: unexpected message: $(cat "$SCRATCH/stderr")"
slim slim "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:slim" --profile none --tls-verify=false --remove-signatures
[[ $RC == 0 ]] || fail "registry --remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect --tls-verify=false --raw "docker://$REGISTRY/app:slim" >"$SCRATCH/slim-manifest.json" ||
    fail "skopeo cannot read app:slim"
jq -e --arg n "$REGISTRY/app" --arg d "$pushed" '.annotations["org.opencontainers.image.base.name"] == $n and
    .annotations["org.opencontainers.image.base.digest"] == $d' "$SCRATCH/slim-manifest.json" >/dev/null ||
    fail "app:slim does not name its base: $(jq -c .annotations "$SCRATCH/slim-manifest.json")"
pass "registry .sig tag: refused, then written with --remove-signatures"

# 4. A registry without the referrers API (docker-registry 2.8: 404) holds a
#    notation signature of app2:1 under the referrers tag schema (sha256-<hex>).
skopeo copy -q "${flags[@]}" "oci:$SCRATCH/signed:img" "docker://$REGISTRY/app2:1" >/dev/null ||
    fail "skopeo cannot push app2:1"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://$REGISTRY/v2/app2/referrers/$pushed") == 404 ]] ||
    fail "fixture: the registry answers the referrers API; this half tests the tag fallback"
empty=sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
loc=$(curl -s -D - -o /dev/null -X POST "http://$REGISTRY/v2/app2/blobs/uploads/" | tr -d '\r' |
      awk -F': ' 'tolower($1) == "location" {print $2}')
[[ $loc == http* ]] || loc="http://$REGISTRY$loc"
sep='?'; [[ $loc == *\?* ]] && sep='&'
printf '{}' | curl -sf -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary @- \
    "$loc${sep}digest=$empty" || fail "fixture: cannot upload the empty blob"
jq -n --arg d "$pushed" --arg e "$empty" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    artifactType: "application/vnd.cncf.notary.signature",
    config: {mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2},
    layers: [{mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2}],
    subject: {mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: 100}}' >"$SCRATCH/reg-sig"
reg_sig="sha256:$(sha256sum "$SCRATCH/reg-sig" | cut -d' ' -f1)"
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary @"$SCRATCH/reg-sig" "http://$REGISTRY/v2/app2/manifests/$reg_sig" || fail "fixture: cannot push the signature"
jq -n --arg d "$reg_sig" --argjson s "$(stat -c %s "$SCRATCH/reg-sig")" '{schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: $d, size: $s, artifactType: "application/vnd.cncf.notary.signature"}]}' >"$SCRATCH/reg-referrers"
curl -sf -o /dev/null -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
    --data-binary @"$SCRATCH/reg-referrers" "http://$REGISTRY/v2/app2/manifests/sha256-${pushed#sha256:}" ||
    fail "fixture: cannot push the referrers tag"
slim slim "docker://$REGISTRY/app2:1" "docker://$REGISTRY/app2:slim" --profile none --tls-verify=false
[[ $RC == 1 ]] || fail "registry referrer: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "docker://$REGISTRY/app2:1: signature referrer $reg_sig (application/vnd.cncf.notary.signature) of $pushed: a rewrite invalidates it" \
    "$SCRATCH/stderr" || fail "registry referrer: unexpected message: $(cat "$SCRATCH/stderr")"
slim slim "docker://$REGISTRY/app2:1" "docker://$REGISTRY/app2:slim" --profile none --tls-verify=false --remove-signatures
[[ $RC == 0 ]] || fail "registry referrer --remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect --tls-verify=false "docker://$REGISTRY/app2:slim" >/dev/null || fail "skopeo cannot read app2:slim"
pass "registry referrers tag schema (no referrers API): refused, then written with --remove-signatures"
