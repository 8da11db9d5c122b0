#!/bin/sh
# The slim path on input it cannot serve, and a --verify that finds a difference:
#   - a syntax error: clang's own error, exit 1, no object (nor temporary) left behind;
#   - a program that parses but does not compile: the same, from the full-header build;
#   - no vmlinux.h include, or an #if ahead of it: the build without --slim (exit 0);
#   - a #define ahead of the include that the header uses: served (one-shot), same object;
#   - a derived header in the cache that no longer matches (tampered with): --verify
#     fails the build naming the difference, and leaves no object (build and cc);
#   - vmlinux.h beside the program, in a directory with a blank in its name: the
#     dependency file is the plain build's.
# usage: errors.sh VMSLIM FULL_HEADER FIXTURES OUTDIR
set -u
vmslim=$1 header=$2 fx=$3 out=$4
inc=$(dirname "$header")
rm -rf "$out"
mkdir -p "$out/obj"
cache=$out/cache
bad=0
fail() { echo "FAIL: $*"; bad=$((bad + 1)); }
build() { # NAME [options]: vmslim build --slim -v of a fixture; sets rc, err in $out/NAME.err
	n=$1
	shift
	"$vmslim" build --slim -v "$@" "$fx/$n.bpf.c" -o "$out/obj/$n.o" --cache-dir "$cache" \
		-- -I"$inc" 2>"$out/$n.err"
	rc=$?
	sed "s/^/  $n: /" "$out/$n.err"
}

build syntax_error
[ "$rc" -eq 1 ] || fail "syntax_error: exit $rc, expected 1"
grep -q "syntax_error.bpf.c:10:[0-9]*: error: expected ';'" "$out/syntax_error.err" ||
	fail "syntax_error: clang's error is not shown"
[ -z "$(ls -A "$out/obj")" ] || fail "syntax_error: files left behind: $(ls -A "$out/obj")"

# parses, but does not compile (CO-RE without -g): the full-header build's messages, once
"$vmslim" build --slim -v "$fx/nopai.bpf.c" -o "$out/obj/g0.o" --cache-dir "$cache" \
	-- -I"$inc" -g0 2>"$out/g0.err"
rc=$?
sed "s/^/  g0: /" "$out/g0.err"
[ "$rc" -eq 1 ] || fail "g0: exit $rc, expected 1"
grep -q "the compile failed against the slim header: building with the full header" \
	"$out/g0.err" || fail "g0: the fallback is not reported"
[ "$(grep -c "nopai.bpf.c:[0-9]*:[0-9]*: error: using builtin_preserve_access_index() without -g" \
	"$out/g0.err")" -eq 1 ] || fail "g0: clang's error is not shown once"
[ -z "$(ls -A "$out/obj")" ] || fail "g0: files left behind: $(ls -A "$out/obj")"

for n in no_vmlinux if_first; do
	build "$n"
	[ "$rc" -eq 0 ] || fail "$n: exit $rc, expected 0"
	[ -s "$out/obj/$n.o" ] || fail "$n: no object"
	grep -q "the slim path does not apply: .*building with the full header" "$out/$n.err" ||
		fail "$n: the fallback is not reported"
done

build nopai --verify
[ "$rc" -eq 0 ] || fail "nopai: exit $rc, expected 0"
grep -q "^vmslim build: slim (.*one-shot.*verified" "$out/nopai.err" ||
	fail "nopai: not built through the slim path"

# tamper with the derived header nopai's build left in the cache: a field inserted ahead
# of task_struct's tgid moves every CO-RE access behind it
derived=$(ls "$cache"/slim/*.h)
grep -q "	pid_t tgid;" "$derived" || fail "no task_struct.tgid in $derived"
sed -i 's/^	pid_t tgid;/	pid_t vmslim_tampered;\n	pid_t tgid;/' "$derived"
build nopai --verify
[ "$rc" -eq 1 ] || fail "tampered: exit $rc, expected 1"
grep -q "error: --verify: the object built with the slim header .* differs from the full-header build" \
	"$out/nopai.err" || fail "tampered: the difference is not reported"
[ ! -e "$out/obj/nopai.o" ] || fail "tampered: the object was left behind"

# the same through `vmslim cc --verify` (a Makefile's CLANG="vmslim cc --verify"), in a
# cache of its own: a good build first, then its derived header tampered with
ccache_dir=$out/cache-cc
arch=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
cc_nopai() {
	"$vmslim" cc --cache-dir "$ccache_dir" --verify -g -O2 -target bpf -D__TARGET_ARCH_$arch \
		-I"$inc" -c "$fx/nopai.bpf.c" -o "$out/obj/nopai-cc.o" 2>"$out/nopai-cc.err"
	rc=$?
}
cc_nopai
[ "$rc" -eq 0 ] && [ -s "$out/obj/nopai-cc.o" ] || { cat "$out/nopai-cc.err"; fail "cc --verify: exit $rc"; }
derived=$(ls "$ccache_dir"/slim/*.h)
sed -i 's/^	pid_t tgid;/	pid_t vmslim_tampered;\n	pid_t tgid;/' "$derived"
rm -f "$out/obj/nopai-cc.o"
cc_nopai
[ "$rc" -eq 1 ] || fail "cc --verify, tampered: exit $rc, expected 1"
grep -q "error: --verify: the object built with the slim header .* differs" "$out/nopai-cc.err" ||
	fail "cc --verify, tampered: the difference is not reported"
[ ! -e "$out/obj/nopai-cc.o" ] || fail "cc --verify, tampered: the object was left behind"

# the usual layout: vmlinux.h beside the program (here in a directory whose name needs
# escaping in make syntax). The program's own include finds it and the slim header's guard
# skips it: the dependency file lists it once, as the plain build's does. (A cache of its
# own: the one above holds the tampered header for this very program text.)
cache=$out/cache-beside
dir="$out/with space"
mkdir -p "$dir"
cp "$fx/nopai.bpf.c" "$dir/prog.bpf.c"
ln -s "$header" "$dir/vmlinux.h"
"$vmslim" build --no-pch "$dir/prog.bpf.c" -o "$dir/full.o" --cache-dir "$cache" \
	-- -MD -MF "$dir/full.d" || fail "beside: the plain build failed"
"$vmslim" build --slim --verify -v "$dir/prog.bpf.c" -o "$dir/slim.o" --cache-dir "$cache" \
	-- -MD -MP -MF "$dir/slim.d" 2>"$out/beside.err"
rc=$?
sed "s/^/  beside: /" "$out/beside.err"
[ "$rc" -eq 0 ] || fail "beside: exit $rc"
grep -q "^vmslim build: slim (" "$out/beside.err" || fail "beside: not the slim path"
rule() { sed -n '1,/[^\\]$/p' "$1" | sed -e 's/ *\\$//' | tr -s ' \n' '  ' | sed 's/^[^:]*: //'; }
rule "$dir/slim.d" > "$dir/slim.rule"
rule "$dir/full.d" > "$dir/full.rule"
cmp "$dir/full.rule" "$dir/slim.rule" || { cat "$dir/full.d" "$dir/slim.d"; fail "beside: other dependencies"; }
grep -q '^.*with\\ space/vmlinux.h:$' "$dir/slim.d" || fail "beside: no phony target for vmlinux.h"

echo "slim errors: $bad failed"
[ "$bad" -eq 0 ]
