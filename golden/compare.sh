#!/usr/bin/env bash
# golden/compare.sh BASE_REV: the golden check of a refactoring (make golden BASE=REV). Builds
# BASE_REV in a worktree, records the corpus's traces once (with this tree's build), renders every
# output from the same traces with both binaries, and diffs them: no output may change unless the
# change names a fixed bug. Prints the differing files; exit 1 if any differ.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# Resolved here: inside the base worktree, HEAD would name the worktree's own commit.
base=$(git -C "$root" rev-parse --verify "${1:?usage: golden/compare.sh BASE_REV}^{commit}")
scratch=${GOLDEN_DIR:-$root/.build-golden}
rm -rf "$scratch/out"; mkdir -p "$scratch/out"
if [ ! -d "$scratch/base" ]; then git -C "$root" worktree add --detach "$scratch/base" "$base" >/dev/null; fi
git -C "$scratch/base" checkout -q --detach "$base"
(cd "$scratch/base" && swift build --product mapblame >/dev/null)
(cd "$root" && swift build >/dev/null)
bin=$(cd "$root" && swift build --show-bin-path)
"$root/golden/record.sh" "$bin/mapblame" "$bin" "$scratch/out/corpus" >/dev/null
"$root/golden/render.sh" "$scratch/base/.build/debug/mapblame" "$scratch/out/corpus/traces" "$scratch/out/base"
"$root/golden/render.sh" "$bin/mapblame" "$scratch/out/corpus/traces" "$scratch/out/new"
if diff -r -q "$scratch/out/base" "$scratch/out/new"; then
  echo "golden: $(ls "$scratch/out/new" | wc -l) outputs of $(ls "$scratch/out/corpus/traces" | wc -l) traces identical to $base"
else
  echo "golden: outputs differ from $base (diff -r $scratch/out/base $scratch/out/new)"; exit 1
fi
