#!/usr/bin/env python3
"""Completion and hover latency of `vmslim lsp` next to clangd, on the same program with
the full vmlinux.h, one server after the other in this one run.

usage: bench/lsp_features.py VMSLIM VMLINUX_H [PROG.c] [--runs N] [--clangd CLANGD]

Each server gets the program (default tests/lsp/features.bpf.c) in a temporary directory
with the header beside it and a compile_flags.txt for clangd (--target=bpf ...); after
the first answer (the preamble built), each request is timed N times (request sent ->
response read) at the positions below; median and p90 in ms."""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..', 'tests', 'lsp'))
from lspclient import Lsp  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('vmslim')
ap.add_argument('header')
ap.add_argument('prog', nargs='?', default=os.path.join(here, '..', 'tests', 'lsp',
                                                        'features.bpf.c'))
ap.add_argument('--runs', type=int, default=30)
ap.add_argument('--clangd', default=shutil.which('clangd'))
a = ap.parse_args()

work = tempfile.mkdtemp(prefix='vmslim-lsp-features.')
try:
    shutil.copy(a.header, os.path.join(work, 'vmlinux.h'))
    path = os.path.join(work, os.path.basename(a.prog))
    shutil.copy(a.prog, path)
    with open(os.path.join(work, 'compile_flags.txt'), 'w') as f:
        f.write('--target=bpf\n-D__TARGET_ARCH_x86\n-O2\n-I.\n')
    text = open(path).read()
    lines = text.split('\n')

    def at(marker, sub, off):
        for i, ln in enumerate(lines):
            if '@' + marker in ln:
                return i, ln.index(sub) + off
        raise KeyError(marker)

    cases = [
        ('completion task->|', 'completion', at('arrow', 'task->', 6)),
        ('completion task->t|', 'completion', at('arrow', 'task->', 7)),
        ('completion BPF_CORE_READ(task, |', 'completion', at('core_read', 'task, ', 6)),
        ('completion struct task_s|', 'completion', at('decl', 'struct ', 13)),
        ('completion bpf_probe_read_k|', 'completion', at('call', 'bpf_probe', 16)),
        ('hover task->tgid', 'hover', at('arrow', 'tgid', 1)),
        ('hover BPF_CORE_READ(task, real_parent', 'hover', at('core_read', 'real_parent', 2)),
    ]
    servers = [('vmslim lsp', [os.path.abspath(a.vmslim), 'lsp', '--no-build'])]
    if a.clangd:
        servers.append(('clangd', [a.clangd, '--pch-storage=memory', '--background-index=false',
                                   '--log=error']))
    results = {}
    for name, cmd in servers:
        lsp = Lsp(cmd, root=work)
        lsp.open(path, text)
        for label, method, (line, ch) in cases:
            r = None
            t_end = time.time() + 60
            while time.time() < t_end:  # the first answer: the preamble is ready
                r = lsp.at(path, line, ch, method)
                if r:
                    break
                time.sleep(0.2)
            ts = []
            for _ in range(a.runs):
                t = time.perf_counter()
                r = lsp.at(path, line, ch, method)
                ts.append((time.perf_counter() - t) * 1000)
            ts.sort()
            n = len(r.get('items', [])) if isinstance(r, dict) and 'items' in r else (1 if r else 0)
            results[(name, label)] = (statistics.median(ts), ts[int(len(ts) * 0.9) - 1], n)
        lsp.close()
    names = [s[0] for s in servers]
    print('%-40s' % 'request (median / p90 ms, answers)' +
          ''.join('%24s' % n for n in names))
    for label, _, _ in cases:
        row = '%-40s' % label
        for n in names:
            med, p90, k = results[(n, label)]
            row += '%24s' % ('%.2f / %.2f (%d)' % (med, p90, k))
        print(row)
    ver = subprocess.run([a.clangd, '--version'], capture_output=True, text=True).stdout.split('\n')[0] if a.clangd else 'no clangd'
    print('runs per request: %d; %s' % (a.runs, ver))
finally:
    shutil.rmtree(work, ignore_errors=True)
