#!/usr/bin/env bash
# test_runtime_env: `slim --test` runs the image as the runtime would. In an image with no
# shell, libgreet lives in /opt/greet/lib, found only through LD_LIBRARY_PATH from the image's
# Env; WorkingDir is /opt/app; User is `app` from the image's own /etc/passwd and /etc/group.
#   - `--test hello` passes (the image's LD_LIBRARY_PATH), and fails on the original without
#     it even though the host's LD_LIBRARY_PATH would find the library: exit 1, the loader's
#     message shown, nothing written;
#   - a stub that prints uid/gid/groups/cwd/HOME/a host variable/argv and exits 3 shows (through
#     the failing-original error) the user, the WorkingDir for a relative command, no host env,
#     and argv split from quotes without a shell; `--test ''` and a bare `--test` run
#     Entrypoint + Cmd;
#   - shell syntax without a shell, and a User the image lacks, are refused before anything
#     runs, with their exact messages; with a shell in the image it runs under `sh -c`;
#   - a hanging test is killed after --test-timeout.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc dash
scratch

make_elf_root "$SCRATCH/root"
root=$SCRATCH/root
mkdir -p "$root/opt/greet" "$root/opt/app" "$root/etc" "$root/home/app"
mv "$root/usr/lib/greet" "$root/opt/greet/lib"   # hello's RUNPATH ($ORIGIN/../lib/greet) misses it now
cat >"$SCRATCH/show.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "hang") == 0) for (;;) pause();
  gid_t groups[16];
  int n = getgroups(16, groups);
  printf("uid=%d gid=%d groups=", (int)getuid(), (int)getgid());
  for (int i = 0; i < n; i++) printf("%s%d", i ? "," : "", (int)groups[i]);
  char cwd[256];
  printf("\ncwd=%s\nHOME=%s\n", getcwd(cwd, sizeof cwd) ? cwd : "?", getenv("HOME") ? getenv("HOME") : "(unset)");
  printf("SLIMAGE_HOST_ONLY=%s\n", getenv("SLIMAGE_HOST_ONLY") ? getenv("SLIMAGE_HOST_ONLY") : "(unset)");
  for (int i = 1; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
  return 3;
}
C
gcc -O1 -o "$root/opt/app/show" "$SCRATCH/show.c"
printf 'root:x:0:0:root:/root:/bin/false\napp:x:1234:2345:app:/home/app:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\napp:x:2345:\nextra:x:3456:root,app\n' >"$root/etc/group"

config() {  # config USER LD_LIBRARY_PATH
    jq -nc --arg user "$1" --arg llp "$2" '{User: $user, WorkingDir: "/opt/app",
        Entrypoint: ["/opt/app/show"], Cmd: ["from-cmd"],
        Env: (["PATH=/usr/bin:/bin"] + (if $llp == "" then [] else ["LD_LIBRARY_PATH=" + $llp] end))}'
}
CONFIG_JSON=$(config app /opt/greet/lib) make_layout_from_dirs "$SCRATCH/env" img "$root"
CONFIG_JSON=$(config app "") make_layout_from_dirs "$SCRATCH/noenv" img "$root"
CONFIG_JSON=$(config nobody /opt/greet/lib) make_layout_from_dirs "$SCRATCH/ghost" img "$root"
mkdir "$SCRATCH/dst"
export SLIMAGE_HOST_ONLY=leaked LD_LIBRARY_PATH=$root/opt/greet/lib:/opt/greet/lib

# stderr_block: the lines slimage printed from the failing original's run.
stderr_block() { sed -n '/^--- original image: /,/^slimage: error: /p' "$SCRATCH/stderr" | sed '$d'; }
refused_exactly() {  # refused_exactly WHAT MESSAGE: exit 1 with MESSAGE, nothing ran, nothing written
    [[ $RC == 1 ]] || fail "$1: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
    grep -qFx -- "slimage: error: $2" "$SCRATCH/stderr" || fail "$1: want 'slimage: error: $2', got: $(cat "$SCRATCH/stderr")"
    ! grep -q '^--- original image' "$SCRATCH/stderr" || fail "$1: the test ran anyway"
    only_names_in "$SCRATCH/dst"
}

# 1. LD_LIBRARY_PATH from the image's Env.
slim slim "$(in_layout env)" "oci:$SCRATCH/dst/ok:img" --test hello
[[ $RC == 0 ]] || fail "--test hello with the image's LD_LIBRARY_PATH exited $RC: $(cat "$SCRATCH/stderr")"
[[ -f "$SCRATCH/dst/ok/index.json" ]] || fail "a passing --test wrote no output"
rm -rf "$SCRATCH/dst/ok"

# 2. Without it the original fails: an error, its output shown, nothing written.
slim slim "$(in_layout noenv)" "oci:$SCRATCH/dst/noenv:img" --test hello
[[ $RC == 1 ]] || fail "--test failing on the original exited $RC, want 1: $(cat "$SCRATCH/stderr")"
grep -qFx 'slimage: error: --test fails on the original image (exit 127), so it cannot guard the slimmed one; nothing written' \
    "$SCRATCH/stderr" || fail "no error line for a failing original: $(cat "$SCRATCH/stderr")"
grep -qFx -- '--- original image: hello (exit 127) ---' "$SCRATCH/stderr" || fail "no output header: $(cat "$SCRATCH/stderr")"
stderr_block | grep -q 'libgreet.so.1: cannot open shared object file' || fail "the loader's message is not shown: $(cat "$SCRATCH/stderr")"
only_names_in "$SCRATCH/dst"

# 3. User, groups, HOME from the image; WorkingDir for a relative command; no host env;
#    quotes split without a shell.
slim slim "$(in_layout env)" "oci:$SCRATCH/dst/show:img" --test "./show 'two  words' \"dq \\\"x\\\"\" back\\ slash"
[[ $RC == 1 ]] || fail "a stub exiting 3 on the original exited $RC, want 1: $(cat "$SCRATCH/stderr")"
want=$(cat <<'EOF'
--- original image: ./show two  words dq "x" back slash (exit 3) ---
uid=1234 gid=2345 groups=3456
cwd=/opt/app
HOME=/home/app
SLIMAGE_HOST_ONLY=(unset)
argv[1]=two  words
argv[2]=dq "x"
argv[3]=back slash
EOF
)
[[ "$(stderr_block)" == "$want" ]] || fail "the stub saw: $(stderr_block)
want: $want"
only_names_in "$SCRATCH/dst"

# 4. No command: Entrypoint + Cmd, as `--test ''` and as a bare --test last on the line.
for form in "--test=" "--test"; do
    slim slim "$(in_layout env)" "oci:$SCRATCH/dst/ep:img" $form
    [[ $RC == 1 ]] || fail "$form: exit $RC, want 1: $(cat "$SCRATCH/stderr")"
    [[ "$(stderr_block | sed -n '1p;$p')" == "--- original image: /opt/app/show from-cmd (exit 3) ---
argv[1]=from-cmd" ]] || fail "$form did not run Entrypoint + Cmd: $(cat "$SCRATCH/stderr")"
done
only_names_in "$SCRATCH/dst"

# 5. Refused before anything runs.
slim slim "$(in_layout env)" "oci:$SCRATCH/dst/pipe:img" --test 'hello | cat'
refused_exactly "shell syntax without a shell" \
    "--test 'hello | cat': '|' is shell syntax and the image has no /bin/sh; give the command as plain words (quotes and backslashes work without a shell)"
slim slim "$(in_layout env)" "oci:$SCRATCH/dst/var:img" --test 'show $HOME'
refused_exactly "\$VAR without a shell" \
    "--test 'show \$HOME': '\$' is shell syntax and the image has no /bin/sh; give the command as plain words (quotes and backslashes work without a shell)"
slim slim "$(in_layout ghost)" "oci:$SCRATCH/dst/ghost:img" --test hello
refused_exactly "a User the image lacks (the host has one)" \
    "image User 'nobody': no user 'nobody' in the image's /etc/passwd"

# 6. With a shell in the image (dash as /bin/sh), shell syntax runs under `sh -c`, with the
#    image's Env and WorkingDir and without the host's variables.
mkdir -p "$SCRATCH/shell/bin"
cp -L "$(command -v dash)" "$SCRATCH/shell/bin/sh"
CONFIG_JSON=$(config app /opt/greet/lib) make_layout_from_dirs "$SCRATCH/withsh" img "$root" "$SCRATCH/shell"
slim slim "$(in_layout withsh)" "oci:$SCRATCH/dst/sh:img" \
    --test '[ "$(pwd)" = /opt/app ] && [ "$LD_LIBRARY_PATH" = /opt/greet/lib ] && hello | { read -r l; [ "$l" = "hello, world (1)" ]; }'
[[ $RC == 0 ]] || fail "shell syntax with a shell in the image exited $RC: $(cat "$SCRATCH/stderr")"
rm -rf "$SCRATCH/dst/sh"
slim slim "$(in_layout withsh)" "oci:$SCRATCH/dst/sh:img" --test 'echo "host=${SLIMAGE_HOST_ONLY-unset}"; exit 5'
[[ $RC == 1 ]] || fail "sh -c exiting 5 on the original exited $RC, want 1: $(cat "$SCRATCH/stderr")"
[[ "$(stderr_block)" == '--- original image: /bin/sh -c echo "host=${SLIMAGE_HOST_ONLY-unset}"; exit 5 (exit 5) ---
host=unset' ]] || fail "sh -c saw: $(stderr_block)"
only_names_in "$SCRATCH/dst"

# 7. A hanging test is killed after --test-timeout.
start=$SECONDS
slim slim "$(in_layout env)" "oci:$SCRATCH/dst/hang:img" --test-timeout 2 --test './show hang'
[[ $RC == 1 ]] || fail "a hanging test exited $RC, want 1: $(cat "$SCRATCH/stderr")"
((SECONDS - start < 60)) || fail "a 2 s --test-timeout took $((SECONDS - start)) s"
grep -qFx '[slimage: --test timed out after 2 s; its process group was killed]' "$SCRATCH/stderr" ||
    fail "no timeout line: $(cat "$SCRATCH/stderr")"
only_names_in "$SCRATCH/dst"
pass "--test: image Env, WorkingDir, User, Entrypoint+Cmd, no-shell quoting, refusals, timeout"
