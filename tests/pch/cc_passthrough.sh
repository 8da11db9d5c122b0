#!/bin/sh
# `vmslim cc` on compiles that are not BPF (or not eligible) must be clang itself: same
# exit code, same stdout and stderr, same output file.
# usage: cc_passthrough.sh VMSLIM CLANG OUTDIR
set -eu
vmslim=$1 clang=$2 out=$3
rm -rf "$out"
mkdir -p "$out/a" "$out/b"
cat > "$out/ok.c" <<'C'
#include <stdio.h>
int main(void) { int unused; printf("hello\n"); return 0; }
C
cat > "$out/bad.c" <<'C'
int main(void) { return undeclared + 1; }
C

# run LABEL ARGS...: the same command under clang (in a/) and vmslim cc (in b/)
run() {
	label=$1
	shift
	set +e
	(cd "$out/a" && "$clang" "$@" >stdout 2>stderr; echo $? >rc)
	(cd "$out/b" && "$vmslim" cc --clang "$clang" "$@" >stdout 2>stderr; echo $? >rc)
	set -e
	for f in rc stdout stderr; do
		if ! cmp -s "$out/a/$f" "$out/b/$f"; then
			echo "FAIL ($label): $f differs"
			diff "$out/a/$f" "$out/b/$f" || true
			exit 1
		fi
	done
	echo "ok: $label (exit $(cat "$out/a/rc"))"
}

run "compile+link with a warning" -Wall -O2 ../ok.c -o prog
cmp "$out/a/prog" "$out/b/prog"
run "object with dependency file" -Wall -c ../ok.c -o ok.o -MD -MF ok.d
cmp "$out/a/ok.o" "$out/b/ok.o"
cmp "$out/a/ok.d" "$out/b/ok.d"
run "compile error" -c ../bad.c -o bad.o
test ! -e "$out/b/bad.o"
run "preprocess only" -E ../ok.c
run "--version" --version
run "no input" -c
# a BPF compile with an error: the PCH path finds it, then clang itself reports it
cat > "$out/bpf_bad.c" <<'C'
#include "vmlinux.h"
int f(void) { return no_such_thing; }
C
printf '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\ntypedef int s32;\n#endif\n' > "$out/vmlinux.h"
run "BPF compile error" -target bpf -g -O2 -I.. -c ../bpf_bad.c -o bpf_bad.o
test ! -e "$out/b/bpf_bad.o"

# the compiler it wraps (issue 15), as ccache keeps it: `vmslim cc gcc ...` and
# $VMSLIM_CC_FALLBACK run non-BPF compiles under that compiler, exactly
if command -v gcc >/dev/null; then

	runwrapped() { # LABEL ARGS...: gcc in a/, `vmslim cc gcc` in b/, then the fallback in b/
		label=$1
		shift
		set +e
		(cd "$out/a" && gcc "$@" >stdout 2>stderr; echo $? >rc)
		(cd "$out/b" && "$vmslim" cc gcc "$@" >stdout 2>stderr; echo $? >rc)
		(cd "$out/b" && VMSLIM_CC_FALLBACK=gcc "$vmslim" cc "$@" >stdout.fb 2>stderr.fb; echo $? >rc.fb)
		set -e
		for f in rc stdout stderr; do
			cmp -s "$out/a/$f" "$out/b/$f" || { echo "FAIL (gcc $label): $f differs"; exit 1; }
			cmp -s "$out/a/$f" "$out/b/$f.fb" || { echo "FAIL (fallback $label): $f differs"; exit 1; }
		done
		echo "ok: gcc $label (exit $(cat "$out/a/rc"))"
	}
	runwrapped "compile error" -c ../bad.c -o bad.o
	runwrapped "--version" --version
	runwrapped "object" -Wall -c ../ok.c -o ok.o
	cmp "$out/a/ok.o" "$out/b/ok.o"
	# the verbose line names the compiler that ran
	(cd "$out/b" && "$vmslim" cc --verbose gcc -c ../ok.c -o ok.o 2>&1) |
		grep -q "^vmslim cc: passing through to gcc: not a BPF target$" ||
		{ echo "FAIL: verbose line does not name gcc"; exit 1; }
else
	echo "skipped: no gcc for the wrapped-compiler cases"
fi
# the verbose reason after a failed BPF compile says why clang runs, never the PCH mode
# the compile would have taken ("PCH (-g): CO-RE in play")
reason=$(cd "$out/b" && "$vmslim" cc --verbose --clang "$2" -target bpf -g -O2 -I.. -c ../bpf_bad.c -o bpf_bad.o 2>&1 |
	sed -n 's/^vmslim cc: passing through to [^:]*: //p')
case $reason in
"the compile failed (clang exit 1)"*|"plain: the header is small"*) echo "ok: verbose reason: $reason" ;;
*) echo "FAIL: verbose reason after a failed BPF compile: '$reason'"; exit 1 ;;
esac
echo "cc passthrough: all cases same as the compiler itself"
