#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Install every Debian package sluice needs to build, test and run.
# Idempotent and non-interactive; needs root (or sudo) only when something
# is missing. Later subsystems add their packages to PACKAGES.
set -euo pipefail

PACKAGES=(
	# toolchain and build
	build-essential meson ninja-build pkg-config
	clang clang-format libclang-rt-14-dev
	# dataplane: DPDK (rte_ring, ethdev, vdevs), NUMA, TLS
	libdpdk-dev dpdk libnuma-dev libmbedtls-dev
	openssl
	# wire format: flatc, C++ headers (interop, differential fuzzing), Python
	flatbuffers-compiler libflatbuffers-dev python3 python3-flatbuffers
	# dataplane/net end-to-end tests: namespaces, tap addresses, kernel ping and arping
	iproute2 iputils-ping iputils-arping
	# TCP attack tests: scapy crafts the segments, tcpdump compiles its BPF filters
	python3-scapy tcpdump
	# sluice-ctld: YAML configuration (libcyaml is not packaged by Debian; see control/config)
	libyaml-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
