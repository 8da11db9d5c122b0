#!/bin/sh
# One daemon build of a changed source, as the CLI sees it: `vmslim cc` (the per-user
# daemon, answer cache missed because the source changes each time) through a clang
# snapshot, next to the same daemon without snapshots (VMSLIM_NO_CLANGSNAP=1: the PCH path,
# or plain clang for a small header) and plain clang, with the slim header (`vmslim extract
# --from PROG`) and the full vmlinux.h. Median of N wall-clock runs of each command; every
# row's last object is compared with plain clang's (cmp: byte for byte; where only BTF's
# type order differs, which clang 19 varies with its heap layout, "objdiff-equal").
#
#   bench/clangsnap_daemon.sh VMSLIM FULL_VMLINUX_H PROG.bpf.c [N] [CLANG]
#
# Each world (XDG_RUNTIME_DIR, cache) is private and removed at the end; the daemons
# started here are stopped.
set -u
VMSLIM=$(realpath "$1") FULL=$(realpath "$2") PROG=$(realpath "$3")
N=${4:-11} CLANG=$(command -v "${5:-clang}")
T=$(mktemp -d /tmp/vmslim-snap-bench.XXXXXX)
unset VMSLIM_NO_DAEMON VMSLIM_SLIM VMSLIM_CC_VERBOSE VMSLIM_CLANG VMSLIM_REMOTE VMSLIM_NO_CLANGSNAP
for w in on off; do mkdir -p "$T/$w/run" "$T/$w/cache" && chmod 700 "$T/$w/run"; done
stop() {
	for w in on off; do
		for s in "$T/$w"/run/vmslim/daemon*.sock; do
			[ -S "$s" ] && "$VMSLIM" client -s "$s" raw '{"op":"shutdown"}' >/dev/null 2>&1
		done
	done
	sleep 1
	rm -rf "$T"
}
trap stop EXIT INT TERM

mkdir -p "$T/slim" "$T/src"
cp "$PROG" "$T/src/prog.bpf.c"
VMSLIM_NO_DAEMON=1 "$VMSLIM" extract --header "$FULL" --from "$PROG" \
	-o "$T/slim/vmlinux.h" >/dev/null ||
	{ echo "extract failed"; exit 1; }
cd "$T/src"
now() { date +%s%N; }
median() {
	sort -n | awk '{ v[NR] = $1 }
		END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1e6 }'
}

# time_row WORLD CMD...: median ms of N runs, the source edited before each (a warm-up of 3
# untimed runs first: the daemon, its PCH and its snapshot get going); WORLD "-" is none.
time_row() {
	world=$1; shift
	if [ "$world" != - ]; then
		export XDG_RUNTIME_DIR="$T/$world/run" XDG_CACHE_HOME="$T/$world/cache"
		[ "$world" = off ] && export VMSLIM_NO_CLANGSNAP=1 || unset VMSLIM_NO_CLANGSNAP
	fi
	i=0
	while [ $i -lt $((N + 3)) ]; do
		echo "/* $world $i $(now) */" >>prog.bpf.c
		t0=$(now)
		"$@" || { echo "failed: $*" >&2; return 1; }
		t1=$(now)
		[ $i -ge 3 ] && echo $((t1 - t0))
		[ $i -lt 3 ] && sleep 0.5 # let a snapshot start
		i=$((i + 1))
	done | median
	cp prog.bpf.o "$T/last.o"
	"$CLANG" $FLAGS -c prog.bpf.c -o prog.bpf.o
	cmp -s "$T/last.o" prog.bpf.o && return 0
	# clang 19's BTF type order follows its heap layout (two plain builds in directories
	# of other name lengths differ): then the objects must still be the same to objdiff
	"$VMSLIM" objdiff "$T/last.o" prog.bpf.o >/dev/null 2>&1 || { echo " (differs!)"; return 1; }
	echo " (objdiff-equal)"
}

echo "program $(basename "$PROG"), clang $CLANG, median of $N runs, ms per command (wall)"
printf "%-6s %12s %22s %22s  %s\n" header "plain clang" "vmslim cc, no snapshot" \
	"vmslim cc, snapshot" "ratios (plain/snapshot, no snapshot/snapshot)"
bad=0
for h in slim full; do
	[ $h = slim ] && inc="$T/slim" || inc=$(dirname "$FULL")
	FLAGS="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$inc -MD"
	plain=$(time_row - "$CLANG" $FLAGS -c prog.bpf.c -o prog.bpf.o) || bad=1
	off=$(time_row off "$VMSLIM" cc --clang "$CLANG" $FLAGS -c prog.bpf.c -o prog.bpf.o) || bad=1
	on=$(time_row on "$VMSLIM" cc --clang "$CLANG" $FLAGS -c prog.bpf.c -o prog.bpf.o) || bad=1
	XDG_RUNTIME_DIR="$T/on/run" XDG_CACHE_HOME="$T/on/cache" VMSLIM_CC_VERBOSE=1 \
		"$VMSLIM" cc --clang "$CLANG" $FLAGS -c prog.bpf.c -o prog.bpf.o 2>"$T/mode"
	printf "%-6s %12s %22s %22s  %s\n" $h "$plain" "$off" "$on" \
		"$(awk -v p="$plain" -v o="$off" -v s="$on" \
			'BEGIN { if (s > 0) printf "%.1fx, %.1fx", p / s, o / s }')"
	grep -q "clang snapshot" "$T/mode" ||
		{ echo "  the snapshot did not serve: $(cat "$T/mode")"; bad=1; }
done
exit $bad
