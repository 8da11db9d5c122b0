#!/bin/sh
# A Makefile tree under plain clang, CLANG="vmslim cc" and CLANG="vmslim cc --slim" (issue
# 12's Makefile rows), and a pure rebuild of the unchanged tree against `ccache clang` warm.
#
#   bench/make_tree.sh VMSLIM VMLINUX_DIR [TREE [MAKE ARGS...]]
#
# Without TREE: tests/daemon/Makefile (libbpf-tools' compile rule, -MD, llvm-strip -g) over a
# copy of tests/progs. With TREE: a copy of that directory, built with `make MAKE ARGS` and
# CLANG=...; its *.bpf.c are the sources. Before each timed pass every source gets a comment
# line appended, so no answer cache can serve it (make rebuilds every object); the daemon
# and the PCH stay warm (an untimed first pass per mode). The rebuild rows remove the
# objects of an unchanged tree and build again: vmslim cc from its daemon's answer cache,
# ccache from a warm CCACHE_DIR (its own temp dir). Env: PASSES (default 3), JOBS (default
# 2), REBUILD_ONLY=1 (the rebuild rows alone). Each world (XDG_RUNTIME_DIR, cache dirs) is
# private and removed at the end; the daemon started here is stopped.
set -u
VMSLIM=$(realpath "$1") VMLINUX=$(realpath "$2")
shift 2
TREE=${1:-}
[ $# -gt 0 ] && shift
PASSES=${PASSES:-3} JOBS=${JOBS:-2}
HERE=$(cd "$(dirname "$0")/.." && pwd)
# LLVM_STRIP=true: the rebuild rows without the strip, what the caches alone cost
STRIP=${LLVM_STRIP:-$(command -v llvm-strip-14 || command -v llvm-strip)}
T=$(mktemp -d /tmp/vmslim-make-tree.XXXXXX)
mkdir -p "$T/run" "$T/cache" "$T/ccache"
chmod 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run" XDG_CACHE_HOME="$T/cache" CCACHE_DIR="$T/ccache"
unset VMSLIM_NO_DAEMON VMSLIM_SLIM VMSLIM_CC_VERBOSE
stop() {
	# the socket is named by the binary (serve/autostart.c): found by its pattern
	for s in "$T"/run/vmslim/daemon-*.sock; do
		[ -S "$s" ] && "$VMSLIM" client -s "$s" shutdown >/dev/null 2>&1
	done
	sleep 1
	rm -rf "$T"
}
trap stop EXIT INT TERM

if [ -z "$TREE" ]; then
	mkdir -p "$T/src"
	cp "$HERE"/tests/progs/*.bpf.c "$T/src/"
	SRC="$T/src"
	mk() { # OUTPUT CLANG
		make -s -j"$JOBS" -f "$HERE/tests/daemon/Makefile" PROGS="$SRC" VMLINUX="$VMLINUX" \
			LLVM_STRIP="$STRIP" OUTPUT="$1" CLANG="$2"
	}
	objs() { echo "$1"/*.bpf.o; }
else
	TREE=$(realpath "$TREE")
	mkdir -p "$T/tree"
	cp -a "$TREE/." "$T/tree/"
	SRC="$T/tree"
	mk() { make -s -j"$JOBS" -C "$SRC" "$@" CLANG="$2" >/dev/null; }
	objs() { find "$SRC" -name '*.bpf.o'; }
fi
n=$(find "$SRC" -name '*.bpf.c' | wc -l)

now() { date +%s.%N; }
touch_sources() { find "$SRC" -name '*.bpf.c' -exec sh -c 'for f; do echo "/* $(date +%s%N) */" >>"$f"; done' _ {} +; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# Median seconds of PASSES builds after a change of every source.
changed() { # OUTPUT CLANG
	mk "$1" "$2" || { echo "build failed: $2" >&2; exit 1; }
	i=0
	while [ $i -lt "$PASSES" ]; do
		touch_sources
		t0=$(now)
		mk "$1" "$2" || { echo "build failed: $2" >&2; exit 1; }
		echo "$(now) - $t0" | bc
		i=$((i + 1))
	done | median
}

# Median seconds of PASSES rebuilds of the unchanged tree with its objects removed.
rebuild() { # OUTPUT CLANG
	mk "$1" "$2" || exit 1
	i=0
	while [ $i -lt "$PASSES" ]; do
		rm -f $(objs "$1")
		t0=$(now)
		mk "$1" "$2" || { echo "rebuild failed: $2" >&2; exit 1; }
		echo "$(now) - $t0" | bc
		i=$((i + 1))
	done | median
}

echo "tree: ${TREE:-tests/progs via tests/daemon/Makefile} ($n programs), make -j$JOBS, median of $PASSES"
if [ "${REBUILD_ONLY:-0}" != 1 ]; then
	plain=$(changed "$T/o-plain" clang)
	cc=$(changed "$T/o-cc" "$VMSLIM cc")
	slim=$(changed "$T/o-slim" "$VMSLIM cc --slim")
	printf "after a change of every source:\n"
	printf "  %-24s %8.3f s\n" "clang" "$plain"
	printf "  %-24s %8.3f s   %.2fx clang\n" "vmslim cc" "$cc" "$(echo "$plain / $cc" | bc -l)"
	printf "  %-24s %8.3f s   %.2fx clang\n" "vmslim cc --slim" "$slim" \
		"$(echo "$plain / $slim" | bc -l)"
fi
if command -v ccache >/dev/null; then
	cca=$(rebuild "$T/o-ccache" "ccache clang")
else
	cca=""
	echo "(no ccache: install Debian's ccache for the rebuild comparison)"
fi
ccr=$(rebuild "$T/o-cc" "$VMSLIM cc")
printf "pure rebuild of the unchanged tree (objects removed; both pay make and an\n"
printf "llvm-strip -g per object, a fixed cost outside either cache):\n"
[ -n "$cca" ] && printf "  %-24s %8.3f s\n" "ccache clang (warm)" "$cca"
printf "  %-24s %8.3f s" "vmslim cc (daemon cache)" "$ccr"
[ -n "$cca" ] && printf "   %.2fx ccache" "$(echo "$cca / $ccr" | bc -l)"
printf "\n"
