#!/usr/bin/env bash
# runtime_plugins: plugins loaded through the image's own config survive a
# `--profile runtime` slim — an NSS module named in etc/nsswitch.conf
# (libnss-myhostname, from Debian), gconv modules from gconv-modules (iconv
# latin1 -> utf-16) and OpenSSL's legacy provider activated in openssl.cnf —
# and each check FAILS when the family is removed from the profile
# ("config_plugins": false, and "plugin_dirs": false for the two whose modules
# lie outside the loader's dirs), so the checks can fail.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 debootstrap zstd gcc dpkg-deb openssl iconv od
scratch

small_sample; sample=$SAMPLE

# libnss-myhostname from Debian (cached; needs the network once).
debs="$(slimage_cache_dir)/debs"
mkdir -p "$debs"
deb=$(ls "$debs"/libnss-myhostname_*.deb 2>/dev/null | head -1 || true)
if [[ -z "$deb" ]]; then
    (cd "$debs" && apt-get download libnss-myhostname >/dev/null 2>&1) || skip "cannot download libnss-myhostname"
    deb=$(ls "$debs"/libnss-myhostname_*.deb | head -1)
fi

# The plugin layer: the NSS module and an nsswitch.conf that only it can answer
# hosts from, the host's (bookworm) openssl with its libraries and legacy
# provider, and an openssl.cnf activating that provider.
layer="$SCRATCH/plugins"
dpkg-deb -x "$deb" "$layer"
mkdir -p "$layer/etc/ssl" "$layer/usr/bin" "$layer/usr/lib/x86_64-linux-gnu/ossl-modules"
printf 'passwd: files\ngroup: files\nshadow: files\nhosts: myhostname\n' >"$layer/etc/nsswitch.conf"
cp -L /usr/bin/openssl "$layer/usr/bin/openssl"
for lib in libssl.so.3 libcrypto.so.3 ossl-modules/legacy.so; do
    cp -L "/usr/lib/x86_64-linux-gnu/$lib" "$layer/usr/lib/x86_64-linux-gnu/$lib"
done
mkdir -p "$layer/usr/lib/ssl"  # OPENSSLDIR, as Debian's openssl package lays it out
ln -s ../../../etc/ssl/openssl.cnf "$layer/usr/lib/ssl/openssl.cnf"
cat >"$layer/etc/ssl/openssl.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
CNF
python3 "$REPO_ROOT/fixtures/runtime/append-layer.py" "$sample" sample "$SCRATCH/in" "$layer"

# Each check prints why it failed and returns 1.
want_utf16=$(printf 'caf\xe9' | iconv -f latin1 -t utf-16 | od -An -tx1 | tr -d ' \n')
checks() {
    local root="$1" out bad=0
    out=$(run_in_root "$root" getent hosts "$(hostname)" 2>&1) ||
        { echo "getent hosts (NSS myhostname) failed: $out" >&2; bad=1; }
    out=$(printf 'caf\xe9' | run_in_root "$root" iconv -f latin1 -t utf-16 2>&1 | od -An -tx1 | tr -d ' \n')
    [[ "$out" == "$want_utf16" ]] || { echo "iconv latin1 -> utf-16 (gconv) gave [$out]" >&2; bad=1; }
    out=$(run_in_root "$root" openssl list -providers 2>&1 || true)
    grep -q 'legacy' <<<"$out" || { echo "openssl legacy provider not loaded: $out" >&2; bad=1; }
    return $bad
}
failures() {  # how many of the three checks fail
    local root="$1" n=0 out
    run_in_root "$root" getent hosts "$(hostname)" >/dev/null 2>&1 || n=$((n + 1))
    out=$(printf 'caf\xe9' | run_in_root "$root" iconv -f latin1 -t utf-16 2>/dev/null | od -An -tx1 | tr -d ' \n')
    [[ "$out" == "$want_utf16" ]] || n=$((n + 1))
    run_in_root "$root" openssl list -providers 2>&1 | grep -q legacy || n=$((n + 1))
    echo $n
}

slim slim "oci:$SCRATCH/in:sample" "$(in_layout rt)" --profile runtime --report "$SCRATCH/rt.json"
[[ $RC == 0 ]] || fail "runtime slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
unpack_image "$(in_layout rt)" "$SCRATCH/u-rt"
checks "$SCRATCH/u-rt/rootfs" || fail "a config plugin is broken after a runtime slim"
"$SLIMAGE" why "oci:$SCRATCH/in:sample" --profile runtime usr/lib/x86_64-linux-gnu/libnss_myhostname.so.2 \
    >"$SCRATCH/why.txt" 2>/dev/null || true
grep -q 'config plugin.*etc/nsswitch.conf:4 hosts: myhostname' "$SCRATCH/why.txt" ||
    fail "why does not name the nsswitch.conf line: $(cat "$SCRATCH/why.txt")"
jq -e '.removed["unreachable-library"].bytes > 0' "$SCRATCH/rt.json" >/dev/null ||
    fail "runtime removed no unreachable library: $(jq -c .removed "$SCRATCH/rt.json")"

# The config families off: the gconv and OpenSSL modules lie outside the loader's dirs
# (gconv/, ossl-modules/), so the plugin-dir rule still keeps them; the NSS module lies
# in the multiarch dir and goes. Both rules off: every check must fail.
printf '{"extends": "runtime", "config_plugins": false}\n' >"$SCRATCH/noconf.json"
slim slim "oci:$SCRATCH/in:sample" "$(in_layout noconf)" --profile "$SCRATCH/noconf.json"
[[ $RC == 0 ]] || fail "config_plugins=false slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
unpack_image "$(in_layout noconf)" "$SCRATCH/u-noconf"
n=$(failures "$SCRATCH/u-noconf/rootfs")
[[ $n == 1 ]] || fail "with config_plugins false $n of 3 plugin checks fail, want 1 (NSS)"
"$SLIMAGE" why "oci:$SCRATCH/in:sample" --profile "$SCRATCH/noconf.json" \
    usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so >"$SCRATCH/why-dir.txt" 2>/dev/null || true
grep -q 'root usr/lib/x86_64-linux-gnu/ossl-modules/legacy.so \[plugin dir\] usr/lib/x86_64-linux-gnu/ossl-modules is not a dir the loader searches by name' \
    "$SCRATCH/why-dir.txt" || fail "why does not name the plugin dir: $(cat "$SCRATCH/why-dir.txt")"
printf '{"extends": "runtime", "config_plugins": false, "plugin_dirs": false}\n' >"$SCRATCH/off.json"
slim slim "oci:$SCRATCH/in:sample" "$(in_layout off)" --profile "$SCRATCH/off.json"
[[ $RC == 0 ]] || fail "config_plugins=false plugin_dirs=false slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
unpack_image "$(in_layout off)" "$SCRATCH/u-off"
n=$(failures "$SCRATCH/u-off/rootfs")
[[ $n == 3 ]] || fail "with config_plugins and plugin_dirs false only $n of 3 plugin checks fail (NSS, gconv, OpenSSL)"
pass "NSS, gconv and OpenSSL plugins survive runtime; gconv and OpenSSL by their dirs too; all 3 break with both off"
