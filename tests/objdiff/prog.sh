#!/bin/sh
# Compiles one BPF program twice — the second time from a copy at another path, so the
# file names in DWARF and BTF line records differ — and checks that `vmslim objdiff`
# finds the objects the same. The first object is kept as OUTDIR/NAME.o for the load
# test.
# usage: prog.sh VMSLIM CLANG VMLINUX_H PROG OUTDIR
set -eu
vmslim=$1 clang=$2 header=$3 prog=$4 out=$5
name=$(basename "$prog" .bpf.c)
inc=$(dirname "$header")
rm -rf "$out"
mkdir -p "$out/copy"
cp "$prog" "$out/copy/$name.bpf.c"
flags="-g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I$inc"
# shellcheck disable=SC2086
"$clang" $flags -c "$prog" -o "$out/$name.o"
# shellcheck disable=SC2086
"$clang" $flags -c "$out/copy/$name.bpf.c" -o "$out/copy/$name.o"
"$vmslim" objdiff "$out/$name.o" "$out/copy/$name.o" | tee "$out/objdiff.txt"
grep -q "are the same BPF object" "$out/objdiff.txt"
