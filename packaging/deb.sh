#!/bin/sh
# Builds the Debian package from the staged tree (packaging/stage.sh) installed under /usr.
# Depends: is computed from the binary's needs by dpkg-shlibdeps (the shlibs/symbols files of the
# packages that hold the libraries it links: libunwind8, libdw1, libelf1, libc6...), never written
# by hand. Suggests: libc6-dbg (file:line for glibc's frames).
# Usage: packaging/deb.sh ROOT VERSION OUT.deb
set -eu
root=$1; version=$2; out=$3
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pkg="$work/pkg"
mkdir -p "$pkg/usr" "$pkg/DEBIAN"
cp -R "$root/." "$pkg/usr/"
# Debian policy: manual pages compressed, reproducibly (-n: no name or time stamp).
gzip -9n "$pkg"/usr/share/man/man1/*.1

# dpkg-shlibdeps wants a debian/control of a source package beside it; -O prints the result.
mkdir -p "$work/debian"
printf 'Source: mapblame\n\nPackage: mapblame\nArchitecture: %s\n' "$arch" > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -e pkg/usr/bin/mapblame 2>"$work/shlibdeps.err" | sed -n 's/^shlibs:Depends=//p') || true
if [ -z "$depends" ]; then
    echo "deb.sh: dpkg-shlibdeps found no dependencies:" >&2; cat "$work/shlibdeps.err" >&2; exit 1
fi

size=$(du -sk "$pkg/usr" | cut -f1)
cat > "$pkg/DEBIAN/control" <<CONTROL
Package: mapblame
Version: $version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-mapblame developers <mapblame@localhost>}
Installed-Size: $size
Depends: $depends
Suggests: libc6-dbg
Section: devel
Priority: optional
Description: explain every unnamed region of a process's memory map
 mapblame runs a program under ptrace, stops it only at the memory-mapping
 syscalls (seccomp-bpf), records a backtrace for each, follows every region
 through munmap/mprotect/mremap/brk, and at exit joins those records with
 /proc/PID/maps and smaps: every byte of every region gets an origin.
 .
 Install libc6-dbg and the -dbgsym packages of other libraries for file:line
 in their frames.
CONTROL
(cd "$pkg" && find usr -type f -exec md5sum {} + | sort -k2) > "$pkg/DEBIAN/md5sums"
chmod 644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/md5sums"
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
