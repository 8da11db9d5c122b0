#!/bin/sh
# The answer cache's stat-only checks (serve/cc_cache.c, cc_manifest_recheck) never serve a
# stale answer: a header rewritten at once with the same size and its old mtime put back
# (only its ctime moves) is a miss; so is the same edit after the manifest learned, once
# the header had settled, to trust its stat alone; a header touched with its bytes
# unchanged is a hit. Every answer is compared with plain clang's object.
. "$(dirname "$0")/lib.sh"
mkdir -p "$W/w"
cd "$W/w"
cp "$PROGS_DIR/execsnoop.bpf.c" prog.bpf.c
hdr() { printf '#ifndef LOCAL_H\n#define LOCAL_H\n#define LIMIT %s\n#endif\n' "$1" > local.h; }
sed -i 's|#include "vmlinux.h"|#include "vmlinux.h"\n#include "local.h"\nint limit_seen = LIMIT;|' prog.bpf.c
CC="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$VMLINUX_DIR -c prog.bpf.c -o prog.o -MD"
# plain clang's object for the header as it is now, and ours must be the same
check() { # what
	clang $CC -o ref.o -MF ref.d || fail "$1: plain clang failed"
	cmp -s prog.o ref.o || fail "$1: the object differs from plain clang's"
}
# same size, other bytes, the old mtime back: only the ctime tells
rewrite_keep_mtime() { # LIMIT
	touch -r local.h stamp
	hdr "$1"
	touch -r stamp local.h
}
expect() { # what requests hits misses
	set -- "$1" "$2" "$3" "$4" $(cc_stats)
	[ "$5 $6 $7" = "$2 $3 $4" ] || fail "$1: cc stats $5 $6 $7, expected $2 $3 $4 (requests hits misses)"
}

hdr 10
"$VMSLIM" cc $CC || fail "first compile"
check "first compile"
expect "first compile" 1 0 1
# at once: the manifest was made within the header's timestamp tick and cannot trust it
rewrite_keep_mtime 20
"$VMSLIM" cc $CC || fail "compile after a quick rewrite"
expect "a rewrite at once, old mtime put back" 2 0 2
check "a rewrite at once"

# once the header has settled, a hit hashes it again and records its stat
sleep 3
"$VMSLIM" cc $CC || fail "compile of the settled tree"
expect "the settled tree" 3 1 2
check "the settled tree"
"$VMSLIM" cc $CC || fail "second compile of the settled tree"
expect "the settled tree again" 4 2 2
# the stat alone is now trusted: the same edit must still be seen
rewrite_keep_mtime 30
"$VMSLIM" cc $CC || fail "compile after rewriting a trusted header"
expect "a rewrite of a header trusted on its stat" 5 2 3
check "a rewrite of a trusted header"

# touched, bytes unchanged: the hash says it is the same file
touch local.h
"$VMSLIM" cc $CC || fail "compile after touch"
expect "a touched header" 6 3 3
check "a touched header"
echo "stale: quick and trusted rewrites (old mtime kept) missed, a touch hit, objects as clang's"
