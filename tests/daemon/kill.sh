#!/bin/sh
# The daemon killed outright (SIGKILL) in the middle of a build: every compile still
# succeeds (it falls back to the in-process path, or a new daemon takes over) and every
# object is the one plain clang makes.
. "$(dirname "$0")/lib.sh"
run_make "$W/plain" clang || fail "plain make"
run_make "$W/cc" "$VMSLIM" cc &
MAKE_PID=$!
EXTRA_PIDS=$MAKE_PID
killed=0
# kill every daemon that appears, twice, while the build runs (the first one mid-PCH build)
for round in 1 2; do
	i=0
	while [ $i -lt 300 ] && [ -z "$(daemon_pids)" ] && kill -0 $MAKE_PID 2>/dev/null; do
		sleep 0.05; i=$((i + 1))
	done
	sleep 0.3
	for p in $(daemon_pids); do kill -9 "$p" && killed=$((killed + 1)); done
done
wait $MAKE_PID || fail "the build failed after the daemon was killed"
EXTRA_PIDS=
[ $killed -ge 1 ] || fail "no daemon was there to kill"
for o in "$W"/plain/*.o; do
	cmp -s "$o" "$W/cc/$(basename "$o")" || fail "$(basename "$o") differs from plain clang's"
done
echo "killed $killed daemons mid-build: the build succeeded, objects identical"
