#!/bin/sh
# `vmslim extract --header H --from PROG` through the per-user daemon: for every program of
# tests/progs, the slim header the daemon answers (from its warm context of H, after the
# first) is byte for byte the in-process one, stats included in JSON; a broken program and
# a missing one give the in-process messages and exit status, and no output file; the
# daemon did answer (its stats count the extracts).
. "$(dirname "$0")/lib.sh"
work_tree
n=0
for f in $(ls *.bpf.c | grep -v '^bad'); do
	"$VMSLIM" extract --header vmlinux.h --from "$f" -o d.h -- -I"$HDRS" -Iinc ||
		fail "$f: extract through the daemon failed"
	VMSLIM_NO_DAEMON=1 "$VMSLIM" extract --header vmlinux.h --from "$f" -o p.h -- -I"$HDRS" -Iinc ||
		fail "$f: extract in-process failed"
	cmp -s d.h p.h || { diff d.h p.h | head; fail "$f: the daemon's header differs"; }
	n=$((n + 1))
done
"$VMSLIM" --json extract --header vmlinux.h --from execsnoop.bpf.c -o - -- -I"$HDRS" > d.json ||
	fail "JSON extract through the daemon failed"
grep -q '"types_kept":' d.json || fail "no stats in the JSON document"
for f in bad.bpf.c missing.bpf.c; do
	same_failure "$f" d.h "$VMSLIM" extract --header vmlinux.h --from $f -o d.h -- -I"$HDRS"
done
st=$(daemon_stats)
echo "$st" | grep -q '"extract":{"requests":[1-9]' || fail "the daemon's stats count no extracts"
echo "$st" | grep -q '"extract":{"requests":[0-9]*,"warm":[1-9]' ||
	fail "no extract was served from a warm context"
echo "extract: $n programs, the daemon's headers are the in-process ones"
