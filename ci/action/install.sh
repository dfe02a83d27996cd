#!/usr/bin/env bash
# Step 1 of the mapblame GitHub Action (action.yml): the Debian/Ubuntu packages mapblame needs,
# installed with sudo when the runner's user is not root (hosted runners: passwordless sudo).
# MAPBLAME_BUILD=1 adds what building from source needs. Packages already there are not
# reinstalled, and with none missing apt-get is not run at all.
set -euo pipefail
# Runtime: libunwind (remote unwinding), elfutils (32-bit unwinding, debug info), glibc's symbols.
packages="libunwind8 libdw1 libelf1 libc6-dbg"
if [ "${MAPBLAME_BUILD:-}" = 1 ]; then packages="$packages libunwind-dev libdw-dev libiberty-dev"; fi
missing=""
for p in $packages; do
    # Ubuntu 24.04 renamed some libraries for 64-bit time (libdw1t64): either name will do.
    dpkg -s "$p" >/dev/null 2>&1 || dpkg -s "${p}t64" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -z "$missing" ]; then
    echo "mapblame: runtime packages present ($packages)"
    exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || { echo "mapblame: needs root or passwordless sudo to install:$missing" >&2; exit 1; }
    sudo="sudo -n"
fi
echo "mapblame: installing$missing"
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
