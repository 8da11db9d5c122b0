#!/usr/bin/env bash
# Sets up (packages, build) and runs the whole test suite under ctest: first the normal
# build, then the same suite on an AddressSanitizer + UndefinedBehaviorSanitizer build.
# The last lines are ctest's summary of the sanitizer run (CI reads them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
# the normal build includes the WebAssembly checker (wasm/: about 20 s more on 2 cores)
cmake -S . -B build -DVMSLIM_WASM=ON > /dev/null && cmake --build build -j"$(nproc)" > /dev/null

# Names of the tests ctest's last run in $1 failed ("12:name" lines).
failed_tests() {
	local log=$1/Testing/Temporary/LastTestsFailed.log
	[ -f "$log" ] && sed -n 's/^[0-9]*:\(.*\)$/\1/p' "$log" || true
}

# Why each skipped test skipped: ctest does not show a skipped test's output. A test that
# needs the pinned BTFs (no ../shared) and the tests it sets up say so in tests/skipped.txt.
print_skip_reasons() { # build dir, ctest output
	local dir=$1 out=$2 skipped disabled
	skipped=$(sed -n 's/^\s*[0-9]* - \(.*\) (Skipped)$/\1/p' "$out")
	disabled=$(sed -n 's/^\s*[0-9]* - \(.*\) (Disabled)$/\1/p' "$out")
	[ -n "$skipped$disabled" ] || return 0
	echo "Why the skipped tests skipped:"
	for t in $skipped; do
		awk -v t="$t" '
			$0 ~ "^[0-9]+/[0-9]+ Test: " t "$" { on = 1; next }
			on && /^<end of output>/ { exit }
			on && out { print "  " t ": " $0 }
			on && /^-+$/ { out = 1 }' "$dir/ctest-first.log" | head -n 4
	done
	for t in $disabled; do
		grep -s "^$t: " "$dir/tests/skipped.txt" | sed 's/^/  /' || echo "  $t: disabled"
	done
}

# `vmslim cc` and `vmslim check` go to a per-user daemon by default, which outlives the
# command: the tests that mean that path (tests/daemon) start their own in a private
# XDG_RUNTIME_DIR and stop it; every other test runs the in-process path, as before, and
# leaves no daemon behind
export VMSLIM_NO_DAEMON=1

run_suite() { # build dir
	local dir=$1 status=0 first retried=() still=() t
	# ctest leaves an old LastTestsFailed.log in place when every test passes: one from
	# an earlier run must not be taken for this run's failures
	rm -f "$dir/Testing/Temporary/LastTestsFailed.log"
	ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 1500 |
		tee "$dir/ctest.out" || status=$?
	# the retry rewrites ctest's log; the skipped tests' output is in this one
	cp "$dir/Testing/Temporary/LastTest.log" "$dir/ctest-first.log" 2>/dev/null || true
	local summary
	summary=$(grep -E '^[0-9]+% tests passed' "$dir/ctest.out" | tail -n 1 || true)
	# a test that fails is run once more, so that a load spike on a 2-core machine cannot
	# fail the suite; one that fails twice fails it, and one that passes only the second
	# time is named, here and in the summary
	first=
	[ "$status" -eq 0 ] || first=$(failed_tests "$dir")
	if [ -n "$first" ]; then
		echo "== running the $(echo "$first" | wc -l) failed test(s) once more"
		status=0
		ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 1500 \
			--rerun-failed | tee "$dir/ctest-retry.out" || status=$?
		# (ctest leaves LastTestsFailed.log alone when every rerun passes: read its lines)
		local passed
		passed=$(sed -n 's/^[0-9]*\/[0-9]* *Test *#[0-9]*: \([^ ]*\) \.* *Passed .*$/\1/p' \
			"$dir/ctest-retry.out")
		for t in $first; do
			if grep -qxF "$t" <<<"$passed"; then retried+=("$t"); else still+=("$t"); fi
		done
		[ "$status" -ne 0 ] || [ ${#still[@]} -eq 0 ] || status=1
		# the whole run's figures, in ctest's words
		local total
		total=$(sed -n 's/^.* tests failed out of \([0-9]*\)$/\1/p' <<<"$summary")
		if [ -n "$total" ] && [ "$total" -gt 0 ]; then
			summary="$(( (total - ${#still[@]}) * 100 / total ))% tests passed, ${#still[@]} tests failed out of $total"
		fi
	fi
	print_skip_reasons "$dir" "$dir/ctest.out"
	if [ ${#retried[@]} -gt 0 ]; then
		echo "passed only on retry: ${retried[*]}"
		for t in "${retried[@]}"; do RETRIED+=("$dir: $t"); done
	fi
	if [ ${#still[@]} -gt 0 ]; then
		echo "failed twice: ${still[*]}"
	fi
	LAST_SUMMARY=$summary
	[ -z "$summary" ] || echo "$summary" # the summary, last again
	return "$status"
}

RETRIED=()
LAST_SUMMARY=
status=0
run_suite build || status=$?
echo "== the same suite under ASan and UBSan"
cmake -S . -B build-asan -DVMSLIM_SANITIZE=ON > /dev/null
cmake --build build-asan -j"$(nproc)" > /dev/null
# LLVM (libclang, in the exact tier, the language server and extract) installs its own
# alternate signal stack on the threads it runs on; ASan then fails a CHECK unmapping it
# when such a thread exits ("unable to unmap", AsanThread::Destroy). Without per-thread
# signal stacks ASan still checks every access.
export ASAN_OPTIONS=use_sigaltstack=0
run_suite build-asan || status=$?
if [ ${#RETRIED[@]} -gt 0 ]; then
	# named once more at the end, in both builds, then ctest's summary closes the output
	printf 'passed only on retry: %s\n' "${RETRIED[@]}"
	[ -z "$LAST_SUMMARY" ] || echo "$LAST_SUMMARY"
fi
exit "$status"
