#!/bin/sh
# `vmslim build` through the per-user daemon: for every program of tests/progs, the object
# the daemon builds is byte for byte the in-process one, with and without --slim (the
# daemon's from its warm slim context); a broken program gives the in-process messages
# and exit status and leaves no object; the daemon did answer (its stats count the
# builds, and the slim ones served warm).
. "$(dirname "$0")/lib.sh"
work_tree
n=0
for f in $(ls *.bpf.c | grep -v '^bad'); do
	for mode in "" --slim; do
		"$VMSLIM" build $mode "$f" -o d.o -- -I"$HDRS" 2>d.err ||
			{ cat d.err; fail "$f $mode: the build through the daemon failed"; }
		VMSLIM_NO_DAEMON=1 "$VMSLIM" build $mode "$f" -o p.o -- -I"$HDRS" 2>p.err ||
			{ cat p.err; fail "$f $mode: the build in-process failed"; }
		cmp -s d.o p.o || fail "$f $mode: the daemon's object differs"
		cmp -s d.err p.err || { diff d.err p.err; fail "$f $mode: messages differ"; }
	done
	n=$((n + 1))
done
"$VMSLIM" build -v --slim execsnoop.bpf.c -o d.o -- -I"$HDRS" 2>d.err
grep -q 'warm' d.err || { cat d.err; fail "the daemon's slim build was not warm"; }
for mode in "" --slim; do
	same_failure "bad.bpf.c $mode" d.o "$VMSLIM" build $mode bad.bpf.c -o d.o -- -I"$HDRS"
done
st=$(daemon_stats)
echo "$st" | grep -q '"build":{"requests":[1-9]' || fail "the daemon's stats count no builds"
echo "$st" | grep -q '"slim_warm":[1-9]' || fail "no slim build was served warm"
echo "build: $n programs with and without --slim, the daemon's objects are the in-process ones"
