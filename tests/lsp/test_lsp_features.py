"""`vmslim lsp` editor features through real stdio sessions.

usage: test_lsp_features.py MODE VMSLIM VMLINUX_DIR FIXTURES_DIR WORK_DIR [BTF_6_1 BTF_6_18]

  features  completion (task->, BPF_CORE_READ field arguments, after struct, helpers),
            hover (type, offset and size as the BTF says), definition (into vmlinux.h at
            the struct's line), signature help (3 parameters, the active one moves)
  fastonly  --fast-only advertises none of them
  compdb    a libbpf-tools-like tree (-I x86 -I .output in compile_commands.json,
            vmlinux.h under .output) and no -I given to the server: no "not found",
            the real error on its line
  targets   --target-btf 6.1 and 6.18: a warning on the unguarded access of a field only
            6.18 has, naming 6.1's BTF, none on the guarded one; hover per kernel
Exit 77 (skipped) when the pinned data is missing."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lspclient import Lsp  # noqa: E402

mode, vmslim, vmlinux_dir, fixtures, work = sys.argv[1:6]
btfs = sys.argv[6:8]
header = os.path.join(vmlinux_dir, 'vmlinux.h')
for need in [header] + btfs:
    if not os.path.exists(need):
        print('skipped: %s not found (the pinned data in ../shared)' % need)
        sys.exit(77)
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
failures = 0


def check(cond, what):
    global failures
    print(('ok   ' if cond else 'FAIL ') + what)
    if not cond:
        failures += 1


def marker(text, name):
    for i, line in enumerate(text.split('\n')):
        if '@' + name in line:
            return i, line
    raise KeyError(name)


def labels(res):
    return [i['label'] for i in (res or {}).get('items', [])]


def copy(name):
    dst = os.path.join(work, name)
    shutil.copy(os.path.join(fixtures, name), dst)
    return dst, open(dst).read()


def btf_member(struct, member):
    """(offset bytes, size) of member in the 6.18 header's struct, from the header's BTF
    via bpftool (the header is bpftool's dump of it)."""
    out = subprocess.run(['bpftool', 'btf', 'dump', 'file', btfs[1] if btfs else
                          '/work/shared/btf/vmlinux-6.18.44.btf'],
                         capture_output=True, text=True).stdout
    m = re.search(r"^\[\d+\] STRUCT '%s' size=\d+ vlen=\d+\n((?:\t.*\n)*)" % struct, out, re.M)
    mm = re.search(r"\t'%s' type_id=(\d+) bits_offset=(\d+)" % member, m.group(1))
    return int(mm.group(2)) // 8


def features():
    path, text = copy('features.bpf.c')
    lsp = Lsp([vmslim, 'lsp', '-I', vmlinux_dir], root=work)
    caps = lsp.init['result']['capabilities']
    check(all(k in caps for k in ('completionProvider', 'hoverProvider', 'definitionProvider',
                                  'signatureHelpProvider')), 'the four features advertised')
    lsp.open(path, text)
    line, s = marker(text, 'arrow')
    res = lsp.at(path, line, s.index('task->') + 6, 'completion')
    check('pid' in labels(res) or res['isIncomplete'], 'task-> lists members (pid or more)')
    res = lsp.at(path, line, s.index('task->') + 7, 'completion')  # typed "t"
    check('tgid' in labels(res) and all(l.startswith('t') for l in labels(res)),
          'task->t: tgid, filtered by the prefix')
    # pid itself: type "pi" in a copy of the line
    text2 = text.replace('task->tgid; /* @arrow */', 'task->pi; /* @arrow */')
    lsp.notify('textDocument/didChange', {'textDocument': {'uri': 'file://' + path, 'version': 2},
                                          'contentChanges': [{'text': text2}]})
    res = lsp.at(path, line, text2.split('\n')[line].index('task->') + 8, 'completion')
    check('pid' in labels(res), 'task->pi: pid')
    lsp.notify('textDocument/didChange', {'textDocument': {'uri': 'file://' + path, 'version': 3},
                                          'contentChanges': [{'text': text}]})
    line, s = marker(text, 'core_read')
    res = lsp.at(path, line, s.index('task, ') + 6, 'completion')
    check('real_parent' in labels(res) or (res and res['isIncomplete'] and
                                            '__state' in labels(res)),
          'BPF_CORE_READ(task, |) lists task_struct members')
    res = lsp.at(path, line, s.index('task, ') + 9, 'completion')  # "rea"
    check('real_parent' in labels(res), 'BPF_CORE_READ(task, rea|): real_parent')
    res = lsp.at(path, line, s.index('real_parent, ') + 15, 'completion')  # "tg"
    check('tgid' in labels(res), 'BPF_CORE_READ(task, real_parent, tg|): tgid')
    line, s = marker(text, 'decl')
    res = lsp.at(path, line, s.index('struct ') + 7 + len('task_s'), 'completion')
    check('task_struct' in labels(res), 'struct task_s|: task_struct')
    line, s = marker(text, 'call')
    res = lsp.at(path, line, s.index('bpf_probe_read_kernel') + len('bpf_probe_read_k'),
                 'completion')
    check('bpf_probe_read_kernel' in labels(res), 'helpers: bpf_probe_read_k|')
    # hover on tgid
    line, s = marker(text, 'arrow')
    h = lsp.at(path, line, s.index('tgid') + 1, 'hover')
    v = h['contents']['value'] if h else ''
    off = btf_member('task_struct', 'tgid')
    check('pid_t tgid' in v and 'struct task_struct' in v, 'hover: type and record')
    check('offset %d ' % off in v and 'size 4' in v, 'hover: offset %d and size 4 as BTF says' % off)
    # definition of task_struct
    line, s = marker(text, 'decl')
    loc = lsp.at(path, line, s.index('task_struct') + 2, 'definition')
    want = [i for i, l in enumerate(open(header)) if l.startswith('struct task_struct {')][0]
    check(loc and loc['uri'].endswith('/vmlinux.h') and loc['range']['start']['line'] == want,
          'definition: vmlinux.h line %d (got %s)' % (want + 1, loc))
    # signature help
    line, s = marker(text, 'call')
    c0 = s.index('bpf_probe_read_kernel(') + len('bpf_probe_read_kernel(')
    sig = lsp.at(path, line, c0, 'signatureHelp')
    check(sig and len(sig['signatures'][0]['parameters']) == 3 and sig['activeParameter'] == 0,
          'signature help: 3 parameters, the first active (%s)' % (sig and sig['signatures'][0]['label']))
    sig = lsp.at(path, line, s.index('sizeof(buf)') + 1, 'signatureHelp')
    check(sig and sig['activeParameter'] == 1, 'after a comma: the second active')
    check(lsp.close() == 0, 'shutdown and exit: status 0')


def fastonly():
    lsp = Lsp([vmslim, 'lsp', '--fast-only', '-I', vmlinux_dir], root=work)
    caps = lsp.init['result']['capabilities']
    check(not any(k in caps for k in ('completionProvider', 'hoverProvider')),
          '--fast-only: no feature advertised')
    path, text = copy('features.bpf.c')
    lsp.open(path, text)
    line, s = marker(text, 'arrow')
    check(lsp.at(path, line, s.index('tgid'), 'hover') is None, '--fast-only: hover is null')
    check(lsp.close() == 0, 'status 0')


def compdb():
    tree = os.path.join(work, 'libbpf-tools')
    os.makedirs(os.path.join(tree, 'x86'))
    os.makedirs(os.path.join(tree, '.output'))
    shutil.copy(header, os.path.join(tree, '.output', 'vmlinux.h'))
    src = os.path.join(tree, 'opensnoop.bpf.c')
    text = open(os.path.join(fixtures, 'features.bpf.c')).read()
    line, _ = marker(text, 'arrow')
    text = text.replace('task->tgid; /* @arrow */', 'task->no_such_member; /* @arrow */')
    open(src, 'w').write(text)
    with open(os.path.join(tree, 'compile_commands.json'), 'w') as f:
        f.write('[{"directory": "%s", "file": "opensnoop.bpf.c", "command": '
                '"clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -I x86 -I .output '
                '-c opensnoop.bpf.c -o .output/opensnoop.bpf.o"}]' % tree)
    for extra in ([], ['--fast-only']):
        lsp = Lsp([vmslim, 'lsp'] + extra, root=tree)
        lsp.open(src, text)

        def has_error(p):
            return any(d['severity'] == 1 for d in p['diagnostics'])
        p = lsp.wait_diags(has_error, timeout=120)
        msgs = [d['message'] for d in (p or {}).get('diagnostics', [])]
        tag = ' '.join(extra) or 'default'
        check(p is not None and not any('vmlinux.h' in m or 'file not found' in m for m in msgs),
              '%s: no "not found" (%s)' % (tag, msgs[:2]))
        check(p is not None and any(d['range']['start']['line'] == line and
                                    'no_such_member' in d['message']
                                    for d in p['diagnostics']),
              '%s: the error on line %d' % (tag, line + 1))
        if not extra:  # and the exact one, from libclang with the same flags
            p = lsp.wait_diags(lambda p: any(d.get('source') == 'vmslim exact'
                                             for d in p['diagnostics']), timeout=120)
            check(p is not None and all(d['range']['start']['line'] == line
                                        for d in p['diagnostics'] if d['severity'] == 1),
                  'exact: the error on line %d only' % (line + 1))
        check(lsp.close() == 0, '%s: status 0' % tag)


def targets():
    path, text = copy('targets.bpf.c')
    lsp = Lsp([vmslim, 'lsp', '-I', vmlinux_dir, '--target-btf', btfs[0],
               '--target-btf', btfs[1]], root=work, stderr=open(os.path.join(work, 'stderr'), 'w'))
    lsp.open(path, text)
    lsp.notify('textDocument/didSave', {'textDocument': {'uri': 'file://' + path}})
    p = lsp.wait_diags(lambda p: any(d.get('source') == 'vmslim core'
                                     for d in p['diagnostics']), timeout=300)
    core = [d for d in (p or {}).get('diagnostics', []) if d.get('source') == 'vmslim core']
    bare, _ = marker(text, 'bare')
    guarded, _ = marker(text, 'guarded')
    both, _ = marker(text, 'both')
    k61 = os.path.basename(btfs[0])
    k618 = os.path.basename(btfs[1])
    for d in core:
        print('     %d: %s' % (d['range']['start']['line'] + 1, d['message']))
    check(any(d['range']['start']['line'] == bare and k61 in d['message'] and
              d['severity'] == 2 for d in core), 'a warning on line %d naming %s' % (bare + 1, k61))
    check(not any(d['range']['start']['line'] in (guarded, both) for d in core),
          'none on the guarded line %d nor on line %d' % (guarded + 1, both + 1))
    check(not any(k618 in d['message'] for d in core), 'none for %s' % k618)
    _, s = marker(text, 'bare')
    h = lsp.at(path, bare, s.index('i_ctime_sec') + 2, 'hover')
    v = h['contents']['value'] if h else ''
    print('     ' + v.replace('\n', '\n     '))
    off = btf_member('inode', 'i_ctime_sec')
    check(re.search(r'\| %s \| absent' % re.escape(k61), v) is not None, 'hover: absent in 6.1')
    check(re.search(r'\| %s \| %d \| 8 \|' % (re.escape(k618), off), v) is not None,
          'hover: offset %d size 8 in 6.18' % off)
    _, s = marker(text, 'both')
    h = lsp.at(path, both, s.index('i_mode') + 1, 'hover')
    v = h['contents']['value'] if h else ''
    check(v.count('| 2 |') == 2, 'i_mode: an offset in both kernels')
    check(lsp.close() == 0, 'status 0')


{'features': features, 'fastonly': fastonly, 'compdb': compdb, 'targets': targets}[mode]()
sys.exit(1 if failures else 0)
