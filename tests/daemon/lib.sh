# Shared by the tests of the per-user daemon (tests/daemon/*.sh): a private world per test
# (its own XDG_RUNTIME_DIR and cache directory in a temp dir), and a trap that kills every
# daemon the test started, found by the pids their logs name.
# Usage: . lib.sh VMSLIM VMLINUX_DIR PROGS_DIR WORKDIR
VMSLIM=$1 VMLINUX_DIR=$2 PROGS_DIR=$3 W=$4
HERE=$(cd "$(dirname "$0")" && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
VMSLIM=$(abs "$VMSLIM") VMLINUX_DIR=$(abs "$VMLINUX_DIR") PROGS_DIR=$(abs "$PROGS_DIR") W=$(abs "$W")
[ -x "$VMSLIM" ] || { echo "skipped: no vmslim binary at $VMSLIM"; exit 77; }
[ -f "$VMLINUX_DIR/vmlinux.h" ] || { echo "skipped: no vmlinux.h in $VMLINUX_DIR"; exit 77; }
command -v make >/dev/null || { echo "skipped: no make"; exit 77; }
STRIP=$(command -v llvm-strip-14 || command -v llvm-strip)
[ -n "$STRIP" ] || { echo "skipped: no llvm-strip"; exit 77; }
rm -rf "$W"
mkdir -p "$W/run" "$W/cache"
chmod 700 "$W/run"
export XDG_RUNTIME_DIR="$W/run" XDG_CACHE_HOME="$W/cache"
unset VMSLIM_NO_DAEMON VMSLIM_SLIM VMSLIM_CC_VERBOSE VMSLIM_CLANG VMSLIM_REMOTE
# the daemon's socket: one per vmslim binary (serve/autostart.c), so found by its pattern
sock() { ls -d "$W"/run/vmslim/daemon-*.sock 2>/dev/null | head -n 1; }
LOG="$W/run/vmslim/daemon.log"

# The pids of the daemons whose logs are under $W that still run.
daemon_pids() {
	for log in $(find "$W" -name daemon.log 2>/dev/null); do
		sed -n 's/.*listening on .*(pid \([0-9]*\),.*/\1/p' "$log"
	done | while read -r p; do
		if [ -r /proc/$p/cmdline ] && tr '\0' ' ' </proc/$p/cmdline | grep -q 'serve --user'; then
			echo "$p"
		fi
	done
}
kill_daemons() {
	for p in $(daemon_pids); do kill -9 "$p" 2>/dev/null; done
	[ -n "$EXTRA_PIDS" ] && kill -9 $EXTRA_PIDS 2>/dev/null
	return 0
}
trap kill_daemons EXIT INT TERM

fail() { echo "FAIL: $*"; exit 1; }

run_make() { # OUTPUT CLANG...
	out=$1; shift
	make -s -j2 -f "$HERE/Makefile" PROGS="$PROGS_DIR" VMLINUX="$VMLINUX_DIR" OUTPUT="$out" \
		LLVM_STRIP="$STRIP" CLANG="$*"
}

# A dependency file as a list: the target's directory taken out, line wrapping gone.
dep_norm() { # FILE OUTDIR
	sed "s|$2|OUT|g" "$1" | tr '\\' ' ' | tr -s ' \n' ' '
}

# The "cc" counters of the running daemon: "requests hits misses".
cc_stats() {
	"$VMSLIM" client -s "$(sock)" raw '{"op":"stats"}' |
		sed -n 's/.*"cc":{"requests":\([0-9]*\),"hits":\([0-9]*\),"misses":\([0-9]*\).*/\1 \2 \3/p'
}

nprogs() { ls "$PROGS_DIR"/*.bpf.c | wc -l; }

# A working copy in $W/w (entered): the programs, the header beside them, bad.bpf.c (a
# member typo: an error in the program), and HDRS, the shipped headers.
work_tree() {
	mkdir -p "$W/w"
	cd "$W/w" || exit 1
	cp "$PROGS_DIR"/*.bpf.c .
	cp "$VMLINUX_DIR/vmlinux.h" .
	HDRS=$(cd "$HERE/../../headers" && pwd)
	printf '#include "vmlinux.h"\nint f(struct task_struct *t) { return t->pidd; }\n' > bad.bpf.c
}

# A command that must fail the same way through the daemon and in process: the same
# messages and exit status 1, and no OUT file left by either.
# Usage: same_failure WHAT OUT COMMAND... (OUT is the file COMMAND would write)
same_failure() {
	what=$1 out=$2
	shift 2
	rm -f "$out"
	"$@" 2>d.err; echo "exit $?" >>d.err
	[ ! -e "$out" ] || fail "$what: a file was left through the daemon"
	VMSLIM_NO_DAEMON=1 "$@" 2>p.err; echo "exit $?" >>p.err
	[ ! -e "$out" ] || fail "$what: a file was left in process"
	cmp -s d.err p.err || { diff d.err p.err; fail "$what: messages differ"; }
	grep -q 'exit 1' d.err || fail "$what: exit status is not 1"
}

# The daemon's stats reply (its socket found by sock()).
daemon_stats() {
	S=$(sock)
	[ -S "$S" ] || fail "no daemon answered"
	"$VMSLIM" client -s "$S" raw '{"op":"stats"}'
}
