#!/usr/bin/env bash
# registry_side_flags: skopeo's per-side flags. The source is a plain-HTTP
# registry, the destination a TLS one behind htpasswd; --src-tls-verify,
# --dest-cert-dir, --dest-creds and --dest-authfile each reach only their side,
# and a per-side flag wins over the shared one. Plain HTTP is spoken only when
# asked (--tls-verify=false or the side's own flag), even to 127.0.0.1.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
need_slimage; need docker-registry htpasswd skopeo jq python3 curl openssl base64
scratch
registry_private_home
registry_start plain "$SCRATCH/plain" || fail "cannot start the plain registry"
registry_push_sample "$SCRATCH/sample" 1 || fail "skopeo could not push the sample"
PLAIN=$REGISTRY
registry_start tls-htpasswd "$SCRATCH/tls" || fail "cannot start the TLS registry"
TLS=$REGISTRY; CREDS=$REGISTRY_CREDS
mkdir -p "$SCRATCH/certs" && cp "$REGISTRY_CA" "$SCRATCH/certs/ca.crt"

# Plain HTTP to loopback is not spoken unasked.
slim inspect "docker://$PLAIN/app:1" -q
[[ $RC == 1 ]] || fail "inspect of a plain-HTTP registry without --tls-verify=false exited $RC, want 1"
grep -q "^slimage: error: docker://$PLAIN/app:1: .*(a plain-HTTP registry? pass --tls-verify=false)$" "$SCRATCH/stderr" ||
    fail "plain HTTP unasked: $(cat "$SCRATCH/stderr")"
slim inspect "docker://$PLAIN/app:1" -q --tls-verify=false --json
[[ $RC == 0 ]] || fail "inspect with --tls-verify=false exited $RC: $(cat "$SCRATCH/stderr")"
pass "plain HTTP only with --tls-verify=false"

# Each side its own flags.
slim slim "docker://$PLAIN/app:1" "docker://$TLS/app:slim" --profile none -q \
    --src-tls-verify=false --dest-cert-dir "$SCRATCH/certs" --dest-creds "$CREDS"
[[ $RC == 0 ]] || fail "slim with --src-tls-verify/--dest-cert-dir/--dest-creds exited $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect --tls-verify=false --creds "$CREDS" "docker://$TLS/app:slim" >/dev/null ||
    fail "skopeo cannot read what slim pushed"
pass "--src-tls-verify, --dest-cert-dir and --dest-creds reach their side"

printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$TLS" "$(printf '%s' "$CREDS" | base64 -w0)" >"$SCRATCH/auth.json"
slim slim "docker://$PLAIN/app:1" "docker://$TLS/app:slim2" --profile none -q \
    --tls-verify=false --dest-authfile "$SCRATCH/auth.json"
[[ $RC == 0 ]] || fail "slim with --dest-authfile exited $RC: $(cat "$SCRATCH/stderr")"
pass "--dest-authfile reaches the destination"

# A per-side flag wins over the shared one.
slim slim "docker://$PLAIN/app:1" "docker://$TLS/app:slim3" --profile none -q \
    --tls-verify=false --dest-tls-verify=true --dest-creds "$CREDS"
[[ $RC == 1 ]] || fail "--dest-tls-verify=true over --tls-verify=false exited $RC, want 1"
grep -q "^slimage: error: docker://$TLS/app:slim3: .*SSL certificate problem.*pass --ca-file, or --tls-verify=false)$" "$SCRATCH/stderr" ||
    fail "--dest-tls-verify=true did not verify the destination: $(cat "$SCRATCH/stderr")"
slim slim "docker://$PLAIN/app:1" "docker://$TLS/app:slim4" --profile none -q \
    --tls-verify=false --creds "$CREDS" --dest-creds "slimuser:wrong"
[[ $RC == 1 ]] || fail "--dest-creds (wrong) over --creds (right) exited $RC, want 1"
grep -q "^slimage: error: docker://$TLS/app:slim4: .*401" "$SCRATCH/stderr" ||
    fail "--dest-creds did not replace --creds: $(cat "$SCRATCH/stderr")"
! grep -q "w0rd" "$SCRATCH/stderr" || fail "a password appears in the output"
skopeo inspect --tls-verify=false --creds "$CREDS" "docker://$TLS/app:slim4" >/dev/null 2>&1 &&
    fail "a refused push left a tag behind"
pass "a per-side flag wins over the shared one"
