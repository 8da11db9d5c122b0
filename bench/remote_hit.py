#!/usr/bin/env python3
"""bench/remote_hit.py: "remote hit (Redis), new machine" next to a cold build and local hits.

Starts a redis-server on a Unix socket in a temporary directory and two `vmslim serve`
daemons with separate cache directories ("machines"), both with --remote. Machine 1 builds
every program of a tree (cold: a new source; then the same source edited: a miss with the
PCH warm, which is what a hit saves in steady state); machine 2, whose local cache is empty,
then builds the same sources: remote hits, then memory hits. Times are the daemon's own
total_ms (request read to reply written), medians over the programs x runs.

usage: bench/remote_hit.py VMSLIM VMLINUX_DIR [PROGS_DIR] [--runs N]
(a bench, not a test: it prints figures and asserts nothing)
"""
import base64, glob, json, os, shutil, socket, statistics, subprocess, sys, tempfile, time


def call(sock, req):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall((json.dumps(req) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def wait_up(sock, proc):
    for _ in range(600):
        try:
            call(sock, {"op": "ping"})
            return
        except OSError:
            if proc.poll() is not None:
                sys.exit("a daemon exited during start-up")
            time.sleep(0.02)
    sys.exit("a daemon did not come up")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--runs")]
    runs = 3
    for i, a in enumerate(sys.argv):
        if a == "--runs":
            runs = int(sys.argv[i + 1])
            args.remove(sys.argv[i + 1])
    if len(args) < 2:
        sys.exit(__doc__)
    vmslim, vmlinux = os.path.abspath(args[0]), os.path.abspath(args[1])
    progs = args[2] if len(args) > 2 else os.path.join(os.path.dirname(__file__), "..", "tests", "progs")
    if not shutil.which("redis-server"):
        sys.exit("redis-server is not installed (apt-get install redis-server)")
    work = tempfile.mkdtemp(prefix="vmslim-remote-bench.")
    rsock = os.path.join(work, "redis.sock")
    redis = subprocess.Popen(["redis-server", "--port", "0", "--unixsocket", rsock, "--save", "",
                              "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL)
    for _ in range(500):
        if os.path.exists(rsock):
            break
        time.sleep(0.01)
    daemons, socks = [], []
    for name in ("m1", "m2"):
        sock = os.path.join(work, name + ".sock")
        p = subprocess.Popen([vmslim, "serve", "-q", "-s", sock, "--cache-dir", os.path.join(work, name),
                              "-I", vmlinux, "-I", "/usr/include", "--remote", "unix://" + rsock])
        wait_up(sock, p)
        daemons.append(p)
        socks.append(sock)
    m1, m2 = socks
    srcs, first = [], []
    for path in sorted(glob.glob(os.path.join(progs, "*.bpf.c"))):
        text = open(path).read()
        rep = call(m1, {"op": "build", "file": os.path.basename(path), "source": text})
        if rep.get("status") == "ok":
            srcs.append((os.path.basename(path), text))
            first.append(rep["total_ms"])
    cold, miss, remote, mem, same, hits = [], [], [], [], 0, 0
    # machine 2 hashes the headers once on its first request, as any daemon does: not a
    # cost of the remote tier, so it is paid before the timed requests
    call(m2, {"op": "check", "file": "warm.bpf.c", "source": '#include "vmlinux.h"\n'})
    for r in range(runs):
        for name, text in srcs:
            t = "%s\n/* run %d */\n" % (text, r)
            a = call(m1, {"op": "build", "file": name, "source": t})
            cold.append(a["total_ms"])
            miss.append(call(m1, {"op": "build", "file": name, "source": t + "\n"})["total_ms"])
    # machine 1's writes are in the background: let them land
    for _ in range(500):
        st = call(m1, {"op": "stats"})["remote"]
        if st["pending"] == 0:
            break
        time.sleep(0.01)
    for r in range(runs):
        for name, text in srcs:
            t = "%s\n/* run %d */\n" % (text, r)
            ref = call(m1, {"op": "build", "file": name, "source": t})
            b = call(m2, {"op": "build", "file": name, "source": t})
            hits += b.get("cached") == "remote"
            same += b.get("object") == ref.get("object")
            remote.append(b["total_ms"])
            mem.append(call(m2, {"op": "build", "file": name, "source": t})["total_ms"])
    st = call(m2, {"op": "stats"})["remote"]
    for s in socks:
        call(s, {"op": "shutdown"})
    for p in daemons:
        p.wait()
    redis.terminate()
    redis.wait()
    shutil.rmtree(work, ignore_errors=True)
    n = len(remote)
    med = statistics.median
    print("programs: %d, runs: %d (medians of %d builds; daemon total_ms)" % (len(srcs), runs, n))
    print("| row | ms |")
    print("|---|---|")
    print("| daemon build, first of each program (machine 1, its PCH made too) | %.2f |" % med(first))
    print("| daemon build, new source (machine 1, PCH warm) | %.2f |" % med(cold + miss))
    print("| remote hit (Redis), new machine (machine 2) | %.2f |" % med(remote))
    print("| memory hit after it (machine 2) | %.2f |" % med(mem))
    print("remote hits on machine 2: %d/%d (%.0f%%), objects identical: %d/%d" % (hits, n, 100.0 * hits / n, same, n))
    print("inside the daemon, waiting for Redis: %.3f ms per lookup (%d hits, %.0f KiB in)"
          % (st["ms"] / max(1, st["hits"] + st["misses"]), st["hits"], st["bytes_in"] / 1024))
    print("remote hit vs new-source build (PCH warm): %.0fx faster; vs first build: %.0fx"
          % (med(cold + miss) / med(remote), med(first) / med(remote)))


if __name__ == "__main__":
    main()
