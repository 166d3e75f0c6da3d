#!/usr/bin/env bash
# plan_predicts_refusal: `plan` runs the closure check `slim` runs before writing. With a
# --drop of the library /usr/bin/hello needs, `slim` exits 3 and writes nothing; `plan` with
# the same flags exits 3 too, its JSON lists exactly that missing library and its text says
# "slim would refuse". Without the --drop both exit 0 and plan lists nothing missing.
source "$(dirname "$0")/lib.sh"
need_slimage; need_root; need jq python3 gcc
scratch

make_elf_root "$SCRATCH/root"
ENTRYPOINT=/usr/bin/hello make_layout_from_dirs "$SCRATCH/in" img "$SCRATCH/root"
mkdir "$SCRATCH/dst"
drop=(--drop '/usr/lib/greet/libgreet.so.1')

slim slim "$(in_layout in)" "oci:$SCRATCH/dst/out:img" "${drop[@]}"
[[ $RC == 3 ]] || fail "slim dropping a needed library exited $RC, want 3: $(cat "$SCRATCH/stderr")"
grep -qFx 'slimage: missing after slimming: usr/bin/hello needs libgreet.so.1' "$SCRATCH/stderr" ||
    fail "slim does not name the missing library: $(cat "$SCRATCH/stderr")"
only_names_in "$SCRATCH/dst"

set +e
"$SLIMAGE" plan --json "$(in_layout in)" "${drop[@]}" >"$SCRATCH/plan.json" 2>"$SCRATCH/plan.err"; rc_json=$?
"$SLIMAGE" plan "$(in_layout in)" "${drop[@]}" >"$SCRATCH/plan.txt" 2>"$SCRATCH/plan.err"; rc_text=$?
"$SLIMAGE" plan --json "$(in_layout in)" >"$SCRATCH/ok.json" 2>"$SCRATCH/ok.err"; rc_ok=$?
set -e
[[ $rc_json == 3 ]] || fail "plan --json with the same --drop exited $rc_json, want 3: $(cat "$SCRATCH/plan.err")"
[[ $rc_text == 3 ]] || fail "plan with the same --drop exited $rc_text, want 3"
missing=$(jq -c '[.missing[] | {from, needed}]' "$SCRATCH/plan.json")
[[ $missing == '[{"from":"usr/bin/hello","needed":"libgreet.so.1"}]' ]] ||
    fail "plan --json lists missing $missing, want exactly usr/bin/hello -> libgreet.so.1"
tail -n 2 "$SCRATCH/plan.txt" >"$SCRATCH/plan.tail"
printf '%s\n' 'missing after slimming: /usr/bin/hello needs libgreet.so.1' 'slim would refuse: 1 libraries missing' |
    cmp -s - "$SCRATCH/plan.tail" || fail "plan text ends with: $(cat "$SCRATCH/plan.tail")"
[[ $rc_ok == 0 ]] || fail "plan of a harmless plan exited $rc_ok: $(cat "$SCRATCH/ok.err")"
[[ $(jq -c .missing "$SCRATCH/ok.json") == '[]' ]] || fail "harmless plan lists missing: $(jq -c .missing "$SCRATCH/ok.json")"
pass "plan exits 3 and lists the library slim refuses over"
