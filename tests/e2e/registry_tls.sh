#!/usr/bin/env bash
# registry_tls: a registry serving TLS with a certificate from a CA made here.
# --ca-file verifies it; without the CA the run fails naming the fix;
# --tls-verify=false connects anyway.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
need_slimage; need docker-registry openssl skopeo jq python3 curl
scratch
registry_private_home
registry_start tls "$SCRATCH/registry" || fail "cannot start the registry"
registry_push_sample "$SCRATCH/sample" 1 || fail "skopeo could not push the sample"

slim slim "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:slim" --profile none --ca-file "$REGISTRY_CA"
[[ $RC == 0 ]] || fail "slim with --ca-file exited $RC: $(cat "$SCRATCH/stderr")"
curl -sf --cacert "$REGISTRY_CA" "https://$REGISTRY/v2/app/tags/list" | jq -e '.tags | index("slim")' >/dev/null ||
    fail "app:slim was not pushed over TLS"
pass "--ca-file verifies the registry"

slim inspect "docker://$REGISTRY/app:slim"
[[ $RC != 0 ]] || fail "an unverifiable certificate was accepted"
grep -q "SSL certificate problem.*--ca-file" "$SCRATCH/stderr" ||
    fail "unverifiable TLS: unexpected message: $(cat "$SCRATCH/stderr")"
pass "an unknown CA is a clear error"

slim inspect "docker://$REGISTRY/app:slim" --tls-verify=false -q
[[ $RC == 0 ]] || fail "--tls-verify=false exited $RC: $(cat "$SCRATCH/stderr")"
pass "--tls-verify=false connects without verifying"
