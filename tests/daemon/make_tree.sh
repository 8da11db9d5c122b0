#!/bin/sh
# A libbpf-tools-style Makefile over tests/progs under plain clang, CLANG="vmslim cc" and
# CLANG="vmslim cc --slim" with -j2: objects byte-identical to plain clang's (objdiff-same
# with --slim), dependency files equivalent, one daemon started for the whole build, a
# rebuild of the unchanged tree answered from the daemon's cache, and after the idle
# timeout no daemon, no socket and no process left.
. "$(dirname "$0")/lib.sh"
export VMSLIM_IDLE_TIMEOUT=4
N=$(nprogs)

run_make "$W/plain" clang || fail "plain make"
run_make "$W/cc" "$VMSLIM" cc || fail "make with vmslim cc"
for o in "$W"/plain/*.o; do
	b=$(basename "$o")
	cmp -s "$o" "$W/cc/$b" || fail "$b differs from plain clang's"
	d=${b%.o}.d
	[ "$(dep_norm "$W/plain/$d" "$W/plain")" = "$(dep_norm "$W/cc/$d" "$W/cc")" ] ||
		fail "$d differs from plain clang's"
done
started=$(grep -c 'listening on' "$LOG")
[ "$started" = 1 ] || fail "$started daemons started for one build"
set -- $(cc_stats)
[ "$1" = "$N" ] || fail "the daemon saw $1 compiles, not $N"
echo "vmslim cc: $N objects identical to plain clang's, one daemon"

# the unchanged tree again, objects removed: every compile is a cache hit
rm -f "$W"/cc/*.o
run_make "$W/cc" "$VMSLIM" cc || fail "rebuild with vmslim cc"
set -- $(cc_stats)
[ "$2" = "$N" ] || fail "rebuild: $2 cache hits, not $N"
for o in "$W"/plain/*.o; do
	cmp -s "$o" "$W/cc/$(basename "$o")" || fail "rebuilt $(basename "$o") differs"
done
echo "rebuild: $N of $N from the cache, identical"

run_make "$W/slim" "$VMSLIM" cc --slim || fail "make with vmslim cc --slim"
for o in "$W"/plain/*.o; do
	"$VMSLIM" objdiff -q "$o" "$W/slim/$(basename "$o")" || fail "--slim: $(basename "$o") differs"
done
echo "vmslim cc --slim: $N objects objdiff-same"
grep -c 'listening on' "$LOG" | grep -qx 1 || fail "a second daemon was started"

# idle: the daemon goes by itself and takes its socket with it
pid=$(daemon_pids)
[ -n "$pid" ] || fail "no daemon running"
i=0
while [ -d /proc/$pid ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
[ -d /proc/$pid ] && fail "the daemon is still there after its idle timeout"
[ -e "$(sock)" ] && fail "the socket is left after the daemon stopped"
grep -q 'shutting down (idle)' "$LOG" || fail "the daemon did not stop for being idle"
left=$(ps -eo pid=,stat=,args= | grep -F "$W/run" | grep -v grep)
[ -z "$left" ] || fail "processes left: $left"
echo "idle timeout: daemon gone, socket removed, nothing left"
