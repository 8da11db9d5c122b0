#!/usr/bin/env python3
"""-j/--json and -p/--pretty (issue 15): every command that reports prints one JSON
document on stdout, checked here field by field, with the exit code of text mode.
usage: test_json.py VMSLIM VMLINUX_DIR WORK_DIR   (exit 77 without the pinned vmlinux.h)"""
import json, os, shutil, subprocess, sys

vmslim, vmlinux_dir, work = (os.path.abspath(a) for a in sys.argv[1:4])
header = os.path.join(vmlinux_dir, "vmlinux.h")
if not os.path.exists(header):
    print(f"skipped: no {header} (the pinned BTFs are not beside the project)")
    sys.exit(77)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = []

def no(msg):
    failures.append(msg)
    print("FAIL:", msg)

def run(*args, expect_rc=None, pretty=False):
    # --exact runs libclang's threads: under AddressSanitizer, LeakSanitizer's exit-time
    # tracer itself can crash on them on a loaded machine (as in tests/check/cli.sh); the
    # leak check alone is off for those runs, memory errors are still caught
    env = None
    if "--exact" in args:
        env = dict(os.environ)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
    p = subprocess.run([vmslim, *args], cwd=work, capture_output=True, text=True, env=env)
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        no(f"{' '.join(args)}: stdout is not one JSON document ({e}): {p.stdout[:200]!r}")
        return None
    if pretty and "\n  " not in p.stdout:
        no(f"{' '.join(args)}: --pretty output is not indented")
    if not pretty and p.stdout.count("\n") != 1:
        no(f"{' '.join(args)}: -j output is not one line")
    if doc.get("exit") != p.returncode:
        no(f"{' '.join(args)}: document exit {doc.get('exit')} vs process {p.returncode}")
    if expect_rc is not None and p.returncode != expect_rc:
        no(f"{' '.join(args)}: exit {p.returncode}, expected {expect_rc}: {p.stderr}")
    if not isinstance(doc.get("diagnostics"), list):
        no(f"{' '.join(args)}: no diagnostics array")
    return doc

def diag_ok(d, file, line, severity, words):
    return (d.get("file", "").endswith(file) and d.get("line") == line and
            isinstance(d.get("column"), int) and d["column"] > 0 and
            d.get("severity") == severity and words in d.get("message", ""))

def write(name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)

shutil.copy(header, os.path.join(work, "vmlinux.h"))
PROG = '''#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
SEC("kprobe/x") int f(struct pt_regs *c) { return c->%s; }
char LICENSE[] SEC("license") = "GPL";
'''
write("ok.bpf.c", PROG % "ip")
write("other.bpf.c", PROG % "sp")
write("bad.bpf.c", PROG % "no_such_member")

# extract: stats and output, before and after the command, -j and -p
for args in (["-j", "extract"], ["extract", "--json"], ["extract", "-j"]):
    doc = run(*args, "--header", "vmlinux.h", "--from", "ok.bpf.c", "-o", "slim.h", expect_rc=0)
    if doc:
        if doc.get("command") != "extract": no(f"{args}: command {doc.get('command')}")
        if doc.get("output") != "slim.h": no(f"{args}: output {doc.get('output')}")
        st = doc.get("stats", {})
        for k in ("types_kept", "types_total", "types_opaque", "bytes_kept", "bytes_total"):
            if not isinstance(st.get(k), int): no(f"extract stats.{k}: {st.get(k)!r}")
        if not (0 < st.get("bytes_kept", 0) < st.get("bytes_total", 0)): no(f"extract sizes {st}")
        if os.path.getsize(os.path.join(work, "slim.h")) != st.get("bytes_kept"):
            no("extract: bytes_kept is not the written file's size")
doc = run("-p", "extract", "--header", "vmlinux.h", "--from", "ok.bpf.c", "-o", "-", expect_rc=0, pretty=True)
if doc and "struct pt_regs" not in doc.get("header", ""): no("extract -o - -p: no header text in the document")
doc = run("-j", "extract", "--header", "vmlinux.h", "--from", "bad.bpf.c", "-o", "bad.h", expect_rc=1)
if doc:
    if not any(diag_ok(d, "bad.bpf.c", 3, "error", "no_such_member") for d in doc["diagnostics"]):
        no(f"extract error: diagnostics {doc['diagnostics']}")
    if doc.get("output") is not None: no("extract error: an output is named")
    if os.path.exists(os.path.join(work, "bad.h")): no("extract error: bad.h written")

# verify
doc = run("-j", "verify", "ok.bpf.c", "--header", "vmlinux.h", "--slim", "slim.h", expect_rc=0)
if doc:
    if doc.get("same") is not True or doc.get("differences") != 0: no(f"verify: {doc}")
    for k, v in (("program", "ok.bpf.c"), ("full_header", "vmlinux.h"), ("slim_header", "slim.h")):
        if doc.get(k) != v: no(f"verify {k}: {doc.get(k)}")

# build: the object, the path taken, timings; a failed build's diagnostics
doc = run("-j", "build", "ok.bpf.c", "-o", "ok.o", "--header", "vmlinux.h", expect_rc=0)
if doc:
    if doc.get("output") != "ok.o" or not os.path.exists(os.path.join(work, "ok.o")): no(f"build output {doc.get('output')}")
    if not isinstance(doc.get("path"), str) or not doc["path"]: no("build: no path")
    for k in ("pch_ms", "compile_ms", "total_ms"):
        if not isinstance(doc.get(k), (int, float)) or doc[k] < 0: no(f"build {k}: {doc.get(k)!r}")
    if not isinstance(doc.get("pch_rebuilt"), bool): no("build: pch_rebuilt not a boolean")
run("-j", "build", "other.bpf.c", "-o", "other.o", "--header", "vmlinux.h", expect_rc=0)
doc = run("build", "-j", "bad.bpf.c", "-o", "bad.o", "--header", "vmlinux.h", expect_rc=1)
if doc:
    if not any(diag_ok(d, "bad.bpf.c", 3, "error", "no_such_member") for d in doc["diagnostics"]):
        no(f"build error: diagnostics {doc['diagnostics']}")
    if doc.get("output") is not None: no("failed build names an output")

# objdiff: the verdict and every difference
doc = run("-j", "objdiff", "ok.o", "ok.o", expect_rc=0)
if doc and (doc.get("same") is not True or doc.get("differences") != 0): no(f"objdiff same: {doc}")
doc = run("-j", "objdiff", "ok.o", "other.o", expect_rc=1)
if doc:
    errs = [d for d in doc["diagnostics"] if d["severity"] == "error"]
    if doc.get("same") is not False or doc.get("differences") != len(errs) or not errs:
        no(f"objdiff differ: {doc}")
    if not any("pt_regs.ip" in d["message"] and "pt_regs.sp" in d["message"] for d in errs):
        no("objdiff: the CO-RE difference is not named")
doc = run("-j", "objdiff", "ok.o", "missing.o", expect_rc=2)
if doc and not any("missing.o" in (d.get("file") or "") + d["message"] for d in doc["diagnostics"]):
    no(f"objdiff missing: {doc}")

# pch
doc = run("-j", "pch", "vmlinux.h", "--cache-dir", os.path.join(work, "cache"), expect_rc=0)
if doc:
    if not doc.get("pch") or not os.path.exists(doc["pch"]): no(f"pch path {doc.get('pch')}")
    if doc.get("rebuilt") is not True or not doc.get("reason"): no(f"pch first build: {doc}")
doc = run("-j", "pch", "vmlinux.h", "--cache-dir", os.path.join(work, "cache"), expect_rc=0)
if doc and (doc.get("rebuilt") is not False or "check_ms" not in doc): no(f"pch up to date: {doc}")

# check: the fast checker and --exact, diagnostics with clang's line and column
for extra, checker in (([], "fast"), (["--exact"], "exact")):
    doc = run("-j", "check", *extra, "-I", ".", "bad.bpf.c", expect_rc=1)
    if doc:
        if doc.get("checker") != checker or doc.get("status") != "errors": no(f"check {extra}: {doc}")
        if not any(diag_ok(d, "bad.bpf.c", 3, "error", "no_such_member") for d in doc["diagnostics"]):
            no(f"check {extra}: diagnostics {doc['diagnostics']}")
    doc = run("check", "-j", *extra, "-I", ".", "ok.bpf.c", expect_rc=0)
    if doc and (doc.get("status") != "ok" or doc["diagnostics"]): no(f"check {extra} ok: {doc}")

# usage errors and the client without a daemon: still one document, with the error
doc = run("-j", "extract", "--no-such-flag", expect_rc=2)
if doc and "--no-such-flag" not in doc.get("error", ""): no(f"usage error: {doc}")
doc = run("-j", "client", "-s", os.path.join(work, "none.sock"), "ping", expect_rc=1)
if doc and "no daemon" not in doc.get("error", ""): no(f"client without daemon: {doc}")

# not for cc, serve, lsp; --help stays text
for cmd in ("cc", "serve", "lsp"):
    p = subprocess.run([vmslim, "-j", cmd], capture_output=True, text=True)
    if p.returncode != 2 or "not for" not in p.stderr: no(f"-j {cmd}: exit {p.returncode} {p.stderr!r}")
p = subprocess.run([vmslim, "-j", "extract", "--help"], capture_output=True, text=True)
if p.returncode != 0 or not p.stdout.startswith("usage: vmslim extract"): no("-j extract --help is not the text")

print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
