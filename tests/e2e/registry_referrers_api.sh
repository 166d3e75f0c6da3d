#!/usr/bin/env bash
# registry_referrers_api: against a registry that HAS the OCI 1.1 referrers API
# (fixtures/registry/fake_referrers_registry.py: it answers a manifest with a
# subject with `OCI-Subject` and lists referrers under /v2/NAME/referrers/DIGEST;
# Debian's docker-registry 2.8 has neither, sbom_referrer.sh tests that fallback):
#  1. `slim --sbom F --sbom-attach` to docker:// pushes the SBOM referrer, the
#     referrers API lists it, its layer is F byte for byte, and no referrers tag
#     (sha256-<hex>) is written: the registry keeps the list itself;
#  2. re-slimming that image: the SBOM referrer is not a signature, so no refusal;
#  3. a notation signature pushed as a referrer of the image, found only through
#     the referrers API: slim refuses without --remove-signatures, naming it, and
#     writes nothing; with --remove-signatures it writes the image and says so.
source "$(dirname "$0")/lib.sh"
need_slimage; need jq python3 curl skopeo
scratch

root="$SCRATCH/root"
make_dpkg_root "$root"
make_layout_from_dirs "$SCRATCH/in" img "$root"
drop=(--profile none --drop '/junk/**' --force)

start_fixture_server "$REPO_ROOT/fixtures/registry/fake_referrers_registry.py"
REG=127.0.0.1:$SERVER_PORT
index='application/vnd.oci.image.index.v1+json'
manifest='application/vnd.oci.image.manifest.v1+json'

# 1. The SBOM referrer, through the API.
slim slim "$(in_layout in)" "docker://$REG/app:slim" "${drop[@]}" --tls-verify=false \
    --sbom "$SCRATCH/reg.spdx.json" --sbom-attach >/dev/null
[[ $RC == 0 ]] || fail "docker:// --sbom-attach exited $RC: $(tail -5 "$SCRATCH/stderr")"
pushed=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/app:slim") ||
    fail "skopeo cannot read the pushed image"
curl -sf -H "Accept: $index" "http://$REG/v2/app/referrers/$pushed" >"$SCRATCH/referrers.json" ||
    fail "the referrers API does not answer for $pushed"
jq -e --arg m "$manifest" '.mediaType == "application/vnd.oci.image.index.v1+json" and (.manifests | length) == 1
    and .manifests[0].artifactType == "application/spdx+json" and .manifests[0].mediaType == $m' \
    "$SCRATCH/referrers.json" >/dev/null || fail "referrers API: $(cat "$SCRATCH/referrers.json")"
ref=$(jq -r '.manifests[0].digest' "$SCRATCH/referrers.json")
curl -sf -H "Accept: $manifest" "http://$REG/v2/app/manifests/$ref" >"$SCRATCH/ref.json" || fail "cannot read $ref"
jq -e --arg s "$pushed" '.subject.digest == $s' "$SCRATCH/ref.json" >/dev/null || fail "referrer: $(cat "$SCRATCH/ref.json")"
curl -sf "http://$REG/v2/app/blobs/$(jq -r '.layers[0].digest' "$SCRATCH/ref.json")" >"$SCRATCH/reg-blob" ||
    fail "cannot read the SBOM blob"
cmp -s "$SCRATCH/reg.spdx.json" "$SCRATCH/reg-blob" || fail "the SBOM in the registry differs from the --sbom file"
tags=$(grep -ac "^PUT-MANIFEST app sha256-" "$SCRATCH/server.log" || true)
[[ $tags == 0 ]] || fail "a referrers tag was written though the registry answered OCI-Subject: $(grep -a PUT-MANIFEST "$SCRATCH/server.log")"
grep -aq "^PUT-MANIFEST app $ref\$" "$SCRATCH/server.log" || fail "the referrer was not pushed by digest: $(grep -a PUT-MANIFEST "$SCRATCH/server.log")"
pass "the referrers API lists the SBOM referrer; its blob is the --sbom file; no referrers tag written"

# 2. An SBOM referrer signs nothing: re-slimming is not refused.
slim slim "docker://$REG/app:slim" "$(in_layout back)" --profile none --tls-verify=false >/dev/null
[[ $RC == 0 ]] || fail "re-slimming the attached image: exit $RC: $(cat "$SCRATCH/stderr")"
pass "an SBOM referrer is not taken for a signature"

# 3. A notation signature, as a referrer only the API shows.
push_blob() {  # push_blob FILE -> digest
    local d loc
    d="sha256:$(sha256sum <"$1" | cut -d' ' -f1)"
    loc=$(curl -sf -X POST -D - -o /dev/null "http://$REG/v2/app/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
    curl -sf -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" \
        "http://$REG$loc?digest=$d" -o /dev/null || fail "cannot push blob $1"
    echo "$d"
}
printf '{}' >"$SCRATCH/empty"
echo 'not really a signature' >"$SCRATCH/sig"
empty=$(push_blob "$SCRATCH/empty")
sig=$(push_blob "$SCRATCH/sig")
size=$(curl -sf -H "Accept: $manifest" "http://$REG/v2/app/manifests/$pushed" | wc -c)
jq -nc --arg e "$empty" --arg s "$sig" --arg p "$pushed" --argjson n "$size" --arg m "$manifest" '{
    schemaVersion: 2, mediaType: $m, artifactType: "application/vnd.cncf.notary.signature",
    config: {mediaType: "application/vnd.oci.empty.v1+json", digest: $e, size: 2},
    layers: [{mediaType: "application/jose+json", digest: $s, size: 23}],
    subject: {mediaType: $m, digest: $p, size: $n}}' | tr -d '\n' >"$SCRATCH/sig.json"
sigm="sha256:$(sha256sum <"$SCRATCH/sig.json" | cut -d' ' -f1)"
curl -sf -X PUT -H "Content-Type: $manifest" --data-binary "@$SCRATCH/sig.json" \
    "http://$REG/v2/app/manifests/$sigm" -o /dev/null || fail "cannot push the signature manifest"
slim slim "docker://$REG/app:slim" "$(in_layout signed)" --profile none --tls-verify=false >/dev/null
[[ $RC == 1 ]] || fail "a signed image was slimmed: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qF "signature referrer $sigm (application/vnd.cncf.notary.signature) of $pushed" "$SCRATCH/stderr" ||
    fail "the refusal does not name the signature: $(cat "$SCRATCH/stderr")"
grep -qF -- "--remove-signatures" "$SCRATCH/stderr" || fail "the refusal does not name --remove-signatures"
[[ ! -e "$SCRATCH/signed" ]] || fail "a refused slim wrote $SCRATCH/signed"
slim slim "docker://$REG/app:slim" "$(in_layout signed)" --profile none --tls-verify=false --remove-signatures >/dev/null
[[ $RC == 0 ]] || fail "--remove-signatures: exit $RC: $(cat "$SCRATCH/stderr")"
[[ -s "$SCRATCH/signed/index.json" ]] || fail "--remove-signatures wrote no image"
pass "a signature only the referrers API shows is refused, then removed with --remove-signatures"
