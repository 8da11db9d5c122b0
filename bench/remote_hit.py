#!/usr/bin/env python3
"""bench/remote_hit.py: "remote hit (Redis), new machine" next to a cold build and local hits.

Starts a redis-server on a Unix socket in a temporary directory and two `vmslim serve`
daemons with separate cache directories ("machines"), both with --remote. Machine 1 builds
every program of a tree (cold: a new source; then the same source edited: a miss with the
PCH warm, which is what a hit saves in steady state); machine 2, whose local cache is empty,
then builds the same sources: remote hits, then memory hits. Times are the daemon's own
total_ms (request read to reply written), medians over the programs x runs.

Then the same for `vmslim cc` through per-user daemons (`serve --user`, two more cache
directories): per command, the daemon's total_ms for a cold compile (a new source, PCH
warm), a local hit, and a remote hit on a new machine (its cache empty, the tree made
afresh at the same path, so every file it includes is hashed, as on another host); and the
whole tree as a user runs it, one `vmslim cc` process per program, on a new machine with an
empty Redis (cold), with a warm Redis, and with its own cache warm: wall time and the
share of remote hits.

usage: bench/remote_hit.py VMSLIM VMLINUX_DIR [PROGS_DIR] [--runs N] [--only build|cc]
(a bench, not a test: it prints figures and asserts nothing)
"""
import base64, glob, json, os, shutil, socket, statistics, subprocess, sys, tempfile, threading, time


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


def settle(sock):
    """The daemon's background writes have reached Redis."""
    for _ in range(500):
        if call(sock, {"op": "stats"})["remote"]["pending"] == 0:
            return
        time.sleep(0.01)


def cc_bench(vmslim, vmlinux, progs, work, rsock, runs):
    clang = os.path.realpath(shutil.which("clang") or sys.exit("no clang"))
    flags = ["-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I" + vmlinux, "-MD"]
    tree = os.path.join(work, "tree")
    names = sorted(os.path.basename(p) for p in glob.glob(os.path.join(progs, "*.bpf.c")))

    def make_tree(edit=None):
        shutil.rmtree(tree, ignore_errors=True)
        os.makedirs(os.path.join(tree, "out"))
        for n in names:
            shutil.copy(os.path.join(progs, n), tree)
            if edit:
                with open(os.path.join(tree, n), "a") as f:
                    f.write("/* %s */\n" % edit)
        with open(os.path.join(tree, "warm.bpf.c"), "w") as f:
            f.write("int warm;\n")

    def args_of(n):
        return flags + ["-c", n, "-o", "out/" + n[:-2] + ".o"]

    daemons = []

    def daemon(name, store=rsock):
        cache = os.path.join(work, name)
        sock = os.path.join(work, name + ".sock")
        p = subprocess.Popen([vmslim, "serve", "--user", "-q", "-s", sock, "--cache-dir", cache,
                              "--remote", "unix://" + store, "--idle-timeout", "600"])
        wait_up(sock, p)
        daemons.append((sock, p))

        def cc(n):
            return call(sock, {"op": "cc", "args": args_of(n), "cwd": tree, "clang": clang,
                               "cache_dir": cache, "slim": False, "umask": 0o22, "env": {}})
        cc("warm.bpf.c")  # the compiler identified, the daemon warm: not what is measured
        return sock, cc

    cold, local, remote, local2, hits, n_req = [], [], [], [], 0, 0
    s1, cc1 = daemon("cc1")
    make_tree()
    live = [cc1(n)["total_ms"] for n in names]  # the first of each (the PCH made once)
    for r in range(runs):
        make_tree("run %d" % r)
        for n in names:
            cold.append(cc1(n)["total_ms"])
            local.append(cc1(n)["total_ms"])
    settle(s1)
    for r in range(runs):
        s2, cc2 = daemon("cc2-%d" % r)  # a new machine each run
        make_tree("run %d" % r)         # its own checkout: new inodes, every file hashed
        for n in names:
            a = cc2(n)
            n_req += 1
            hits += a.get("cached") == "remote"
            remote.append(a["total_ms"])
            local2.append(cc2(n)["total_ms"])
    med = statistics.median
    print()
    print("vmslim cc through the per-user daemon: %d programs x %d runs (daemon total_ms, medians)"
          % (len(names), runs))
    print("| row | ms |")
    print("|---|---|")
    print("| cc: cold compile (new source, PCH warm) | %.2f |" % med(cold))
    print("| cc: local hit (memory; the tree's files just made, so hashed again) | %.2f |" % med(local))
    print("| cc: remote hit (Redis), new machine | %.2f |" % med(remote))
    print("| cc: local hit after it (the manifest kept as this machine sees it) | %.2f |" % med(local2))
    print("remote hits: %d/%d (%.0f%%); remote hit vs cold compile: %.0fx faster; max remote hit %.2f ms"
          % (hits, n_req, 100.0 * hits / n_req, med(cold) / med(remote), max(remote)))

    # the tree as a user builds it: one `vmslim cc` process per program, daemon autostarted
    def tree_pass(machine, edit):
        env = dict(os.environ, XDG_RUNTIME_DIR=os.path.join(work, machine, "run"),
                   XDG_CACHE_HOME=os.path.join(work, machine, "cache"), VMSLIM_REMOTE="unix://" + rsock)
        env.pop("VMSLIM_NO_DAEMON", None)
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        subprocess.run([vmslim, "cc"] + flags + ["-c", "warm.bpf.c", "-o", "out/warm.o"], cwd=tree,
                       env=env, check=True)
        sock = glob.glob(os.path.join(env["XDG_RUNTIME_DIR"], "vmslim", "daemon-*.sock"))[0]
        before = call(sock, {"op": "stats"})["cc"]["remote_hits"]
        t0 = time.perf_counter()
        for n in names:
            subprocess.run([vmslim, "cc"] + args_of(n), cwd=tree, env=env, check=True)
        wall = time.perf_counter() - t0
        hits = call(sock, {"op": "stats"})["cc"]["remote_hits"] - before
        settle(sock)
        return wall, hits, sock

    edit = "tree %d" % time.time_ns()  # nothing of it in Redis yet
    make_tree(edit)
    cold_wall, _, t1 = tree_pass("tree1", edit)
    make_tree(edit)
    warm_wall, warm_hits, t2 = tree_pass("tree2", edit)
    os.makedirs(os.path.join(tree, "out"), exist_ok=True)
    local_wall, _, _ = tree_pass("tree2", edit)
    for sock in (t1, t2):
        call(sock, {"op": "shutdown"})

    # what a dead store costs: one that refuses (Redis stopped), one that accepts and
    # never answers (hung); cold compiles of new sources, the first and the rest
    mute = os.path.join(work, "mute.sock")
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(mute)
    ls.listen(64)
    held = []
    threading.Thread(target=lambda: [held.append(ls.accept()[0]) for _ in iter(int, 1)],
                     daemon=True).start()
    dead = {}
    for label, store in (("refused (Redis stopped)", os.path.join(work, "gone.sock")),
                         ("hung (accepts, never answers)", mute)):
        _, ccd = daemon("dead-%d" % len(dead), store)
        make_tree("dead %d" % len(dead))
        dead[label] = [ccd(n)["total_ms"] for n in names[:6]]
    for sock, p in daemons:
        call(sock, {"op": "shutdown"})
        p.wait()
    print()
    print("the tree (%d programs), one `vmslim cc` process each, a new machine:" % len(names))
    print("| pass | wall s | remote hits |")
    print("|---|---|---|")
    print("| cold (Redis has none of it) | %.2f | - |" % cold_wall)
    print("| warm Redis, empty local cache | %.2f | %d/%d |" % (warm_wall, warm_hits, len(names)))
    print("| its own cache warm | %.2f | - |" % local_wall)
    print("warm Redis vs cold: %.1fx faster" % (cold_wall / warm_wall))
    print()
    print("a dead store, cold compiles on a new machine (daemon total_ms; first, then median of the next 5):")
    for label, ms in [("live Redis (machine 1's first compiles)", live[:6])] + list(dead.items()):
        print("| %s | first %.1f | then %.1f |" % (label, ms[0], med(ms[1:])))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--runs") and not a.startswith("--only")]
    runs, only = 3, None
    for i, a in enumerate(sys.argv):
        if a in ("--runs", "--only"):
            args.remove(sys.argv[i + 1])
            if a == "--runs":
                runs = int(sys.argv[i + 1])
            else:
                only = sys.argv[i + 1]
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
    if only != "build":
        try:
            cc_bench(vmslim, vmlinux, os.path.abspath(progs), work, rsock, runs)
        finally:
            if only == "cc":
                redis.terminate()
                redis.wait()
                shutil.rmtree(work, ignore_errors=True)
        if only == "cc":
            return
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
    settle(m1)  # machine 1's writes are in the background: let them land
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
