#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install the Debian packages mpnet needs to build and test; silent and quick
# when they are all present. Needs root (or sudo) only when something is missing.
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev libcmocka-dev
      liburcu-dev libxdp-dev libbpf-dev libpcap-dev tshark tcpdump iputils-ping clang-format valgrind
      iproute2 iperf3 gnuplot-nox radvd socat netcat-openbsd ethtool nftables curl)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
# radvd (test_kernel_ip6) asks nothing; its service needs /etc/radvd.conf,
# which the package does not ship, so nothing starts outside the tests.
# iperf3 asks whether to start a server at boot; no.
echo "iperf3 iperf3/start_daemon boolean false" | $sudo debconf-set-selections
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
