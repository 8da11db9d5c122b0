#!/bin/sh
# `vmslim bench` stopped by SIGTERM while its daemon runs: the daemon is stopped too and
# the work directory (headers, PCHs, the daemon's socket and cache) is removed. Also the
# checks that come before minutes of measuring: option values and output paths.
# usage: signal.sh VMSLIM VMLINUX_H WORKDIR
set -u
vmslim=$1 header=$2 work=$3
rm -rf "$work"
mkdir -p "$work/tmp"
fail=0

"$vmslim" bench --runs 0 2>"$work/err"
[ $? -eq 2 ] && grep -q "from 1 to" "$work/err" || { echo "FAIL: --runs 0"; fail=1; }
"$vmslim" bench --quick --header "$header" --json "$work/no/such/b.json" 2>"$work/err"
[ $? -eq 1 ] && grep -q "b.json: cannot write" "$work/err" || { echo "FAIL: --json into nowhere"; fail=1; }

TMPDIR="$work/tmp" "$vmslim" bench --quick --header "$header" >/dev/null 2>"$work/progress" &
pid=$!
for i in $(seq 600); do
	find "$work/tmp" -name serve.sock 2>/dev/null | grep -q . && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
if ! find "$work/tmp" -name serve.sock | grep -q .; then
	# a daemon bench cannot start is a failure of vmslim, not a limit of the machine
	echo "FAIL: the daemon never started"
	cat "$work/progress"
	kill $pid 2>/dev/null
	wait $pid
	exit 1
fi
kill -TERM $pid
wait $pid
if pgrep -f "serve --socket $work/tmp" >/dev/null; then
	echo "FAIL: the daemon outlived bench"
	for p in $(pgrep -f "serve --socket $work/tmp"); do kill "$p"; done
	fail=1
fi
if [ -n "$(ls -A "$work/tmp")" ]; then
	echo "FAIL: left in TMPDIR: $(ls -A "$work/tmp")"
	fail=1
fi
[ $fail -eq 0 ] && echo ok
exit $fail
