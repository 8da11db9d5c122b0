#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite under ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
status=0
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 1500 | tee build/ctest.out ||
	status=$?
# ctest does not show a skipped test's output: print why each one skipped.
skipped=$(sed -n 's/^\s*[0-9]* - \(.*\) (Skipped)$/\1/p' build/ctest.out)
if [ -n "$skipped" ]; then
	echo "Why the skipped tests skipped:"
	for t in $skipped; do
		awk -v t="$t" '
			$0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { on = 1; next }
			on && /^<end of output>/ { exit }
			on && out { print "  " t ": " $0 }
			on && /^-+$/ { out = 1 }' build/Testing/Temporary/LastTest.log | head -n 4
	done
	grep -E '^[0-9]+% tests passed' build/ctest.out | tail -n 1 # the summary, last again
fi
exit "$status"
