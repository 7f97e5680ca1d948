#!/usr/bin/env bash
# Installs the Debian packages segd needs to build, test and run its demo,
# but only those that are missing (dpkg-query), so a second run is quick and
# does not touch the network.
set -euo pipefail

PKGS=(
	make gcc clang llvm pkg-config libc6-dev # build
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libjansson-dev libssl-dev libcmocka-dev
	libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev
	iproute2 nftables ethtool iputils-ping # demo and tests
	socat dcmtk tcpreplay tcpdump
)

missing=()
for p in "${PKGS[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
