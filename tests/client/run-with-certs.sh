#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Usage: run-with-certs.sh GEN_CERTS_SCRIPT TEST_BINARY [ARGS...]
# Makes throw-away certificates in a temporary directory, then runs
# TEST_BINARY CERT_DIR ARGS...; the directory is removed afterwards.
set -euo pipefail
gen=$1
shift
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$gen" "$d"
"$@" "$d"
