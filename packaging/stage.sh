#!/bin/sh
# Lays out everything mapblame installs, relative to an install prefix, in ROOT:
#   bin/mapblame                                      the release binary (Swift runtime linked in), stripped
#   share/man/man1/mapblame.1, mapblame-SUBCOMMAND.1  generated from the commands' own help
#   share/bash-completion/completions/mapblame        bash completion
#   share/zsh/site-functions/_mapblame                zsh completion
#   share/fish/vendor_completions.d/mapblame.fish     fish completion
#   share/doc/mapblame/                               README.md and docs/ (formats, baselines)
# `make install` copies this tree into $(DESTDIR)$(PREFIX), `make dist` tars it, `make deb` puts it
# under /usr. Nothing in it depends on the prefix, so the tarball is relocatable.
# Usage: packaging/stage.sh ROOT BINDIR   (BINDIR holds mapblame and generate-manual)
set -eu
root=$1; bindir=$2
top=$(cd "$(dirname "$0")/.." && pwd)
# Reproducible pages: dated by the commit, not by the build.
date=$(git -C "$top" log -1 --format=%cs 2>/dev/null || date -u +%F)

rm -rf "$root"
mkdir -p "$root/bin" "$root/share/man/man1" "$root/share/bash-completion/completions" \
    "$root/share/zsh/site-functions" "$root/share/fish/vendor_completions.d" "$root/share/doc/mapblame"
${STRIP:-strip} -o "$root/bin/mapblame" "$bindir/mapblame"
chmod 755 "$root/bin/mapblame"
mb="$root/bin/mapblame"

# swift-argument-parser's generate-manual writes mapblame.1 and mapblame.SUB.1 (mdoc). Debian and
# git name subcommand pages mapblame-SUB.1 (`man mapblame-run`), so rename them and their
# cross-references; `mapblame help` needs no page; each subcommand page points back to mapblame(1).
pages=$(mktemp -d)
trap 'rm -rf "$pages"' EXIT
"$bindir/generate-manual" "$mb" --multi-page --date "$date" -o "$pages"
for f in "$pages"/*.1; do
    name=$(basename "$f" .1)
    [ "$name" = mapblame.help ] && continue
    dest=$(echo "$name" | sed 's/^mapblame\./mapblame-/')
    # generate-manual's EXIT STATUS is mdoc's stock "0 on success, >0 if an error occurs", wrong
    # for run and record (the program's status): say what every command shares instead.
    if [ "$dest" = mapblame ]; then others="each command's page gives its other statuses (run and record exit with the program's)"
    else others="the description above gives this command's other statuses"; fi
    {
        sed -e 's/^\.Dt MAPBLAME\.\([A-Z]*\) 1$/.Dt MAPBLAME-\1 1/' \
            -e "s/^\.Ex -std\$/Exit status 0 on success, 2 for a usage error and 1 for a failure, each error one line on stderr; $others./" \
            -e '/^\.Xr mapblame\.help 1/d' \
            -e 's/^\.Xr mapblame\.\([a-z]*\) 1/.Xr mapblame-\1 1/' "$f"
        echo   # generate-manual ends the file without a newline
        if [ "$dest" != mapblame ] && ! grep -q '^\.Sh "SEE ALSO"' "$f"; then
            printf '.Sh "SEE ALSO"\n.Xr mapblame 1\n'
        fi
    } | sed '/^$/d' > "$root/share/man/man1/$dest.1"
done
chmod 644 "$root"/share/man/man1/*.1

"$mb" --generate-completion-script bash > "$root/share/bash-completion/completions/mapblame"
"$mb" --generate-completion-script zsh > "$root/share/zsh/site-functions/_mapblame"
"$mb" --generate-completion-script fish > "$root/share/fish/vendor_completions.d/mapblame.fish"

# The docs sit beside README.md once installed: its docs/ links point there.
sed 's|](docs/|](|g' "$top/README.md" > "$root/share/doc/mapblame/README.md"
cp "$top"/docs/*.md "$top"/docs/*.png "$root/share/doc/mapblame/"
chmod 644 "$root"/share/doc/mapblame/* "$root"/share/*/*/mapblame* "$root"/share/zsh/site-functions/_mapblame
