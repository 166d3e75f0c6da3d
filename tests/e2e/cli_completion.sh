#!/usr/bin/env bash
# cli_completion: `slimage completion bash|zsh|fish` and `slimage man` come
# from the option table `--help` prints: every subcommand and every flag of
# `slim --help` is in each; bash completes a subcommand and a flag; each
# script parses in its shell; the man page renders; `cmake --install`
# installs all four.
source "$(dirname "$0")/lib.sh"
need_slimage; need bash man zsh fish
scratch

"$SLIMAGE" completion bash >"$SCRATCH/slimage.bash" || fail "completion bash failed"
"$SLIMAGE" completion zsh >"$SCRATCH/_slimage" || fail "completion zsh failed"
"$SLIMAGE" completion fish >"$SCRATCH/slimage.fish" || fail "completion fish failed"
"$SLIMAGE" man >"$SCRATCH/slimage.1" || fail "man failed"
set +e; "$SLIMAGE" completion tcsh >/dev/null 2>"$SCRATCH/err"; rc=$?; set -e
[[ $rc == 2 ]] || fail "completion tcsh exited $rc, want 2"

# Every flag of `slim --help` is in each script and the man page.
"$SLIMAGE" slim --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$SCRATCH/flags"
[[ $(wc -l <"$SCRATCH/flags") -gt 20 ]] || fail "slim --help lists too few flags"
while read -r flag; do
    [[ $flag == --help ]] && continue
    for f in slimage.bash _slimage slimage.fish; do
        grep -q -- "${flag#--}" "$SCRATCH/$f" || fail "$f lacks $flag"
    done
    grep -q -- "${flag//-/\\\\-}" "$SCRATCH/slimage.1" || fail "the man page lacks $flag"
done <"$SCRATCH/flags"
for sub in slim batch inspect check plan why verify diff profiles completion; do
    grep -q "^\.SS \"slimage $sub" "$SCRATCH/slimage.1" || fail "the man page lacks $sub"
done

# bash: complete `slimage sl` and `slimage slim --src-t`.
complete_words() {
    bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _slimage; printf "%s\n" "${COMPREPLY[@]}"' _ "$SCRATCH/slimage.bash" "$@"
}
[[ "$(complete_words slimage sl)" == slim ]] || fail "bash completes 'sl' to '$(complete_words slimage sl)'"
[[ "$(complete_words slimage slim --src-t)" == --src-tls-verify ]] ||
    fail "bash completes 'slim --src-t' to '$(complete_words slimage slim --src-t)'"
pass "bash completion completes commands and flags"

zsh -n "$SCRATCH/_slimage" || fail "_slimage is not valid zsh"
fish -n "$SCRATCH/slimage.fish" || fail "slimage.fish is not valid fish"
MANWIDTH=100 man -l "$SCRATCH/slimage.1" 2>"$SCRATCH/man.err" >"$SCRATCH/man.txt" || fail "man cannot render the page"
[[ ! -s "$SCRATCH/man.err" ]] || fail "man warns: $(cat "$SCRATCH/man.err")"
grep -q -- '--dest-tls-verify' "$SCRATCH/man.txt" || fail "the rendered man page lacks --dest-tls-verify"
pass "zsh/fish scripts parse; the man page renders"

# cmake --install puts all four in place.
if [[ -n "${BUILD_DIR:-}" && -f "$BUILD_DIR/slimage.1" ]] && command -v cmake >/dev/null; then
    cmake --install "$BUILD_DIR" --prefix "$SCRATCH/prefix" >/dev/null || fail "cmake --install failed"
    for f in bin/slimage share/man/man1/slimage.1 share/bash-completion/completions/slimage \
             share/zsh/vendor-completions/_slimage share/fish/vendor_completions.d/slimage.fish; do
        [[ -f "$SCRATCH/prefix/$f" ]] || fail "cmake --install did not install $f"
    done
    cmp "$SCRATCH/prefix/share/man/man1/slimage.1" "$SCRATCH/slimage.1" || fail "the installed man page is stale"
    pass "cmake --install installs the man page and completions"
else
    skip "BUILD_DIR has no generated docs (build the default target) to install"
fi
