#!/usr/bin/env bash
# Packs a mapblame binary as the release tarball the GitHub Action installs (make dist):
#   ci/dist.sh BINARY OUTDIR  ->  OUTDIR/mapblame-VERSION-linux-ARCH.tar.gz
# holding mapblame-VERSION/bin/mapblame, README.md and docs/. `make dist` gives it a release build
# with the Swift runtime linked in statically, so the machine that unpacks it needs only Debian's
# runtime packages (ci/action/install.sh), not Swift.
set -euo pipefail
binary=${1:?usage: ci/dist.sh BINARY OUTDIR}
outdir=${2:?usage: ci/dist.sh BINARY OUTDIR}
root=$(cd "$(dirname "$0")/.." && pwd)
version=$("$binary" --version)
name="mapblame-$version"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name/bin" "$outdir"
install -m 0755 "$binary" "$stage/$name/bin/mapblame"
cp "$root/README.md" "$stage/$name/"
cp -r "$root/docs" "$stage/$name/docs"
tarball="$outdir/$name-linux-$(uname -m).tar.gz"
tar -C "$stage" -czf "$tarball" "$name"
echo "$tarball"
