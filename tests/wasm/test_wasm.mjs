// The WebAssembly bundle (wasm/, `vmslim wasm`) against the native `vmslim check`.
//
//   node test_wasm.mjs progs   VMSLIM PROGS VMLINUX WORK   same verdict on every program
//   node test_wasm.mjs errors  VMSLIM PROGS VMLINUX WORK   injected errors: same verdict, line
//   node test_wasm.mjs hostile VMSLIM VMLINUX WORK         huge, garbage, runaway macros:
//                                                          an error or gave-up, never a hang
//   node test_wasm.mjs cli     VMSLIM VMLINUX WORK         usage, missing inputs, exit codes
//
// Each mode writes its own bundle with `vmslim wasm`, checks in this process through the
// bundle's API (createChecker), and runs the bundle's command line (node DIR/vmslim-check.js)
// where exit codes matter. Exit 77 (skipped) when the pinned header is missing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [mode, ...args] = process.argv.slice(2);
const DEFS = ['-D__TARGET_ARCH_x86'];
let failures = 0;
const fail = msg => { failures++; console.log('FAIL ' + msg); };

function skipUnless(file) {
	if (!fs.existsSync(file)) {
		console.log(`skipped: ${file} is missing (the pinned BTF is not built)`);
		process.exit(77);
	}
}

function bundle(vmslim, header, work) {
	const dir = path.join(work, 'bundle');
	fs.rmSync(dir, { recursive: true, force: true });
	const r = spawnSync(vmslim, ['wasm', '-o', dir, '--header', header, ...DEFS], { encoding: 'utf8' });
	if (r.status !== 0) {
		console.log(`vmslim wasm failed (${r.status}): ${r.stderr}`);
		process.exit(1);
	}
	return dir;
}

async function checker(dir) {
	const require = createRequire(import.meta.url);
	return require(path.join(dir, 'vmslim-check.js')).createChecker({ dir });
}

// `vmslim check`'s exit code and the first error's line in the program's own file
function native(vmslim, header, file) {
	const r = spawnSync(vmslim, ['check', '--header', header, ...DEFS, file],
			    { encoding: 'utf8', timeout: 120000 });
	const line = firstErrorLine(r.stderr.split('\n'), file);
	return { exit: r.status, line, text: r.stderr };
}

function firstErrorLine(lines, file) {
	for (const l of lines)
		if (l.startsWith(file + ':') && l.includes(' error: '))
			return parseInt(l.slice(file.length + 1), 10) || 0;
	return 0;
}

function wasmFirstErrorLine(res, file) {
	const d = res.diags.find(d => d.file === file && d.severity === 'error');
	return d ? d.line : 0;
}

function progsList(dir) {
	return fs.readdirSync(dir).filter(f => f.endsWith('.bpf.c')).sort().map(f => path.join(dir, f));
}

async function runProgs([vmslim, progs, header, work]) {
	skipUnless(header);
	fs.mkdirSync(work, { recursive: true });
	const dir = bundle(vmslim, header, work);
	const ck = await checker(dir);
	let n = 0;
	for (const p of progsList(progs)) {
		const nat = native(vmslim, header, p);
		const res = ck.check(fs.readFileSync(p), { file: p });
		const wl = wasmFirstErrorLine(res, p);
		if (res.exit !== nat.exit || wl !== nat.line)
			fail(`${p}: wasm ${res.status} (exit ${res.exit}, line ${wl}), native exit ${nat.exit} line ${nat.line}\n${nat.text}` +
			     res.diags.map(d => `  wasm: ${d.file}:${d.line}: ${d.message}`).join('\n'));
		n++;
	}
	// the bundle's command line exits as `vmslim check` does
	const first = progsList(progs)[0];
	const cli = spawnSync(process.execPath, [path.join(dir, 'vmslim-check.js'), first],
			      { encoding: 'utf8', timeout: 120000 });
	const nat = native(vmslim, header, first);
	if (cli.status !== nat.exit)
		fail(`node vmslim-check.js ${first}: exit ${cli.status}, native ${nat.exit}: ${cli.stderr}`);
	console.log(`${n} programs, ${path.basename(path.dirname(header))}: ${failures} differences`);
}

// The injected errors of tests/check/test_check.c's `errors` mode, simpler: each kind
// rewrites one line of the body or inserts a statement after the first line that is "{".
const isCode = l => { const t = l.trimStart(); return t && !/^(#|\*|\/\*|\/\/)/.test(t); };
const kinds = [
	['misspelled field', ls => { const i = ls.findIndex(l => isCode(l) && /->[A-Za-z_]/.test(l));
		if (i >= 0) ls[i] = ls[i].replace(/->([A-Za-z_0-9]+)/, '->$1x'); return i; }],
	['undeclared identifier', '\tvmslim_undeclared++;'],
	['wrong member of a union', '\t{ union bpf_attr vmslim_u; vmslim_u.pid = 1; }'],
	['struct assigned to int', '\t{ struct list_head vmslim_l; int vmslim_i = vmslim_l; (void)vmslim_i; }'],
	['missing semicolon', ls => { const i = ls.findIndex(l => /^\s*return .*;$/.test(l));
		if (i >= 0) ls[i] = ls[i].slice(0, -1); return i; }],
	['unknown helper', '\tbpf_vmslim_no_such_helper(0);'],
	['wrong number of arguments', '\tbpf_get_current_comm(0);'],
];

async function runErrors([vmslim, progs, header, work]) {
	skipUnless(header);
	fs.mkdirSync(work, { recursive: true });
	const dir = bundle(vmslim, header, work);
	const ck = await checker(dir);
	const srcDir = path.join(work, 'src');
	fs.mkdirSync(srcDir, { recursive: true });
	let n = 0, same = 0;
	for (const p of progsList(progs)) {
		const lines = fs.readFileSync(p, 'utf8').split('\n');
		const brace = lines.findIndex(l => l === '{');
		kinds.forEach(([name, how], k) => {
			const ls = lines.slice();
			if (typeof how === 'function') {
				if (how(ls) < 0)
					return;
			} else {
				if (brace < 0)
					return;
				ls.splice(brace + 1, 0, how);
			}
			const file = path.join(srcDir, `${path.basename(p, '.bpf.c')}-${k}.bpf.c`);
			fs.writeFileSync(file, ls.join('\n'));
			const nat = native(vmslim, header, file);
			const res = ck.check(fs.readFileSync(file), { file });
			const wl = wasmFirstErrorLine(res, file);
			n++;
			if (res.exit === nat.exit && wl === nat.line)
				same++;
			else
				fail(`${file} (${name}): wasm exit ${res.exit} line ${wl}, native exit ${nat.exit} line ${nat.line}`);
		});
	}
	console.log(`${n} injected errors: ${same} same verdict and line`);
	if (n === 0)
		fail('no error could be injected');
}

// Pathological inputs through the bundle's command line, bounded by a time limit.
async function runHostile([vmslim, header, work]) {
	skipUnless(header);
	fs.mkdirSync(work, { recursive: true });
	const dir = bundle(vmslim, header, work);
	let seed = 12345;
	const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 16;
	const garbage = Buffer.alloc(1 << 20);
	for (let i = 0; i < garbage.length; i++) garbage[i] = rand() & 0xff;
	let blowup = '';
	for (let i = 1; i <= 40; i++) blowup += `#define A${i} A${i - 1} A${i - 1}\n`;
	const cases = [
		['huge.c', 'int x = 1 +' + ' 1 +'.repeat(4 << 20) + ' ;\n' + 'garbage here\n', [1, 4]],
		['garbage.c', garbage, [1, 4]],
		['recursive-include.c', '#include "recursive-include.c"\nint x;\n', [1, 4]],
		['macro-blowup.c', '#define A0 x\n' + blowup + 'int y = A40;\n', [1, 4]],
		['self-macro.c', '#define a a b\n#define b a\nint v = a;\n', [1, 4]],
		['deep-parens.c', 'int x = ' + '('.repeat(1 << 20) + '1' + ')'.repeat(1 << 20) + ';\n', [0, 1, 4]],
	];
	for (const [name, text, ok] of cases) {
		const file = path.join(work, name);
		fs.writeFileSync(file, text);
		const t0 = Date.now();
		const r = spawnSync(process.execPath, [path.join(dir, 'vmslim-check.js'), file],
				    { encoding: 'utf8', timeout: 60000 });
		const secs = ((Date.now() - t0) / 1000).toFixed(1);
		const verdict = r.error ? `no answer (${r.error.code})` : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
		console.log(`${name}: ${verdict} in ${secs} s: ${(r.stderr || '').split('\n')[0].slice(0, 160)}`);
		if (r.error || r.signal || !ok.includes(r.status))
			fail(`${name}: ${verdict}, wanted exit ${ok.join(' or ')}`);
	}
	// the same inputs behind a real preamble, through one snapshot in this process: each
	// answers, and a good program after them still checks clean (a trap or a runaway
	// check leaves nothing behind the next restore does not erase)
	const ck = await checker(dir);
	const pre = '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';
	const good = pre + 'char LICENSE[] SEC("license") = "GPL";\nint f(struct task_struct *t) { return t->pid; }\n';
	const file = path.join(work, 'prog.bpf.c');
	for (const [name, text, ok] of cases) {
		if (name === 'garbage.c' || name === 'recursive-include.c')
			continue; // not C after a preamble: covered above
		const src = Buffer.concat([Buffer.from(pre), Buffer.from(text)]);
		const r = ck.check(src, { file, timeLimitMs: 20000 });
		console.log(`snapshot, ${name}: ${r.status}: ${(r.diags[0] || {}).message || ''}`.slice(0, 200));
		if (!ok.includes(r.exit))
			fail(`snapshot, ${name}: ${r.status}, wanted exit ${ok.join(' or ')}`);
		const g = ck.check(good, { file });
		if (g.status !== 'ok')
			fail(`snapshot, good program after ${name}: ${g.status} ${JSON.stringify(g.diags)}`);
	}
}

// `vmslim wasm`'s and the bundle's command lines: usage, missing inputs, exit codes.
async function runCli([vmslim, header, work]) {
	skipUnless(header);
	fs.mkdirSync(work, { recursive: true });
	const dir = bundle(vmslim, header, work);
	const run = (cmd, argv, env) => spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60000,
							       env: Object.assign({}, process.env, env || {}) });
	const node = (...a) => run(process.execPath, [path.join(dir, 'vmslim-check.js'), ...a]);
	const good = path.join(work, 'good.bpf.c'), bad = path.join(work, 'bad.bpf.c');
	fs.writeFileSync(good, '#include "vmlinux.h"\nint f(struct task_struct *t) { return t->pid; }\n');
	fs.writeFileSync(bad, '#include "vmlinux.h"\nint f(struct task_struct *t)\n{\n\treturn t->pidx;\n}\n');
	const cases = [
		['vmslim wasm without -o', run(vmslim, ['wasm']), 2, '-o DIR is required'],
		['vmslim wasm, extra argument', run(vmslim, ['wasm', '-o', dir, 'x']), 2, 'unexpected argument'],
		['vmslim wasm, no module', run(vmslim, ['wasm', '-o', path.join(work, 'none')], { VMSLIM_WASM_DIR: '/nonexistent' }), 1, 'no prebuilt'],
		['vmslim wasm, missing header', run(vmslim, ['wasm', '-o', path.join(work, 'none'), '--header', '/nonexistent.h']), 1, '/nonexistent.h'],
		['bundle without a file', node(), 2, 'usage'],
		['bundle, missing file', node('/nonexistent.c'), 1, 'cannot read'],
		['bundle, good program', node(good), 0, ''],
		['bundle, bad program', node(bad), 1, `${bad}:4:`],
	];
	for (const [name, r, exit, text] of cases) {
		console.log(`${name}: exit ${r.status}`);
		if (r.status !== exit || !r.stderr.includes(text))
			fail(`${name}: exit ${r.status} (wanted ${exit}), stderr: ${r.stderr}`);
	}
	if (fs.existsSync(path.join(work, 'none')))
		fail('a failed vmslim wasm left a directory behind');
}

const modes = { progs: runProgs, errors: runErrors, hostile: runHostile, cli: runCli };
if (!modes[mode]) {
	console.log('usage: node test_wasm.mjs progs|errors|hostile|cli ARGS...');
	process.exit(2);
}
await modes[mode](args);
process.exit(failures ? 1 : 0);
