#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Fail when a C/C++ source differs from .clang-format. Usage: check-format.sh [SRCDIR]
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
bad=0
while IFS= read -r -d '' f; do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "format: $f differs from .clang-format (run: clang-format -i $f)"
		bad=1
	fi
done < <(find dataplane control nic schema tests tools -type f \
	\( -name '*.c' -o -name '*.h' -o -name '*.cc' \) -print0 2>/dev/null)
[ $bad -eq 0 ] && echo "format: ok"
exit $bad
