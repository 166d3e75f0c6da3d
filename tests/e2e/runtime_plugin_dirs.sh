#!/usr/bin/env bash
# runtime_plugin_dirs: `--profile runtime` keeps the shared libraries that lie outside
# every dir the loader searches by name — plugins a program opens by full path after
# scanning their directory, which no walk of DT_NEEDED, dlopen families or strings sees
# (ImageMagick's coders, sudo's sudoers.so, libjvm.so, Lua and Ruby modules) — and what
# they need. A layer on the small sample holds:
#   - usr/bin/plugapp: opendir()s usr/lib/plugapp/plugins and usr/lib/plugapp/mods and
#     dlopen()s each *.so there by full path; linked to libalt.so.1, an
#     update-alternatives link (var/lib/dpkg/alternatives) to alt-a/, alt-b/ not chosen;
#   - plugins/hello.so, which needs libplugdep.so.1 (multiarch dir, nothing else needs
#     it), and hello.la beside it (libltdl opens modules through their .la);
#   - mods/m.so -> ../../x86_64-linux-gnu/libplugmod.so.1.0 (Lua's layout);
#   - plugapp-1/lib/libmirror.so.1 -> ../../x86_64-linux-gnu/libmirror.so.1, a mirror of
#     a library nothing loads (LLVM's layout), and libplugdep.la in the multiarch dir.
# All built stripped (-s), so the report says "keep", not "strip". Checked, exactly: plugapp's output in a chroot of the slimmed root; each file's fate,
# kind and reason in the report (the plugin, its dependency and the symlinked module kept;
# hello.la kept; the mirror, alt-b and libplugdep.la dropped); `why` names the plugin dir.
# With "plugin_dirs": false the plugin and the module go and plugapp fails, so the
# checks can fail.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need umoci jq python3 debootstrap zstd gcc
scratch

small_sample; sample=$SAMPLE

src="$SCRATCH/src" layer="$SCRATCH/plugins" ma=usr/lib/x86_64-linux-gnu
mkdir -p "$src" "$layer/usr/bin" "$layer/usr/lib/plugapp/plugins" "$layer/usr/lib/plugapp/mods" \
    "$layer/$ma/alt-a" "$layer/$ma/alt-b" "$layer/usr/lib/plugapp-1/lib" "$layer/etc/alternatives" \
    "$layer/var/lib/dpkg/alternatives"
cat >"$src/plugapp.c" <<'C'
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
int alt_value(void);
/* Opens every *.so in dir by full path and prints what its `sym` returns. */
static int load_dir(const char *dir, const char *sym) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int loaded = 0, bad = 0;
  if (!d) { printf("%s: no such dir\n", dir); return 1; }
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    char path[512];
    if (n < 4 || strcmp(e->d_name + n - 3, ".so") != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    void *h = dlopen(path, RTLD_NOW);
    const char *(*f)(void) = h ? (const char *(*)(void))dlsym(h, sym) : NULL;
    if (!f) { printf("%s: %s\n", path, dlerror()); bad = 1; continue; }
    printf("%s\n", f());
    ++loaded;
  }
  closedir(d);
  if (!loaded) { printf("%s: nothing loaded\n", dir); bad = 1; }
  return bad;
}
int main(void) {
  int bad = load_dir("/usr/lib/plugapp/plugins", "plugin_hello");
  bad |= load_dir("/usr/lib/plugapp/mods", "module_hello");
  printf("alt %d\n", alt_value());
  return bad;
}
C
cat >"$src/hello.c" <<'C'
#include <stdio.h>
int dep_value(void);
const char *plugin_hello(void) {
  static char buf[64];
  snprintf(buf, sizeof buf, "hello plugin, dep %d", dep_value());
  return buf;
}
C
printf 'int dep_value(void) { return 42; }\n' >"$src/plugdep.c"
printf 'const char *module_hello(void) { return "module through a symlink"; }\n' >"$src/plugmod.c"
printf 'int alt_value(void) { return ALT; }\n' >"$src/alt.c"
printf 'int mirror_value(void) { return 7; }\n' >"$src/mirror.c"
so() { local name="$1" out="$2"; shift 2; gcc -O1 -s -shared -fPIC -Wl,-soname,"$name" -o "$out" "$@"; }
so libplugdep.so.1 "$layer/$ma/libplugdep.so.1" "$src/plugdep.c"
so hello.so "$layer/usr/lib/plugapp/plugins/hello.so" "$src/hello.c" "$layer/$ma/libplugdep.so.1"
so libplugmod.so.1 "$layer/$ma/libplugmod.so.1.0" "$src/plugmod.c"
so libalt.so.1 "$layer/$ma/alt-a/libalt.so.1" -DALT=1 "$src/alt.c"
so libalt.so.1 "$layer/$ma/alt-b/libalt.so.1" -DALT=2 "$src/alt.c"
so libmirror.so.1 "$layer/$ma/libmirror.so.1" "$src/mirror.c"
gcc -O1 -s -o "$layer/usr/bin/plugapp" "$src/plugapp.c" "$layer/$ma/alt-a/libalt.so.1"
ln -s ../../x86_64-linux-gnu/libplugmod.so.1.0 "$layer/usr/lib/plugapp/mods/m.so"
ln -s ../../x86_64-linux-gnu/libmirror.so.1 "$layer/usr/lib/plugapp-1/lib/libmirror.so.1"
ln -s /etc/alternatives/libalt.so.1 "$layer/$ma/libalt.so.1"
ln -s "/$ma/alt-a/libalt.so.1" "$layer/etc/alternatives/libalt.so.1"
printf 'auto\n/%s/libalt.so.1\n\n/%s/alt-a/libalt.so.1\n20\n/%s/alt-b/libalt.so.1\n10\n\n' \
    "$ma" "$ma" "$ma" >"$layer/var/lib/dpkg/alternatives/libalt.so.1"
for la in usr/lib/plugapp/plugins/hello.la "$ma/libplugdep.la"; do
    printf "# %s - a libtool library file\ndlname='%s'\n" "${la##*/}" "${la##*/}" >"$layer/$la"
done
python3 "$REPO_ROOT/fixtures/runtime/append-layer.py" "$sample" sample "$SCRATCH/in" "$layer"
want=$'hello plugin, dep 42\nmodule through a symlink\nalt 1'

# The input itself runs plugapp as expected (else the test proves nothing).
unpack_image "oci:$SCRATCH/in:sample" "$SCRATCH/u-in"
got=$(run_in_root "$SCRATCH/u-in/rootfs" /usr/bin/plugapp 2>&1) || fail "plugapp fails in the input: $got"
[[ "$got" == "$want" ]] || fail "plugapp in the input printed [$got], want [$want]"

slim slim "oci:$SCRATCH/in:sample" "$(in_layout rt)" --profile runtime --report "$SCRATCH/rt.json"
[[ $RC == 0 ]] || fail "runtime slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
unpack_image "$(in_layout rt)" "$SCRATCH/u-rt"
got=$(run_in_root "$SCRATCH/u-rt/rootfs" /usr/bin/plugapp 2>&1) || fail "plugapp fails after a runtime slim: $got"
[[ "$got" == "$want" ]] || fail "plugapp after a runtime slim printed [$got], want [$want]"

# The report lists what changes; `why --json` says the same of any path, kept ones too.
why_json() {  # PATH RUN (rt|off) -> $SCRATCH/why-RUN.json
    local profile=runtime
    [[ $2 == off ]] && profile="$SCRATCH/noplug.json"
    "$SLIMAGE" why "oci:$SCRATCH/in:sample" "$1" --profile "$profile" --json >"$SCRATCH/why-$2.json" 2>/dev/null ||
        fail "why $1 exited non-zero"
}
fate() { why_json "$1" "$2"; jq -r '"\(.fate) \(.kind)"' "$SCRATCH/why-$2.json"; }
reason() { why_json "$1" "$2"; jq -r .reason "$SCRATCH/why-$2.json"; }
expect() {  # PATH RUN "FATE KIND", by why and, for what changes, by the run's report too
    local got in_report
    got=$(fate "$1" "$2")
    [[ "$got" == "$3" ]] || fail "$2: $1 is [$got], want [$3] ($(reason "$1" "$2"))"
    in_report=$(jq -r --arg p "$1" '.actions[] | select(.path == $p) | "\(.fate) \(.kind)"' "$SCRATCH/$2.json")
    if [[ $3 == keep* ]]; then
        [[ -z "$in_report" ]] || fail "$2: the report says $1 is [$in_report], why says [$3]"
    else
        [[ "$in_report" == "$3" ]] || fail "$2: the report says $1 is [$in_report], why says [$3]"
    fi
}
expect usr/lib/plugapp/plugins/hello.so rt "keep needed"
expect "$ma/libplugdep.so.1" rt "keep needed"
expect usr/lib/plugapp/mods/m.so rt "keep needed"
expect "$ma/libplugmod.so.1.0" rt "keep needed"
expect "$ma/alt-a/libalt.so.1" rt "keep needed"
expect "$ma/alt-b/libalt.so.1" rt "drop unreachable-library"
expect "$ma/libmirror.so.1" rt "drop unreachable-library"
expect usr/lib/plugapp-1/lib/libmirror.so.1 rt "drop dangling-symlink"
expect "$ma/libplugdep.la" rt "drop dev-file"
expect usr/lib/plugapp/plugins/hello.la rt "keep kept"
r=$(reason usr/lib/plugapp/plugins/hello.la rt)
[[ "$r" == "libtool file kept: libltdl opens the module usr/lib/plugapp/plugins/hello.so through it (ImageMagick's coders load this way)" ]] ||
    fail "hello.la's reason: [$r]"
r=$(reason usr/lib/plugapp/plugins/hello.so rt)
[[ "$r" == "needed: root (plugin dir): usr/lib/plugapp/plugins is not a dir the loader searches by name, so a library there is opened by its full path (a plugin)" ]] ||
    fail "hello.so's reason: [$r]"
"$SLIMAGE" why "oci:$SCRATCH/in:sample" --profile runtime "$ma/libplugdep.so.1" >"$SCRATCH/why.txt" 2>/dev/null ||
    fail "why exited non-zero: $(cat "$SCRATCH/why.txt")"
grep -qF "root usr/lib/plugapp/plugins/hello.so [plugin dir] usr/lib/plugapp/plugins is not a dir the loader searches by name" "$SCRATCH/why.txt" ||
    fail "why does not lead from the plugin dir: $(cat "$SCRATCH/why.txt")"
pass "a plugin opened by full path, its dependency, a symlinked module and a libtool .la survive runtime; a mirror link, an unchosen alternative and a dev .la go"

# The rule off: the plugin and the module go, and plugapp says so.
printf '{"extends": "runtime", "plugin_dirs": false}\n' >"$SCRATCH/noplug.json"
slim slim "oci:$SCRATCH/in:sample" "$(in_layout off)" --profile "$SCRATCH/noplug.json" --report "$SCRATCH/off.json"
[[ $RC == 0 ]] || fail "plugin_dirs=false slim exited $RC: $(tail -5 "$SCRATCH/stderr")"
expect usr/lib/plugapp/plugins/hello.so off "drop unreachable-library"
expect "$ma/libplugdep.so.1" off "drop unreachable-library"
expect "$ma/libplugmod.so.1.0" off "drop unreachable-library"
unpack_image "$(in_layout off)" "$SCRATCH/u-off"
got=$(run_in_root "$SCRATCH/u-off/rootfs" /usr/bin/plugapp 2>&1) && fail "plugapp passes with plugin_dirs false: $got"
[[ "$got" == $'/usr/lib/plugapp/plugins: nothing loaded\n/usr/lib/plugapp/mods: no such dir\nalt 1' ]] ||
    fail "plugapp with plugin_dirs false printed [$got]"
pass "with plugin_dirs false the plugin and the module are dropped and plugapp fails"
