#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite under ctest: first the normal
# build, then the same suite on an AddressSanitizer + UndefinedBehaviorSanitizer build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build

run_suite() { # build dir
	local dir=$1 status=0
	# a test that fails is run once more, so that a load spike on a 2-core machine
	# cannot fail the suite; one that fails twice fails it
	ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 1500 \
		--repeat until-pass:2 | tee "$dir/ctest.out" || status=$?
	# ctest does not show a skipped test's output: print why each one skipped
	local skipped
	skipped=$(sed -n 's/^\s*[0-9]* - \(.*\) (Skipped)$/\1/p' "$dir/ctest.out")
	if [ -n "$skipped" ]; then
		echo "Why the skipped tests skipped:"
		for t in $skipped; do
			awk -v t="$t" '
				$0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { on = 1; next }
				on && /^<end of output>/ { exit }
				on && out { print "  " t ": " $0 }
				on && /^-+$/ { out = 1 }' "$dir/Testing/Temporary/LastTest.log" | head -n 4
		done
		grep -E '^[0-9]+% tests passed' "$dir/ctest.out" | tail -n 1 # the summary, last again
	fi
	return "$status"
}

status=0
run_suite build || status=$?
echo "== the same suite under ASan and UBSan"
cmake -S . -B build-asan -DVMSLIM_SANITIZE=ON > /dev/null
cmake --build build-asan -j"$(nproc)" > /dev/null
run_suite build-asan || status=$?
exit "$status"
