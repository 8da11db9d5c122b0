#!/bin/sh
# Two users: each gets a daemon of its own (its own uid, its own socket in its own private
# directory); neither can talk to the other's: the file modes keep the other user out,
# and SO_PEERCRED keeps out even root. A directory not private to the user is refused
# (and the compile still succeeds, in-process).
. "$(dirname "$0")/lib.sh"
OTHER=65534
[ "$(id -u)" = 0 ] || { echo "skipped: needs two uids: run as root (the other is uid $OTHER)"; exit 77; }
command -v setpriv >/dev/null || { echo "skipped: no setpriv"; exit 77; }
as_other() { setpriv --reuid $OTHER --regid $OTHER --clear-groups "$@"; }
as_other test -x "$VMSLIM" && as_other test -r "$VMLINUX_DIR/vmlinux.h" ||
	{ echo "skipped: uid $OTHER cannot reach $VMSLIM or $VMLINUX_DIR"; exit 77; }
chmod 755 "$W"
mkdir -p "$W/o/run" "$W/o/cache" "$W/o/w" "$W/r"
chown -R $OTHER:$OTHER "$W/o"
chmod 700 "$W/o/run"
cp "$PROGS_DIR/execsnoop.bpf.c" "$W/r/"
cp "$PROGS_DIR/execsnoop.bpf.c" "$W/o/w/"
chown $OTHER "$W/o/w/execsnoop.bpf.c"
CC="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$VMLINUX_DIR -c execsnoop.bpf.c -o p.o"
(cd "$W/r" && "$VMSLIM" cc $CC) || fail "root's compile"
(cd "$W/o/w" && as_other env XDG_RUNTIME_DIR="$W/o/run" XDG_CACHE_HOME="$W/o/cache" \
	"$VMSLIM" cc $CC) || fail "uid $OTHER's compile"
(cd "$W/r" && clang $CC -o ref.o) && (cd "$W/o/w" && clang $CC -o ref.o) || fail "plain clang"
cmp -s "$W/r/p.o" "$W/r/ref.o" || fail "root's object differs from plain clang's"
cmp -s "$W/o/w/p.o" "$W/o/w/ref.o" || fail "uid $OTHER's object differs from plain clang's"
OSOCK=$(ls -d "$W"/o/run/vmslim/daemon-*.sock 2>/dev/null | head -n 1)
[ -S "$(sock)" ] && [ -S "$OSOCK" ] || fail "not two sockets"
pids=$(daemon_pids | sort -u)
[ $(echo "$pids" | wc -l) = 2 ] || fail "not two daemons: $pids"
uids=$(for p in $pids; do stat -c %u /proc/$p; done | sort -n | tr '\n' ' ')
[ "$uids" = "0 $OTHER " ] || fail "daemons' uids: $uids"
[ "$(stat -c %u:%a "$OSOCK")" = "$OTHER:600" ] || fail "uid $OTHER's socket: $(stat -c %u:%a "$OSOCK")"
# the other user cannot reach root's socket at all
as_other "$VMSLIM" client -s "$(sock)" raw '{"op":"ping"}' >/dev/null 2>&1 &&
	fail "uid $OTHER talked to root's daemon"
# root can open the other's socket file, but that daemon serves only its own user
out=$("$VMSLIM" client -s "$OSOCK" raw '{"op":"ping"}' 2>&1)
echo "$out" | grep -q 'serves only its own user' || fail "root was served by uid $OTHER's daemon: $out"
# uid 65534 pointed at root's directory: refused as not its own, compiled in-process
(cd "$W/o/w" && rm -f p.o && as_other env XDG_RUNTIME_DIR="$W/run" XDG_CACHE_HOME="$W/o/cache" \
	VMSLIM_CC_VERBOSE=1 "$VMSLIM" cc $CC 2>"$W/o/verbose") || fail "compile with a foreign directory"
grep -q 'no daemon' "$W/o/verbose" || fail "a foreign runtime directory was used: $(cat "$W/o/verbose")"
cmp -s "$W/o/w/p.o" "$W/o/w/ref.o" || fail "the in-process object differs"
echo "two users: two daemons, two sockets, neither reaches the other's"
