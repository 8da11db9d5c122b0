// Per-check latency of the WebAssembly checker in headless Chromium next to Node's, with a
// program's slim header and the full one, snapshot restore vs fresh parse.
//
//   node bench/chromium.mjs VMSLIM PROGRAM FULL_VMLINUX_H [N]
//
// Makes the slim header (`vmslim extract --from PROGRAM`), a bundle per header (`vmslim
// wasm`), and for each one starts `vmslim serve --http --http-bundle B` on loopback and a
// headless Chromium (Debian's, CDP over --remote-debugging-pipe: tests/http/cdp.mjs) on its
// page; N checks of PROGRAM (default 50, after one warm-up) are timed inside the page with
// performance.now(), and the same in Node. Prints a table (median and p90 in ms, the first
// check with its snapshot build) and the bundle sizes, raw and gzip. Everything it starts
// it stops.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { findChromium, launch } from '../tests/http/cdp.mjs';

const [vmslim, prog, full, nArg] = process.argv.slice(2);
if (!vmslim || !prog || !full) {
	console.error('usage: node bench/chromium.mjs VMSLIM PROGRAM FULL_VMLINUX_H [N]');
	process.exit(2);
}
const n = parseInt(nArg || '50', 10);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vmslim-bench-chromium-'));
const require = createRequire(import.meta.url);
const sleep = ms => new Promise(r => setTimeout(r, ms));
const freePort = () => new Promise(ok => {
	const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
});
const children = [];
process.on('exit', () => {
	for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
	fs.rmSync(work, { recursive: true, force: true });
});

const slim = path.join(work, 'vmlinux.slim.h');
execFileSync(vmslim, ['extract', '--header', full, '--from', prog, '-o', slim], { stdio: 'inherit' });
const src = fs.readFileSync(prog, 'utf8');
const file = path.basename(prog);

function quant(v) {
	const s = v.slice().sort((a, b) => a - b);
	const q = p => s[Math.min(s.length - 1, Math.floor(p * s.length))];
	return { median: q(0.5), p90: q(0.9) };
}

// The timing loop, the same text in Node and in the page.
const loop = `async (createChecker, opts, src, file, n) => {
	const out = {};
	for (const mode of ['fresh', 'snapshot']) {
		const ck = await createChecker(Object.assign({ mode }, opts));
		let t0 = performance.now();
		const first = ck.check(src, { file });
		const firstMs = performance.now() - t0;
		ck.check(src, { file });
		const times = [];
		for (let i = 0; i < n; i++) {
			t0 = performance.now();
			ck.check(src, { file });
			times.push(performance.now() - t0);
		}
		out[mode] = { status: first.status, firstMs, times };
	}
	return out;
}`;
const timeLoop = eval(loop);

const bin = findChromium();
const rows = [];
for (const [label, hdr] of [['slim', slim], ['full', full]]) {
	const bundle = path.join(work, 'bundle-' + label);
	execFileSync(vmslim, ['wasm', '-o', bundle, '--header', hdr], { stdio: 'inherit' });
	const m = JSON.parse(fs.readFileSync(path.join(bundle, 'manifest.json'), 'utf8'));
	const parts = ['vmslim-tcc.wasm', 'vmslim-tcc.js', 'vmslim-check.js', 'manifest.json']
		.map(f => path.join(bundle, f)).concat(m.files.map(f => path.join(bundle, 'fs', f)));
	const bytes = parts.map(p => fs.readFileSync(p));
	const raw = bytes.reduce((a, b) => a + b.length, 0);
	const gz = bytes.reduce((a, b) => a + zlib.gzipSync(b, { level: 9 }).length, 0);

	const { createChecker } = require(path.join(bundle, 'vmslim-check.js'));
	const node = await timeLoop(createChecker, { dir: bundle }, src, file, n);

	let chrome = null, why = '';
	if (!bin) {
		why = 'chromium not found';
	} else {
		const port = await freePort();
		const daemon = spawn(vmslim, ['serve', '-q', '-s', path.join(work, label + '.sock'),
			'-I', path.dirname(hdr), '--no-disk-cache', '--cache-dir', path.join(work, 'cache'),
			'--http', `127.0.0.1:${port}`, '--http-bundle', bundle], { stdio: 'ignore' });
		children.push(daemon);
		for (let i = 0; i < 300; i++) {
			if (await fetch(`http://127.0.0.1:${port}/`).then(r => r.ok, () => false)) break;
			await sleep(100);
		}
		let b = null;
		try {
			b = await launch(bin, { timeoutMs: 300000 });
			await b.send('Page.enable');
			await b.send('Page.navigate', { url: `http://127.0.0.1:${port}/` });
			for (let i = 0; ; i++) {
				const r = await b.send('Runtime.evaluate', { expression: `document.body && document.body.dataset.ready`, returnByValue: true });
				if (r.result.value === '1') break;
				if (i > 600) throw new Error('the page did not load');
				await sleep(100);
			}
			const r = await b.send('Runtime.evaluate', { awaitPromise: true, returnByValue: true,
				expression: `(${loop})(window.vmslimCheck.createChecker, { baseUrl: 'bundle/' }, ${JSON.stringify(src)}, ${JSON.stringify(file)}, ${n})` });
			if (r.exceptionDetails) throw new Error(JSON.stringify(r.exceptionDetails).slice(0, 300));
			chrome = r.result.value;
		} catch (e) {
			why = 'chromium: ' + e.message.split('\n')[0];
		}
		if (b) await b.close();
		daemon.kill('SIGTERM');
		await new Promise(r => daemon.exitCode !== null ? r() : daemon.on('exit', r));
	}
	for (const mode of ['fresh', 'snapshot'])
		for (const [where, res] of [['Node', node], ['Chromium', chrome]]) {
			if (!res) { rows.push([label, mode, where, '-', '-', '-', why]); continue; }
			const q = quant(res[mode].times);
			rows.push([label, mode, where, q.median.toFixed(2), q.p90.toFixed(2), res[mode].firstMs.toFixed(1), res[mode].status]);
		}
	rows.push([label, 'bundle', `${(raw / 1024).toFixed(0)} KB raw, ${(gz / 1024).toFixed(0)} KB gzip`, '', '', '', '']);
}
console.log(`\n${n} checks of ${file} after one warm-up; ms\n`);
console.log('| header | mode | where | median | p90 | first | verdict |');
console.log('|---|---|---|--:|--:|--:|---|');
for (const r of rows) console.log('| ' + r.join(' | ') + ' |');
