#!/bin/sh
# Issue 12's per-command rows, one program, side by side in this one run: each command as
# a user types it, with the per-user daemon warm (an untimed first call made it) and
# without (VMSLIM_NO_DAEMON=1, the in-process path):
#   check      one-shot `vmslim check PROG`
#   extract    `vmslim extract --header H --from PROG` (the daemon's warm context)
#   cc, build  `vmslim cc` and `vmslim build` of a changed source (a comment appended before
#              each call, so no answer cache serves it): plain clang, then each with and
#              without --slim, in process and through the daemon (its clang snapshots)
# Median and p90 of N calls, milliseconds, client start included.
#
#   bench/daemon_paths.sh VMSLIM VMLINUX_H [PROG.c] [N]
set -u
VMSLIM=$(realpath "$1") HDR=$(realpath "$2")
HERE=$(cd "$(dirname "$0")/.." && pwd)
PROG=$(realpath "${3:-$HERE/tests/progs/execsnoop.bpf.c}") N=${4:-20}
T=$(mktemp -d /tmp/vmslim-daemon-paths.XXXXXX)
mkdir -p "$T/run" "$T/cache" "$T/w"
chmod 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run" XDG_CACHE_HOME="$T/cache"
unset VMSLIM_NO_DAEMON VMSLIM_SLIM VMSLIM_CC_VERBOSE
stop() {
	for s in "$T"/run/vmslim/daemon-*.sock; do
		[ -S "$s" ] && "$VMSLIM" client -s "$s" raw '{"op":"shutdown"}' >/dev/null 2>&1
	done
	sleep 1
	rm -rf "$T"
}
trap stop EXIT INT TERM
cd "$T/w"
cp "$PROG" prog.bpf.c
# the header in a directory of its own on -I, as libbpf-tools keeps it
mkdir -p vmlinux
cp "$HDR" vmlinux/vmlinux.h
INC="-Ivmlinux -I$HERE/headers"
# a file changed less than 2 s before a snapshot read it is not trusted (ccache's "too
# new" rule, tccarena/checker.c): fresh copies would make every check build a snapshot
sleep 2.5
CCF="-g -O2 -target bpf -D__TARGET_ARCH_x86 $INC -c prog.bpf.c -o prog.o"

# ms of one command (its output thrown away)
ms() {
	t0=$(date +%s%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s%N)
	echo "($t1 - $t0) / 1000000" | bc -l
}
# "median p90" of N runs of a command; CHANGE=1 appends a comment to the source first
row() { # NAME CMD...
	name=$1
	shift
	"$@" >/dev/null 2>&1 # untimed: warms the daemon, its snapshots, contexts and PCHs
	i=0
	while [ $i -lt "$N" ]; do
		[ "${CHANGE:-0}" = 1 ] && echo "/* $(date +%s%N) */" >>prog.bpf.c
		ms "$@"
		i=$((i + 1))
	done | sort -n | awk -v name="$name" '{ a[NR] = $1 }
		END { printf "  %-44s %8.2f %8.2f\n", name, a[int((NR + 1) / 2)], a[int(NR * 0.9 + 0.5)] }'
}
nod() { VMSLIM_NO_DAEMON=1 "$@"; }

echo "program: $(basename "$PROG"), header: $HDR ($(wc -c <vmlinux/vmlinux.h) bytes), $N calls each"
printf "  %-44s %8s %8s\n" "command (ms)" median p90
row "check, in process" nod "$VMSLIM" check $INC prog.bpf.c
row "check, per-user daemon" "$VMSLIM" check $INC prog.bpf.c
row "extract --from, in process" nod "$VMSLIM" extract --header vmlinux/vmlinux.h --from prog.bpf.c -o s.h -- $INC
row "extract --from, per-user daemon" "$VMSLIM" extract --header vmlinux/vmlinux.h --from prog.bpf.c -o s.h -- $INC
CHANGE=1 row "changed source: clang" clang $CCF
CHANGE=1 row "changed source: vmslim cc, in process" nod "$VMSLIM" cc $CCF
CHANGE=1 row "changed source: vmslim cc, daemon" "$VMSLIM" cc $CCF
CHANGE=1 row "changed source: vmslim cc --slim, daemon" "$VMSLIM" cc --slim $CCF
CHANGE=1 row "changed source: vmslim build, in process" nod "$VMSLIM" build prog.bpf.c -o b.o -- $INC
CHANGE=1 row "changed source: vmslim build, daemon" "$VMSLIM" build prog.bpf.c -o b.o -- $INC
CHANGE=1 row "changed source: vmslim build --slim, in process" nod "$VMSLIM" build --slim prog.bpf.c -o b.o -- $INC
CHANGE=1 row "changed source: vmslim build --slim, daemon" "$VMSLIM" build --slim prog.bpf.c -o b.o -- $INC
echo "/* last */" >>prog.bpf.c
VMSLIM_CC_VERBOSE=1 "$VMSLIM" cc --slim $CCF 2>&1 | sed 's/^/  last --slim compile: /'
