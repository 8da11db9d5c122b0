#!/bin/sh
# Edit -> diagnostics latency and peak memory of `vmslim lsp` (the fast answer, and
# --exact: clang's own diagnostics from libclang with a precompiled preamble) next to
# clangd, on one program with the full vmlinux.h, with ../shared/tools/lsp_latency.py.
# Servers run one after another in this one invocation, so the figures are side by side.
# usage: bench/lsp_latency.sh VMSLIM VMLINUX_H [PROG.c] [RUNS] [EDITS]
set -eu
vmslim=$(realpath "$1") header=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
prog=${3:-$here/tests/progs/execsnoop.bpf.c} runs=${4:-5} edits=${5:-30}
tool=$here/../shared/tools/lsp_latency.py
[ -f "$tool" ] || { echo "no $tool (../shared is not beside the project)"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vmslim-lsp-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$prog" "$work/" && cp "$header" "$work/vmlinux.h"
# clangd reads its flags from here; vmslim lsp finds vmlinux.h beside the program
printf -- '--target=bpf\n-D__TARGET_ARCH_x86\n-O2\n-I.\n' > "$work/compile_flags.txt"
file=$work/$(basename "$prog")
for s in "vmslim lsp (fast answer):$vmslim lsp --no-build" \
	 "vmslim lsp --exact (clang's diagnostics):$vmslim lsp --no-build --exact" \
	 "clangd --pch-storage=memory:clangd --pch-storage=memory"; do
	name=${s%%:*} cmd=${s#*:}
	echo "== $name"
	# shellcheck disable=SC2086
	python3 "$tool" --runs "$runs" --edits "$edits" "$file" -- $cmd |
		grep -E "^(open->diag|edit->diag|  1st edit|correct|peak RSS)"
done
