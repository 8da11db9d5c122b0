#!/bin/sh
# A daemon check's -D/-U flags leave its diagnostics' file:line alone (issue 10 item 9), for
# the fast checker and for clang, and match the in-process `vmslim check`.
# usage: check_defines.sh VMSLIM VMLINUX_DIR WORK
set -u
vmslim=$1 vmlinux_dir=$2 d=$3
rm -rf "$d"
mkdir -p "$d"
[ -f "$vmlinux_dir/vmlinux.h" ] || { echo "SKIP: no vmlinux.h in $vmlinux_dir"; exit 77; }
# a misspelled field on line 9; FOO steers the preamble, so the macros must reach it
cat > "$d/prog.bpf.c" <<'SRC'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#ifdef FOO
#define VAL FOO
#endif

SEC("tp/sched/sched_process_exec")
int handle_exec(struct trace_event_raw_sched_process_exec *ctx)
{	return ctx->pidd + VAL;
}

char LICENSE[] SEC("license") = "GPL";
SRC
# the same two lines down, with __has_include: the fast checker passes it on to clang
{ printf '#if __has_include("vmlinux.h")\n#endif\n'; cat "$d/prog.bpf.c"; } > "$d/clang.bpf.c"

. "$(dirname "$0")/daemon.sh"
daemon_start s
fail=0

# WANT FILE what args...: the first error's "file:line" must be WANT
expect() {
	want=$1 file=$2 what=$3
	shift 3
	(cd "$d" && "$vmslim" client -s "$sock" check "$file" "$@") >"$d/out" 2>&1
	got=$(grep -m1 ': error: ' "$d/out" | cut -d: -f1,2)
	if [ "$got" != "$want" ]; then
		echo "FAIL: $what: first error at '$got', want '$want'"
		cat "$d/out"
		fail=1
	fi
}

for f in prog:9 clang:11; do
	n=${f%:*} want=$n.bpf.c:${f#*:}
	expect "$want" $n.bpf.c "$n, -D" -D FOO=1
	expect "$want" $n.bpf.c "$n, -U" -U BAR
	expect "$want" $n.bpf.c "$n, -D and -U" -D FOO=1 -U BAR
	expect "$want" $n.bpf.c "$n, -U undoing a -D" -D FOO=1 -U FOO
	expect "$want" $n.bpf.c "$n, no flags"
done
# the macros did reach the checkers: VAL is declared only while FOO is defined
printf '#ifdef FOO\n#define VAL FOO\n#endif\nint x = VAL;\n' > "$d/val.bpf.c"
reach() { # WANT-EXIT FILE what args...
	want=$1 file=$2 what=$3
	shift 3
	(cd "$d" && "$vmslim" client -s "$sock" check "$file" "$@") >"$d/out" 2>&1
	rc=$?
	[ $rc -eq "$want" ] || { echo "FAIL: $what: exit $rc, want $want"; cat "$d/out"; fail=1; }
}
reach 0 val.bpf.c "tcc, -D defines" -D FOO=1
reach 1 val.bpf.c "tcc, -U undefines" -D FOO=1 -U FOO
(cd "$d" && "$vmslim" client -s "$sock" check clang.bpf.c -D FOO=1) 2>&1 | grep -q VAL &&
	{ echo "FAIL: clang, -D FOO=1 did not define FOO"; fail=1; }
(cd "$d" && "$vmslim" client -s "$sock" check clang.bpf.c -D FOO=1 -U FOO) 2>&1 | grep -q VAL ||
	{ echo "FAIL: clang, -U FOO did not undefine FOO"; fail=1; }
# the in-process command agrees
(cd "$d" && "$vmslim" check -I "$vmlinux_dir" -I /usr/include prog.bpf.c -D FOO=1) >"$d/out" 2>&1
got=$(grep -m1 ': error: ' "$d/out" | cut -d: -f1,2)
[ "$got" = prog.bpf.c:9 ] || { echo "FAIL: vmslim check -D: '$got'"; cat "$d/out"; fail=1; }

daemon_stop
[ $fail -eq 0 ] && echo PASS
exit $fail
