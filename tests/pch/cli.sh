#!/bin/sh
# `vmslim pch` and `vmslim build` as a user sees them: an explicit PCH with its manifest,
# a cache entry that `vmslim build --header` then finds warm, a slim-named header that the
# program's #include "vmlinux.h" resolves to, and usage errors.
# usage: cli.sh VMSLIM CLANG VMLINUX_H PROG OUTDIR
set -eu
vmslim=$1 clang=$2 header=$3 prog=$4 out=$5
rm -rf "$out"
mkdir -p "$out"
cache=$out/cache

"$vmslim" pch "$header" -o "$out/explicit.pch" --clang "$clang" -v
test -s "$out/explicit.pch" && test -s "$out/explicit.pch.manifest"
grep -q "^header $header " "$out/explicit.pch.manifest"
"$vmslim" pch "$header" -o "$out/explicit.pch" --clang "$clang" -v 2>"$out/again.txt"
cat "$out/again.txt"
grep -q "up to date" "$out/again.txt"

# warm the cache with `vmslim pch`, then build: no PCH build in `vmslim build`
"$vmslim" pch "$header" --cache-dir "$cache" --clang "$clang"
"$vmslim" build "$prog" -o "$out/warm.o" --header "$header" --cache-dir "$cache" \
	--clang "$clang" -v 2>"$out/warm.txt"
cat "$out/warm.txt"
grep -q "PCH (-g)" "$out/warm.txt"
if grep -q "PCH rebuilt" "$out/warm.txt"; then echo "FAIL: vmslim pch did not warm the cache"; exit 1; fi

# a header named otherwise: #include "vmlinux.h" must still resolve to it
cp "$header" "$out/slim.h"
"$vmslim" build "$prog" -o "$out/slim.o" --header "$out/slim.h" --cache-dir "$cache" \
	--clang "$clang" -v -- -MD -MF "$out/slim.d"
"$vmslim" objdiff "$out/warm.o" "$out/slim.o" | grep -q "are the same BPF object"
grep -q "$out/slim.h" "$out/slim.d"
if grep -q "$cache" "$out/slim.d"; then echo "FAIL: the dependency file names the cache"; exit 1; fi

# no --header: vmlinux.h found the way clang finds it (-I), same object again
"$vmslim" build "$prog" -o "$out/found.o" --cache-dir "$cache" --clang "$clang" -v \
	-- -I"$(dirname "$header")" 2>"$out/found.txt"
cat "$out/found.txt"
grep -q "PCH (-g)" "$out/found.txt"
"$vmslim" objdiff "$out/warm.o" "$out/found.o" | grep -q "are the same BPF object"

# a header without an include guard would be included twice: plain build, and it works
mkdir -p "$out/noguard"
printf 'typedef unsigned int __u32;\n' > "$out/noguard/vmlinux.h"
printf '#include "vmlinux.h"\n__u32 f(__u32 x) { return x + 1; }\n' > "$out/noguard/p.c"
"$vmslim" build "$out/noguard/p.c" -o "$out/noguard/p.o" --cache-dir "$cache" --clang "$clang" -v \
	2>"$out/noguard.txt"
cat "$out/noguard.txt"
grep -q "plain: .* has no include guard" "$out/noguard.txt"

# usage errors exit 2, --help exits 0
set +e
"$vmslim" build >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: build without PROG"; exit 1; }
"$vmslim" pch >/dev/null 2>&1; [ $? -eq 2 ] || { echo "FAIL: pch without HEADER"; exit 1; }
"$vmslim" build "$prog" --gmodules=sometimes >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
set -e
"$vmslim" build --help | grep -q "usage: vmslim build"
"$vmslim" pch --help | grep -q "usage: vmslim pch"
"$vmslim" cc --help | grep -q "usage: vmslim cc"
# a missing header is an error with a message, not a crash
if "$vmslim" build "$prog" -o "$out/x.o" --header "$out/nope.h" 2>"$out/err.txt"; then exit 1; fi
grep -q "header not found" "$out/err.txt"

# a failed build leaves the previous object untouched and no temporary beside it
sed 's/pid = /pidd = /' "$prog" > "$out/broken.bpf.c"
echo previous > "$out/broken.bpf.o"
for mode in "" --no-pch; do
	if "$vmslim" build "$out/broken.bpf.c" --header "$header" --cache-dir "$cache" \
		--clang "$clang" $mode 2>"$out/err.txt"; then exit 1; fi
	grep -q "broken.bpf.c:[0-9]*:[0-9]*: error" "$out/err.txt"
	[ "$(cat "$out/broken.bpf.o")" = previous ] || { echo "FAIL: previous object clobbered"; exit 1; }
done
if ls "$out"/broken.bpf.o.* >/dev/null 2>&1; then echo "FAIL: temporary left"; exit 1; fi
# an output directory that does not exist: a message naming the output
if "$vmslim" build "$prog" -o "$out/no/such/x.o" --header "$header" --cache-dir "$cache" \
	--clang "$clang" 2>"$out/err.txt"; then exit 1; fi
grep -q "$out/no/such/x.o: error: cannot write" "$out/err.txt"
# the object cannot go to stdout (clang's stdout is captured): usage error, not an empty file
set +e
"$vmslim" build "$prog" -o - --header "$header" >/dev/null 2>&1; [ $? -eq 2 ] || exit 1
# a directory given as the header says so (mmap used to say "No such device")
"$vmslim" pch "$out" -o "$out/d.pch" --clang "$clang" 2>"$out/err.txt"; [ $? -eq 1 ] || exit 1
set -e
grep -q "Is a directory" "$out/err.txt"
# a slim header is compiled without a PCH (cheaper to parse than a PCH is to load), and
# the object is still the full header's
mkdir -p "$out/small"
"$vmslim" extract --header "$header" --from "$prog" -o "$out/small/vmlinux.h"
"$vmslim" build "$prog" -o "$out/small.o" --header "$out/small/vmlinux.h" --cache-dir "$cache" \
	--clang "$clang" -v 2>"$out/small.txt"
grep -q "plain: the header is small" "$out/small.txt"
"$vmslim" objdiff "$out/warm.o" "$out/small.o" | grep -q "are the same BPF object"
# --header wins over a vmlinux.h lying next to the program on that path too
mkdir -p "$out/shadow"
cp "$prog" "$out/shadow/"
printf '#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n#error not this one\n#endif\n' \
	> "$out/shadow/vmlinux.h"
"$vmslim" build "$out/shadow/$(basename "$prog")" -o "$out/shadow.o" \
	--header "$out/small/vmlinux.h" --cache-dir "$cache" --clang "$clang"
"$vmslim" objdiff "$out/warm.o" "$out/shadow.o" | grep -q "are the same BPF object"
echo ok
