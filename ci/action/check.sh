#!/usr/bin/env bash
# Step 3 of the mapblame GitHub Action (action.yml): `mapblame check` with the action's inputs,
# from the working directory. Its exit status is written to GITHUB_OUTPUT as `status=N` and the
# step itself succeeds, so that the JUnit file is uploaded before the verdict step fails the job.
#   MAPBLAME          the binary (get-mapblame.sh)
#   INPUT_BASELINE    baseline file (default mapblame-baseline.json)
#   INPUT_COMMAND     the program and its arguments, as a shell would split them; empty: the
#                     baseline's own command
#   INPUT_TOLERANCE   [CATEGORY:]KIND=SPEC, one per line    INPUT_IGNORE  patterns, one per line
#   INPUT_GATE_SYSTEM true/false    INPUT_UPDATE true/false    INPUT_JUNIT  JUnit file ('' for none)
#   INPUT_ARGS        more check options, as a shell would split them
set -uo pipefail
mapblame=${MAPBLAME:-mapblame}
args=(check --baseline "${INPUT_BASELINE:-mapblame-baseline.json}")
[ -n "${INPUT_JUNIT:-}" ] && args+=(--junit "$INPUT_JUNIT")
while IFS= read -r t; do [ -n "$t" ] && args+=(--tolerance "$t"); done <<< "${INPUT_TOLERANCE:-}"
while IFS= read -r p; do [ -n "$p" ] && args+=(--ignore "$p"); done <<< "${INPUT_IGNORE:-}"
[ "${INPUT_GATE_SYSTEM:-false}" = true ] && args+=(--gate-system)
[ "${INPUT_UPDATE:-false}" = true ] && args+=(--update)
if [ -n "${INPUT_ARGS:-}" ]; then eval "extra=(${INPUT_ARGS})"; args+=("${extra[@]}"); fi
if [ -n "${INPUT_COMMAND:-}" ]; then eval "program=(${INPUT_COMMAND})"; args+=(-- "${program[@]}"); fi
echo "mapblame ${args[*]}" >&2
"$mapblame" "${args[@]}"
status=$?
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "status=$status" >> "$GITHUB_OUTPUT"; fi
# Without GITHUB_OUTPUT (run by hand) the status is the script's own.
[ -n "${GITHUB_OUTPUT:-}" ] || exit $status
