// Per-check latency of the WebAssembly bundle in Node: snapshot restore vs fresh parse.
//
//   node bench/wasm.mjs BUNDLE_DIR PROGRAM [N]
//
// BUNDLE_DIR is what `vmslim wasm -o DIR --header H` wrote (slim or full H). Prints the
// median, p90 and min of N checks (default 50) of PROGRAM, after one warm-up, in each
// mode the bundle supports, plus the first check's time (snapshot build included).
// Compare with `vmslim check --header H --repeat N --stats PROGRAM` natively.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [dir, prog, nArg] = process.argv.slice(2);
if (!dir || !prog) {
	console.error('usage: node bench/wasm.mjs BUNDLE_DIR PROGRAM [N]');
	process.exit(2);
}
const n = parseInt(nArg || '50', 10);
const require = createRequire(import.meta.url);
const { createChecker } = require(path.resolve(dir, 'vmslim-check.js'));
const src = fs.readFileSync(prog);

function stats(v) {
	const s = v.slice().sort((a, b) => a - b);
	const q = p => s[Math.min(s.length - 1, Math.floor(p * s.length))];
	return `median ${q(0.5).toFixed(3)} ms, p90 ${q(0.9).toFixed(3)} ms, min ${s[0].toFixed(3)} ms`;
}

for (const mode of ['fresh', 'snapshot']) {
	const ck = await createChecker({ dir: path.resolve(dir), mode });
	if (mode === 'snapshot' && !ck.modes.includes('snapshot')) {
		console.log(`${mode}: not in this bundle`);
		continue;
	}
	let t0 = performance.now();
	const first = ck.check(src, { file: prog });
	const firstMs = performance.now() - t0;
	const times = [];
	for (let i = 0; i < n; i++) {
		t0 = performance.now();
		const r = ck.check(src, { file: prog });
		times.push(performance.now() - t0);
		if (r.status !== first.status)
			throw new Error(`verdict changed: ${first.status} then ${r.status}`);
	}
	console.log(`${mode}: ${n} checks of ${path.basename(prog)}, result ${first.status}; first ${firstMs.toFixed(1)} ms; ${stats(times)}`);
}
