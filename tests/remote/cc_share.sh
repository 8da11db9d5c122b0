#!/bin/sh
# `vmslim cc` through per-user daemons sharing one Redis (issue 13): two "machines" (each
# its own XDG_RUNTIME_DIR, so its own autostarted daemon, and its own XDG_CACHE_HOME), both
# with VMSLIM_REMOTE, compile the same tree at the same absolute path (made afresh for
# each machine: new inodes and times). The second gets every object and -MD file from
# Redis, byte for byte what the first compiled, then from its own cache; a read-only
# machine writes nothing; corrupt and foreign values are ignored and recomputed (and the
# store repaired); a new machine's compiles all in flight at once all hit; with Redis
# stopped, or a store that accepts and never answers, every compile still succeeds. The
# redis-server runs on a Unix socket in the work directory, started and killed here.
# Machine 1's objects are also compared with plain clang's: the store must share clang's
# bytes, and a compile path that embeds a machine's temporary paths would not.
. "$(dirname "$0")/../daemon/lib.sh"
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
	{ echo "skipped: no redis-server / redis-cli (apt-get install redis-server)"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
command -v clang >/dev/null || { echo "skipped: no clang"; exit 77; }

RS="$W/redis.sock" TREE="$W/tree"
export VMSLIM_REMOTE="unix://$RS"
CFLAGS="-g -O2 -target bpf -D__TARGET_ARCH_x86 -I$VMLINUX_DIR -MD"
N=$(nprogs)

rcli() { redis-cli -s "$RS" "$@"; }
redis_start() {
	redis-server --port 0 --unixsocket "$RS" --unixsocketperm 700 --save '' \
		--appendonly no --dir "$W" >>"$W/redis.log" 2>&1 &
	REDIS_PID=$! EXTRA_PIDS=$!
	i=0
	until [ "$(rcli PING 2>/dev/null)" = PONG ]; do
		i=$((i + 1)); [ $i -lt 500 ] || fail "redis-server did not come up ($W/redis.log)"
		sleep 0.02
	done
}
redis_stop() { kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null; EXTRA_PIDS=; rm -f "$RS"; }

# Machine N from here on: its runtime directory (hence its daemon) and its cache.
machine() {
	M=$1
	mkdir -p "$W/m$M/run" "$W/m$M/cache"
	chmod 700 "$W/m$M/run"
	export XDG_RUNTIME_DIR="$W/m$M/run" XDG_CACHE_HOME="$W/m$M/cache"
}
msock() { ls -d "$W/m$M"/run/vmslim/daemon-*.sock 2>/dev/null | head -n 1; }
# A member of this machine's daemon's stats: dstat cc.remote_hits
dstat() {
	"$VMSLIM" client -s "$(msock)" raw '{"op":"stats"}' | python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v.get(k, {}) if isinstance(v, dict) else {}
print(json.dumps(v) if not isinstance(v, str) else v)' "$1"
}
# The background writes of this machine's daemon have reached Redis.
settle() {
	i=0
	until [ "$(dstat remote.pending)" = 0 ]; do
		i=$((i + 1)); [ $i -lt 500 ] || fail "machine $M: writes still pending"
		sleep 0.02
	done
}

# The tree, made afresh at the same path (another machine's checkout).
make_tree() { rm -rf "$TREE"; mkdir -p "$TREE/out"; cp "$PROGS_DIR"/*.bpf.c "$TREE/"; }
build_tree() { # WHAT
	(cd "$TREE" && for f in *.bpf.c; do
		"$VMSLIM" cc $CFLAGS -c "$f" -o "out/${f%.c}.o" || exit 1
	done) || fail "$1: a compile failed"
}
# Every object and dependency file of the tree is the first machine's, byte for byte.
same_as_first() { # WHAT
	n=0
	for f in "$W/first"/*; do
		cmp -s "$f" "$TREE/out/${f##*/}" || fail "$1: ${f##*/} differs from machine 1's"
		n=$((n + 1))
	done
	[ $n = $((2 * N)) ] || fail "$1: $n outputs, expected $((2 * N))"
}

redis_start

# ---- machine 1 compiles; its objects are clang's ----
machine 1
make_tree
build_tree "machine 1"
settle
[ "$(dstat cc.misses)" = "$N" ] || fail "machine 1: $(dstat cc.misses) compiles, expected $N"
[ "$(dstat cc.remote_misses)" = "$N" ] || fail "machine 1: the store was not asked ($(dstat cc))"
rm -rf "$W/first" "$W/clang"
cp -r "$TREE/out" "$W/first"
mkdir -p "$W/clang"
for f in "$TREE"/*.bpf.c; do
	b=${f##*/}
	(cd "$TREE" && clang $CFLAGS -c "$b" -o "$W/clang/${b%.c}.o" -MF /dev/null) ||
		fail "clang: $b"
	cmp -s "$W/clang/${b%.c}.o" "$W/first/${b%.c}.o" ||
		fail "machine 1: $b differs from plain clang's (the compile path, not the remote tier)"
done
keys=$(rcli DBSIZE)
[ "$keys" = $((2 * N)) ] || fail "Redis holds $keys keys after $N compiles, expected $((2 * N))"
rcli --scan --pattern 'vmslim:*' | grep -qvE '^vmslim:v[0-9]+:[^:]+:[0-9a-f]{32}$' &&
	fail "a key outside vmslim:vN:VERSION:HEX"

# ---- machine 2: every answer from Redis, then from its own cache ----
machine 2
make_tree
build_tree "machine 2"
same_as_first "machine 2, from Redis"
rh=$(dstat cc.remote_hits) req=$(dstat cc.requests)
[ $((100 * rh)) -ge $((90 * req)) ] || fail "machine 2: $rh remote hits of $req requests"
[ "$(dstat cc.misses)" = $((req - rh)) ] || fail "machine 2: hits and compiles disagree ($(dstat cc))"
echo "machine 2: $rh of $req compiles answered from Redis, outputs identical"
rm -f "$TREE"/out/*
build_tree "machine 2, again"
same_as_first "machine 2, from its own cache"
[ "$(dstat cc.hits)" = "$N" ] || fail "machine 2: the second pass was not local ($(dstat cc))"
[ "$(dstat cc.remote_hits)" = "$rh" ] || fail "machine 2: the second pass asked Redis"

# ---- a read-only machine reads and never writes ----
machine 3
export VMSLIM_REMOTE_READ_ONLY=1
make_tree
echo '/* machine 3 only */' >>"$TREE/execsnoop.bpf.c"
build_tree "read-only machine"
[ "$(rcli DBSIZE)" = "$keys" ] || fail "the read-only machine wrote to Redis"
[ "$(dstat remote.read_only)" = true ] && [ "$(dstat remote.stores)" = 0 ] ||
	fail "read-only machine: $(dstat remote)"
[ "$(dstat cc.remote_hits)" = $((N - 1)) ] || fail "read-only machine: $(dstat cc)"
unset VMSLIM_REMOTE_READ_ONLY
echo "read-only machine: $(dstat cc.remote_hits) remote hits, no writes"

# ---- corrupt answers and a foreign manifest: ignored, recomputed, repaired ----
bad=0
for k in $(rcli --scan --pattern 'vmslim:*'); do
	case $(rcli GETRANGE "$k" 48 51) in
	VCA1) rcli SETRANGE "$k" 60 CORRUPT >/dev/null; bad=$((bad + 1)) ;;
	esac
done
[ $bad = "$N" ] || fail "$bad answers found in Redis, expected $N"
m=$(for k in $(rcli --scan --pattern 'vmslim:*'); do
	[ "$(rcli GETRANGE "$k" 48 51)" = VCM1 ] && echo "$k"; done | head -n 1)
rcli SET "$m" "not a vmslim entry" >/dev/null
machine 4
make_tree
build_tree "corrupt store"
same_as_first "machine 4, corrupt store"
[ "$(dstat cc.remote_hits)" = 0 ] && [ "$(dstat cc.misses)" = "$N" ] ||
	fail "machine 4 served a corrupt value: $(dstat cc)"
[ "$(dstat remote.corrupt)" -ge "$N" ] || fail "machine 4: corrupt values not counted ($(dstat remote))"
settle
machine 5
make_tree
build_tree "repaired store"
same_as_first "machine 5, repaired store"
[ "$(dstat cc.remote_hits)" = "$N" ] || fail "machine 5: the store was not repaired ($(dstat cc))"
echo "corrupt store: $N corrupt answers and a foreign manifest ignored, recomputed, repaired"

# ---- all at once: a new machine's compiles in flight together, each from Redis ----
machine 7
make_tree
"$VMSLIM" cc $CFLAGS -c "$TREE/execsnoop.bpf.c" -o "$W/warm.o" || fail "machine 7: start"
(cd "$TREE" && for f in *.bpf.c; do
	"$VMSLIM" cc $CFLAGS -c "$f" -o "out/${f%.c}.o" >"out/${f%.c}.log" 2>&1 &
done; wait)
rm -f "$TREE"/out/*.log
same_as_first "machine 7, all at once"
[ "$(dstat cc.remote_hits)" = "$N" ] || fail "machine 7: $(dstat cc)"
echo "machine 7: $N compiles at once, all from Redis"

# ---- Redis stopped: a new machine and a running one still compile ----
redis_stop
machine 6
make_tree
build_tree "Redis stopped, new machine"
same_as_first "machine 6, Redis stopped"
[ "$(dstat cc.misses)" = "$N" ] || fail "machine 6: $(dstat cc)"
machine 2
make_tree
echo '/* after Redis went */' >>"$TREE/execsnoop.bpf.c"
build_tree "Redis stopped, running machine"
[ "$(dstat remote.state)" = skipping ] || fail "machine 2: the store is $(dstat remote.state)"
echo "Redis stopped: every compile succeeded (machine 6: $N compiled)"

# ---- a store that accepts and never answers: the lookup gives up, the compile goes on ----
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
held = []
while True:
    held.append(s.accept()[0])' "$W/mute.sock" &
EXTRA_PIDS=$!
i=0
until [ -S "$W/mute.sock" ]; do i=$((i + 1)); [ $i -lt 250 ] || fail "no mute listener"; sleep 0.02; done
VMSLIM_REMOTE="unix://$W/mute.sock"
machine 8
make_tree
build_tree "a store that never answers"
same_as_first "machine 8, mute store"
[ "$(dstat cc.remote_misses)" -ge 1 ] && [ "$(dstat cc.misses)" = "$N" ] || fail "machine 8: $(dstat cc)"
[ "$(dstat remote.state)" = skipping ] || fail "machine 8: the mute store is $(dstat remote.state)"
echo "a mute store: $(dstat cc.remote_misses) lookup(s) timed out, then skipped; $N compiled"
