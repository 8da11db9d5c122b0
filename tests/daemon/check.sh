#!/bin/sh
# `vmslim check FILE` through the per-user daemon: for every program of tests/progs and a
# broken one (errors in the program and in a header reached through a relative -I), the
# same diagnostics and exit status as the in-process check, and a daemon did answer.
. "$(dirname "$0")/lib.sh"
mkdir -p "$W/w/inc"
cd "$W/w"
cp "$PROGS_DIR"/*.bpf.c .
printf '#include "vmlinux.h"\n#include <loc.h>\nint f(struct task_struct *t) { return t->pidd; }\n' > bad.bpf.c
printf 'int q = undefined_z;\n' > inc/loc.h
printf '#include "vmlinux.h"\nint g(struct task_struct *t) { return t->pidd; }\n' > bad2.bpf.c
for f in *.bpf.c; do
	"$VMSLIM" check -I"$VMLINUX_DIR" -Iinc -D__TARGET_ARCH_x86 "$f" 2>d.err; echo "exit $?" >>d.err
	VMSLIM_NO_DAEMON=1 "$VMSLIM" check -I"$VMLINUX_DIR" -Iinc -D__TARGET_ARCH_x86 "$f" 2>p.err
	echo "exit $?" >>p.err
	cmp -s d.err p.err || { diff d.err p.err; fail "$f: the daemon's check differs"; }
done
"$VMSLIM" check -I"$VMLINUX_DIR" bad2.bpf.c 2>&1 | grep -q 'bad2.bpf.c:2' || fail "no diagnostic for bad2"
[ -S "$(sock)" ] || fail "no daemon answered"
set -- $(ls *.bpf.c | wc -l)
echo "check: $1 programs, the daemon's answers are the in-process ones"
