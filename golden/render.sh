#!/usr/bin/env bash
# golden/render.sh MAPBLAME TRACES OUT: every output mapblame makes from each trace in TRACES —
# text, JSON (and with --all-events, --verify), HTML, folded by bytes, rss and count, a baseline,
# check of the trace against its own baseline and against another trace's, diff — into OUT,
# one file per output, with each command's exit status in OUT/status.
set -uo pipefail
mapblame=$1 traces=$2 out=$3
mkdir -p "$out"
: > "$out/status"
run() {  # run NAME ARGS...: stdout to OUT/NAME, stderr to OUT/NAME.err, status recorded
  local name=$1; shift
  "$mapblame" "$@" > "$out/$name" 2> "$out/$name.err"
  echo "$name $?" >> "$out/status"
}
previous=
for trace in "$traces"/*.trace; do
  n=$(basename "$trace" .trace)
  run "$n.txt" report "$trace"
  run "$n.verify.txt" report --verify "$trace"
  run "$n.json" report --format json "$trace"
  run "$n.all.json" report --format json --all-events --verify "$trace"
  run "$n.html" report --format html "$trace"
  for w in bytes rss count; do run "$n.$w.folded" report --format folded --weight "$w" "$trace"; done
  run "$n.baseline.log" baseline --from "$trace" -o "$out/$n.baseline.json"
  run "$n.check-self.txt" check --baseline "$out/$n.baseline.json" --from "$trace" --all
  if [ -n "$previous" ]; then
    run "$n.check-other.txt" check --baseline "$out/$previous.baseline.json" --from "$trace" --junit "$out/$n.junit.xml"
    run "$n.diff.txt" diff "$traces/$previous.trace" "$trace"
  fi
  previous=$n
done
# Paths of the temporary folder differ between runs: keep the outputs comparable.
sed -i "s#$out#OUT#g" "$out"/* 2>/dev/null || true
