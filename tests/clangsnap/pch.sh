#!/bin/sh
# The snapshot through a PCH: `vmslim pch` precompiles the header with the very flags the
# test builds with, then every program's snapshot object must be the plain clang one.
# usage: pch.sh VMSLIM TEST_CLANGSNAP HEADER PROGS_DIR OUTDIR
set -eu
vmslim=$1 test=$2 header=$3 progs=$4 out=$5
[ -r "$header" ] || { echo "SKIP: $header not built (no pinned BTF)"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
"$vmslim" pch "$header" -o "$out/vmlinux.pch" --clang clang --raw -- \
	-g -O2 -target bpf -D__TARGET_ARCH_x86 "-I$(dirname "$header")"
exec "$test" progs clang "$header" "$progs" "$out/objs" "$out/vmlinux.pch"
