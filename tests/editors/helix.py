#!/usr/bin/env python3
"""The Helix recipe of docs/editors.md, as far as it can be tried without Helix (not in
Debian 12): the doc's ```toml block parses as TOML, declares the vmslim language server
for C, and the command line it gives (binary and header paths put in) starts a server that
answers an LSP initialize over stdio and publishes a diagnostic on the right line of a
broken *.bpf.c file, as Helix would see it.

usage: helix.py VMSLIM EDITORS_MD VMLINUX_DIR WORK_DIR   (exit 77: no vmlinux.h)
"""
import json
import os
import re
import subprocess
import sys
import tomllib


def frame(msg):
    body = json.dumps(msg).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_msg(stream):
    length = None
    while True:
        line = stream.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stream.read(length))


def main():
    vmslim, doc, vmlinux, work = sys.argv[1:5]
    if not os.path.isfile(os.path.join(vmlinux, "vmlinux.h")):
        print(f"skipped: no {vmlinux}/vmlinux.h")
        return 77
    text = open(doc).read()
    blocks = re.findall(r"^```toml\n(.*?)^```$", text, re.S | re.M)
    if not blocks:
        print(f"FAIL: no ```toml block (the Helix recipe) in {doc}")
        return 1
    conf = tomllib.loads(blocks[0])
    server = conf.get("language-server", {}).get("vmslim")
    if not server or server.get("command") != "vmslim":
        print(f"FAIL: [language-server.vmslim] with command = \"vmslim\" expected: {conf}")
        return 1
    langs = [x for x in conf.get("language", []) if x.get("name") == "c"]
    if not langs or "vmslim" not in langs[0].get("language-servers", []):
        print(f"FAIL: [[language]] name = \"c\" must list vmslim: {conf}")
        return 1
    args = [a.replace("/path/to/dir/with/vmlinux.h", vmlinux) for a in server.get("args", [])]
    os.makedirs(work, exist_ok=True)
    path = os.path.join(work, "probe.bpf.c")
    src = ('#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\nSEC("kprobe/x")\n'
           'int probe(struct pt_regs *ctx)\n{\n\treturn ctx->no_such_field;\n}\n'
           'char LICENSE[] SEC("license") = "GPL";\n')
    open(path, "w").write(src)
    uri = "file://" + path
    p = subprocess.Popen([vmslim] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        p.stdin.write(frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                             "params": {"processId": os.getpid(), "rootUri": "file://" + work,
                                        "capabilities": {}}}))
        p.stdin.flush()
        init = read_msg(p.stdout)
        if not init or "capabilities" not in init.get("result", {}):
            print(f"FAIL: no initialize result: {init}")
            return 1
        for m in ({"jsonrpc": "2.0", "method": "initialized", "params": {}},
                  {"jsonrpc": "2.0", "method": "textDocument/didOpen",
                   "params": {"textDocument": {"uri": uri, "languageId": "c", "version": 1,
                                               "text": src}}}):
            p.stdin.write(frame(m))
        p.stdin.flush()
        while True:
            m = read_msg(p.stdout)
            if m is None:
                print("FAIL: the server closed before publishing diagnostics")
                return 1
            if m.get("method") == "textDocument/publishDiagnostics" and \
               m["params"]["uri"] == uri and m["params"]["diagnostics"]:
                lines = {d["range"]["start"]["line"] for d in m["params"]["diagnostics"]}
                if 5 not in lines:
                    print(f"FAIL: diagnostics on lines {lines}, want 5 (0-based)")
                    return 1
                break
        p.stdin.write(frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
        p.stdin.write(frame({"jsonrpc": "2.0", "method": "exit"}))
        p.stdin.flush()
        p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    print("editors helix: ok (the doc's languages.toml parses, its server answers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
