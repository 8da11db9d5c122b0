#!/bin/sh
# vmslim check from the outside: exit codes, gcc-style diagnostics, --help, --repeat
# --stats, stdin, --header. Usage: cli.sh VMSLIM FIXTURES VMLINUX_DIR WORK
set -u
vmslim=$1 fx=$2 vdir=$3 work=$4
rm -rf "$work"
mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# expect CODE ARGS...: runs vmslim check, stderr to $work/err, stdout to $work/out
# With --exact, under AddressSanitizer, LeakSanitizer's exit-time thread tracer itself
# sometimes crashes on LLVM's threads ("Tracer caught signal 11") on a loaded machine: the
# leak check alone is off for those runs (memory errors are still caught; exact/'s leaks
# are checked in-process by check_errors and serve_lsp).
no_lsan="ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
expect() {
	want=$1
	shift
	case " $* " in
	*" --exact "*) env "$no_lsan" "$vmslim" check "$@" >"$work/out" 2>"$work/err" ;;
	*) "$vmslim" check "$@" >"$work/out" 2>"$work/err" ;;
	esac
	got=$?
	[ "$got" = "$want" ] || { bad "vmslim check $* exited $got, want $want"; cat "$work/err"; }
}

expect 0 -I "$vdir" -D__TARGET_ARCH_x86 "$fx/good.bpf.c"
[ -s "$work/err" ] && bad "a clean program printed something: $(cat "$work/err")"

expect 1 -I "$vdir" "$fx/bad_field.bpf.c"
grep -q "^$fx/bad_field.bpf.c:12:14: error: " "$work/err" || bad "gcc-style error at 12:14 (clang's column): $(cat "$work/err")"

expect 3 -I "$vdir" "$fx/asm_bpf.bpf.c"
grep -q "note: not checked" "$work/err" || bad "unsupported says so"
grep -q "error:" "$work/err" && bad "unsupported is not an error"

expect 2 -I "$vdir" "$fx/good.bpf.c" "$fx/bad_field.bpf.c"
expect 2
expect 2 --mode nonsense "$fx/good.bpf.c"
expect 2 --repeat 0 "$fx/good.bpf.c"
expect 2 --repeat 99999999999999 "$fx/good.bpf.c"	# not an abort in calloc
expect 2 --time-limit 4294967297 "$fx/good.bpf.c"	# not truncated to 1 ms
expect 1 -I "$vdir" "$work/does-not-exist.c"

# no target architecture: an error where clang has one (BPF_KPROBE's line)
# the architecture as vmslim build has it (issue 14): the host's unless one is chosen
expect 0 -I "$vdir" "$fx/no_target_arch.bpf.c"
[ -s "$work/err" ] && bad "no -D__TARGET_ARCH_*: the host's is the default: $(cat "$work/err")"
expect 0 -I "$vdir" -D__TARGET_ARCH_x86 "$fx/no_target_arch.bpf.c"
# a program that names its own: no second one from the host (TCC would warn of a
# redefinition, clang would see two)
{ echo '#define __TARGET_ARCH_x86 1'; cat "$fx/no_target_arch.bpf.c"; } > "$work/own_arch.bpf.c"
expect 0 -I "$vdir" "$work/own_arch.bpf.c"
[ -s "$work/err" ] && bad "own #define __TARGET_ARCH_x86: $(cat "$work/err")"
# an unknown one is the program's choice, and libbpf's error is reported
expect 1 -I "$vdir" -D__TARGET_ARCH_vax "$fx/no_target_arch.bpf.c"
expect 0 --exact -I "$vdir" "$fx/no_target_arch.bpf.c"

# a binary file: the stray byte on line 1 (TCC says line 0, which printed no line)
printf '\177ELF\002\001\001\n' >"$work/binary.c"
expect 1 "$work/binary.c"
grep -q "^$work/binary.c:1:1: error: unrecognized character" "$work/err" || bad "binary: $(cat "$work/err")"

# an include of an endless file: an error (TCC's), not an endless read in the caller when
# it looks at the line the error points to
printf '#include "vmlinux.h"\nint x;\n#include "/dev/zero"\n' >"$work/zero.c"
timeout 60 "$vmslim" check -I "$vdir" --time-limit 5000 "$work/zero.c" >/dev/null 2>"$work/err"
[ $? = 1 ] || bad "#include \"/dev/zero\": exit 1: $(head -c 300 "$work/err")"

# --help documents the exit codes, 3 included
expect 0 --help
grep -q "^  3  unsupported" "$work/out" || bad "--help documents exit code 3"
grep -q -- "--repeat N" "$work/out" || bad "--help documents --repeat"

# standard input, named <stdin>
"$vmslim" check -I "$vdir" - <"$fx/bad_field.bpf.c" 2>"$work/err"
[ $? = 1 ] || bad "stdin: exit 1"
grep -q "^<stdin>:12:14: error:" "$work/err" || bad "stdin diagnostics name <stdin>: $(cat "$work/err")"

# --header replaces vmlinux.h wherever the program includes it
printf 'struct only_in_tiny { int x; };\n' >"$work/tiny.h"
printf '#include "vmlinux.h"\nint f(struct only_in_tiny *t) { return t->x; }\n' >"$work/tiny.c"
expect 0 --header "$work/tiny.h" "$work/tiny.c"
expect 1 -I "$vdir" "$work/tiny.c"
grep -q "^$work/tiny.c:2:43: error: " "$work/err" || bad "without --header, the real vmlinux.h: $(cat "$work/err")"

# the gave-up class: a crash in TCC exits 4 and says so
python3 -c 'print("#include \"vmlinux.h\"\nint f(void) { return " + "(" * 100000 + "1" + ")" * 100000 + "; }")' >"$work/deep.c"
expect 4 -I "$vdir" "$work/deep.c"
grep -q "crashed" "$work/err" || bad "crash reported: $(cat "$work/err")"

# --repeat --stats: per-check median and p90, in every mode
for mode in snapshot arena libc; do
	expect 0 -I "$vdir" -D__TARGET_ARCH_x86 --mode $mode --repeat 5 --stats "$fx/good.bpf.c"
	grep -q "^per check: median [0-9.]* ms, p90 [0-9.]* ms" "$work/out" || bad "$mode stats: $(cat "$work/out")"
done
expect 1 -I "$vdir" --repeat 3 --stats "$fx/bad_field.bpf.c"
[ "$(grep -c ': error: ' "$work/err")" = 1 ] || bad "diagnostics printed once for --repeat"

# what clang 14 accepts is never an error: the uapi headers' `__u32 :32;` padding (read
# through the shim), and an undeclared function (clang 14 warns): unsupported, exit 3
expect 0 -D__TARGET_ARCH_x86 "$fx/uapi_bpf.bpf.c"
expect 3 -I "$vdir" "$fx/implicit_decl.bpf.c"
grep -q "error:" "$work/err" && bad "an implicit declaration is no error: $(cat "$work/err")"
# a missing ';' before a __sync builtin: clang's line and column
expect 1 -I "$vdir" "$fx/semicolon_sync.bpf.c"
grep -q "^$fx/semicolon_sync.bpf.c:9:8: error: " "$work/err" || bad "missing ';' at 9:8: $(cat "$work/err")"

# --exact: clang's own diagnostics, every one, gcc-style with clang's line and column
"$vmslim" check --help | grep -q -- "--exact" || bad "--help does not mention --exact"
expect 1 --exact -I "$vdir" "$fx/bad_field.bpf.c"
grep -q "^$fx/bad_field.bpf.c:12:14: error: no member named" "$work/err" || bad "--exact: clang's error at 12:14: $(cat "$work/err")"
expect 0 --exact -I "$vdir" -D__TARGET_ARCH_x86 "$fx/good.bpf.c"
# what the fast checker cannot judge, clang can
expect 0 --exact -I "$vdir" "$fx/asm_bpf.bpf.c"
# warnings alone are success, and shown
printf '#include "vmlinux.h"\nint f(void)\n{\n\treturn 1 << 40;\n}\n' > "$work/warn.bpf.c"
expect 0 --exact -I "$vdir" "$work/warn.bpf.c"
grep -q "warn.bpf.c:4:[0-9]*: warning: shift count" "$work/err" || bad "--exact: the warning is not shown: $(cat "$work/err")"
# several programs: each judged, the worst status wins
expect 1 --exact -I "$vdir" "$fx/good.bpf.c" "$fx/bad_field.bpf.c"
grep -q "bad_field.bpf.c:12:14: error" "$work/err" || bad "--exact with two programs: $(cat "$work/err")"
# bad input: a missing file, no libclang, a usage error: one clear line each
expect 1 --exact -I "$vdir" "$work/no-such.bpf.c"
grep -q "no-such.bpf.c" "$work/err" || bad "--exact, missing file: $(cat "$work/err")"
env "$no_lsan" VMSLIM_LIBCLANG=/nonexistent/libclang.so "$vmslim" check --exact -I "$vdir" "$fx/good.bpf.c" >"$work/out" 2>"$work/err"
[ $? = 1 ] || bad "--exact without libclang: not exit 1"
grep -q "libclang" "$work/err" || bad "--exact without libclang says nothing of it: $(cat "$work/err")"
expect 2 --exact --mode inprocess -I "$vdir" "$fx/good.bpf.c"
expect 0 --exact -I "$vdir" --repeat 3 --stats "$fx/good.bpf.c"
grep -qi "reparse" "$work/err" "$work/out" || bad "--exact --stats: no reparse figures"

# -p DIR: the flags of a libbpf-tools-like tree (-I x86 -I .output, vmlinux.h under
# .output) from its build/compile_commands.json, none given on the command line (issue 15)
tree=$work/tree
mkdir -p "$tree/x86" "$tree/.output" "$tree/build"
cp "$vdir/vmlinux.h" "$tree/.output/"
echo '#define ARCH_NAME_LEN 16' > "$tree/x86/arch.h"
cat > "$tree/prog.bpf.c" <<'PROG'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "arch.h"

char name[ARCH_NAME_LEN];

SEC("tp/sched/sched_process_exec")
int handle(void *ctx)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	return PROG_VALUE + (t != 0);
}
char LICENSE[] SEC("license") = "GPL";
PROG
# a file the database does not list takes its directory's entry (clangd's rule)
sed 's/return PROG_VALUE + (t != 0);/return t->no_such_member;/' "$tree/prog.bpf.c" > "$tree/other.bpf.c"
printf '[{"directory": "%s", "command": "clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -DPROG_VALUE=1 -I x86 -I .output -c prog.bpf.c -o .output/prog.bpf.o", "file": "prog.bpf.c"}]\n' "$tree" > "$tree/build/compile_commands.json"
expect 1 "$tree/prog.bpf.c"
grep -q "vmlinux.h" "$work/err" || bad "without -p, vmlinux.h is not found: $(cat "$work/err")"
expect 0 -p "$tree" "$tree/prog.bpf.c"
expect 0 -p "$tree/build" "$tree/prog.bpf.c"
expect 0 --exact -p "$tree" "$tree/prog.bpf.c"
expect 1 -p "$tree" "$tree/other.bpf.c"
grep -q "other.bpf.c:11:.*error: .*no_such_member" "$work/err" || bad "-p, an error on its line: $(cat "$work/err")"
grep -q "include file" "$work/err" && bad "-p, other.bpf.c: $(cat "$work/err")"
expect 1 --exact -p "$tree" "$tree/other.bpf.c"
grep -q "other.bpf.c:11:1[0-9]: error: no member named 'no_such_member'" "$work/err" || bad "--exact -p: $(cat "$work/err")"
printf -- '-I\nx86\n-I\n.output\n-DPROG_VALUE=2\n' > "$tree/compile_flags.txt"
rm "$tree/build/compile_commands.json"
expect 0 -p "$tree" "$tree/prog.bpf.c"
expect 1 -p "$work/no-such-dir" "$tree/prog.bpf.c"
grep -q "no compile_commands.json" "$work/err" || bad "-p without a database: $(cat "$work/err")"
echo '[{"directory": 1' > "$tree/compile_commands.json"
expect 1 -p "$tree" "$tree/prog.bpf.c"
grep -q "compile_commands.json" "$work/err" || bad "-p, a broken database names it: $(cat "$work/err")"

[ $fail = 0 ] && echo "check cli: ok"
exit $fail
