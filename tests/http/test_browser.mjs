// The playground in a real browser (issue 16, item 5): Debian's chromium headless, driven
// over CDP (tests/http/cdp.mjs), against `vmslim serve --http`.
//
//   node test_browser.mjs VMSLIM VMLINUX_DIR WORK_DIR
//
// Loads the page, waits for its first check; types an error (Input.insertText: real
// typing, the page's own input handler and 300 ms idle), waits for the gutter's mark on
// that line; removes it, the mark clears; clicks Build, the daemon's answer shows. Saves
// WORK_DIR/playground.png (Page.captureScreenshot) and prints its path. Exit 77 (skipped)
// only when chromium is not there or cannot start.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { findChromium, launch } from './cdp.mjs';

const [vmslim, vmlinuxDir, work] = process.argv.slice(2);
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const sleep = ms => new Promise(r => setTimeout(r, ms));
const freePort = () => new Promise(ok => {
	const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => ok(p)); });
});

const bin = findChromium();
if (!bin) {
	console.log('skipped: chromium not found (Debian: apt install chromium)');
	process.exit(77);
}
const port = await freePort();
const sock = path.join(work, 's.sock');
const log = fs.openSync(path.join(work, 'daemon.log'), 'w');
const daemon = spawn(vmslim, ['serve', '-s', sock, '-I', vmlinuxDir, '-I', '/usr/include',
	'--cache-dir', path.join(work, 'cache'), '--no-disk-cache', '--http', `127.0.0.1:${port}`],
	{ stdio: ['ignore', log, log] });
let browser = null;
const stopAll = async () => {
	if (daemon.exitCode === null) daemon.kill('SIGTERM');
	if (browser) await browser.close();
};
process.on('exit', () => { if (daemon.exitCode === null) daemon.kill('SIGKILL'); });
let failed = false;
const fail = m => { console.log('FAIL: ' + m); failed = true; };

try {
	for (let i = 0; ; i++) {
		const up = await fetch(`http://127.0.0.1:${port}/`).then(r => r.ok, () => false);
		if (up) break;
		const text = () => fs.readFileSync(path.join(work, 'daemon.log'), 'utf8');
		if (daemon.exitCode !== null && text().includes('without libmicrohttpd')) {
			console.log('skipped: this vmslim was built without libmicrohttpd');
			process.exit(77);
		}
		if (i > 300 || daemon.exitCode !== null) throw new Error('the daemon did not start: ' + text());
		await sleep(100);
	}
	try {
		browser = await launch(bin);
	} catch (e) {
		console.log('skipped: chromium cannot start: ' + e.message.split('\n')[0]);
		await stopAll();
		process.exit(77);
	}
	const { send } = browser;
	const consoleLines = [];
	await send('Runtime.enable');
	await send('Page.enable');
	await send('Page.navigate', { url: `http://127.0.0.1:${port}/` });
	const evaluate = async expr => {
		const r = await send('Runtime.evaluate', { expression: expr, returnByValue: true, awaitPromise: true });
		if (r.exceptionDetails) throw new Error(`${expr}: ${JSON.stringify(r.exceptionDetails).slice(0, 500)}`);
		return r.result.value;
	};
	const waitFor = async (expr, what, ms = 60000) => {
		const t0 = Date.now();
		for (;;) {
			const v = await evaluate(expr).catch(() => null);
			if (v) return v;
			if (Date.now() - t0 > ms) throw new Error('timed out waiting for ' + what);
			await sleep(50);
		}
	};
	await waitFor(`document.body && document.body.dataset.ready === '1'`, 'the page and its first check');
	const checker = await evaluate(`document.body.dataset.checker`);
	console.log(`checker: ${checker}; first check: ${await evaluate('document.body.dataset.checkStatus')}`);
	// a build without the WebAssembly module serves no bundle: the page checks on the server
	const hasBundle = await fetch(`http://127.0.0.1:${port}/bundle/manifest.json`).then(r => r.ok, () => false);
	if (!hasBundle) console.log('note: no bundle in this build (-DVMSLIM_WASM=OFF): checks go through POST /check');
	if (hasBundle && checker !== 'wasm') fail('the page did not load the WebAssembly checker: ' + await evaluate(`document.getElementById('mode').textContent`));
	if (await evaluate('document.body.dataset.checkStatus') !== 'ok') fail('the default program does not check clean');

	// type an error: "ctx->pid" becomes "ctx->pidd"
	const where = await evaluate(`(() => { const t = document.getElementById('source');
		const i = t.value.indexOf('e->pid = ctx->pid;') + 'e->pid = ctx->pid'.length;
		t.focus(); t.setSelectionRange(i, i);
		return { at: i, line: t.value.slice(0, i).split('\\n').length }; })()`);
	const before = Number(await evaluate('document.body.dataset.checks'));
	await send('Input.insertText', { text: 'd' });
	const marked = await waitFor(`(() => { const b = document.body;
		if (Number(b.dataset.checks) <= ${before}) return null;
		return [...document.querySelectorAll('#gutter .line.error')].map(e => Number(e.dataset.line)); })()`,
		'the check after typing');
	console.log(`typed an error on line ${where.line}: marked lines ${JSON.stringify(marked)}; ` +
		`list: ${await evaluate(`document.getElementById('diags').textContent`)}`);
	if (marked.length !== 1 || marked[0] !== where.line) fail(`the mark is on ${marked}, not line ${where.line}`);
	const errShot = await send('Page.captureScreenshot', { format: 'png' });
	fs.writeFileSync(path.join(work, 'playground-error.png'), Buffer.from(errShot.data, 'base64'));
	console.log(`screenshot with the error marked: ${path.join(work, 'playground-error.png')}`);

	// fix it: the mark clears
	const before2 = Number(await evaluate('document.body.dataset.checks'));
	await evaluate(`(() => { const t = document.getElementById('source');
		t.setSelectionRange(${where.at}, ${where.at + 1}); t.focus(); })()`);
	await send('Input.dispatchKeyEvent', { type: 'rawKeyDown', key: 'Backspace', code: 'Backspace', windowsVirtualKeyCode: 8 });
	await send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Backspace', code: 'Backspace', windowsVirtualKeyCode: 8 });
	const cleared = await waitFor(`(() => { const b = document.body;
		if (Number(b.dataset.checks) <= ${before2}) return null;
		return { status: b.dataset.checkStatus, marks: document.querySelectorAll('#gutter .line.error').length }; })()`,
		'the check after the fix');
	console.log(`fixed: ${JSON.stringify(cleared)}`);
	if (cleared.status !== 'ok' || cleared.marks !== 0) fail('the mark did not clear');

	// Build: a real click on the button
	const box = await evaluate(`(() => { const r = document.getElementById('build').getBoundingClientRect();
		return { x: r.x + r.width / 2, y: r.y + r.height / 2 }; })()`);
	for (const type of ['mousePressed', 'mouseReleased'])
		await send('Input.dispatchMouseEvent', { type, x: box.x, y: box.y, button: 'left', clickCount: 1 });
	const built = await waitFor(`document.body.dataset.builds === '1' && { status: document.body.dataset.buildStatus,
		out: document.getElementById('build-out').textContent }`, 'the build', 120000);
	console.log(`build: ${JSON.stringify(built)}`);
	if (built.status !== 'ok' || !/object: \d+ bytes/.test(built.out)) fail('Build did not show the object');

	const shot = await send('Page.captureScreenshot', { format: 'png' });
	const png = path.join(work, 'playground.png');
	fs.writeFileSync(png, Buffer.from(shot.data, 'base64'));
	console.log(`screenshot: ${png}`);
	void consoleLines;
} catch (e) {
	fail(e.message);
}
await stopAll();
await new Promise(r => daemon.exitCode !== null ? r() : daemon.on('exit', r));
if (failed) {
	console.log(fs.readFileSync(path.join(work, 'daemon.log'), 'utf8').slice(-3000));
	process.exit(1);
}
console.log('ok');
