#!/bin/bash
# Installs, from Debian 12 packages, what fluxaudit needs and is missing.
#   install-deps.sh          build and run
#   install-deps.sh --test   also what the test suite needs
# Runs apt-get as root (through sudo when not root). Nothing is downloaded
# from anywhere but the distribution's package archive.
set -euo pipefail
packages=(gcc meson ninja-build pkg-config libpcap-dev libndpi-dev libcjson-dev libgnutls28-dev
          libsqlite3-dev libmicrohttpd-dev libcrypt-dev libcsv-dev)
if [ "${1:-}" = "--test" ]; then
    packages+=(check python3 python3-jsonschema tcpreplay iproute2 procps clang libclang-rt-14-dev
               clang-tidy cppcheck libndpi-bin curl openssl chromium nodejs)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm ships inside some Node.js builds: ask Debian's only when none is there.
if [ "${1:-}" = "--test" ] && ! command -v npm >/dev/null; then missing+=(npm); fi
[ "${#missing[@]}" -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
