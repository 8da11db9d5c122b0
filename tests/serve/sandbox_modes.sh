#!/bin/sh
# The daemon says which OS confinement is in force, and where none can be had it refuses
# builds unless told --no-sandbox (issue 10 item 1). VMSLIM_SANDBOX_UNAVAILABLE=1 makes
# the probe answer "nothing", as on a kernel without Landlock and user namespaces.
# usage: sandbox_modes.sh VMSLIM VMLINUX_DIR WORK
set -u
vmslim=$1 vmlinux_dir=$2 d=$3
rm -rf "$d"
mkdir -p "$d"
printf 'int x = 1;\n' > "$d/p.bpf.c"
. "$(dirname "$0")/daemon.sh"
fail=0
no() { echo "FAIL: $*"; fail=1; }

# what this machine has is said at start and in stats
"$vmslim" serve -s "$d/log.sock" -I "$vmlinux_dir" --cache-dir "$d/cache" --no-disk-cache \
	2> "$d/start.log" &
pid=$!
i=0
until "$vmslim" client -s "$d/log.sock" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 300 ] || { no "daemon did not start"; break; }; sleep 0.1
done
"$vmslim" client -s "$d/log.sock" stats > "$d/stats.json" 2>&1
"$vmslim" client -s "$d/log.sock" shutdown >/dev/null 2>&1
wait $pid
grep -o 'sandbox: [^]]*' "$d/start.log" | head -2
grep -q 'sandbox: .*around every untrusted compile' "$d/start.log" || no "no sandbox line at start"
grep -q '"sandbox_mechanism"' "$d/stats.json" || no "stats has no sandbox_mechanism"

# nothing available: builds refused, checks still answered by the confined TCC checker
VMSLIM_SANDBOX_UNAVAILABLE=1 daemon_start none
"$vmslim" client -s "$sock" build "$d/p.bpf.c" -o "$d/p.o" > "$d/none.out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q 'cannot confine compilers here' "$d/none.out" ||
	no "an unconfinable build was not refused (rc $rc): $(cat "$d/none.out")"
[ ! -e "$d/p.o" ] || no "a refused build wrote an object"
"$vmslim" client -s "$sock" check "$d/p.bpf.c" > "$d/none_check.out" 2>&1 ||
	no "a check was refused too: $(cat "$d/none_check.out")"
daemon_stop

# ... unless the operator says --no-sandbox
VMSLIM_SANDBOX_UNAVAILABLE=1 daemon_start off --no-sandbox
"$vmslim" client -s "$sock" build "$d/p.bpf.c" -o "$d/p.o" > "$d/off.out" 2>&1 ||
	no "--no-sandbox build failed: $(cat "$d/off.out")"
[ -s "$d/p.o" ] || no "--no-sandbox build wrote no object"
daemon_stop

# an explicit mechanism that cannot be had: the daemon does not start
VMSLIM_SANDBOX_UNAVAILABLE=1 "$vmslim" serve -s "$d/x.sock" -I "$vmlinux_dir" \
	--cache-dir "$d/cache" --sandbox landlock -q 2> "$d/exact.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'landlock.* was asked for, but none' "$d/exact.err" ||
	no "--sandbox landlock without Landlock: rc $rc, $(cat "$d/exact.err")"
"$vmslim" serve -s "$d/x.sock" --sandbox bogus 2> "$d/usage.err"
[ $? -eq 2 ] || no "--sandbox bogus is not a usage error"
[ $fail -eq 0 ] && echo "sandbox modes: ok"
exit $fail
