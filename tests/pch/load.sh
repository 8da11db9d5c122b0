#!/bin/sh
# `vmslim build --load`: a valid program loads (exit 0), a program the verifier rejects
# exits 1 with the verifier's message. Exit 77 (skip) where this machine refuses to load
# BPF at all, with the reason printed.
# usage: load.sh VMSLIM VMLINUX_H GOOD_PROG BAD_PROG OUTDIR
set -u
vmslim=$1 header=$2 good=$3 bad=$4 out=$5
rm -rf "$out"
mkdir -p "$out"
"$vmslim" build "$good" -o "$out/good.o" --header "$header" --cache-dir "$out/cache" --load \
	>"$out/good.txt" 2>&1
rc=$?
cat "$out/good.txt"
if [ $rc -eq 77 ]; then
	echo "SKIP: this machine refuses to load BPF programs"
	exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: the valid program did not load (exit $rc)"; exit 1; }
grep -q "loaded, every program accepted" "$out/good.txt" || exit 1

"$vmslim" build "$bad" -o "$out/bad.o" --header "$header" --cache-dir "$out/cache" --load \
	>"$out/bad.txt" 2>&1
rc=$?
cat "$out/bad.txt"
[ $rc -eq 77 ] && { echo "SKIP: loading refused"; exit 77; }
[ $rc -eq 1 ] || { echo "FAIL: expected exit 1 for a rejected program, got $rc"; exit 1; }
grep -q "invalid mem access" "$out/bad.txt" || { echo "FAIL: no verifier message"; exit 1; }
grep -q "rejected by the verifier" "$out/bad.txt" || exit 1
echo "ok: accepted and rejected as expected"
