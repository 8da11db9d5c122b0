#!/bin/sh
# The daemon's clang command lines follow the architecture rule: a request's or the
# daemon's -D__TARGET_ARCH_arm64 means no host architecture is added beside it (issue 9).
# usage: serve_arch.sh VMSLIM VMLINUX_DIR WORK
set -u
vmslim=$1 vmlinux_dir=$2 d=$3
rm -rf "$d"
mkdir -p "$d"
# __has_include makes the fast checker pass the check on to clang (its prelude answers 0)
cat > "$d/p.bpf.c" <<'SRC'
#if !__has_include("vmlinux.h")
#error the fast checker answers __has_include with 0: clang answers this check
#endif
#if defined(__TARGET_ARCH_x86) && defined(__TARGET_ARCH_arm64)
#error two target architectures
#endif
#ifndef __TARGET_ARCH_arm64
#error not built for arm64
#endif
int x;
SRC
. "$(dirname "$0")/daemon.sh"
fail=0
pid=

expect() { # WANT-EXIT WHAT client-args...
	want=$1 what=$2
	shift 2
	"$vmslim" client -s "$sock" -v "$@" >"$d/out" 2>&1
	rc=$?
	if [ $rc -ne "$want" ] || { [ "$want" -eq 0 ] && ! grep -q 'ok by clang' "$d/out"; }; then
		echo "FAIL: $what: exit $rc, want $want"
		cat "$d/out"
		fail=1
	fi
}

daemon_start req
expect 0 "check, arm64 from the request" check "$d/p.bpf.c" -D __TARGET_ARCH_arm64
expect 0 "build, arm64 from the request" build "$d/p.bpf.c" -o "$d/p.o" -- -D__TARGET_ARCH_arm64
# the control: the source does look at the architecture (the host's is not arm64 here)
if [ "$(uname -m)" != aarch64 ]; then
	expect 1 "check, the host's architecture" check "$d/p.bpf.c"
	grep -q 'not built for arm64' "$d/out" || { echo "FAIL: control"; cat "$d/out"; fail=1; }
fi
daemon_stop

daemon_start daemon -D __TARGET_ARCH_arm64
expect 0 "check, arm64 from the daemon" check "$d/p.bpf.c"
expect 0 "build, arm64 from the daemon" build "$d/p.bpf.c" -o "$d/p.o"
daemon_stop
exit $fail
