#!/bin/sh
# The conventions every command keeps (issue 15): -V and --version print the version; an
# unknown option, an option without its argument or an unknown command is one line saying
# what is wrong and one line pointing at --help, with exit 2, never the whole usage.
# usage: conventions.sh VMSLIM
set -u
vmslim=$1
fail=0
no() { echo "FAIL: $*"; fail=1; }

version=$("$vmslim" --version) || no "vmslim --version failed"
echo "$version" | grep -Eq '^vmslim [0-9]+\.[0-9]+\.[0-9]+$' || no "version line: '$version'"
[ "$("$vmslim" -V)" = "$version" ] || no "vmslim -V"
[ "$("$vmslim" version)" = "$version" ] || no "vmslim version"

for cmd in extract verify objdiff pch build check serve client lsp bench cache; do
	for v in -V --version; do
		out=$("$vmslim" $cmd $v 2>&1)
		[ $? -eq 0 ] && [ "$out" = "$version" ] || no "$cmd $v: '$out'"
	done
	err=$("$vmslim" $cmd --no-such-flag 2>&1 >/dev/null)
	rc=$?
	[ $rc -eq 2 ] || no "$cmd --no-such-flag: exit $rc"
	[ "$(printf '%s\n' "$err" | wc -l)" -eq 2 ] || no "$cmd --no-such-flag: not two lines: $err"
	printf '%s\n' "$err" | head -n 1 | grep -qx "vmslim $cmd: unknown option '--no-such-flag'" ||
		no "$cmd: first line: $err"
	printf '%s\n' "$err" | tail -n 1 | grep -qx "try 'vmslim $cmd --help' for more information" ||
		no "$cmd: hint line: $err"
done

err=$("$vmslim" build -o 2>&1 >/dev/null)
[ $? -eq 2 ] || no "build -o without its argument: not exit 2"
printf '%s\n' "$err" | head -n 1 | grep -qx "vmslim build: option '-o' needs an argument" ||
	no "build -o: $err"
err=$("$vmslim" extract --output 2>&1 >/dev/null)
printf '%s\n' "$err" | head -n 1 | grep -qx "vmslim extract: option '--output' needs an argument" ||
	no "extract --output: $err"
err=$("$vmslim" extract -Z 2>&1 >/dev/null)
printf '%s\n' "$err" | head -n 1 | grep -qx "vmslim extract: unknown option '-Z'" || no "extract -Z: $err"

err=$("$vmslim" no-such-command 2>&1 >/dev/null)
[ $? -eq 2 ] || no "unknown command: not exit 2"
[ "$(printf '%s\n' "$err" | wc -l)" -eq 2 ] || no "unknown command: not two lines: $err"

# cc hands --version to the compiler it wraps, as ccache does
"$vmslim" cc --version | grep -qi clang || no "cc --version is not clang's"

[ $fail -eq 0 ] && echo "all conventions hold"
exit $fail
