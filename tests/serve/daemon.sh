# Sourced by the serve test scripts: start and stop a `vmslim serve` of their own.
# Needs $vmslim, $vmlinux_dir and $d (the work dir); sets $sock and $pid.

daemon_start() { # NAME [serve options...]
	sock=$d/$1.sock
	shift
	"$vmslim" serve -s "$sock" -I "$vmlinux_dir" -I /usr/include --cache-dir "$d/cache" \
		--no-disk-cache -q "$@" &
	pid=$!
	# ready when it answers a ping; a daemon that died or never answers fails the test
	i=0
	until "$vmslim" client -s "$sock" ping >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 300 ] && kill -0 $pid 2>/dev/null || { echo "FAIL: daemon did not start"; exit 1; }
		sleep 0.1
	done
}

daemon_stop() {
	"$vmslim" client -s "$sock" shutdown >/dev/null 2>&1
	wait $pid
}
