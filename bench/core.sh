#!/bin/sh
# `vmslim core` time per program with the object given, against two target BTFs (the
# issue's goal: <= 100 ms). Prints one line per object: median and max of N runs, in ms.
# Usage: bench/core.sh VMSLIM BTF_A BTF_B OBJ.o... [N=11 via $RUNS]
set -eu
vmslim=$1 a=$2 b=$3
shift 3
runs=${RUNS:-11}
for obj in "$@"; do
  times=""
  i=0
  while [ "$i" -lt "$runs" ]; do
    t0=$(date +%s%N)
    "$vmslim" core "$obj" --target-btf "$a" --target-btf "$b" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times="$times $(( (t1 - t0) / 1000 ))"
    i=$((i + 1))
  done
  echo "$times" | tr ' ' '\n' | grep . | sort -n | awk -v obj="$obj" -v n="$runs" '
    { v[NR] = $1 } END { printf "%s: median %.1f ms, max %.1f ms (%d runs, 2 target BTFs)\n",
      obj, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000, n }'
done
