#!/bin/sh
# One BPF program against one full header, through the slim path:
#   - `vmslim build --slim --verify` builds it and objdiff finds the object the same as
#     `vmslim build --no-pch` (the plain full-header build);
#   - its -MD dependency file is the plain build's: the full header, never the derived one;
#   - a second slim build finds the derived header in the cache;
#   - `vmslim cc --slim` in-process (VMSLIM_NO_DAEMON=1) gives the same object too.
# A program the slim path does not serve fails here, naming the program and why.
# usage: prog.sh VMSLIM FULL_HEADER PROG OUTDIR
set -eu
vmslim=$1 header=$2 prog=$3 out=$4
name=$(basename "$prog" .bpf.c)
inc=$(dirname "$header")
rm -rf "$out"
mkdir -p "$out"
cache=$out/cache
case $(uname -m) in
x86_64) arch=x86 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;;
esac
fail() { echo "FAIL $name: $*"; exit 1; }

"$vmslim" build --no-pch "$prog" -o "$out/full.o" --cache-dir "$cache" -- -I"$inc" \
	-MD -MF "$out/full.d"
"$vmslim" build --slim --verify -v "$prog" -o "$out/slim.o" --cache-dir "$cache" \
	-- -I"$inc" -MD -MF "$out/slim.d" 2>"$out/slim.err"
cat "$out/slim.err"
grep -q "^vmslim build: slim (.*header cache miss.*verified" "$out/slim.err" ||
	fail "build --slim --verify did not take the slim path"
"$vmslim" objdiff "$out/full.o" "$out/slim.o" | tee "$out/objdiff-slim.txt"
grep -q "are the same BPF object" "$out/objdiff-slim.txt" || fail "slim object differs"

# the dependency file names the full header, not the derived one, as the plain build's does
grep -qF "$header" "$out/slim.d" || fail "slim.d does not name $header"
if grep -q "/slim/[0-9a-f]*\.h" "$out/slim.d"; then fail "slim.d names the derived header"; fi
flat() { sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$1" | tr -s ' \t' '  ' | sed "s|^$2:||"; }
flat "$out/full.d" "$out/full.o" > "$out/full.flat"
flat "$out/slim.d" "$out/slim.o" > "$out/slim.flat"
diff "$out/full.flat" "$out/slim.flat" || fail "slim.d lists other dependencies than full.d"

# the same declarations again: the derived header comes from the cache
"$vmslim" build --slim -v "$prog" -o "$out/slim2.o" --cache-dir "$cache" -- -I"$inc" \
	2>"$out/slim2.err"
grep -q "^vmslim build: slim (.*header cache hit" "$out/slim2.err" ||
	{ cat "$out/slim2.err"; fail "the second slim build missed the header cache"; }
[ "$(find "$cache/slim" -name '*.h' | wc -l)" -eq 1 ] || fail "more than one derived header"
slim_bytes=$(wc -c < "$(find "$cache/slim" -name '*.h')")

# vmslim cc --slim, in-process: vms_cc_run's slim path
"$vmslim" cc --slim --verbose --cache-dir "$cache" -g -O2 -target bpf -D__TARGET_ARCH_$arch \
	-I"$inc" -c "$prog" -o "$out/cc.o" 2>"$out/cc.err"
cat "$out/cc.err"
grep -q "vmslim cc: slim (" "$out/cc.err" || fail "vmslim cc --slim did not take the slim path"
"$vmslim" objdiff "$out/full.o" "$out/cc.o" | tee "$out/objdiff-cc.txt"
grep -q "are the same BPF object" "$out/objdiff-cc.txt" || fail "cc --slim object differs"
echo "ok $name: full header $(wc -c < "$header") bytes, slim header $slim_bytes bytes"
