#!/usr/bin/env python3
"""vmslim serve --http against the same daemon's socket (issue 16, item 4).

  test_http.py VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR

Starts `vmslim serve --socket S --http 127.0.0.1:PORT --http-timeout 2` and checks: the
page and the bundle's files (200, content types); POST /check of a good and a bad
program (the diagnostic on the right line, the same JSON as the socket's reply to the
same request); POST /build (the object, base64, the socket's); malformed JSON 400, a
wrong Content-Type 415, GET on /check 405, an oversized body 413; ../ paths 404; the
escape cases of the socket protocol refused alike; a slow client cut after the timeout
while another is served; the daemon alive at the end. Exit 77 (skipped) without the
HTTP front in this build.
"""
import base64, json, os, shutil, socket, subprocess, sys, time, urllib.request, urllib.error

vmslim, vmlinux_dir, progs, work = sys.argv[1:5]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock_path = os.path.join(work, "s.sock")
fails = []


def fail(msg):
    fails.append(msg)
    print("FAIL:", msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def sock_call(req):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_path)
    s.sendall(json.dumps(req).encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        c = s.recv(65536)
        if not c:
            break
        buf += c
    s.close()
    return json.loads(buf)


def http(method, path, body=None, ctype="application/json", raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None and ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.headers.get("Content-Type"), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read()


def stable(reply):
    """A reply without what differs between two runs of one request (timings, cache)."""
    return {k: v for k, v in reply.items() if k not in ("ms", "total_ms", "cached")}


help_text = subprocess.run([vmslim, "serve", "--help"], capture_output=True, text=True).stdout
if "--http" not in help_text:
    print("skipped: this vmslim has no --http")
    sys.exit(77)

port = free_port()
base = f"http://127.0.0.1:{port}"
log = open(os.path.join(work, "daemon.log"), "w")
daemon = subprocess.Popen([vmslim, "serve", "-s", sock_path, "-I", vmlinux_dir, "-I", "/usr/include",
                           "--cache-dir", os.path.join(work, "cache"), "--no-disk-cache",
                           "--http", f"127.0.0.1:{port}", "--http-timeout", "2",
                           "--max-request", "65536"], stdout=log, stderr=log)
try:
    for _ in range(300):
        try:
            if sock_call({"op": "ping"}).get("ok"):
                break
        except OSError:
            pass
        if daemon.poll() is not None:
            break
        time.sleep(0.1)
    else:
        fail("the daemon did not start")
    if daemon.poll() is not None:
        text = open(os.path.join(work, "daemon.log")).read()
        if "without libmicrohttpd" in text:
            print("skipped: this vmslim was built without libmicrohttpd")
            sys.exit(77)
        print(text)
        sys.exit("FAIL: the daemon exited at start")
    if "http: the playground on http://127.0.0.1:%d/" % port not in open(log.name).read():
        fail("no start-up line for the HTTP front")

    # the page and the bundle
    for path, want in [("/", "text/html"), ("/playground.js", "text/javascript"),
                       ("/playground.css", "text/css"), ("/default.bpf.c", "text/plain"),
                       ("/bundle/manifest.json", "application/json"),
                       ("/bundle/vmslim-tcc.wasm", "application/wasm"),
                       ("/bundle/vmslim-check.js", "text/javascript")]:
        st, ct, body = http("GET", path)
        if path.startswith("/bundle/") and st == 404:
            print(f"note: no bundle in this build ({path})")
            continue
        if st != 200 or not (ct or "").startswith(want) or not body:
            fail(f"GET {path}: {st} {ct}")
    st, _, body = http("GET", "/bundle/manifest.json")
    if st == 200:
        files = json.loads(body)["files"]
        st, ct, hb = http("GET", "/bundle/fs" + files[0])
        if st != 200 or hb != open(files[0], "rb").read():
            fail(f"GET /bundle/fs{files[0]}: {st}")

    # check: good and bad, the socket's answer
    good = open(os.path.join(progs, "execsnoop.bpf.c")).read()
    lines = good.split("\n")
    bad_line = next(i for i, l in enumerate(lines) if "e->pid = ctx->pid;" in l)
    lines[bad_line] = lines[bad_line].replace("ctx->pid", "ctx->pidd")
    bad = "\n".join(lines)
    for name, src, status in [("good", good, "ok"), ("bad", bad, "errors")]:
        req = {"id": name, "file": "prog.bpf.c", "source": src}
        st, ct, body = http("POST", "/check", req)
        hr = json.loads(body)
        sr = sock_call(dict(req, op="check"))
        if st != 200 or ct != "application/json" or hr.get("status") != status:
            fail(f"check {name}: {st} {ct} {body[:300]}")
        if stable(hr) != stable(sr):
            fail(f"check {name}: HTTP {stable(hr)} vs socket {stable(sr)}")
        if status == "errors":
            errs = [d for d in hr["diagnostics"] if d["severity"] == "error"]
            if not errs or errs[0]["line"] != bad_line + 1:
                fail(f"check bad: first error not on line {bad_line + 1}: {errs}")

    # build: the object, the same as the socket's
    req = {"file": "prog.bpf.c", "source": good}
    st, _, body = http("POST", "/build", req)
    hr = json.loads(body)
    sr = sock_call(dict(req, op="build"))
    if st != 200 or hr.get("status") != "ok" or not hr.get("object"):
        fail(f"build: {st} {body[:300]}")
    elif base64.b64decode(hr["object"])[:4] != b"\x7fELF" or hr["object"] != sr.get("object"):
        fail("build: the HTTP object is not the socket's")

    # malformed and refused requests
    for what, args, code in [
            ("malformed JSON", dict(raw=b'{"source": '), 400),
            ("not an object", dict(raw=b'[1,2]'), 400),
            ("wrong op", dict(body={"op": "shutdown", "source": "int x;"}), 400),
            ("output", dict(body={"source": "int x;", "output": "/tmp/x.o"}), 400),
            ("no Content-Type", dict(body={"source": "int x;"}, ctype=None), 415),
            ("text/plain", dict(body={"source": "int x;"}, ctype="text/plain"), 415),
            ("oversized", dict(body={"source": "int x;\n" + "/" * 70000 + "\n"}), 413)]:
        st, ct, body = http("POST", "/check", **args)
        err = json.loads(body) if body else {}
        if st != code or err.get("ok") is not False or "error" not in err:
            fail(f"{what}: {st} {body[:200]}")
    # the same body chunked: no length up front, cut at the bound all the same
    s = socket.create_connection(("127.0.0.1", port))
    big = json.dumps({"source": "int x;\n" + "/" * 70000}).encode()
    s.sendall(b"POST /check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    for i in range(0, len(big), 8192):
        c = big[i:i + 8192]
        s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    resp = s.recv(65536)
    s.close()
    if not resp.startswith(b"HTTP/1.1 413"):
        fail(f"oversized chunked body: {resp[:40]}")
    st, _, _ = http("GET", "/check")
    if st != 405:
        fail(f"GET /check: {st}")
    st, _, _ = http("POST", "/", {"source": "x"})
    if st != 405:
        fail(f"POST /: {st}")

    # no path outside the fixed list, however spelled
    for path in ["/../etc/passwd", "/bundle/../../etc/passwd", "/bundle/fs/etc/passwd",
                 "/bundle/fs/../../../etc/passwd", "/%2e%2e/etc/passwd", "/web/index.html",
                 "/index.html/", "//etc/passwd", "/bundle/"]:
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        resp = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            resp += c
        s.close()
        if not resp.startswith(b"HTTP/1.1 404") or b"root:" in resp:
            fail(f"GET {path}: {resp[:40]}")

    # a DNS-rebinding page: a Host that is not loopback
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
    resp = s.recv(65536)
    s.close()
    if not resp.startswith(b"HTTP/1.1 403"):
        fail(f"Host evil.example: {resp[:40]}")

    # the socket protocol's escape cases: refused alike
    for src in ['#include "/etc/passwd"\nint x;\n', '#include </etc/passwd>\nint x;\n',
                '#include "../../../../../../etc/passwd"\nint x;\n',
                '#include <bpf/../../../etc/passwd>\nint x;\n',
                '#define P "/etc/passwd"\n#include P\nint x;\n']:
        for op in ("check", "build"):
            req = {"file": "e.bpf.c", "source": src}
            st, _, body = http("POST", "/" + op, req)
            hr = json.loads(body)
            sr = sock_call(dict(req, op=op))
            if hr.get("status") != "refused" or stable(hr) != stable(sr) or "root:" in body.decode():
                fail(f"escape {op} {src.splitlines()[0]!r}: {body[:200]}")

    # a slow client: headers begun, then nothing; cut after the 2 s timeout while another
    # client is served
    slow = socket.create_connection(("127.0.0.1", port))
    slow.sendall(b"POST /check HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n")
    st, _, body = http("POST", "/check", {"source": "int x;\n"})
    if st != 200 or json.loads(body).get("status") != "ok":
        fail(f"a client beside the slow one: {st} {body[:200]}")
    slow.settimeout(30)
    t0 = time.monotonic()
    try:
        cut = slow.recv(100) == b""
    except ConnectionResetError:
        cut = True
    except socket.timeout:
        cut = False
    if not cut:
        fail("the slow client was not cut off")
    print(f"slow client cut after {time.monotonic() - t0:.1f} s (timeout 2 s)")
    slow.close()

    if daemon.poll() is not None or not sock_call({"op": "ping"}).get("ok"):
        fail("the daemon is not alive at the end")
    st, _, _ = http("GET", "/")
    if st != 200:
        fail("the HTTP front is not alive at the end")
finally:
    try:
        sock_call({"op": "shutdown"})
    except OSError:
        pass
    try:
        daemon.wait(timeout=10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
    log.close()

if daemon.returncode != 0:
    fail(f"the daemon exited {daemon.returncode}")
if fails:
    print(open(os.path.join(work, "daemon.log")).read()[-3000:])
    sys.exit(f"{len(fails)} failures")
print("ok")
