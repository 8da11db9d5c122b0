#!/bin/sh
# Every error path of extract and verify: the exit code, a message that names the file
# (and line where there is one), and no output file left behind or clobbered.
# usage: errors.sh VMSLIM FIXTURES_DIR BTF WORKDIR
set -u
vmslim=$1 fx=$2 btf=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
fail=0
expect() { # expected-exit, pattern, then the command; stdout+stderr are searched
	want=$1 pattern=$2
	shift 2
	"$@" > "$work/out" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL (exit $got, wanted $want): $*"
		cat "$work/out"
		fail=1
	elif ! grep -q -- "$pattern" "$work/out"; then
		echo "FAIL (no '$pattern' in the message): $*"
		cat "$work/out"
		fail=1
	else
		echo "ok: $pattern"
	fi
}
absent() {
	if [ -e "$1" ] || ls "$1".tmp.* > /dev/null 2>&1; then
		echo "FAIL: $1 (or a temporary beside it) exists after an error"
		fail=1
	fi
}
out="$work/slim.h"
H="$fx/shapes.h"

expect 1 "unknown type 'nosuch'" "$vmslim" extract --header "$H" --type nosuch -o "$out"
absent "$out"
expect 1 "pattern 'zz_\*' matches no type" "$vmslim" extract --header "$H" --type 'zz_*' -o "$out"
absent "$out"
expect 1 "broken.c:5:.*no member named 'no_such_member'" "$vmslim" extract --header "$H" --from "$fx/broken.c" -o "$out"
absent "$out"
expect 1 "no_include.c.*does not include the header" "$vmslim" extract --header "$H" --from "$fx/no_include.c" -o "$out"
absent "$out"
expect 1 "$work/missing.h.*cannot read header" "$vmslim" extract --header "$work/missing.h" --type outer -o "$out"
absent "$out"
expect 1 "missing.c.*cannot read program" "$vmslim" extract --header "$H" --from "$work/missing.c" -o "$out"
absent "$out"
expect 1 "$fx/shapes.h.*not raw BTF nor an ELF" "$vmslim" extract --btf "$fx/shapes.h" --type outer -o "$out"
absent "$out"
# the message is the tool's own, once: libbpf's complaint is not printed beside it
if grep -q "^libbpf:\|Unknown error 40" "$work/out"; then echo "FAIL: libbpf noise"; cat "$work/out"; fail=1; fi
expect 1 "$work: error: cannot read BTF: Is a directory" "$vmslim" extract --btf "$work" --type outer -o "$out"
expect 1 "missing.btf.*cannot read BTF" "$vmslim" extract --btf "$work/missing.btf" --type outer -o "$out"
expect 1 "$work/no/such/dir/slim.h.*cannot write" "$vmslim" extract --header "$H" --type outer -o "$work/no/such/dir/slim.h"
expect 1 "cannot read blacklist file" "$vmslim" extract --header "$H" --type outer --blacklist-file "$work/nope" -o "$out"

# a failed run leaves the previous output untouched
echo "previous contents" > "$out"
expect 1 "unknown type" "$vmslim" extract --header "$H" --type nosuch -o "$out"
[ "$(cat "$out")" = "previous contents" ] || { echo "FAIL: previous output clobbered"; fail=1; }
rm -f "$out"

# usage errors are exit 2
expect 2 "no roots" "$vmslim" extract --header "$H" -o "$out"
expect 2 "no output" "$vmslim" extract --header "$H" --type outer
expect 2 "exactly one of" "$vmslim" extract --header "$H" --btf "$btf" --type outer -o "$out"
expect 2 "exactly one of" "$vmslim" extract --type outer -o "$out"
expect 2 "try 'vmslim extract --help'" "$vmslim" extract --no-such-option
expect 2 "unexpected argument 'stray.c'" "$vmslim" extract --header "$H" --type outer -o "$out" stray.c
absent "$out"

# SIGTERM mid-run: the staged header's temporary directory goes with the process
mkdir -p "$work/tmp"
TMPDIR="$work/tmp" "$vmslim" extract --btf "$btf" --type task_struct -o "$work/sig.h" &
pid=$!
for i in $(seq 200); do
	ls "$work/tmp" | grep -q . && break
	sleep 0.05
done
kill -TERM $pid 2>/dev/null
wait $pid
if ls "$work/tmp" | grep -q .; then
	echo "FAIL: temporary directory left after SIGTERM: $(ls "$work/tmp")"
	fail=1
else
	echo "ok: no temporary directory after SIGTERM"
fi

# verify: a wrong slim header is caught and the difference is named
expect 1 "differ" "$vmslim" verify "$fx/uses_shapes.c" --header "$H" --slim "$fx/shapes_reordered.h"
# one short line per difference, "X (full) vs Y (slim)", the details only with --verbose
expect 1 "^error: section tp/test: instruction 0 differs: .* (full) vs .* (slim)$" "$vmslim" verify "$fx/uses_shapes.c" --header "$H" --slim "$fx/shapes_reordered.h"
if grep -q "^note:" "$work/out" || awk 'length($0) >= 160 { bad = 1 } END { exit !bad }' "$work/out"; then
	echo "FAIL: verify's differences are not short lines without details"; fail=1
fi
expect 1 "^note: full: offset 0x0: " "$vmslim" verify --verbose "$fx/uses_shapes.c" --header "$H" --slim "$fx/shapes_reordered.h"
expect 1 "broken.c:5:.*no_such_member" "$vmslim" verify "$fx/broken.c" --header "$H" --slim "$H"
expect 1 "missing-slim.h.*cannot read header" "$vmslim" verify "$fx/uses_shapes.c" --header "$H" --slim "$work/missing-slim.h"
# a directory as a header used to be skipped by the include, so a vmlinux.h found next to
# the program stood in for it and verify reported a match
mkdir -p "$work/hdrdir"
cp "$H" "$work/hdrdir/vmlinux.h"
expect 1 "hdrdir: error: cannot read header: Is a directory" "$vmslim" verify "$fx/uses_shapes.c" --header "$H" --slim "$work/hdrdir"
expect 1 "hdrdir: error: cannot read header: Is a directory" "$vmslim" verify "$fx/uses_shapes.c" --header "$work/hdrdir" --slim "$H"
expect 2 "need PROG.c" "$vmslim" verify --header "$H"
expect 2 "unexpected argument" "$vmslim" verify "$fx/uses_shapes.c" extra.c --header "$H" --slim "$H"
exit $fail
