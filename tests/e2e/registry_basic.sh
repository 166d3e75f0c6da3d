#!/usr/bin/env bash
# registry_basic: docker:// in and out of a plain-http registry on 127.0.0.1.
# skopeo pushes a two-layer image; `slimage inspect` reads it from the registry;
# `slimage slim --profile none` writes app:slim back; skopeo pulls it and it
# unpacks to the very same tree. A missing tag is the registry's own error.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
need_slimage; need_root; need docker-registry skopeo umoci jq python3 curl
scratch
registry_private_home
registry_start plain "$SCRATCH/registry" || fail "cannot start the registry"
registry_push_sample "$SCRATCH/sample" 1 || fail "skopeo could not push the sample"

slim inspect "docker://$REGISTRY/app:1" --tls-verify=false --json >"$SCRATCH/inspect.json"
[[ $RC == 0 ]] || fail "inspect exited $RC: $(cat "$SCRATCH/stderr")"
jq -e '.layers | length == 2' "$SCRATCH/inspect.json" >/dev/null ||
    fail "inspect does not show two layers: $(cat "$SCRATCH/inspect.json")"
jq -e '.files >= 3' "$SCRATCH/inspect.json" >/dev/null || fail "inspect lists too few files"
pass "inspect reads the image from the registry"

slim slim "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:slim" --profile none --tls-verify=false
[[ $RC == 0 ]] || fail "slim exited $RC: $(cat "$SCRATCH/stderr")"
skopeo inspect --tls-verify=false "docker://$REGISTRY/app:slim" >"$SCRATCH/skopeo.json" ||
    fail "skopeo cannot read the pushed image"
jq -e '.Layers | length >= 1' "$SCRATCH/skopeo.json" >/dev/null || fail "pushed image has no layers"
skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/app:slim" "oci:$SCRATCH/back:img" ||
    fail "skopeo cannot pull the pushed image"
unpack_image "oci:$SCRATCH/sample/layout:img" "$SCRATCH/in.bundle"
unpack_image "oci:$SCRATCH/back:img" "$SCRATCH/out.bundle"
diff <(tree_manifest "$SCRATCH/in.bundle/rootfs") <(tree_manifest "$SCRATCH/out.bundle/rootfs") ||
    fail "the image pulled back differs from the one pushed"
pass "slim docker:// -> docker:// round-trips the tree"

# Determinism across the registry: a second run publishes the same digest.
first=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/app:slim")
slim slim "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:slim2" --profile none --tls-verify=false
[[ $RC == 0 ]] || fail "second slim exited $RC: $(cat "$SCRATCH/stderr")"
second=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/app:slim2")
[[ "$first" == "$second" ]] || fail "two runs pushed different digests: $first vs $second"
pass "same input, same pushed digest"

slim inspect "docker://$REGISTRY/app:no-such-tag" --tls-verify=false
[[ $RC != 0 ]] || fail "inspect of a missing tag succeeded"
grep -q "docker://$REGISTRY/app:no-such-tag: manifest unknown: manifest unknown" "$SCRATCH/stderr" ||
    fail "missing tag: unexpected message: $(cat "$SCRATCH/stderr")"
pass "a missing tag is the registry's error"
