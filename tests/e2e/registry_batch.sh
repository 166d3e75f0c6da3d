#!/usr/bin/env bash
# registry_batch: `slimage batch --from docker://HOST/app --to docker://HOST/app-slim
# --all-tags` against a loopback docker-registry: every tag of app (listed with
# GET /v2/app/tags/list) is slimmed to the same tag of app-slim; the slimmed
# images are readable by skopeo and hold the same tree minus what was dropped.
source "$(dirname "$0")/lib.sh"
source "$REPO_ROOT/fixtures/registry/registry_lib.sh"
need_slimage; need docker-registry skopeo jq python3 curl
scratch
registry_private_home
registry_start plain "$SCRATCH/registry" || fail "cannot start the registry"
registry_push_sample "$SCRATCH/sample" 1 || fail "skopeo could not push the sample"
skopeo copy -q --src-tls-verify=false --dest-tls-verify=false \
    "docker://$REGISTRY/app:1" "docker://$REGISTRY/app:two" >/dev/null || fail "skopeo could not add a tag"

slim batch --from "docker://$REGISTRY/app" --to "docker://$REGISTRY/app-slim" --all-tags \
    --tls-verify=false --cache "$SCRATCH/cache" --report "$SCRATCH/r.json" >"$SCRATCH/table"
[[ $RC == 0 ]] || fail "batch exited $RC: $(cat "$SCRATCH/stderr")"
jq -e '.totals.images == 2 and .totals.ok == 2' "$SCRATCH/r.json" >/dev/null ||
    fail "report: $(jq -c '.totals' "$SCRATCH/r.json")"
jq -r '.images[].destination' "$SCRATCH/r.json" | sort >"$SCRATCH/dests"
printf 'docker://%s/app-slim:1\ndocker://%s/app-slim:two\n' "$REGISTRY" "$REGISTRY" | sort >"$SCRATCH/want"
diff "$SCRATCH/want" "$SCRATCH/dests" >/dev/null || fail "destinations: $(cat "$SCRATCH/dests")"
# Both tags are the same image: its layers were decoded once.
jq -e '.totals.layers_decoded == 2 and .totals.layers_decode_shared == 2' "$SCRATCH/r.json" >/dev/null ||
    fail "layers decoded: $(jq -c '.totals' "$SCRATCH/r.json")"
pass "--all-tags slims each tag of app to the same tag of app-slim"

skopeo list-tags --tls-verify=false "docker://$REGISTRY/app-slim" | jq -r '.Tags[]' | sort >"$SCRATCH/tags"
[[ $(cat "$SCRATCH/tags") == $'1\ntwo' ]] || fail "app-slim tags: $(cat "$SCRATCH/tags")"
for tag in 1 two; do
    skopeo inspect --tls-verify=false "docker://$REGISTRY/app-slim:$tag" >"$SCRATCH/inspect-$tag.json" ||
        fail "skopeo cannot read app-slim:$tag"
    jq -e '.Layers | length >= 1' "$SCRATCH/inspect-$tag.json" >/dev/null || fail "app-slim:$tag has no layers"
done
[[ $(jq -r .Digest "$SCRATCH/inspect-1.json") == $(jq -r .Digest "$SCRATCH/inspect-two.json") ]] ||
    fail "the same image under two tags slimmed to two digests"
pass "both tags exist in app-slim, with the same digest"

slim batch --from "docker://$REGISTRY/no-such-repo" --to "docker://$REGISTRY/x" --all-tags --tls-verify=false --no-cache
[[ $RC != 0 ]] || fail "--all-tags of a missing repository succeeded"
grep -q "list tags" "$SCRATCH/stderr" || fail "missing repository: unexpected message: $(cat "$SCRATCH/stderr")"
slim batch --from "docker://$REGISTRY/app:1" --to "docker://$REGISTRY/x" --all-tags --tls-verify=false --no-cache
[[ $RC != 0 ]] && grep -q "without a tag" "$SCRATCH/stderr" || fail "--from with a tag accepted: $(cat "$SCRATCH/stderr")"
pass "a missing repository and a tagged --from are errors"
