#!/bin/sh
# `vmslim cc --slim` through the per-user daemon (a private one, started by the first
# compile): the daemon's warm context derives each program's slim header by a reparse
# ("warm" in the verbose line), the objects are plain clang's, the dependency files name
# the full header; then the daemon is stopped.
# usage: daemon.sh VMSLIM VMLINUX_DIR PROGS_DIR WORKDIR
. "$(dirname "$0")/../daemon/lib.sh"
case $(uname -m) in
x86_64) arch=x86 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;;
esac
flags="-g -O2 -target bpf -D__TARGET_ARCH_$arch -I$VMLINUX_DIR"
for name in execsnoop runqlat xdp_filter; do
	prog=$PROGS_DIR/$name.bpf.c
	# shellcheck disable=SC2086
	clang $flags -c "$prog" -o "$W/$name.plain.o"
	# shellcheck disable=SC2086
	"$VMSLIM" cc --slim --verbose $flags -c "$prog" -o "$W/$name.o" -MD -MF "$W/$name.d" \
		2>"$W/$name.err" || { cat "$W/$name.err"; fail "$name: vmslim cc --slim failed"; }
	cat "$W/$name.err"
	grep -q "vmslim cc: daemon.*: slim (.* warm)" "$W/$name.err" ||
		fail "$name: not a warm slim build in the daemon"
	"$VMSLIM" objdiff "$W/$name.plain.o" "$W/$name.o" | grep -q "are the same BPF object" ||
		fail "$name: the object differs from plain clang's"
	grep -qF "$VMLINUX_DIR/vmlinux.h" "$W/$name.d" || fail "$name: $name.d lacks the full header"
	if grep -q "/slim/[0-9a-f]*\.h" "$W/$name.d"; then fail "$name: $name.d names the derived header"; fi
done
grep "slim: warm state" "$LOG" || fail "the daemon made no warm context"
[ "$(grep -c "slim: warm state" "$LOG")" -eq 1 ] || fail "more than one warm context for one header"
echo "ok: 3 programs, one warm context"
