"""A minimal LSP client over a child's stdio, for the tests and bench/lsp_features.py."""
import json
import os
import select
import subprocess
import time


class Lsp:
    def __init__(self, cmd, root=None, opts=None, stderr=None):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=stderr or subprocess.DEVNULL)
        self.next_id = 0
        self.notes = []
        self.buf = b''
        params = {'processId': os.getpid(), 'capabilities': {},
                  'rootUri': 'file://' + root if root else None}
        if opts is not None:
            params['initializationOptions'] = opts
        self.init = self.request('initialize', params)
        self.notify('initialized', {})

    def send(self, m):
        m['jsonrpc'] = '2.0'
        b = json.dumps(m).encode()
        self.p.stdin.write(b'Content-Length: %d\r\n\r\n' % len(b) + b)
        self.p.stdin.flush()

    def read(self, timeout=120):
        deadline = time.time() + timeout
        while True:
            sep = self.buf.find(b'\r\n\r\n')
            if sep >= 0:
                hdr = self.buf[:sep].decode()
                n = int([h for h in hdr.split('\r\n')
                         if h.lower().startswith('content-length')][0].split(':')[1])
                if len(self.buf) >= sep + 4 + n:
                    body = self.buf[sep + 4:sep + 4 + n]
                    self.buf = self.buf[sep + 4 + n:]
                    return json.loads(body)
            left = deadline - time.time()
            if left <= 0:
                return None
            r, _, _ = select.select([self.p.stdout], [], [], left)
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.buf += chunk

    def request(self, method, params, timeout=120):
        self.next_id += 1
        i = self.next_id
        self.send({'id': i, 'method': method, 'params': params})
        while True:
            m = self.read(timeout)
            if m is None:
                raise TimeoutError(method)
            if m.get('id') == i and 'method' not in m:
                return m
            if 'method' in m:
                self.notes.append(m)

    def notify(self, method, params):
        self.send({'method': method, 'params': params})

    def open(self, path, text, version=1):
        self.notify('textDocument/didOpen', {'textDocument': {
            'uri': 'file://' + path, 'languageId': 'c', 'version': version, 'text': text}})

    def at(self, path, line, ch, method):
        return self.request('textDocument/' + method, {
            'textDocument': {'uri': 'file://' + path},
            'position': {'line': line, 'character': ch}}).get('result')

    def wait_diags(self, pred, timeout=120):
        """The first publishDiagnostics (already seen or to come) for which pred holds."""
        deadline = time.time() + timeout
        while True:
            for m in self.notes:
                if m.get('method') == 'textDocument/publishDiagnostics' and pred(m['params']):
                    return m['params']
            self.notes = []
            left = deadline - time.time()
            if left <= 0:
                return None
            m = self.read(left)
            if m is None:
                return None
            self.notes.append(m)

    def close(self):
        try:
            self.request('shutdown', None, timeout=30)
            self.notify('exit', None)
            self.p.wait(timeout=30)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
        return self.p.returncode
