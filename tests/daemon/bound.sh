#!/bin/sh
# A flood of distinct -D sets (each one a PCH of its own and an answer of its own) through
# the daemon under a small cache bound (vmslim cache --max-size): the cache directory stays
# within it, and every object is still plain clang's.
. "$(dirname "$0")/lib.sh"
N=${BOUND_N:-20}
"$VMSLIM" cache --max-size 48M >/dev/null || fail "cannot set the bound"
mkdir -p "$W/w"
cp "$PROGS_DIR/execsnoop.bpf.c" "$W/w/"
cd "$W/w"
i=1
while [ $i -le $N ]; do
	"$VMSLIM" cc -g -O2 -target bpf -D__TARGET_ARCH_x86 -DX=$i -I"$VMLINUX_DIR" \
		-c execsnoop.bpf.c -o x$i.o -MD || fail "compile $i"
	i=$((i + 1))
done
clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -DX=$N -I"$VMLINUX_DIR" -c execsnoop.bpf.c -o ref.o
cmp -s ref.o x$N.o || fail "object $N differs from plain clang's"
total=$("$VMSLIM" --json cache --stats | sed -n 's/.*"total_bytes":\([0-9]*\).*/\1/p')
max=$((48 * 1024 * 1024))
[ -n "$total" ] && [ "$total" -le $max ] || fail "cache holds $total bytes, over the bound $max"
set -- $(cc_stats)
[ "$3" = "$N" ] || fail "$3 compiles through the daemon, not $N"
echo "$N distinct -D sets: cache $total bytes <= $max"
