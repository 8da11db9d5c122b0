#!/bin/sh
# One BPF program against one header, three ways: plain clang (the reference), `vmslim
# build` (PCH from the cache) and `vmslim cc` with the same command line as the plain
# build. `vmslim objdiff` must find all three the same, and the dependency file from
# `vmslim cc -MD -MF` must be the plain build's, byte for byte.
# usage: prog.sh VMSLIM CLANG VMLINUX_H PROG OUTDIR CACHEDIR
set -eu
vmslim=$1 clang=$2 header=$3 prog=$4 out=$5 cache=$6
name=$(basename "$prog" .bpf.c)
inc=$(dirname "$header")
rm -rf "$out"
mkdir -p "$out"
flags="-g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$inc"

# shellcheck disable=SC2086
"$clang" $flags -c "$prog" -o "$out/plain.o" -MD -MF "$out/plain.d"
"$vmslim" build "$prog" -o "$out/build.o" --header "$header" --clang "$clang" \
	--cache-dir "$cache" --verbose -- -Wall -Werror
# shellcheck disable=SC2086
"$vmslim" cc --clang "$clang" --cache-dir "$cache" --verbose $flags -c "$prog" -o "$out/cc.o" \
	-MD -MF "$out/cc.d" 2>"$out/cc.err"
cat "$out/cc.err"
grep -q "vmslim cc: PCH" "$out/cc.err" || { echo "FAIL: vmslim cc did not take the PCH path"; exit 1; }

for o in build cc; do
	"$vmslim" objdiff "$out/plain.o" "$out/$o.o" | tee "$out/objdiff-$o.txt"
	grep -q "are the same BPF object" "$out/objdiff-$o.txt"
done
# same command line, same header path: clang 14 gives the very same bytes; clang 19 orders
# BTF types differently under a PCH (type IDs, which objdiff ignores), so just report
if cmp -s "$out/plain.o" "$out/cc.o"; then echo "cc.o: byte-identical"; else echo "cc.o: same object, other bytes"; fi
# the same dependencies in the same order (line wrapping depends on the target's length)
flat() { sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$1" | tr -s ' \t' '  ' | sed "s|^$2:||"; }
flat "$out/plain.d" "$out/plain.o" > "$out/plain.flat"
flat "$out/cc.d" "$out/cc.o" > "$out/cc.flat"
diff "$out/plain.flat" "$out/cc.flat"
ls -l "$out/plain.o" "$out/build.o" "$out/cc.o"
