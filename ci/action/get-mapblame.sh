#!/usr/bin/env bash
# Step 2 of the mapblame GitHub Action (action.yml): puts mapblame on PATH for the next steps.
# MAPBLAME_TARBALL: the release tarball of `make dist` (a path, or a URL fetched with curl);
# empty: build from MAPBLAME_SOURCE (the action's own checkout) as `make release` does (the Swift
# libraries linked in: half the fixed cost of every run),
# whose .build the action caches. The binary's path goes to GITHUB_OUTPUT as `mapblame=PATH` and
# its directory to GITHUB_PATH; without those (outside Actions) the path is printed.
set -euo pipefail
dest=${MAPBLAME_DEST:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/mapblame}
if [ -n "${MAPBLAME_TARBALL:-}" ]; then
    tarball=$MAPBLAME_TARBALL
    mkdir -p "$dest"
    case "$tarball" in
        *://*) curl -fsSL --retry 3 -o "$dest/mapblame.tar.gz" "$tarball"; tarball="$dest/mapblame.tar.gz" ;;
    esac
    [ -f "$tarball" ] || { echo "mapblame: no tarball at $tarball" >&2; exit 1; }
    tar -C "$dest" -xzf "$tarball"
    binary=$(find "$dest" -path '*/bin/mapblame' -type f | sort | tail -n 1)
    [ -n "$binary" ] || { echo "mapblame: $tarball holds no bin/mapblame" >&2; exit 1; }
else
    source=${MAPBLAME_SOURCE:?MAPBLAME_SOURCE: the mapblame checkout to build}
    command -v swift >/dev/null || { echo "mapblame: building from source needs Swift 6 on PATH (or give mapblame-tarball)" >&2; exit 1; }
    (cd "$source" && swift build -c release --static-swift-stdlib --product mapblame >&2)
    binary="$(cd "$source" && swift build -c release --show-bin-path)/mapblame"
fi
"$binary" --version >/dev/null || { echo "mapblame: $binary does not run (missing runtime packages?)" >&2; exit 1; }
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "mapblame=$binary" >> "$GITHUB_OUTPUT"; fi
if [ -n "${GITHUB_PATH:-}" ]; then dirname "$binary" >> "$GITHUB_PATH"; fi
echo "$binary"
