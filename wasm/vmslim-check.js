/* vmslim's fast checker in WebAssembly: the bundle's API and its Node command line.
 *
 *   const { createChecker } = require('./vmslim-check.js');   // browser: window.vmslimCheck
 *   const ck = await createChecker();        // Node: the bundle beside this file;
 *                                            // browser: { baseUrl: 'bundle/' }
 *   const { status, diags } = ck.check(source, { file: 'prog.bpf.c' });
 *
 * `status` is `vmslim check`'s verdict (ok, errors, unsupported, timeout, memory,
 * crashed, failed); each diagnostic has file, line, column (0: unknown), severity and
 * message. `node vmslim-check.js FILE` prints them gcc-style and exits as `vmslim check`
 * does: 0 ok, 1 errors, 3 unsupported, 4 gave up.
 *
 * The bundle (written by `vmslim wasm`): vmslim-tcc.wasm and its emscripten loader
 * vmslim-tcc.js, manifest.json (options and the header files), and fs/, the headers
 * under their native absolute paths, which are written into the module's in-memory file
 * system so that a diagnostic in a header names the same file as natively.
 *
 * Modes ({ mode }): 'snapshot' (the default) parses a program's preamble once, pauses
 * TCC where the program's own text begins (Asyncify, see wasm/snapshot.c) and keeps a
 * copy of linear memory and of the stack pointer; each check restores the copy and
 * resumes TCC on the program's body: the browser's equivalent of the native fork. One
 * snapshot is kept (a new preamble replaces it). 'fresh' parses everything per check,
 * from a copy of the state right after setup.
 */
(function (root) {
	'use strict';
	const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);
	const EXIT = { ok: 0, errors: 1, failed: 1, unsupported: 3, crashed: 4, timeout: 4, memory: 4 };

	async function loadBundle(opts) {
		if (isNode) {
			const fs = require('fs'), path = require('path');
			const dir = opts.dir || __dirname;
			const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
			const files = manifest.files.map(f => [f, fs.readFileSync(path.join(dir, 'fs', f))]);
			const factory = require(path.join(dir, 'vmslim-tcc.js'));
			const wasmBinary = fs.readFileSync(path.join(dir, 'vmslim-tcc.wasm'));
			return { manifest, files, factory, moduleArgs: { wasmBinary } };
		}
		const base = opts.baseUrl || '';
		const manifest = await (await fetch(base + 'manifest.json')).json();
		const files = await Promise.all(manifest.files.map(async f =>
			[f, new Uint8Array(await (await fetch(base + 'fs' + f)).arrayBuffer())]));
		return { manifest, files, factory: root.vmslimTcc,
			 moduleArgs: { locateFile: f => base + f } };
	}

	async function createChecker(opts = {}) {
		const b = await loadBundle(opts);
		const messages = [];
		const M = await b.factory(Object.assign({
			print: t => messages.push(t), printErr: t => messages.push(t),
		}, b.moduleArgs));
		for (const [f, data] of b.files) {
			M.FS.mkdirTree(f.slice(0, f.lastIndexOf('/')) || '/');
			M.FS.writeFile(f, data);
		}
		const m = b.manifest;
		const str = s => {
			const n = M.lengthBytesUTF8(s) + 1, p = M._malloc(n);
			M.stringToUTF8(s, p, n);
			return p;
		};
		M._vms_wasm_setup(str(m.headersDir), str(m.tccLibDir), str(m.vmlinux || ''), 0);
		for (const i of m.includeDirs || []) M._vms_wasm_add_include(str(i));
		for (const d of m.defines || []) M._vms_wasm_add_define(str(d));

		/* A saved state: a copy of linear memory, the stack pointer (emscripten's
		 * __stack_pointer global, through stackSave/stackRestore) and, for a paused
		 * preamble, Asyncify's buffer and wake-up function. */
		const A = M.vmsAsyncify;
		const take = extra => Object.assign({ mem: new Uint8Array(M.HEAPU8.buffer).slice(),
						      sp: M.stackSave() }, extra);
		/* The arena as vms_wasm_arena_probe sees it: in use, peak, mapped, next block. */
		const probeBuf = M._malloc(32);
		const probe = () => {
			M._vms_wasm_arena_probe(probeBuf);
			const v = new Float64Array(M.HEAPU8.buffer, probeBuf, 4);
			return { inUse: v[0], peak: v[1], mapped: v[2], next: v[3] };
		};
		const CHUNK = 64 << 20; /* tccarena/arena.c's chunk */
		/* A preamble snapshot's image leaves out the untouched tail of the arena's
		 * chunk (zeroes from the next block on): the hole. Only a conservative part of
		 * it counts, one that surely lies inside the chunk. */
		const withHole = st => {
			const a = probe();
			st.arena = a;
			st.mem = new Uint8Array(M.HEAPU8.buffer).slice();
			const from = a.next + 64;
			let to = from;
			const chunkEnd = a.next - a.inUse - 4096 + CHUNK;
			while (to < st.mem.length && to < chunkEnd && st.mem[to] === 0) to++;
			to &= ~4095;
			st.hole = to - from > (1 << 20) ? [from, to] : null;
			return st;
		};
		let cleanState = true; /* the last check ended as designed (not by a trap) */
		const restore = st => {
			/* memory may have grown since: what lies above the copy is garbage from the
			 * last check, which the restored allocators no longer know of (fresh arena
			 * chunks come zeroed from mmap) */
			const heap = M.HEAPU8;
			let now = null;
			if (st.hole && cleanState) {
				now = probe();
				if (now.mapped !== st.arena.mapped)
					now = null; /* the check mapped another chunk: copy everything */
			}
			if (now) {
				/* the check wrote to the hole only from the next block up to its peak */
				const [from, to] = st.hole;
				const dirtyEnd = Math.min(to, st.arena.next + (now.peak - st.arena.inUse) + (1 << 20));
				heap.set(st.mem.subarray(0, from), 0);
				if (dirtyEnd > from)
					heap.fill(0, from, dirtyEnd);
				heap.set(st.mem.subarray(to), to);
			} else {
				heap.set(st.mem);
			}
			M.stackRestore(st.sp);
			cleanState = true;
		};
		const base = take({});
		const mode = opts.mode || (opts.snapshot === false ? 'fresh' : 'snapshot');
		let snap = null; /* the one kept preamble snapshot */
		let dead = null;
		const put = bytes => {
			const p = M._malloc(bytes.length + 1);
			M.HEAPU8.set(bytes, p);
			M.HEAPU8[p + bytes.length] = 0;
			return p;
		};
		const answer = () => JSON.parse(M.UTF8ToString(M._vms_wasm_get_answer()));
		const crashed = (file, e) => ({ status: 'crashed', ms: 0, diags: [{ file, line: 0,
			column: 0, severity: 'error', message: 'the fast checker crashed: ' + e.message }] });
		const dirOf = f => f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : '.';

		function fresh(bytes, file, limit) {
			restore(base);
			const src = put(bytes), name = str(file);
			return JSON.parse(M.UTF8ToString(M._vms_wasm_check(src, bytes.length, name, limit)));
		}

		/* The snapshot serving this program (built on a miss) with the program put into
		 * its memory: { st, src, plen }, or null when its preamble has errors. */
		function snapshotFor(bytes, file) {
			const keyOf = plen => Array.prototype.join.call(bytes.subarray(0, plen), ',') + '\0' + dirOf(file);
			if (snap) {
				restore(snap.st);
				const src = put(bytes), plen = M._vms_wasm_preamble_len(src, bytes.length);
				if (snap.key === keyOf(plen))
					return { st: snap.st, src, plen };
			}
			restore(base);
			snap = null;
			const src = put(bytes), plen = M._vms_wasm_preamble_len(src, bytes.length);
			M.vmsPaused = false;
			M._vms_wasm_snap_prepare(src, plen, str(file));
			if (!M.vmsPaused)
				return null;
			const st = withHole({ sp: M.stackSave(), data: A.currData, wake: M.vmsWake });
			snap = { st, key: keyOf(plen) };
			return { st, src, plen };
		}

		function resumed(bytes, file, limit) {
			const s = snapshotFor(bytes, file);
			if (!s)
				return fresh(bytes, file, limit);
			M._vms_wasm_snap_body(s.src, bytes.length, s.plen, limit, str(file));
			A.currData = s.st.data;
			A.state = A.State.Normal;
			try {
				s.st.wake();
			} catch (e) {
				if (e !== M.vmsDone)
					throw e;
				return answer();
			}
			throw new Error('the snapshot did not answer');
		}

		function check(source, o = {}) {
			if (dead)
				throw new Error('the checker crashed on an earlier input: ' + dead.message);
			const file = o.file || '<stdin>';
			const bytes = typeof source === 'string' ? new TextEncoder().encode(source)
				: new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
			const limit = o.timeLimitMs || 10000;
			let res;
			try {
				res = mode === 'snapshot' ? resumed(bytes, file, limit) : fresh(bytes, file, limit);
			} catch (e) {
				/* a trap in TCC (a stack overflow, say): the wasm equivalent of a
				 * crash. Every check restores a saved state first, so the next one
				 * starts clean; only a failure outside a check is fatal */
				res = crashed(file, e);
				cleanState = false;
				if (!(e instanceof WebAssembly.RuntimeError || e instanceof RangeError))
					dead = e;
			}
			res.exit = EXIT[res.status] ?? 1;
			return res;
		}
		return { check, manifest: m, modes: ["fresh", "snapshot"] };
	}

	function format(d) {
		let s = d.file ? d.file + ':' : '';
		if (d.file && d.line) s += d.line + ':' + (d.column ? d.column + ':' : '');
		return (s ? s + ' ' : '') + d.severity + ': ' + d.message;
	}

	async function main(argv) {
		if (argv.length !== 1 || argv[0].startsWith('-')) {
			process.stderr.write('usage: node vmslim-check.js FILE\n');
			return 2;
		}
		const fs = require('fs');
		let src;
		try {
			src = fs.readFileSync(argv[0] === '-' ? 0 : argv[0]);
		} catch (e) {
			process.stderr.write(`vmslim-check: cannot read ${argv[0]}: ${e.message}\n`);
			return 1;
		}
		const ck = await createChecker({ mode: 'fresh' }); /* one check: no snapshot to reuse */
		const r = ck.check(src, { file: argv[0] });
		for (const d of r.diags) process.stderr.write(format(d) + '\n');
		if (r.status === 'unsupported')
			process.stderr.write(`${argv[0]}: note: not checked by the fast checker (unsupported); check it with clang\n`);
		return r.exit;
	}

	const api = { createChecker, format };
	if (typeof module !== 'undefined' && module.exports) {
		module.exports = api;
		if (require.main === module)
			main(process.argv.slice(2)).then(c => { process.exitCode = c; },
				e => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exitCode = 4; });
	} else {
		root.vmslimCheck = api;
	}
})(typeof globalThis !== 'undefined' ? globalThis : this);
