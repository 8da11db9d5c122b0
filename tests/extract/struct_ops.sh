#!/bin/sh
# struct_ops programs: a .struct_ops variable of a kernel ops struct puts the pointees of
# its members' prototypes into .BTF in full, so the slim header must keep them complete.
# Each fixture names the ops struct it needs ("needs: struct X"); a vmlinux.h without it
# skips that fixture on that version, said out loud. Beyond verify (which renders BTF one
# level deep), the two objects' whole .BTF must hold the same types, ids aside.
# usage: struct_ops.sh VMSLIM FIXTURES_DIR WORKDIR VMLINUX_H...
set -eu
vmslim=$1 fx=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
# every type of an object's .BTF as a line without its id, sorted
bpftool=${BPFTOOL:-bpftool}
btf_types() { "$bpftool" btf dump file "$1" | sed 's/type_id=[0-9]*/type_id/g; s/^\[[0-9]*\] //' | sort; }
have_bpftool=1
command -v "$bpftool" >/dev/null 2>&1 || { have_bpftool=0; echo "note: no bpftool: .BTF compared by verify only"; }
fail=0 ran=0
for header in "$@"; do
	ver=$(basename "$(dirname "$header")")
	for prog in "$fx"/*.bpf.c; do
		name=$(basename "$prog" .bpf.c)
		needs=$(sed -n 's/^.*needs: \(.*\)$/\1/p' "$prog" | head -n 1)
		if ! grep -q "^$needs {" "$header"; then
			echo "skip $name on $ver: its vmlinux.h has no $needs"
			continue
		fi
		out=$work/$name-$ver
		mkdir -p "$out"
		ran=$((ran + 1))
		if ! "$vmslim" extract --header "$header" --from "$prog" -o "$out/slim.h" ||
		   ! "$vmslim" verify "$prog" --header "$header" --slim "$out/slim.h" --keep-dir "$out"; then
			echo "FAIL $name on $ver: extract or verify"
			fail=1
			continue
		fi
		clang -target bpf -fsyntax-only -Werror -Wno-pragma-clang-attribute -x c "$out/slim.h" ||
			{ echo "FAIL $name on $ver: slim header does not compile cleanly"; fail=1; }
		if [ $have_bpftool = 1 ]; then
			btf_types "$out/full.o" > "$out/full.btf"
			btf_types "$out/slim.o" > "$out/slim.btf"
			if ! cmp -s "$out/full.btf" "$out/slim.btf"; then
				echo "FAIL $name on $ver: .BTF types differ (full vs slim):"
				diff "$out/full.btf" "$out/slim.btf" | head -n 20 || true
				fail=1
				continue
			fi
		fi
		echo "ok $name on $ver ($(wc -c < "$out/slim.h") of $(wc -c < "$header") bytes)"
	done
done
# each route on its own, in a hand-written header: full_* must come out complete, fwd_*
# opaque, and full_never (named by nothing) not at all
out=$work/routes
mkdir -p "$out"
if "$vmslim" extract --header "$fx/routes.h" --from "$fx/routes.c" -o "$out/slim.h" &&
   "$vmslim" verify "$fx/routes.c" --header "$fx/routes.h" --slim "$out/slim.h" --keep-dir "$out"; then
	for s in $(sed -n 's/^struct \(f[a-z_]*\) {.*/\1/p' "$fx/routes.h"); do
		def=$(grep -c "^struct $s {" "$out/slim.h" || true)
		decl=$(grep -c "^struct $s;\$" "$out/slim.h" || true)
		case $s in
		full_never) want="0 0" ;;
		full_*) want="1 $decl" ;;	# also declared ahead if a prototype names it
		*) want="0 1" ;;
		esac
		[ "$def $decl" = "$want" ] ||
			{ echo "FAIL routes: struct $s defined $def, declared $decl times; wanted $want"; fail=1; }
	done
	[ $have_bpftool = 0 ] || { btf_types "$out/full.o" > "$out/full.btf"; btf_types "$out/slim.o" > "$out/slim.btf"
		cmp -s "$out/full.btf" "$out/slim.btf" || { echo "FAIL routes: .BTF types differ"; fail=1; }; }
	echo "ok routes"
else
	echo "FAIL routes: extract or verify"
	fail=1
fi
[ $fail = 0 ] || exit 1
[ $ran -gt 0 ] || { echo "no fixture's ops struct is in any header"; exit 77; }
