#!/bin/sh
# The warm context's slim headers against the CLI's: test_slim_extract compares each with
# vms_extract in-process and writes it; here each is compared with `vmslim extract --from`.
# usage: extract.sh VMSLIM TEST_SLIM_EXTRACT HEADER OUTDIR PROG...
set -eu
vmslim=$1 driver=$2 header=$3 out=$4
shift 4
rm -rf "$out"
mkdir -p "$out/warm" "$out/cold"
"$driver" "$header" "$out/warm" "$@"
bad=0
for prog in "$@"; do
	name=$(basename "$prog")
	"$vmslim" extract --header "$header" --from "$prog" -o "$out/cold/$name.h"
	if ! cmp "$out/warm/$name.h" "$out/cold/$name.h"; then
		echo "FAIL $name: the warm slim header is not vmslim extract's"
		bad=$((bad + 1))
	fi
done
echo "$# programs against $(basename "$(dirname "$header")"), $bad differ from vmslim extract"
[ "$bad" -eq 0 ]
