#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Usage: run.sh TEST_BINARY GEN_CERTS_SCRIPT -- fresh certificates, then the test.
set -euo pipefail
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
"$2" "$d"
"$1" "$d"
