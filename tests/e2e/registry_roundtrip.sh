#!/usr/bin/env bash
# registry_roundtrip: the docker:// Source and Sink against a live registry,
# without the CLI — runs unit_registry's live cases (tests/unit/
# registry_roundtrip_test.cpp: push an index, pull it back byte for byte,
# chunked upload, cross-repo mount, registry errors, wrong credentials) against
# docker-registry served plain, with htpasswd basic auth, and over TLS
# (verified with the test's own CA, and unverified).
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
UNIT=${BUILD_DIR:-}/unit_tests  # every unit test; the live cases are selected by name
[[ -x "$UNIT" ]] || skip "$UNIT is not built"
need docker-registry htpasswd openssl curl python3
scratch
# Never read the developer's own registry credentials.
registry_private_home

run_mode() {  # MODE [VAR=VALUE…]
    local mode=$1; shift
    registry_start "$mode" "$SCRATCH/$mode" || fail "cannot start the $mode registry"
    # The Bearer case has its own script; the credentials case needs a registry that asks for them.
    local exclude=live-bearer
    [[ -n "$REGISTRY_CREDS" ]] || exclude+=",live-registry-auth"
    env SLIMAGE_TEST_REGISTRY="$REGISTRY" SLIMAGE_TEST_REGISTRY_CREDS="$REGISTRY_CREDS" "$@" \
        "$UNIT" --test-case='registry: *' --test-suite-exclude="$exclude" --no-intro=true \
        >"$SCRATCH/$mode.out" 2>&1 ||
        fail "$mode registry: $(cat "$SCRATCH/$mode.out")"
    # The live cases really ran: the registry now holds the tag they pushed.
    [[ -d "$SCRATCH/$mode/storage/docker/registry/v2/repositories/roundtrip/app/_manifests/tags/1" ]] ||
        fail "$mode registry: nothing was pushed"
    pass "$mode registry"
}

run_mode plain SLIMAGE_TEST_REGISTRY_TLS_VERIFY=0  # plain HTTP only when asked, as skopeo
run_mode htpasswd SLIMAGE_TEST_REGISTRY_TLS_VERIFY=0
run_mode tls SLIMAGE_TEST_REGISTRY_CA="$SCRATCH/tls/ca.pem"
run_mode tls-htpasswd SLIMAGE_TEST_REGISTRY_TLS_VERIFY=0

# Verifying TLS without the CA must fail, naming the fix; never showing secrets.
env SLIMAGE_TEST_REGISTRY="$REGISTRY" SLIMAGE_TEST_REGISTRY_CREDS="$REGISTRY_CREDS" \
    "$UNIT" --test-case='registry: a missing tag*' >"$SCRATCH/noca.out" 2>&1 || true
grep -q "SSL certificate problem.*pass --ca-file, or --tls-verify=false" "$SCRATCH/noca.out" ||
    fail "expected a TLS verification error naming --ca-file: $(cat "$SCRATCH/noca.out")"
! grep -q "w0rd" "$SCRATCH"/*.out || fail "a password appears in the output"
pass "unverifiable TLS is a clear error"
