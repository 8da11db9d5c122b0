#!/bin/sh
# The VS Code extension of docs/editors.md, as the doc gives it: `npm install` of its
# package.json; its "engines.vscode" must admit no VS Code older than the one its
# vscode-languageclient needs (the mismatch makes the extension throw at activation);
# extension.js loads under node with the client library (the vscode module, which only
# VS Code provides, stubbed) and activate() starts a LanguageClient on `vmslim lsp`.
# usage: vscode.sh VMSLIM EDITORS_MD WORK_DIR   (77: no node/npm, or the registry unreachable)
set -u
vmslim=$1 doc=$2 work=$3
command -v node >/dev/null && command -v npm >/dev/null || { echo "skipped: no node/npm"; exit 77; }
rm -rf "$work"
mkdir -p "$work/vmslim-lsp"
# block FILE_NAME: the fenced block right after the doc's line "`FILE_NAME`"
block() {
	awk -v name="\`$1\`" '
		$0 == name { want = 1; next }
		want && /^```/ && !inblock { inblock = 1; next }
		inblock && /^```$/ { exit }
		inblock { print }' "$doc"
}
block package.json > "$work/vmslim-lsp/package.json"
block extension.js > "$work/vmslim-lsp/extension.js"
[ -s "$work/vmslim-lsp/package.json" ] && [ -s "$work/vmslim-lsp/extension.js" ] ||
	{ echo "FAIL: package.json or extension.js not found in $doc"; exit 1; }
cd "$work/vmslim-lsp"
if ! npm install --no-audit --no-fund >"$work/npm.log" 2>&1; then
	if grep -Eq "ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT" "$work/npm.log"; then
		echo "skipped: the npm registry cannot be reached"; exit 77
	fi
	cat "$work/npm.log"; echo "FAIL: npm install"; exit 1
fi
VMSLIM=$vmslim node - <<'JS'
const Module = require('module');
const path = require('path');
const fail = (m) => { console.log('FAIL: ' + m); process.exit(1); };
const ext = require(path.resolve('package.json'));
const lib = require(path.resolve('node_modules/vscode-languageclient/package.json'));
const semver = require(require.resolve('semver', { paths: [path.resolve('node_modules/vscode-languageclient')] }));
const mine = semver.minVersion(ext.engines.vscode), needs = semver.minVersion(lib.engines.vscode);
if (semver.lt(mine, needs))
  fail(`engines.vscode ${ext.engines.vscode} admits VS Code ${mine}, but vscode-languageclient ${lib.version} needs ${lib.engines.vscode}`);
console.log(`engines.vscode ${ext.engines.vscode} covers vscode-languageclient ${lib.version} (${lib.engines.vscode})`);

// the vscode module: just what the client library reads at load time and the
// extension reads at activation; anything else is a callable, constructible no-op
let started = null;
const anything = () => new Proxy(function () {}, {
  get: (t, k) => (k === Symbol.toPrimitive ? () => '' : k === 'then' ? undefined : anything()),
  apply: () => anything(), construct: () => anything(),
});
const settings = { path: process.env.VMSLIM, includeDirs: ['/tmp/inc'], header: '', loadOnSave: false };
const vscode = new Proxy({
  version: mine.version,
  workspace: new Proxy({ getConfiguration: () => ({ get: (k) => settings[k] }) },
    { get: (t, k) => (k in t ? t[k] : anything()) }),
}, { get: (t, k) => (k in t ? t[k] : anything()) });
const resolve = Module._resolveFilename;
Module._resolveFilename = function (req, ...rest) { return req === 'vscode' ? 'vscode' : resolve.call(this, req, ...rest); };
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: vscode };

const client = require('vscode-languageclient/node');
const Orig = client.LanguageClient;
client.LanguageClient = function (id, name, server, options) {
  started = { id, server, options };
  return { start: () => Promise.resolve(), stop: () => Promise.resolve() };
};
const main = require(path.resolve(ext.main));
if (typeof main.activate !== 'function' || typeof main.deactivate !== 'function')
  fail('extension.js does not export activate and deactivate');
Promise.resolve(main.activate()).then(() => {
  if (!started) fail('activate() started no LanguageClient');
  if (typeof Orig !== 'function') fail('vscode-languageclient/node has no LanguageClient');
  const { command, args } = started.server;
  if (command !== process.env.VMSLIM || args[0] !== 'lsp' || args[1] !== '-I' || args[2] !== '/tmp/inc')
    fail('server command: ' + JSON.stringify(started.server));
  const sel = started.options.documentSelector[0];
  if (sel.pattern !== '**/*.bpf.c') fail('document selector: ' + JSON.stringify(sel));
  return main.deactivate();
}).then(() => console.log('extension.js loads, activates `vmslim lsp -I /tmp/inc` for **/*.bpf.c, deactivates'),
        (e) => fail('activate threw: ' + e));
JS
