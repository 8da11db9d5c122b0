// A minimal Chrome DevTools Protocol client over --remote-debugging-pipe (no npm): Chromium
// reads commands on its fd 3 and writes replies and events on its fd 4, each message JSON
// ended by a NUL byte. Used by test_browser.mjs and bench/chromium.mjs.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function findChromium() {
	for (const c of [process.env.VMSLIM_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'])
		if (c && fs.existsSync(c)) return c;
	return null;
}

// Starts Chromium headless and attaches to its first page. Resolves to { send(method,
// params), waitEvent(name), close() } or rejects when it cannot start.
export async function launch(bin, { timeoutMs = 30000 } = {}) {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'vmslim-chromium-'));
	const args = ['--headless=new', '--remote-debugging-pipe', `--user-data-dir=${profile}`,
		'--no-first-run', '--no-default-browser-check', '--disable-gpu', '--disable-extensions',
		'--disable-background-networking', '--disable-sync', '--disable-component-update',
		'--disable-dev-shm-usage', '--window-size=1200,800', 'about:blank'];
	if (process.getuid && process.getuid() === 0) args.unshift('--no-sandbox'); // root: no setuid sandbox
	const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
	let stderr = '';
	child.stdio[2].on('data', d => { stderr += d; if (stderr.length > 65536) stderr = stderr.slice(-32768); });
	const out = child.stdio[3], inp = child.stdio[4];
	let nextId = 1, buf = Buffer.alloc(0), closed = false;
	const pending = new Map(), waiters = [];
	// the profile goes once chromium has exited (its helpers may still write for a moment)
	const rmProfile = () => {
		try { fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5 }); } catch (e) { /* best effort */ }
	};
	const exited = new Promise(ok => child.on('exit', ok));
	const kill = () => {
		if (!closed) { closed = true; try { child.kill('SIGKILL'); } catch (e) { /* gone */ } }
		return exited.then(rmProfile);
	};
	process.on('exit', () => { if (!closed) try { child.kill('SIGKILL'); } catch (e) { /* gone */ } rmProfile(); });
	inp.on('data', d => {
		buf = Buffer.concat([buf, d]);
		let z;
		while ((z = buf.indexOf(0)) >= 0) {
			const msg = JSON.parse(buf.subarray(0, z).toString('utf8'));
			buf = buf.subarray(z + 1);
			if (msg.id && pending.has(msg.id)) {
				const { ok, fail } = pending.get(msg.id);
				pending.delete(msg.id);
				msg.error ? fail(new Error(`${msg.error.message} (${msg.error.code})`)) : ok(msg.result);
			} else if (msg.method) {
				for (let i = waiters.length - 1; i >= 0; i--)
					if (waiters[i].name === msg.method) { waiters[i].ok(msg.params); waiters.splice(i, 1); }
			}
		}
	});
	const died = new Promise((_, fail) => child.on('exit', c => {
		closed = true;
		for (const p of pending.values()) p.fail(new Error('chromium exited'));
		fail(new Error(`chromium exited (${c}): ${stderr.slice(-2000)}`));
	}));
	died.catch(() => {});
	let session = null;
	const raw = (method, params = {}, sessionId) => new Promise((ok, fail) => {
		if (closed) return fail(new Error('chromium is gone'));
		const id = nextId++;
		pending.set(id, { ok, fail });
		out.write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
	});
	const withTimeout = (p, ms, what) => Promise.race([p, died, new Promise((_, fail) =>
		setTimeout(() => fail(new Error(`timed out: ${what}; chromium said: ${stderr.slice(-1500)}`)), ms).unref())]);
	try {
		const { targetInfos } = await withTimeout(raw('Target.getTargets'), timeoutMs, 'Target.getTargets');
		let page = targetInfos.find(t => t.type === 'page');
		if (!page) {
			const { targetId } = await raw('Target.createTarget', { url: 'about:blank' });
			page = { targetId };
		}
		({ sessionId: session } = await raw('Target.attachToTarget', { targetId: page.targetId, flatten: true }));
	} catch (e) {
		await kill();
		throw e;
	}
	return {
		send: (m, p) => withTimeout(raw(m, p, session), timeoutMs, m),
		waitEvent: name => new Promise(ok => waiters.push({ name, ok })),
		close: kill,
	};
}
