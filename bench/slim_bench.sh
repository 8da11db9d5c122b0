#!/bin/sh
# Per-program wall time of the CLI, side by side in one run (median of RUNS):
#   extract      vmslim extract --header H --from PROG (one-shot, cold)
#   build --slim vmslim build --slim (one-shot derivation; derived header cached)
#   build        vmslim build (the full header's PCH, made before timing)
#   plain clang  clang -g -O2 --target=bpf -I$(dirname H) -c PROG
# Then the in-process figures (bench/slim_bench: warm context, what the daemon does).
# usage: slim_bench.sh VMSLIM SLIM_BENCH FULL_VMLINUX_H RUNS PROG.bpf.c...
set -eu
vmslim=$1 driver=$2 header=$3 runs=$4
shift 4
work=$(mktemp -d "${TMPDIR:-/tmp}/vmslim-slim-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
inc=$(dirname "$header")
case $(uname -m) in
x86_64) arch=x86 ;; aarch64) arch=arm64 ;; *) arch=$(uname -m) ;;
esac
export VMSLIM_NO_DAEMON=1
c="--cache-dir $work/cache"

# median wall time in ms of running "$@" RUNS times (after one untimed warm-up run)
med() {
	"$@" >/dev/null 2>&1
	i=0
	while [ "$i" -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
		i=$((i + 1))
	done | sort -n | awk '{ v[NR] = $1 } END { m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}

echo "| program | extract | build --slim | build (PCH) | plain clang | plain/slim |"
echo "|---|---:|---:|---:|---:|---:|"
for prog in "$@"; do
	o=$work/$(basename "$prog" .c).o
	# shellcheck disable=SC2086
	e=$(med "$vmslim" extract --header "$header" --from "$prog" -o "$work/slim.h")
	# shellcheck disable=SC2086
	s=$(med "$vmslim" build --slim $c "$prog" -o "$o" -- -I"$inc")
	# shellcheck disable=SC2086
	b=$(med "$vmslim" build $c "$prog" -o "$o" -- -I"$inc")
	p=$(med clang -g -O2 --target=bpf -D__TARGET_ARCH_$arch -I"$inc" -c "$prog" -o "$o")
	echo "| $(basename "$prog") | $e | $s | $b | $p | $(awk "BEGIN { printf \"%.2fx\", $p / $s }") |"
done
echo
"$driver" "$header" "$runs" "$work/inproc" "$@"
