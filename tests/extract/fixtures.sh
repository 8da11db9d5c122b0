#!/bin/sh
# Golden tests on a hand-written header: each case's output must equal its expected file
# byte for byte, compile, and (for programs) give the same object as the full header.
# usage: fixtures.sh VMSLIM FIXTURES_DIR WORKDIR [--update]
set -eu
vmslim=$1 fx=$2 work=$3 update=${4:-}
rm -rf "$work"
mkdir -p "$work"
fail=0
check() { # name, then extract arguments
	name=$1
	shift
	"$vmslim" extract --header "$fx/shapes.h" "$@" -o "$work/$name.h"
	if [ "$update" = --update ]; then
		cp "$work/$name.h" "$fx/expected/$name.h"
	elif ! cmp -s "$work/$name.h" "$fx/expected/$name.h"; then
		echo "FAIL $name: output differs from expected/$name.h:"
		diff -u "$fx/expected/$name.h" "$work/$name.h" || true
		fail=1
	fi
	# every output is a header clang accepts on its own
	clang -target bpf -fsyntax-only -Werror -Wno-pragma-clang-attribute -x c "$work/$name.h" || { echo "FAIL $name: does not compile"; fail=1; }
	echo "ok $name"
}
check outer --type outer
check cycle_glob --type 'cycle_*'
check struct_keyword --type 'struct with_anon'
check typedef_chain --type pid_like_t
check anon_typedef --type anon_typedef_t
check enum_only --type color
check forward_only --type only_declared
check full_pointers --type big_array_user --full-pointers
check blacklist --type big_array_user --full-pointers --blacklist 'cycle_*'
check prototype_first --type handler_table
check prototype_first_full --type handler_table --full-pointers
check from_program --from "$fx/uses_shapes.c"
check program_and_type --from "$fx/uses_shapes.c" --type never_used

# a program's slim header compiles it to the same object as the full header
"$vmslim" verify "$fx/uses_shapes.c" --header "$fx/shapes.h" --slim "$work/from_program.h"

# deterministic: the same run twice gives the same bytes
"$vmslim" extract --header "$fx/shapes.h" --from "$fx/uses_shapes.c" -o "$work/again.h"
cmp "$work/again.h" "$work/from_program.h" || { echo "FAIL: not deterministic"; fail=1; }

# --full-pointers keeps more than the default, and a blacklist keeps less than that
default=$(wc -c < "$work/outer.h")
[ "$(wc -c < "$work/full_pointers.h")" -gt "$(wc -c < "$work/blacklist.h")" ] ||
	{ echo "FAIL: blacklist did not trim the full-pointer closure"; fail=1; }
grep -q '^struct cycle_b;$' "$work/blacklist.h" || { echo "FAIL: blacklisted cycle_b not opaque"; fail=1; }
grep -q '^struct cycle_b {' "$work/full_pointers.h" || { echo "FAIL: --full-pointers did not follow cycle_b"; fail=1; }
grep -q '^struct cycle_a;$' "$work/outer.h" || { echo "FAIL: pointer target not opaque ($default bytes)"; fail=1; }
# a type first named in a prototype is declared ahead of it, also when kept in full
grep -q '^struct late_defined;$' "$work/prototype_first_full.h" ||
	{ echo "FAIL: no forward declaration ahead of the prototype"; fail=1; }
grep -q '^struct late_defined {' "$work/prototype_first_full.h" ||
	{ echo "FAIL: --full-pointers did not keep late_defined"; fail=1; }
exit $fail
