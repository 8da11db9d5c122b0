#!/bin/sh
# Issue 12's latency goals for `vmslim cc`, side by side in one run (one program with the
# full vmlinux.h, -g -O2 -target bpf, no -MD):
#   - a cache hit per command, vmslim cc (the per-user daemon's answer cache) against
#     `ccache clang` warm (direct mode), N commands each, and /bin/true as the floor of
#     starting any process here;
#   - the first answer after the daemon stopped, client start included: the daemon is
#     started by that very command and answers from its disk cache;
#   - with TREE=1, the tree-level pure rebuild of bench/make_tree.sh (REBUILD_ONLY), with
#     and without its llvm-strip -g per object (a fixed cost of both, outside any cache).
#
#   bench/cc_latency.sh VMSLIM VMLINUX_DIR [N]      env: RESTARTS (default 7), TREE=1
#
# Commands are started by python3's posix_spawn (one fork and exec each, no shell between),
# taking turns, and timed one by one; the medians are shown. The world (XDG_RUNTIME_DIR, caches,
# CCACHE_DIR) is private and removed at the end, with the daemon it started.
set -u
VMSLIM=$(realpath "$1") VMLINUX=$(realpath "$2")
N=${3:-200} RESTARTS=${RESTARTS:-7}
HERE=$(cd "$(dirname "$0")/.." && pwd)
command -v python3 >/dev/null || { echo "cc_latency: needs python3 (the timer)"; exit 77; }
command -v ccache >/dev/null || echo "(no ccache: install Debian's ccache for its rows)"
T=$(mktemp -d /tmp/vmslim-cc-latency.XXXXXX)
mkdir -p "$T/run" "$T/cache" "$T/ccache" "$T/src"
chmod 700 "$T/run"
export XDG_RUNTIME_DIR="$T/run" XDG_CACHE_HOME="$T/cache" CCACHE_DIR="$T/ccache"
unset VMSLIM_NO_DAEMON VMSLIM_SLIM VMSLIM_CC_VERBOSE VMSLIM_REMOTE
sock() { ls -d "$T"/run/vmslim/daemon-*.sock 2>/dev/null | head -n 1; }
stop_daemon() {
	s=$(sock)
	[ -n "$s" ] || return 0
	pid=$(sed -n 's/.*listening on .*(pid \([0-9]*\),.*/\1/p' "$T/run/vmslim/daemon.log" | tail -n 1)
	"$VMSLIM" client -s "$s" shutdown >/dev/null 2>&1
	i=0 # until it is gone: the next command must find no daemon
	while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
trap 'stop_daemon; rm -rf "$T"' EXIT INT TERM
cp "$HERE/tests/progs/execsnoop.bpf.c" "$VMLINUX/vmlinux.h" "$T/src/"
cd "$T/src" || exit 1
FLAGS="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I. -c execsnoop.bpf.c"
ARGS="$FLAGS -o prog.o" CCARGS="$FLAGS -o cc.o"

# Median milliseconds of COUNT runs of each command (CMD... separated by ---): the
# commands take turns, one run each, so a machine busy with something else slows all of
# them alike; each run is spawned and waited for alone.
timed() { # COUNT CMD... [--- CMD...]
	python3 - "$@" <<'PY'
import os, sys, time, shutil
n, cmds, cur = int(sys.argv[1]), [], []
for a in sys.argv[2:] + ["---"]:
    if a == "---":
        cmds.append(cur)
        cur = []
    else:
        cur.append(a)
for c in cmds:
    c[0] = shutil.which(c[0]) or c[0]
quiet = [(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
v = [[] for _ in cmds]
for _ in range(n):
    for i, c in enumerate(cmds):
        t = time.perf_counter()
        pid = os.posix_spawn(c[0], c, os.environ, file_actions=quiet)
        _, st = os.waitpid(pid, 0)
        v[i].append((time.perf_counter() - t) * 1000)
        if st:
            sys.exit("failed: " + " ".join(c))
print(" ".join("%.3f" % sorted(x)[len(x) // 2] for x in v))
PY
}

# warm: the daemon up with the answer in its cache, ccache with its direct-mode entry
# shellcheck disable=SC2086
"$VMSLIM" cc $ARGS && "$VMSLIM" cc $ARGS || { echo "vmslim cc failed"; exit 1; }
cp prog.o ref.o
# shellcheck disable=SC2086
clang $FLAGS -o plain.o && cmp -s prog.o plain.o || { echo "vmslim cc's object is not clang's"; exit 1; }
if command -v ccache >/dev/null; then
	# shellcheck disable=SC2086
	ccache clang $CCARGS && ccache clang $CCARGS
	# shellcheck disable=SC2086
	set -- $(timed "$N" true --- "$VMSLIM" --version --- "$VMSLIM" cc $ARGS --- \
		ccache clang $CCARGS)
	true_ms=$1 ver=$2 vm=$3 cc=$4
else
	# shellcheck disable=SC2086
	set -- $(timed "$N" true --- "$VMSLIM" --version --- "$VMSLIM" cc $ARGS)
	true_ms=$1 ver=$2 vm=$3 cc=
fi
[ -n "$vm" ] || exit 1
cmp -s prog.o ref.o || { echo "a hit wrote another object"; exit 1; }

# the first answer after a restart: a stopped daemon, then one timed command
first=$(i=0; while [ $i -lt "$RESTARTS" ]; do
	stop_daemon
	# shellcheck disable=SC2086
	timed 1 "$VMSLIM" cc $ARGS
	i=$((i + 1))
done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
# shellcheck disable=SC2086
src=$(stop_daemon; VMSLIM_CC_VERBOSE=1 "$VMSLIM" cc $ARGS 2>&1 | sed -n 's/.*daemon (started), from the cache: \([a-z]*\).*/\1/p')

echo "vmslim cc latency: $(basename "$T/src")/execsnoop.bpf.c, full vmlinux.h, -g -O2, median of $N"
printf "  %-44s %8.3f ms\n" "/bin/true (starting any process)" "$true_ms"
printf "  %-44s %8.3f ms\n" "vmslim --version (the client's own start)" "$ver"
[ -n "${cc:-}" ] && printf "  %-44s %8.3f ms\n" "ccache clang, warm hit" "$cc"
printf "  %-44s %8.3f ms" "vmslim cc, daemon cache hit" "$vm"
[ -n "${cc:-}" ] && printf "   %.2fx ccache (goal: 3x)" "$(echo "$cc / $vm" | bc -l)"
printf "\n"
printf "  %-44s %8.3f ms   (median of %d; goal: 10 ms; answered from: %s)\n" \
	"vmslim cc, first answer after a restart" "$first" "$RESTARTS" "${src:-?}"
if [ "${TREE:-0}" = 1 ]; then
	stop_daemon
	echo "tree-level (bench/make_tree.sh, pure rebuild only):"
	REBUILD_ONLY=1 sh "$HERE/bench/make_tree.sh" "$VMSLIM" "$VMLINUX" | sed 's/^/  /'
	echo "the same without the llvm-strip step (LLVM_STRIP=true):"
	LLVM_STRIP=true REBUILD_ONLY=1 sh "$HERE/bench/make_tree.sh" "$VMSLIM" "$VMLINUX" |
		sed -n 's/^\(  *[cv].*\)/  \1/p'
fi
