#!/bin/sh
# The daemon's answer cache for cc: a hit gives the object, the -MD dependency file and
# the exit status of a fresh compile; a changed included header is a miss with the new
# object; a compile error is replayed with clang's own messages and status. Also: the
# playground daemon (plain `serve`) refuses the op, and VMSLIM_NO_DAEMON=1 / --no-daemon
# start no daemon.
. "$(dirname "$0")/lib.sh"
mkdir -p "$W/w"
cd "$W/w"
cp "$PROGS_DIR/execsnoop.bpf.c" prog.bpf.c
printf '#ifndef LOCAL_H\n#define LOCAL_H\n#define LIMIT 10\n#endif\n' > local.h
sed -i 's|#include "vmlinux.h"|#include "vmlinux.h"\n#include "local.h"\nint limit_seen = LIMIT;|' prog.bpf.c
CC="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$VMLINUX_DIR -c prog.bpf.c -o prog.o -MD"
ref() { clang $CC -o ref.o -MF ref.d 2>ref.err; echo $? >ref.rc; }
same() { # what
	cmp -s prog.o ref.o || fail "$1: the object differs from plain clang's"
	[ "$(dep_norm prog.d prog.o)" = "$(dep_norm ref.d ref.o)" ] || fail "$1: the .d differs"
}
"$VMSLIM" cc $CC || fail "first compile"
ref
same "fresh compile"
cp prog.d first.d
rm -f prog.o prog.d
"$VMSLIM" cc $CC || fail "second compile"
set -- $(cc_stats)
[ "$2" = 1 ] || fail "the unchanged compile was not a hit ($*)"
same "cache hit"
cmp -s prog.d first.d || fail "cache hit: the .d is not the one the compile wrote"

# a header the program includes changes: a miss, and the new object
printf '#ifndef LOCAL_H\n#define LOCAL_H\n#define LIMIT 20\n#endif\n' > local.h
"$VMSLIM" cc $CC || fail "compile after the header changed"
set -- $(cc_stats)
[ "$2" = 1 ] && [ "$3" = 2 ] || fail "a changed header was served from the cache ($*)"
ref
same "changed header"

# a compile error, twice: the second is replayed, same messages, same status
printf 'int broken(void) { return undeclared_thing; }\n' >> prog.bpf.c
"$VMSLIM" cc $CC 2>err1; rc1=$?
"$VMSLIM" cc $CC 2>err2; rc2=$?
ref
[ $rc1 = "$(cat ref.rc)" ] && [ $rc2 = $rc1 ] && [ $rc1 != 0 ] || fail "exit codes $rc1 $rc2 vs $(cat ref.rc)"
cmp -s err1 ref.err || fail "the error messages differ from clang's"
cmp -s err2 ref.err || fail "the replayed error messages differ"
set -- $(cc_stats)
[ "$2" = 2 ] || fail "the error was not replayed from the cache ($*)"
echo "answers: hit identical, changed header recompiled, error replayed (status $rc1)"

# no daemon when asked for none
pid=$(daemon_pids)
kill -9 $pid
rm -rf "$W/run/vmslim"
VMSLIM_NO_DAEMON=1 "$VMSLIM" cc $CC 2>/dev/null
"$VMSLIM" cc --no-daemon $CC 2>/dev/null
[ -e "$(sock)" ] && fail "a daemon was started with VMSLIM_NO_DAEMON=1 / --no-daemon"

# the playground daemon does not read files by path
mkdir -p "$W/pg"
"$VMSLIM" serve -q -s "$W/pg/s.sock" -I "$VMLINUX_DIR" --no-sandbox --cache-dir "$W/pg/c" &
EXTRA_PIDS=$!
i=0
while [ ! -S "$W/pg/s.sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
out=$("$VMSLIM" client -s "$W/pg/s.sock" raw \
	"{\"op\":\"cc\",\"args\":[\"-c\",\"/etc/passwd\"],\"cwd\":\"/\",\"clang\":\"/usr/bin/clang\",\"cache_dir\":\"$W/pg/c\"}")
echo "$out" | grep -q '"code":"refused"' || fail "the playground daemon took a cc request: $out"
kill $EXTRA_PIDS; wait $EXTRA_PIDS 2>/dev/null; EXTRA_PIDS=
echo "no daemon with VMSLIM_NO_DAEMON=1; the playground refuses cc"
