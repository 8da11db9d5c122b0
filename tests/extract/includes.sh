#!/bin/sh
# Every route to vmlinux.h leads to --header, in extract and in verify: angled, through a
# project header (with and without a decoy vmlinux.h beside it), -include, and clang's
# own headers beside it.
# usage: includes.sh VMSLIM FULL_HEADER FIXTURES OUTDIR
set -eu
vmslim=$1 header=$2 fx=$3 out=$4
rm -rf "$out"
mkdir -p "$out"

# one case: NAME PROG [CLANG_ARGS...]; extract, then verify the same object
check() {
	name=$1 prog=$2
	shift 2
	"$vmslim" extract --header "$header" --from "$prog" -o "$out/$name.h" -- "$@"
	"$vmslim" verify "$prog" --header "$header" --slim "$out/$name.h" -- "$@" |
		grep -q "same object" || { echo "$name: verify did not say same object"; exit 1; }
	grep -q 'struct task_struct\|struct pt_regs\|struct linux_binprm' "$out/$name.h" ||
		{ echo "$name: the slim header lacks the program's types"; exit 1; }
	echo "$name: ok"
}

check angled "$fx/angled.bpf.c"
check via_header "$fx/via_header.bpf.c"
check include_flag "$fx/include_flag.bpf.c" -include vmlinux.h
check compiler_headers "$fx/compiler_headers.bpf.c"

# decoys: the project's own (wrong) vmlinux.h beside the including headers and in an -I
# directory; none of them may be seen
proj=$out/proj
mkdir -p "$proj/sub" "$proj/inc"
cp "$fx/via_header.bpf.c" "$fx/common.h" "$fx/via_subdir.bpf.c" "$fx/angled.bpf.c" "$proj/"
cp "$fx/sub/common.h" "$proj/sub/"
for d in "$proj" "$proj/sub" "$proj/inc"; do
	echo '#error "a vmlinux.h other than --header was included"' > "$d/vmlinux.h"
done
check decoy_beside "$proj/via_header.bpf.c"
check decoy_subdir "$proj/via_subdir.bpf.c"
check decoy_angled_I "$proj/angled.bpf.c" -I "$proj/inc"
check decoy_include_flag "$fx/include_flag.bpf.c" -I"$proj/inc" -include "$proj/inc/vmlinux.h"
