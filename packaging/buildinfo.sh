#!/bin/sh
# Writes the object that tells `mapblame --version` which commit it was built from, and prints
# its path (for `swift build -Xlinker PATH`). Its strong definitions replace CShims/versions.c's
# weak ones at link time. The file is named after its content, so a new commit changes the link
# command and SwiftPM relinks (it would not notice a changed file behind the same name).
# Usage: packaging/buildinfo.sh OUTDIR [CC]
set -eu
out=$1; cc=${2:-cc}
cd "$(dirname "$0")/.."
if commit=$(git rev-parse --short=12 HEAD 2>/dev/null); then
    # Any change git would show (tracked or untracked, ignored files aside) makes the build dirty.
    if [ -n "$(git status --porcelain 2>/dev/null)" ]; then dirty=1; else dirty=0; fi
else
    commit=""; dirty=-1   # not a git checkout (a source tarball): "unknown commit"
fi
mkdir -p "$out"
name="buildinfo-${commit:-none}-$dirty"
if [ ! -f "$out/$name.o" ]; then
    printf 'const char *cshims_build_commit(void) { return "%s"; }\nint cshims_build_dirty(void) { return %s; }\n' \
        "$commit" "$dirty" > "$out/$name.c"
    "$cc" -O2 -fPIC -c "$out/$name.c" -o "$out/$name.o"
fi
echo "$out/$name.o"
