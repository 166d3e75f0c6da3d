#!/usr/bin/env bash
# no_print: only src/cli/ and src/main.cpp write to stdout/stderr. Library
# code returns values, throws Error or reports through an interface (the
# pipeline's SlimEvents, Diagnostics); a print there would bypass --quiet,
# --json and batch's per-image prefix. Greps src/ for every way to print:
# iostreams, the printf family, puts, perror, write(1|2, …), spdlog's default
# logger, anything handed stdout/stderr (fwrite, fputc, fflush). A line may
# opt out with `// prints: WHY` (one does: the --test child's message before
# exec, which goes into the captured output, not slimage's stderr).
# NO_PRINT_SRC=DIR checks another tree (how the planted-print check runs).
source "$(dirname "$0")/lib.sh"
need grep

src=${NO_PRINT_SRC:-$REPO_ROOT/src}
[[ -d "$src" ]] || fail "$src: no such directory"
pattern='std::(cout|cerr|clog)\b|\b(std::)?(f|v|vf|d)?printf\s*\(|\b(std::)?f?puts\s*\(|\bperror\s*\(|\b(::)?write\s*\(\s*(1|2|STDOUT_FILENO|STDERR_FILENO)\s*,|\bspdlog::(trace|debug|info|warn|error|critical|log)\s*\(|\b(stdout|stderr)\s*\)'

hits=$(grep -rnE --include='*.cpp' --include='*.h' --include='*.cc' "$pattern" "$src" |
    grep -vE "^$src/(cli/|main\.cpp:)" | grep -v '// prints:' || true)
[[ -z "$hits" ]] || fail "library code prints (only src/cli/ and src/main.cpp may):
$hits"
pass "no print outside src/cli/ and src/main.cpp ($(find "$src" -name '*.cpp' | grep -vc "^$src/cli/") library files)"
