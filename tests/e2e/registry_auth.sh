#!/usr/bin/env bash
# registry_auth: a registry behind htpasswd basic auth. --creds and --authfile
# (docker config.json "auths") both work; wrong or missing credentials are a
# clear error, and no password ever appears in the output.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
need_slimage; need docker-registry htpasswd skopeo jq python3 curl base64
scratch
registry_private_home
registry_start htpasswd "$SCRATCH/registry" || fail "cannot start the registry"
registry_push_sample "$SCRATCH/sample" 1 || fail "skopeo could not push the sample"
SECRET=${REGISTRY_CREDS#*:}

slim slim "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:slim" --profile none \
    --tls-verify=false --creds "$REGISTRY_CREDS"
[[ $RC == 0 ]] || fail "slim with --creds exited $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect --tls-verify=false --creds "$REGISTRY_CREDS" "docker://$REGISTRY/app:slim" >/dev/null ||
    fail "skopeo cannot read what slim pushed"
pass "--creds pulls and pushes"

printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REGISTRY" \
    "$(printf '%s' "$REGISTRY_CREDS" | base64 -w0)" >"$SCRATCH/auth.json"
slim inspect "docker://$REGISTRY/app:slim" --tls-verify=false --authfile "$SCRATCH/auth.json" -q
[[ $RC == 0 ]] || fail "inspect with --authfile exited $RC: $(cat "$SCRATCH/stderr")"
mkdir -p "$DOCKER_CONFIG" && cp "$SCRATCH/auth.json" "$DOCKER_CONFIG/config.json"
slim inspect "docker://$REGISTRY/app:slim" --tls-verify=false -q
[[ $RC == 0 ]] || fail "inspect with \$DOCKER_CONFIG/config.json exited $RC: $(cat "$SCRATCH/stderr")"
rm "$DOCKER_CONFIG/config.json"
pass "--authfile and docker's config.json are read"

slim inspect "docker://$REGISTRY/app:1" --tls-verify=false --creds "slimuser:wrong-$SECRET"
[[ $RC != 0 ]] || fail "wrong credentials were accepted"
grep -q "unauthorized.*credentials for $REGISTRY were rejected" "$SCRATCH/stderr" ||
    fail "wrong credentials: unexpected message: $(cat "$SCRATCH/stderr")"
grep -qF -- "$SECRET" "$SCRATCH/stderr" && fail "the password appears in the error"
pass "wrong credentials are a clear error"

slim inspect "docker://$REGISTRY/app:1" --tls-verify=false
[[ $RC != 0 ]] || fail "no credentials were accepted"
grep -q "no credentials for $REGISTRY" "$SCRATCH/stderr" ||
    fail "missing credentials: unexpected message: $(cat "$SCRATCH/stderr")"
pass "missing credentials are a clear error"

echo '{"credHelpers": {"'"$REGISTRY"'": "secretservice"}}' >"$SCRATCH/helpers.json"
slim inspect "docker://$REGISTRY/app:1" --tls-verify=false --authfile "$SCRATCH/helpers.json"
[[ $RC != 0 ]] || fail "a credential helper config was accepted"
grep -q "credential helpers are not supported" "$SCRATCH/stderr" ||
    fail "credHelpers: unexpected message: $(cat "$SCRATCH/stderr")"
pass "credential helpers are refused by name"
