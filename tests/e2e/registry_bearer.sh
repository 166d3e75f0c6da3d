#!/usr/bin/env bash
# registry_bearer: Bearer-token auth and a blob redirect to another host, which
# docker-registry alone cannot serve: fixtures/registry/fake_token_registry.py
# serves an OCI layout behind a token realm, and its "storage" refuses any
# Authorization header. unit_registry's live case pulls every blob through it.
source "$(dirname "$0")/lib.sh"
UNIT=${BUILD_DIR:-}/unit_tests  # every unit test; the live cases are selected by name
[[ -x "$UNIT" ]] || skip "$UNIT is not built"
need python3
scratch
export HOME=$SCRATCH/home DOCKER_CONFIG=$SCRATCH/home/.docker XDG_RUNTIME_DIR=$SCRATCH/run
mkdir -p "$XDG_RUNTIME_DIR"
unset REGISTRY_AUTH_FILE

mkdir -p "$SCRATCH/l1/etc"
echo "hello" >"$SCRATCH/l1/etc/motd"
printf '[{"path": "etc/issue", "data": "bearer\\n"}]' >"$SCRATCH/l2.json"
make_layout_from_dirs "$SCRATCH/layout" img "$SCRATCH/l1" "$SCRATCH/l2.json"

start_fixture_server "$REPO_ROOT/fixtures/registry/fake_token_registry.py" "$SCRATCH/layout" 'tok user:s3cr:et'

SLIMAGE_TEST_BEARER_REGISTRY=127.0.0.1:$SERVER_PORT SLIMAGE_TEST_BEARER_CREDS='tok user:s3cr:et' \
    "$UNIT" --test-case='*Bearer*' --no-intro=true >"$SCRATCH/unit.out" 2>&1 ||
    fail "$(cat "$SCRATCH/unit.out")"
grep -q '"GET /token?service=fake&scope=repository%3Aapp%3Apull' "$SCRATCH/server.log" ||
    fail "no token was requested: $(cat "$SCRATCH/server.log")"
grep -q '"GET /storage/' "$SCRATCH/server.log" || fail "no blob came through the redirect"
grep -q 'leaked' "$SCRATCH/unit.out" && fail "Authorization followed the redirect to storage"
pass "Bearer token fetched, blobs pulled through a cross-host redirect without credentials"
