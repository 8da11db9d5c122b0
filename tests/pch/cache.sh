#!/bin/sh
# Cache hygiene (issue 12): one PCH per header and flag set whatever the include
# directories, when the header includes nothing (vmlinux.h), and one per directory set
# when it includes files they resolve; the size bound holds under a flood of distinct -D
# sets (least recently used out, the one in use kept); `vmslim cache` counts hits and
# misses, sets the bound, clears, and never removes a PCH whose lock is held.
# usage: cache.sh VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR
set -u
vmslim=$1 vmlinux=$2 progs=$3 work=$4
[ -f "$vmlinux/vmlinux.h" ] || { echo "skipped: no $vmlinux/vmlinux.h"; exit 77; }
fail=0
no() { echo "FAIL: $*"; fail=1; }
rm -rf "$work"
mkdir -p "$work"
C=$work/cache H=$vmlinux/vmlinux.h
npch() { find "$C/pch" -name '*.pch' 2>/dev/null | wc -l; }
counter() { "$vmslim" -j cache --cache-dir "$C" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }

# every program from its own folder, each with -I of its own and one shared: 1 PCH
n=0
for p in "$progs"/*.bpf.c; do
	n=$((n + 1))
	d=$work/tree/t$n
	mkdir -p "$d/include"
	cp "$p" "$d/"
	"$vmslim" build "$d/$(basename "$p")" -o "$d/out.o" --header "$H" --cache-dir "$C" \
		--gmodules never -- -I "$d/include" -I "$work/tree" -D__TARGET_ARCH_x86 \
		>/dev/null 2>"$d/err" || no "build $(basename "$p"): $(head -3 "$d/err")"
done
# programs' own #defines before vmlinux.h are PCH flags too: one PCH per distinct set
sets=$(for p in "$progs"/*.bpf.c; do
	awk '/#include.*vmlinux\.h/ { exit } /^#define/ { print }' "$p" | sort | tr '\n' ';'; echo
done | sort -u | wc -l)
[ "$(npch)" -eq "$sets" ] || no "$n programs from $n folders: $(npch) PCHs, expected $sets (one per #define set)"
echo "$n programs from $n folders with their own -I: $(npch) PCH(s) for $sets flag set(s)"
# the PCH was built with t1's -I; t2's object through it is plain clang's with t2's -I
p2=$(ls "$work/tree/t2"/*.bpf.c)
clang -g -O2 --target=bpf -D__TARGET_ARCH_x86 -I "$work/tree/t2/include" -I "$work/tree" \
	-I "$vmlinux" -c "$p2" -o "$work/plain2.o" 2>/dev/null || no "plain clang on $p2"
"$vmslim" objdiff "$work/plain2.o" "$work/tree/t2/out.o" >/dev/null ||
	no "t2 through t1's PCH differs from plain clang: $("$vmslim" objdiff "$work/plain2.o" "$work/tree/t2/out.o" | head -3)"
hits=$(counter pch_hits) misses=$(counter pch_misses)
[ "$misses" -eq "$sets" ] && [ "$hits" -eq $((n - sets)) ] || no "counters: $hits hits, $misses misses"

# a header that includes a file the -I resolves: a PCH per directory set, each right
mkdir -p "$work/inc/a" "$work/inc/b"
echo '#define SIDE 1' > "$work/inc/a/side.h"
echo '#define SIDE 2' > "$work/inc/b/side.h"
printf '#include <side.h>\nstatic const int side = SIDE;\n' > "$work/inc/top.h"
pa=$("$vmslim" pch "$work/inc/top.h" --cache-dir "$C" -- -I "$work/inc/a") || no "pch top.h -I a"
pb=$("$vmslim" pch "$work/inc/top.h" --cache-dir "$C" -- -I "$work/inc/b") || no "pch top.h -I b"
pa2=$("$vmslim" pch "$work/inc/top.h" --cache-dir "$C" -v -- -I "$work/inc/a" 2>"$work/pa2.err")
[ "$pa" != "$pb" ] || no "a header that includes <side.h>: one PCH for two -I sets"
[ "$pa" = "$pa2" ] && grep -q "up to date" "$work/pa2.err" || no "-I a again: not the same fresh PCH ($(cat "$work/pa2.err"))"
v1=$("$vmslim" pch "$H" --cache-dir "$C" -- -I "$work/inc/a")
v2=$("$vmslim" pch "$H" --cache-dir "$C" -- -I "$work/inc/b")
[ "$v1" = "$v2" ] || no "vmlinux.h (includes nothing): two PCHs for two -I sets"

# the bound under a flood of -D sets: 40 MiB holds two PCHs of the full header
"$vmslim" cache --cache-dir "$C" --max-size 40M >/dev/null || no "cache --max-size 40M"
prog=$work/tree/t1/$(basename "$(ls "$progs"/*.bpf.c | head -n 1)")
for i in 1 2 3 4 5 6; do
	"$vmslim" build "$prog" -o "$work/flood.o" --header "$H" --cache-dir "$C" --gmodules never \
		-- -DFLOOD=$i -D__TARGET_ARCH_x86 >/dev/null 2>"$work/flood.err" || no "flood build $i: $(head -2 "$work/flood.err")"
	total=$(counter total_bytes)
	[ "$total" -le $((40 << 20)) ] || no "after flood build $i: $total bytes > 40 MiB"
done
[ "$(counter evictions)" -gt 0 ] || no "no eviction counted"
# the newest stays: building FLOOD=6 again is a hit
before=$(counter pch_hits)
"$vmslim" build "$prog" -o "$work/flood.o" --header "$H" --cache-dir "$C" --gmodules never \
	-- -DFLOOD=6 -D__TARGET_ARCH_x86 >/dev/null 2>&1
[ "$(counter pch_hits)" -eq $((before + 1)) ] || no "the most recent PCH was evicted"
echo "flood of 6 -D sets under a 40 MiB bound: $(counter total_bytes) bytes kept, $(counter evictions) eviction round(s)"

# --clear keeps the PCH someone holds (its lock taken shared, as a compile does)
lock=$(find "$C/pch" -name '*.pch.lock' | head -n 1)
held=$(dirname "$lock")
flock -s "$lock" sleep 30 &
holder=$!
sleep 0.5
"$vmslim" cache --cache-dir "$C" --clear >/dev/null || no "cache --clear"
[ -d "$held" ] || no "--clear removed a PCH in use"
[ "$(npch)" -eq 1 ] || no "--clear left $(npch) PCHs, expected only the one in use"
kill $holder 2>/dev/null
wait $holder 2>/dev/null
[ "$(counter pch_hits)" -eq 0 ] && [ "$(counter pch_misses)" -eq 0 ] || no "--clear did not reset the counters"
"$vmslim" cache --cache-dir "$C" --max-size lots >/dev/null 2>&1
[ $? -eq 2 ] || no "--max-size lots is not a usage error"
"$vmslim" cache --cache-dir "$C" | grep -q "^pch  *1 entries" || no "cache --stats text"
[ $fail -eq 0 ] && echo "cache hygiene holds"
exit $fail
