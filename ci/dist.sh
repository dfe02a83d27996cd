#!/usr/bin/env bash
# Packs any mapblame binary in the layout of `make dist`'s release tarball, which the GitHub Action
# installs (it looks for bin/mapblame inside):
#   ci/dist.sh BINARY OUTDIR  ->  OUTDIR/mapblame-VERSION-ARCH-linux.tar.gz
# holding mapblame-VERSION-ARCH-linux/bin/mapblame, README.md and docs/. The tests pack the debug
# build with it; `make dist` (packaging/) makes the real release: a static-stdlib build, man pages,
# completions.
set -euo pipefail
binary=${1:?usage: ci/dist.sh BINARY OUTDIR}
outdir=${2:?usage: ci/dist.sh BINARY OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$binary" --version | head -1 | cut -d' ' -f2)
name="mapblame-$version-$(uname -m)-linux"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/bin" "$outdir"
install -m 0755 "$binary" "$stage/$name/bin/mapblame"
cp "$root/README.md" "$stage/$name/"
cp -r "$root/docs" "$stage/$name/docs"
tarball="$outdir/$name.tar.gz"
tar -C "$stage" -czf "$tarball" "$name"
echo "$tarball"
