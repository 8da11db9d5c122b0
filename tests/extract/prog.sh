#!/bin/sh
# Extracts a slim header for one BPF program and proves it compiles to the same object.
# usage: prog.sh VMSLIM FULL_HEADER PROG OUTDIR
set -eu
vmslim=$1 header=$2 prog=$3 out=$4
rm -rf "$out"
mkdir -p "$out"
"$vmslim" extract --header "$header" --from "$prog" -o "$out/slim.h" --stats
"$vmslim" verify "$prog" --header "$header" --slim "$out/slim.h" --keep-dir "$out"
# the slim header is clean C on its own: no warning (a type first named in a prototype
# would be scoped to it) other than clang's note that a pragma region holds no record
clang -target bpf -fsyntax-only -Werror -Wno-pragma-clang-attribute -x c "$out/slim.h"
full=$(wc -c < "$header")
slim=$(wc -c < "$out/slim.h")
echo "full header $full bytes, slim header $slim bytes"
# the whole point: a slim header is a small fraction of the full one
[ "$slim" -lt $((full / 10)) ] || { echo "slim header is not slim"; exit 1; }
