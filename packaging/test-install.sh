#!/usr/bin/env bash
# The shipping tests (`make test-install`, packaging/README.md): what a user installs works on a
# machine without the Swift toolchain.
#   1. make install into a DESTDIR: the expected files; ldd names no Swift library; in a mount
#      namespace where the toolchain folder is an empty tmpfs, the installed mapblame runs
#      --version (this commit, the libunwind and elfutils of this machine), run and report; every
#      man page renders without warnings; each completion script completes in its shell; make
#      uninstall removes every file.
#   2. The tarball (make dist) holds the same tree, under one folder, and runs from anywhere.
#   3. The .deb (make deb): the same tree under /usr, and Depends names exactly the packages that
#      hold the libraries the binary needs (dpkg -S), Suggests libc6-dbg.
#   4. A fresh Debian 12: debootstrap (minbase) into .build-install/, `apt-get install ./the.deb`
#      inside it (so Depends is proven), and `mapblame run` of a program there gives a report.
#   5. The README's "Use as a Swift library" snippets, as a package of their own depending on this
#      checkout by path, build and run.
# Needs root (unshare, debootstrap, chroot). Prints "ok"/"FAIL" per check, exits 1 on any failure.
# Usage: packaging/test-install.sh --dist FILE.tar.gz --deb FILE.deb [--skip-chroot] [--skip-library]
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dist="" deb="" skip_chroot=0 skip_library=0
while [ $# -gt 0 ]; do
    case $1 in
        --dist) dist=$2; shift 2 ;;
        --deb) deb=$2; shift 2 ;;
        --skip-chroot) skip_chroot=1; shift ;;
        --skip-library) skip_library=1; shift ;;
        *) echo "test-install.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -f "$dist" ] && [ -f "$deb" ] || { echo "test-install.sh: needs --dist FILE and --deb FILE (make dist deb)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "test-install.sh: needs root (unshare -m, debootstrap, chroot)" >&2; exit 2; }

work=$top/.build-install   # gitignored (.build-*/)
mkdir -p "$work"
passed=0 failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
fail() { echo "FAIL - $1"; failed=$((failed + 1)); }
# check NAME COMMAND...: the command's success is the check's.
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
step_start=$SECONDS
step() { echo "# $1 (at $((SECONDS - step_start)) s)"; }

# The toolchain's root folder (/opt/swift for /opt/swift/usr/bin/swift), hidden below.
swift_dir=$(cd "$(dirname "$(command -v swift)")" && pwd -P)   # swift itself is a link to swift-driver
toolchain=${swift_dir%/usr/bin}
[ -d "$toolchain" ] && [ "$toolchain" != "$swift_dir" ] && [ -n "$toolchain" ] || { echo "test-install.sh: cannot find the Swift toolchain folder" >&2; exit 2; }
# without_swift COMMAND...: COMMAND in a private mount namespace with an empty tmpfs over the
# toolchain, as on a machine that never had Swift.
without_swift() {
    unshare -m --propagation private sh -c 'mount -t tmpfs -o size=1m,mode=755 mapblame-no-swift "$0" && exec "$@"' "$toolchain" "$@"
}

version=$(sed -n 's/^let mapblameVersion = "\([^"]*\)"$/\1/p' Sources/MapBlameCLI/Version.swift)
commit=$(git rev-parse --short=12 HEAD)
upstream() { dpkg-query -W -f '${Version}' "$1" | sed 's/^[0-9]*://; s/-[^-]*$//'; }

# A program with a known unnamed region: 4 MiB malloc'ed (served by mmap) in make_buffer; exits 7.
prog=$work/bigmalloc
cat > "$work/bigmalloc.c" <<'EOF'
#include <stdlib.h>
#include <string.h>
__attribute__((noinline)) char *make_buffer(size_t n) { char *p = malloc(n); memset(p, 1, n); return p; }
int main(void) { char *p = make_buffer(4 << 20); return p[100] == 1 ? 7 : 1; }
EOF
cc -g -O0 -o "$prog" "$work/bigmalloc.c" || { echo "test-install.sh: cannot compile the test program" >&2; exit 2; }
expected_site="malloc of 4.0 MiB served by mmap from make_buffer"

# The README's library snippets, extracted now and built in the background (CPU-bound) while the
# install checks and the chroot (mostly I/O and network) run; checked at the end.
library_pid=""
if [ $skip_library = 0 ]; then
    # Used verbatim: the package sits beside a "mapblame" that is this checkout, as the README says.
    consumer=$work/library/blame-check
    rm -rf "$work/library" && mkdir -p "$consumer/Sources/blame-check" && ln -s "$top" "$work/library/mapblame"
    # The first two ```swift blocks after the heading: Package.swift, then main.swift.
    awk '/^## Use as a Swift library/ { on = 1; next } on && /^## / { exit }
         on && /^```swift/ { n++; keep = 1; next } keep && /^```/ { keep = 0; next }
         keep { print > (n == 1 ? "'"$consumer"'/Package.swift" : "'"$consumer"'/Sources/blame-check/main.swift") }' README.md
    if [ -s "$consumer/Package.swift" ] && [ -s "$consumer/Sources/blame-check/main.swift" ]; then
        swift build --package-path "$consumer" --scratch-path "$work/library-build" >"$work/library.log" 2>&1 &
        library_pid=$!
        trap '[ -z "$library_pid" ] || kill "$library_pid" 2>/dev/null' EXIT   # an early exit below
    fi
fi

# The tree every form of the install must have, relative to the prefix: the man pages from the
# subcommands `mapblame --help` lists (help aside).
expected_tree() {
    local mb=$1
    {
        echo bin/mapblame
        echo share/man/man1/mapblame.1
        # a subcommand's line starts with two spaces; its wrapped abstract with more
        "$mb" --help | sed -n '/^SUBCOMMANDS:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p' | grep -vx help |
            sed 's|.*|share/man/man1/mapblame-&.1|'
        echo share/bash-completion/completions/mapblame
        echo share/zsh/site-functions/_mapblame
        echo share/fish/vendor_completions.d/mapblame.fish
        echo share/doc/mapblame/README.md
        (cd docs && ls) | sed 's|^|share/doc/mapblame/|'
    } | sort
}
tree_of() { (cd "$1" && find . -type f -o -type l | sed 's|^\./||' | sort); }

# ---------------------------------------------------------------------------------------------
step "make install"
dest=$work/destdir
rm -rf "$dest"
if ! make --no-print-directory install DESTDIR="$dest" PREFIX=/usr/local >"$work/install.log" 2>&1; then
    fail "make install DESTDIR=$dest (see $work/install.log)"; exit 1
fi
prefix=$dest/usr/local
mb=$prefix/bin/mapblame
expected=$(expected_tree "$mb")
check "make install puts exactly the expected files in DESTDIR/PREFIX ($(echo "$expected" | wc -l) files)" \
    test "$(tree_of "$prefix")" = "$expected"
[ "$(tree_of "$dest")" = "$(tree_of "$prefix" | sed 's|^|usr/local/|')" ] || fail "make install wrote outside DESTDIR/PREFIX"
echo "  installed binary: $(stat -c %s "$mb") bytes (stripped)"

needed=$(readelf -d "$mb" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
check "the binary needs no Swift library (NEEDED: $(echo $needed))" \
    sh -c '! echo "$0" | grep -Eiq "swift|Foundation|dispatch|BlocksRuntime"' "$needed"
check "ldd, toolchain hidden: every library found, none from the toolchain" \
    sh -c 'out=$(ldd "$1") && ! echo "$out" | grep -Eq "not found|swift|$0"' "$toolchain" "$mb"
check "the toolchain really is hidden in the namespace" without_swift sh -c '! [ -e "$0/usr/bin/swift" ]' "$toolchain"

out=$(without_swift "$mb" --version 2>&1)
echo "$out" | sed 's/^/  | /'
check "--version without Swift: mapblame $version (commit $commit...)" \
    sh -c 'echo "$0" | head -1 | grep -q "^mapblame $1 (commit $2\(, with uncommitted changes\)\?)$"' "$out" "$version" "$commit"
check "--version names the libunwind of this machine ($(upstream libunwind8))" \
    sh -c 'echo "$0" | grep -q "^libunwind $1 at build, running /.*libunwind-x86_64.so"' "$out" "$(upstream libunwind8)"
check "--version names the elfutils of this machine ($(upstream libdw1))" \
    sh -c 'echo "$0" | grep -q "^elfutils $1 running"' "$out" "$(upstream libdw1)"

rm -f "$work/run.trace" "$work/run.txt" "$work/report.txt"
without_swift "$mb" run -q --trace "$work/run.trace" -o "$work/run.txt" -- "$prog"
status=$?
check "run without Swift exits with the program's status (7: $status)" test "$status" = 7
# (the text wraps at 120 columns: a continuation line starts with spaces; join them again)
check "run's report attributes the 4 MiB malloc to make_buffer" \
    sh -c 'sed -e ":a" -e "N" -e "\$!ba" -e "s/\n  */ /g" "$1" | grep -qF "$0"' "$expected_site (bigmalloc.c:3)" "$work/run.txt"
without_swift "$mb" report -o "$work/report.txt" "$work/run.trace"
check "report of run's trace, without Swift, gives the same report" cmp -s "$work/run.txt" "$work/report.txt"

for page in "$prefix"/share/man/man1/*.1; do
    name=$(basename "$page" .1)
    title=$(echo "$name" | sed 's/-/ /')
    # man -l formats with groff; --warnings turns on groff's; anything on stderr is a failure.
    err=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=w -l "$page" 2>&1 >"$work/man.txt")
    check "man -l $name.1 renders without warnings and is about '$title'" \
        sh -c '[ -z "$0" ] && grep -q "^ *$1 — " "$2"' "$err" "$title" "$work/man.txt"
done

# Completions: each script loaded the way its shell's own loader does, then asked to complete
# "mapblame re" (record, report) and "mapblame run --js" (--json).
export PATH_WITH_MB="$prefix/bin:$PATH"
if command -v bash >/dev/null; then
    out=$(without_swift env PATH="$PATH_WITH_MB" bash --norc --noprofile -c '
        source "$0"
        complete -p mapblame >/dev/null || exit 1
        COMP_WORDS=(mapblame re); COMP_CWORD=1; COMP_LINE="mapblame re"; COMP_POINT=${#COMP_LINE}
        _mapblame mapblame re mapblame; printf "%s\n" "${COMPREPLY[@]}" | sort
        COMP_WORDS=(mapblame run --js); COMP_CWORD=2; COMP_LINE="mapblame run --js"; COMP_POINT=${#COMP_LINE}
        COMPREPLY=(); _mapblame mapblame --js run; printf "%s\n" "${COMPREPLY[@]}"' \
        "$prefix/share/bash-completion/completions/mapblame" 2>&1)
    check "bash completion loads and completes subcommands and options" test "$out" = "$(printf 'record\nreport\n--json')"
else echo "skip - bash not installed"; fi
if command -v zsh >/dev/null; then
    out=$(without_swift env PATH="$PATH_WITH_MB" HOME="$work" zsh -f -c '
        fpath=("$1" $fpath); autoload -U compinit; compinit -u -D; print -r -- ${_comps[mapblame]}
        source "$1/_mapblame" && print loaded' zsh "$prefix/share/zsh/site-functions" 2>&1)
    check "zsh completion is found by compinit in site-functions and loads" test "$out" = "$(printf '_mapblame\nloaded')"
else echo "skip - zsh not installed"; fi
if command -v fish >/dev/null; then
    out=$(without_swift env PATH="$PATH_WITH_MB" HOME="$work" fish --no-config -c '
        source $argv[1]; complete -C "mapblame re" | cut -f1 | sort; complete -C "mapblame run --js" | cut -f1' \
        "$prefix/share/fish/vendor_completions.d/mapblame.fish" 2>&1)
    check "fish completion loads and completes subcommands and options" test "$out" = "$(printf 'record\nreport\n--json')"
else echo "skip - fish not installed"; fi

make --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr/local >"$work/uninstall.log" 2>&1
check "make uninstall removes every installed file" test -z "$(find "$dest" -type f -o -type l)"

# ---------------------------------------------------------------------------------------------
step "make dist"
top_dir=$(basename "$dist" .tar.gz)
listing=$(tar -tzf "$dist" | grep -v '/$' | sort)
check "$(basename "$dist") holds everything under $top_dir/" sh -c '! echo "$0" | grep -qv "^$1/"' "$listing" "$top_dir"
check "$(basename "$dist") holds the install tree" test "$(echo "$listing" | sed "s|^$top_dir/||")" = "$expected"
rm -rf "$work/dist" && mkdir -p "$work/dist/somewhere/else" && tar -xzf "$dist" -C "$work/dist/somewhere/else"
moved=$work/dist/somewhere/else/$top_dir/bin/mapblame
rm -f "$work/dist.txt"
without_swift "$moved" run -q -o "$work/dist.txt" -- "$prog"
check "the unpacked tarball's mapblame runs from anywhere, without Swift" grep -q "$expected_site" "$work/dist.txt"

# ---------------------------------------------------------------------------------------------
step "make deb"
deb_tree=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $6 }' | sed 's|^\./usr/||' | sort)
check "$(basename "$deb") holds the install tree under /usr (man pages gzipped)" \
    test "$deb_tree" = "$(echo "$expected" | sed 's|^\(share/man/.*\.1\)$|\1.gz|' | sort)"
depends=$(dpkg-deb -f "$deb" Depends)
echo "  Depends: $depends"
dep_names=$(echo "$depends" | tr ',' '\n' | sed 's/(.*//; s/ //g' | sort -u)
# The package of each library the binary needs, as dpkg knows it (paths through the /usr merge).
lib_pkgs=$(for lib in $needed; do
    path=$(ldd "$moved" | awk -v l="$lib" '$1 == l { print ($3 ~ /^\//) ? $3 : $1 }')
    [ -n "$path" ] || path=$lib
    dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "/usr$path" 2>/dev/null || echo "UNOWNED:$lib"
done | sed 's/:.*//; s/,.*//' | sort -u)
check "Depends names exactly the packages holding the needed libraries ($(echo $lib_pkgs))" test "$dep_names" = "$lib_pkgs"
check "Suggests: libc6-dbg" test "$(dpkg-deb -f "$deb" Suggests)" = libc6-dbg
check "the package's version is $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"

# ---------------------------------------------------------------------------------------------
if [ $skip_chroot = 0 ]; then
    step "Debian 12 chroot"
    # The mirror this machine's apt uses (deb822 or one-line sources), else Debian's own.
    mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^URIs:/ { u = $2 } /^Suites:.*bookworm( |$)/ { print u; exit }')
    [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
    [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
    tarball=$work/cache/bookworm-minbase.tgz   # downloaded once, unpacked fresh every run
    if [ ! -f "$tarball" ]; then
        mkdir -p "$work/cache"
        rm -rf "$work/debootstrap-download"
        debootstrap --variant=minbase --make-tarball="$tarball.part" bookworm "$work/debootstrap-download" "$mirror" \
            >"$work/debootstrap.log" 2>&1 && mv "$tarball.part" "$tarball"
        rm -rf "$work/debootstrap-download"
    fi
    root=$work/bookworm
    rm -rf "$root"
    if [ -f "$tarball" ] && debootstrap --variant=minbase --unpack-tarball="$tarball" bookworm "$root" "$mirror" \
        >>"$work/debootstrap.log" 2>&1; then
        ok "debootstrap bookworm (minbase) from $mirror"
        cp "$deb" "$root/tmp/"
        cp "$prog" "$root/tmp/bigmalloc"
        cp /etc/resolv.conf "$root/etc/resolv.conf"
        # The mounts live in a private namespace: gone when it ends, whatever happens.
        unshare -m --propagation private sh -c '
            mount -t proc proc "$0/proc" && mount --rbind /dev "$0/dev" || exit 1
            exec chroot "$0" /bin/sh -c "
                export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
                dpkg -s libunwind8 >/dev/null 2>&1 && echo libunwind8 before
                apt-get update -qq && apt-get install -y -qq ./tmp/$1 >/tmp/apt.log 2>&1 || { cat /tmp/apt.log; exit 1; }
                dpkg -s libunwind8 >/dev/null 2>&1 && echo libunwind8 after
                mapblame --version
                mapblame run -q -o /tmp/chroot.txt -- /tmp/bigmalloc; echo run status \$?
                mapblame run -q -o /tmp/perl.txt -- perl -e \"print q(x) x 3\"; echo; echo perl status \$?"
        ' "$root" "$(basename "$deb")" >"$work/chroot.log" 2>&1
        sed 's/^/  | /' "$work/chroot.log"
        check "apt-get install ./$(basename "$deb") pulls in the dependencies (libunwind8 was not there)" \
            sh -c '! grep -q "libunwind8 before" "$0" && grep -q "libunwind8 after" "$0"' "$work/chroot.log"
        check "mapblame --version in the chroot names its commit and elfutils" \
            sh -c 'grep -q "^mapblame $1 (commit $2" "$0" && grep -q "^elfutils [0-9.]* running" "$0"' "$work/chroot.log" "$version" "$commit"
        check "mapblame run in the chroot exits with the program's status" grep -q "^run status 7$" "$work/chroot.log"
        check "mapblame run in the chroot attributes the malloc to make_buffer" grep -q "$expected_site" "$root/tmp/chroot.txt"
        check "mapblame run of the chroot's perl gives a report" \
            sh -c 'grep -q "^perl status 0$" "$0" && grep -q "^== process .*perl: exited with code 0 ==" "$1"' "$work/chroot.log" "$root/tmp/perl.txt"
        rm -rf "$root"
    else
        fail "debootstrap bookworm from $mirror (see $work/debootstrap.log)"
    fi
fi

# ---------------------------------------------------------------------------------------------
if [ $skip_library = 0 ]; then
    step "Swift library snippet (README)"
    if [ -z "$library_pid" ]; then
        fail "README has a Package.swift and a main.swift under '## Use as a Swift library'"
    elif wait "$library_pid"; then
        library_pid=""
        ok "the README's library snippet builds against this checkout"
        out=$("$work/library-build/debug/blame-check" "$prog" 2>&1)
        echo "$out" | sed 's/^/  | /'
        # glibc maps a 4 MiB malloc as 4 MiB + one page (the chunk header).
        check "the snippet traces a program: its exit status and the malloc's site and size" \
            test "$out" = "$(printf 'exit status 7\nmake_buffer: 4198400 bytes')"
    else
        fail "the README's library snippet builds (see $work/library.log)"; tail -20 "$work/library.log"
    fi
fi

echo "# test-install: $passed passed, $failed failed, $((SECONDS - step_start)) s"
[ $failed = 0 ]
