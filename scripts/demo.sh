#!/usr/bin/env bash
# Sets up, builds, and runs the main job on a built-in default: trims the running kernel's
# vmlinux.h (else the pinned 6.18.44 BTF) for the shipped exec tracer, prints the sizes,
# and proves the slim header compiles the program to the same BPF object.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
btf=/sys/kernel/btf/vmlinux
[ -r "$btf" ] || btf=../shared/btf/vmlinux-6.18.44.btf
prog=tests/progs/execsnoop.bpf.c
out=build/demo
mkdir -p "$out"
echo "== BTF: $btf, program: $prog"
bpftool btf dump file "$btf" format c > "$out/vmlinux.h"
build/vmslim extract --btf "$btf" --from "$prog" -o "$out/vmlinux.slim.h" --stats
printf '== sizes: full %s bytes, slim %s bytes\n' "$(wc -c < "$out/vmlinux.h")" "$(wc -c < "$out/vmlinux.slim.h")"
build/vmslim verify "$prog" --header "$out/vmlinux.h" --slim "$out/vmlinux.slim.h"
echo "== slim header: $out/vmlinux.slim.h"
