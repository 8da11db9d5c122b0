#!/bin/sh
# Clang snapshots in the per-user daemon (serve/snap.c), through `vmslim cc` as a Makefile
# runs it: a program built again gets a snapshot (from its third build on), and whatever
# served a build, its object and -MD dependency file are plain clang's byte for byte (same
# clang, same command line, same directory), compile errors are clang's messages and exit
# status, a killed snapshot or a changed header falls back (never a stale object) and is
# started again, another clang or a program the trick cannot serve runs plain, and no
# process is left once the daemon stops.
# usage: daemon.sh VMSLIM FULL_VMLINUX_H PROGS_DIR WORKDIR CLANG
set -u
VMSLIM=$1 FULL=$2 PROGS=$3 W=$4 CLANG=$5
[ -r "$FULL" ] || { echo "SKIP: $FULL not built (no pinned BTF)"; exit 77; }
command -v "$CLANG" >/dev/null || { echo "SKIP: no $CLANG"; exit 77; }
case $VMSLIM in /*) ;; *) VMSLIM=$PWD/$VMSLIM ;; esac
case $FULL in /*) ;; *) FULL=$PWD/$FULL ;; esac
case $PROGS in /*) ;; *) PROGS=$PWD/$PROGS ;; esac
CLANG=$(command -v "$CLANG")
rm -rf "$W"
mkdir -p "$W/run" "$W/cache" "$W/src" "$W/inc"
chmod 700 "$W/run"
# room for every program's snapshot: the pool's limits are not what this test is about
export XDG_RUNTIME_DIR="$W/run" XDG_CACHE_HOME="$W/cache" VMSLIM_CLANGSNAP_MAX=16
unset VMSLIM_NO_DAEMON VMSLIM_SLIM VMSLIM_CC_VERBOSE VMSLIM_CLANG VMSLIM_REMOTE VMSLIM_NO_CLANGSNAP
LOG="$W/run/vmslim/daemon.log"
sock() { ls -d "$W"/run/vmslim/daemon*.sock 2>/dev/null | head -n 1; }
snap_pids() { sed -n 's/.*clangsnap: a snapshot for .*(pid \([0-9]*\)).*/\1/p' "$LOG" 2>/dev/null; }
daemon_pid() { sed -n 's/.*listening on .*(pid \([0-9]*\),.*/\1/p' "$LOG" 2>/dev/null | tail -n 1; }
cleanup() {
	for p in $(daemon_pid) $(snap_pids); do kill -9 "$p" 2>/dev/null; done
	return 0
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*"; [ -r "$LOG" ] && tail -n 20 "$LOG"; exit 1; }

# A slim header for the programs, beside nothing else (its own -I directory).
for p in execsnoop runqlat tcpstates; do cp "$PROGS/$p.bpf.c" "$W/src/"; done
"$VMSLIM" extract --header "$FULL" --from "$W/src/execsnoop.bpf.c" --from "$W/src/runqlat.bpf.c" \
	--from "$W/src/tcpstates.bpf.c" -o "$W/inc/vmlinux.h" || fail "extract"
cd "$W/src"
FLAGS="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$W/inc"

n=0
# cc NAME [EXTRA FLAGS]: one build through the daemon (the source edited first, so that
# no answer cache serves it); $mode is what served it.
cc() {
	name=$1; shift
	n=$((n + 1))
	echo "/* edit $n */" >>"$name.bpf.c"
	VMSLIM_CC_VERBOSE=1 "$VMSLIM" cc --clang "$CLANG" $FLAGS "$@" -c "$name.bpf.c" \
		-o "$name.bpf.o" 2>"$W/err" || fail "vmslim cc $name: $(cat "$W/err")"
	mode=$(sed -n 's/^vmslim cc: daemon[^:]*: //p' "$W/err")
}
# same NAME DEPFILE [EXTRA FLAGS]: the object and dependency file are plain clang's.
same() {
	name=$1 dep=$2; shift 2
	cp "$name.bpf.o" "$W/snap.o"
	cp "$dep" "$W/snap.d"
	"$CLANG" $FLAGS "$@" -c "$name.bpf.c" -o "$name.bpf.o" || fail "plain $name"
	cmp "$W/snap.o" "$name.bpf.o" || fail "$name: the object differs from plain clang's ($mode)"
	cmp "$W/snap.d" "$dep" ||
		{ diff "$W/snap.d" "$dep"; fail "$name: the dependency file differs ($mode)"; }
}
served() { case $mode in "clang snapshot"*) return 0 ;; esac; return 1; }
# until_served NAME [EXTRA FLAGS]: builds until a snapshot serves one (it starts on the
# program's second build and takes a moment).
until_served() {
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		cc "$@"
		served && return 0
		sleep 0.3
	done
	fail "$1: never served by a snapshot ($mode)"
}

# 1. each program: plain twice (the second asks for a snapshot), then served
for p in execsnoop runqlat tcpstates; do
	cc $p -MD
	served && fail "$p: served by a snapshot on its first build"
	same $p $p.bpf.d -MD
	cc $p -MD
	same $p $p.bpf.d -MD
	until_served $p -MD
	same $p $p.bpf.d -MD
done
echo "ok: objects and -MD files are plain clang's, served by snapshots"

# 1b. a program including a header of its own directory: served (the snapshot's main file
# is the program's own path), and an edit of that header is seen by the next build
cp execsnoop.bpf.c local.bpf.c
sed -i '0,/#include "vmlinux.h"/s//#include "vmlinux.h"\n#include "local.h"/' local.bpf.c
echo 'int local_value_a;' >local.h
cc local -MD
cc local -MD
until_served local -MD
same local local.bpf.d -MD
echo 'int local_value_b;' >local.h
cc local -MD
served || fail "local.h edited: not served ($mode)"
same local local.bpf.d -MD
llvm-objdump -t local.bpf.o 2>/dev/null | grep -q local_value_b ||
	fail "the edited local.h was not read"
echo "ok: a program's own header is read fresh by each snapshot build"

# 1c. a warning clang gives about the header at the end of the unit (an unused attribute
# region of a header with no records): the plain build's include stack
mkdir -p "$W/inc2"
FLAGS2="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$W/inc2"
printf '#include "vmlinux.h"\nint triv_value;\n' >triv.bpf.c
"$VMSLIM" extract --header "$FULL" --from triv.bpf.c -o "$W/inc2/vmlinux.h" || fail "extract triv"
for i in 1 2 3 4; do
	"$VMSLIM" cc --clang "$CLANG" $FLAGS2 -MD -c triv.bpf.c -o triv.bpf.o \
		2>"$W/w1" || fail "triv"
	echo "/* $i */" >>triv.bpf.c
	sleep 0.3
done
"$VMSLIM" cc --clang "$CLANG" $FLAGS2 -MD -c triv.bpf.c -o triv.bpf.o 2>"$W/w1"
"$CLANG" $FLAGS2 -MD -c triv.bpf.c -o triv.bpf.o 2>"$W/w2"
grep -q warning: "$W/w2" || fail "the header gives no warning (the case is gone)"
cmp "$W/w1" "$W/w2" || { diff "$W/w1" "$W/w2"; fail "a header's warning: other messages"; }
echo "ok: a header's warning is clang's"

# 2. other dependency options: -MMD (another snapshot kind), -MP, -MF, -MT
until_served execsnoop -MMD -MP -MF "$W/x.d" -MT custom.o
same execsnoop "$W/x.d" -MMD -MP -MF "$W/x.d" -MT custom.o
echo "ok: -MMD -MP -MF -MT"

# 3. a compile error: clang's own messages and exit status
until_served execsnoop -MD
cp execsnoop.bpf.c "$W/good.c"
echo 'int broken(void) { return undeclared_thing; }' >>execsnoop.bpf.c
"$VMSLIM" cc --clang "$CLANG" $FLAGS -MD -c execsnoop.bpf.c -o execsnoop.bpf.o 2>"$W/e1"
e1=$?
"$CLANG" $FLAGS -MD -c execsnoop.bpf.c -o execsnoop.bpf.o 2>"$W/e2"
e2=$?
[ "$e1" = "$e2" ] && [ "$e1" != 0 ] || fail "compile error: exit $e1, clang's $e2"
cmp "$W/e1" "$W/e2" || { diff "$W/e1" "$W/e2"; fail "compile error: other messages"; }
cp "$W/good.c" execsnoop.bpf.c
echo "ok: a compile error is clang's"

# 4. the snapshot killed: the next build falls back, a later one is served again
until_served execsnoop -MD
before=$(snap_pids | wc -l)
for p in $(snap_pids); do kill -9 "$p" 2>/dev/null; done
cc execsnoop -MD
served && fail "served by a killed snapshot"
same execsnoop execsnoop.bpf.d -MD
until_served execsnoop -MD
[ "$(snap_pids | wc -l)" -gt "$before" ] || fail "no snapshot was started again"
same execsnoop execsnoop.bpf.d -MD
echo "ok: a killed snapshot falls back and is started again"

# 5. the header changed on disk: never a stale object
until_served execsnoop -MD
sed -i 's/^#define __VMLINUX_H__$/&\n#define CLANGSNAP_TEST_EXTRA 1/' "$W/inc/vmlinux.h"
grep -q CLANGSNAP_TEST_EXTRA "$W/inc/vmlinux.h" || fail "the header has no __VMLINUX_H__ guard"
echo '#ifdef CLANGSNAP_TEST_EXTRA
int clangsnap_extra_seen;
#endif' >>execsnoop.bpf.c
cc execsnoop -MD
served && fail "served by the snapshot of the old header"
same execsnoop execsnoop.bpf.d -MD
llvm-objdump -t execsnoop.bpf.o 2>/dev/null | grep -q clangsnap_extra_seen ||
	fail "the new header was not read"
until_served execsnoop -MD
same execsnoop execsnoop.bpf.d -MD
echo "ok: a changed header is not served stale"

# 6. what a snapshot cannot serve runs plain, with the same answer
other=$(command -v clang-19 || true)
[ "$CLANG" = "$(command -v clang 2>/dev/null)" ] || other=$(command -v clang || true)
if [ -n "$other" ] && [ "$(realpath "$other")" != "$(realpath "$CLANG")" ]; then
	echo "/* other clang */" >>execsnoop.bpf.c
	VMSLIM_CC_VERBOSE=1 "$VMSLIM" cc --clang "$other" $FLAGS -MD -c execsnoop.bpf.c \
		-o execsnoop.bpf.o 2>"$W/err" || fail "other clang"
	mode=$(sed -n 's/^vmslim cc: daemon[^:]*: //p' "$W/err")
	served && fail "another clang served by this clang's snapshot"
	cp execsnoop.bpf.o "$W/snap.o"
	"$other" $FLAGS -MD -c execsnoop.bpf.c -o execsnoop.bpf.o
	cmp "$W/snap.o" execsnoop.bpf.o || fail "another clang: the object differs"
	echo "ok: another clang is not served by this one's snapshot"
fi
sed -i '1i #define BPF_NO_GLOBAL_DATA_UNUSED 1' runqlat.bpf.c
for i in 1 2 3; do
	cc runqlat -MD
	served && fail "a #define before the include was served"
done
same runqlat runqlat.bpf.d -MD
echo "ok: a program the trick cannot serve runs plain ($mode)"

# 7. the daemon's stats, then its stop leaves no process behind
"$VMSLIM" client -s "$(sock)" raw '{"op":"stats"}' |
	grep -q '"clangsnap":{"running":[1-9][0-9]*,"served":[1-9]' ||
	fail "the stats name no running snapshot, no build it served"
pids="$(daemon_pid) $(snap_pids)"
"$VMSLIM" client -s "$(sock)" raw '{"op":"shutdown"}' >/dev/null 2>&1
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	left=""
	for p in $pids; do
		[ -d /proc/$p ] && ! grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && left="$left $p"
	done
	[ -z "$left" ] && break
	sleep 0.25
done
[ -z "$left" ] || fail "processes left after the daemon stopped:$left"
echo "ok: no process left"
exit 0
