#!/bin/sh
# `vmslim objdiff` on objects that differ in one known way each (fixtures/), on
# the same program built against two kernels' headers, and on its error paths: each
# difference must be one short line saying where it is, with both sides shown, and its
# details must come with --verbose only.
# usage: variants.sh VMSLIM CLANG FIXTURE_DIR VMLINUX_6_18 VMLINUX_6_1 PROG OUTDIR
set -u
vmslim=$1 clang=$2 fixtures=$3 h618=$4 h61=$5 prog=$6 out=$7
rm -rf "$out"
mkdir -p "$out/copy" "$out/k618" "$out/k61"
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

build() { # NAME [CLANG ARGS...]
	name=$1
	shift
	"$clang" -g -O2 -Wall -target bpf -c "$fixtures/variants.bpf.c" -o "$out/$name.o" "$@" ||
		fail "cannot compile variant $name"
}

# expect STATUS PATTERN A B: objdiff exits STATUS and its output matches PATTERN (grep -E)
expect() {
	want=$1 pattern=$2
	shift 2
	"$vmslim" objdiff "$@" >"$out/last.txt" 2>&1
	got=$?
	cat "$out/last.txt"
	[ "$got" -eq "$want" ] || fail "objdiff $* exited $got, expected $want"
	grep -Eq -- "$pattern" "$out/last.txt" || fail "objdiff $* did not say: $pattern"
}

build base
build limit -DLIMIT=2
build opaque -DOPAQUE_KEY
build field -DOTHER_FIELD
build later -DCFG_B_LATER
cp "$fixtures/variants.bpf.c" "$out/copy/"
"$clang" -g -O2 -target bpf -c "$out/copy/variants.bpf.c" -o "$out/copy/base.o" || fail "copy"

echo "== same source, another path"
expect 0 "are the same BPF object" "$out/base.o" "$out/copy/base.o"
# equal basenames: messages must name the objects by path
expect 0 "same" "$out/copy/base.o" "$out/base.o"

echo "== one immediate differs"
expect 1 "^error: section kprobe/fixture: instruction [0-9]+ differs: r[0-9] = 2 \(base\) vs r[0-9] = 3 \(limit\)$" \
	"$out/base.o" "$out/limit.o"
expect 1 "differ: 1 difference$" "$out/base.o" "$out/limit.o"
grep -q "^note:" "$out/last.txt" && fail "details shown without --verbose"
expect 1 "^note: limit: offset 0x[0-9a-f]+: b7 .*imm 3\)$" -v "$out/base.o" "$out/limit.o"

echo "== same instructions, incomplete types in BTF"
expect 1 "^error: \.BTF: function 'seen': parameter 1: struct flow\{12 bytes\} \* f \(base\) vs struct flow\{incomplete\} \* f \(opaque\)$" \
	"$out/base.o" "$out/opaque.o"
expect 1 "^error: \.BTF: variable 'flows' in \.maps: member 'key': struct flow\{12 bytes\} \* \(base\) vs struct flow\{incomplete\} \* \(opaque\)$" \
	"$out/base.o" "$out/opaque.o"
grep -q "instruction" "$out/last.txt" && fail "opaque variant: instructions reported as different"
# the whole map definition only with --verbose
expect 1 "^note: opaque: variable 'flows' in \.maps: .*key: struct flow\{incomplete\} \* @128" \
	--verbose "$out/base.o" "$out/opaque.o"

echo "== CO-RE access string names another member"
expect 1 "^error: \.BTF\.ext: CO-RE relocation 0 of prog 'probe': access \"0:2:0\" task\.\(anon#2\)\.alias \(base\) vs \"0:2:1\" task\.\(anon#2\)\.other_alias \(field\)$" \
	"$out/base.o" "$out/field.o"

echo "== a BTF member offset and one instruction: two short lines"
expect 1 "differ: 2 differences$" "$out/base.o" "$out/later.o"
[ "$(grep -c '^error:' "$out/last.txt")" -eq 2 ] || fail "later variant: not two error lines"
grep -Eq "^error: section kprobe/fixture: instruction [0-9]+ differs: r[0-9] = \*\(u16 \*\)\(r[0-9] \+4\) \(base\) vs r[0-9] = \*\(u16 \*\)\(r[0-9] \+6\) \(later\)$" "$out/last.txt" ||
	fail "later variant: the load of cfg.b is not named"
grep -Eq "^error: \.BTF: variable 'cfg' in \.bss: member 'b': offset 4 \(base\) vs 6 \(later\)$" "$out/last.txt" ||
	fail "later variant: the offset of cfg.b is not named"
awk 'length($0) >= 160 { bad = 1 } END { exit bad }' "$out/last.txt" || fail "a line of 160 characters or more"
expect 1 "^note: later: variable 'cfg' in \.bss: .*b: __u16=unsigned short @48\}$" -v "$out/base.o" "$out/later.o"
grep -Eq "^note: base: offset 0x[0-9a-f]+: 69 " "$out/last.txt" || fail "--verbose: no instruction bytes"
[ "$(grep -c '^error:' "$out/last.txt")" -eq 2 ] || fail "--verbose changed the differences"

echo "== one program, two kernels' headers"
name=$(basename "$prog" .bpf.c)
"$clang" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$(dirname "$h618")" -c "$prog" -o "$out/k618/$name.o" || fail "compile 6.18"
"$clang" -g -O2 -target bpf -D__TARGET_ARCH_x86 -I"$(dirname "$h61")" -c "$prog" -o "$out/k61/$name.o" || fail "compile 6.1"
# equal file names: the objects are named by the ends of their paths that differ
expect 1 "CO-RE relocation [0-9]+ of prog 'handle_exec': access \"0:[0-9]+\" task_struct\.real_parent \(k618/$name\.o\) vs \"0:[0-9]+\" task_struct\.real_parent \(k61/$name\.o\)" \
	"$out/k618/$name.o" "$out/k61/$name.o"

echo "== many differences: the first 20 and a count"
expect 1 "^error: \.\.\. and [0-9]+ more differences$" "$out/base.o" "$out/k618/$name.o"
[ "$(grep -c '^error:' "$out/last.txt")" -eq 21 ] || fail "not 20 differences and a count"
total=$(sed -n 's/.* differ: \([0-9]*\) differences$/\1/p' "$out/last.txt")
more=$(sed -n 's/^error: \.\.\. and \([0-9]*\) more differences$/\1/p' "$out/last.txt")
[ "$total" = "$((more + 20))" ] || fail "count $total is not 20 + $more"

echo "== errors and usage"
expect 2 "cannot open: No such file or directory" "$out/base.o" "$out/missing.o"
expect 2 "not an ELF object file" "$out/base.o" "$fixtures/variants.bpf.c"
expect 2 "not a BPF object: ELF machine [0-9]+, expected EM_BPF" "$out/base.o" "$vmslim"
# a truncated object (section headers cut off) is damaged, not an object without sections
head -c 2000 "$out/base.o" > "$out/truncated.o"
expect 2 "broken section headers: [0-9]+ announced, 0 readable" "$out/base.o" "$out/truncated.o"
expect 2 "expected two object files, got 1" "$out/base.o"
expect 2 "unknown option .--no-such-option." --no-such-option "$out/base.o" "$out/base.o"
expect 0 "exit status: 0 same" --help
"$vmslim" objdiff -q "$out/base.o" "$out/limit.o" >"$out/quiet.txt"
[ $? -eq 1 ] && [ ! -s "$out/quiet.txt" ] || fail "--quiet printed something or exited wrongly"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all objdiff checks passed"
