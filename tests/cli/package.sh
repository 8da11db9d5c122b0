#!/bin/sh
# `cpack -G DEB` makes a package that a Debian 12 machine installs and runs: the binary,
# helper, headers, man page and completion under /usr; dependencies on clang, tcc and the
# libclang it opens; installed with dpkg, `vmslim check` then works from /usr/bin with no
# build tree, and `man -w vmslim` finds the page. Removed again at the end. Skipped (77)
# unless root with dpkg, or when a vmslim package is already installed (not ours to touch).
# usage: package.sh BUILD_DIR OUT_DIR
set -u
build=$1 out=$2
no() { echo "FAIL: $*"; exit 1; }
command -v dpkg >/dev/null && command -v cpack >/dev/null || { echo "skipped: no dpkg/cpack"; exit 77; }
rm -rf "$out"
mkdir -p "$out"
cpack --config "$build/CPackConfig.cmake" -B "$out" >"$out/cpack.log" 2>&1 || { cat "$out/cpack.log"; no "cpack failed"; }
deb=$(ls "$out"/vmslim_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || no "no .deb written"
dpkg-deb -c "$deb" >"$out/contents"
for f in ./usr/bin/vmslim ./usr/libexec/vmslim/vmslim-tcc-helper ./usr/share/man/man1/vmslim.1 \
	./usr/share/bash-completion/completions/vmslim ./usr/share/vmslim/headers/vmslim-tcc-prelude.h; do
	grep -q " $f\$" "$out/contents" || no "package lacks $f"
done
depends=$(dpkg-deb -f "$deb" Depends)
for p in clang tcc libclang libjson-c libelf; do
	echo "$depends" | grep -q "$p" || no "Depends lacks $p: $depends"
done
echo "package: $(basename "$deb"), Depends: $depends"

[ "$(id -u)" -eq 0 ] || { echo "skipped: installing needs root"; exit 77; }
if dpkg-query -W -f '${Status}' vmslim 2>/dev/null | grep -q installed; then
	echo "skipped: a vmslim package is already installed"
	exit 77
fi
trap 'dpkg -r vmslim >/dev/null 2>&1' EXIT
dpkg -i "$deb" >"$out/dpkg.log" 2>&1 || { cat "$out/dpkg.log"; no "dpkg -i failed"; }
/usr/bin/vmslim -V | grep -q "^vmslim " || no "installed vmslim -V"
man -w vmslim >/dev/null 2>&1 || no "man -w vmslim finds no page"
# a check from a directory with no build tree near it: headers and helper from /usr
mkdir -p "$out/prog"
cat > "$out/prog/vmlinux.h" <<'C'
#ifndef __VMLINUX_H__
#define __VMLINUX_H__
typedef unsigned int __u32;
struct task_struct { int pid; };
#endif
C
printf '#include "vmlinux.h"\nint f(struct task_struct *t) { return t->pid; }\n' > "$out/prog/ok.bpf.c"
printf '#include "vmlinux.h"\nint f(struct task_struct *t) { return t->nope; }\n' > "$out/prog/bad.bpf.c"
(cd "$out/prog" && env -u VMSLIM_HEADERS -u VMSLIM_TCC_HELPER /usr/bin/vmslim check ok.bpf.c) ||
	no "installed vmslim check ok.bpf.c"
(cd "$out/prog" && env -u VMSLIM_HEADERS -u VMSLIM_TCC_HELPER /usr/bin/vmslim check bad.bpf.c 2>"$out/bad.err")
[ $? -eq 1 ] || no "installed vmslim check bad.bpf.c: not exit 1"
grep -q "^bad.bpf.c:2:.*error" "$out/bad.err" || no "installed check: $(cat "$out/bad.err")"
dpkg -r vmslim >"$out/remove.log" 2>&1 || no "dpkg -r failed"
trap - EXIT
[ ! -e /usr/bin/vmslim ] || no "/usr/bin/vmslim left after removal"
echo "package installs, checks a program from /usr, and removes cleanly"
