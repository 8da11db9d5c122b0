/* The vmslim playground: a textarea with a line-number gutter, checked as the user types
 * (after 300 ms idle) by the WebAssembly checker under bundle/ — or, where the daemon
 * serves no bundle, by POST /check — and built by POST /build. Talks only to the server
 * it came from. State for tests: body[data-checks] counts finished checks, body[data-
 * builds] builds; #gutter .line.error marks a line with an error. */
(function () {
	'use strict';
	const FILE = 'prog.bpf.c';
	const $ = id => document.getElementById(id);
	const src = $('source'), gutter = $('gutter'), mode = $('mode');
	let checker = null, timer = null, seq = 0, checks = 0, builds = 0;

	function lines() { return src.value.split('\n').length; }

	/* The gutter: one numbered line per source line, marked by the worst diagnostic. */
	function renderGutter(diags) {
		const marks = {};
		for (const d of diags || [])
			if (d.line > 0 && (!d.file || d.file === FILE))
				if (marks[d.line] !== 'error') marks[d.line] = d.severity;
		const n = lines(), frag = document.createDocumentFragment();
		for (let i = 1; i <= n; i++) {
			const s = document.createElement('span');
			s.className = 'line' + (marks[i] ? ' ' + marks[i] : '');
			s.dataset.line = i;
			s.textContent = i;
			frag.appendChild(s);
		}
		gutter.replaceChildren(frag);
		gutter.scrollTop = src.scrollTop;
	}

	function renderList(ul, diags) {
		ul.replaceChildren(...(diags || []).map(d => {
			const li = document.createElement('li');
			li.className = d.severity;
			const where = (d.file ? d.file + ':' : '') + (d.line ? d.line + ':' : '') +
				((d.column || d.col) ? (d.column || d.col) + ':' : '');
			li.textContent = (where ? where + ' ' : '') + d.severity + ': ' + d.message;
			return li;
		}));
	}

	async function postJSON(path, body) {
		const r = await fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' },
					      body: JSON.stringify(body) });
		return r.json();
	}

	async function runCheck() {
		const my = ++seq, text = src.value;
		let status, diags;
		try {
			if (checker) {
				const r = checker.check(text, { file: FILE });
				status = r.status, diags = r.diags;
			} else {
				const r = await postJSON('check', { file: FILE, source: text });
				status = r.ok ? r.status : 'error: ' + r.error.message;
				diags = r.diagnostics || [];
			}
		} catch (e) {
			status = 'failed: ' + e.message, diags = [];
		}
		if (my !== seq) return; /* a newer check is under way */
		renderGutter(diags);
		renderList($('diags'), diags);
		const st = $('check-status');
		st.textContent = status;
		st.className = status === 'ok' ? 'ok' : 'bad';
		document.body.dataset.checks = ++checks;
		document.body.dataset.checkStatus = status;
	}

	function schedule() {
		clearTimeout(timer);
		timer = setTimeout(runCheck, 300);
		if (lines() !== gutter.childElementCount) renderGutter([]);
	}

	async function build() {
		const out = $('build-out'), st = $('build-status');
		st.textContent = 'building…';
		st.className = '';
		let r;
		try {
			r = await postJSON('build', { file: FILE, source: src.value });
		} catch (e) {
			r = { ok: false, error: { message: e.message } };
		}
		const status = r.ok ? r.status : 'error';
		st.textContent = status;
		st.className = status === 'ok' ? 'ok' : 'bad';
		renderList($('build-diags'), r.diagnostics || []);
		out.textContent = r.ok
			? `backend ${r.backend}, ${r.ms} ms` + (r.cached ? `, cached (${r.cached})` : '') +
			  (r.object_size !== undefined ? `\nobject: ${r.object_size} bytes` : '') +
			  (r.load !== undefined ? `\nload: ${JSON.stringify(r.load)}` : '') +
			  (r.verifier_log ? `\n${r.verifier_log}` : '')
			: r.error.message;
		document.body.dataset.builds = ++builds;
		document.body.dataset.buildStatus = status;
	}

	function loadScript(url) {
		return new Promise((ok, fail) => {
			const s = document.createElement('script');
			s.src = url;
			s.onload = ok;
			s.onerror = () => fail(new Error('cannot load ' + url));
			document.head.appendChild(s);
		});
	}

	async function start() {
		src.value = await (await fetch('default.bpf.c')).text();
		renderGutter([]);
		src.addEventListener('input', schedule);
		src.addEventListener('scroll', () => { gutter.scrollTop = src.scrollTop; });
		$('build').addEventListener('click', build);
		try {
			const m = await fetch('bundle/manifest.json');
			if (!m.ok) throw new Error('no bundle');
			await loadScript('bundle/vmslim-tcc.js');
			await loadScript('bundle/vmslim-check.js');
			checker = await window.vmslimCheck.createChecker({ baseUrl: 'bundle/' });
			mode.textContent = 'checking in your browser (WebAssembly); Build asks the daemon';
			document.body.dataset.checker = 'wasm';
		} catch (e) {
			checker = null;
			mode.textContent = 'checking on the server (' + e.message + ')';
			document.body.dataset.checker = 'server';
		}
		await runCheck();
		document.body.dataset.ready = '1';
	}
	start();
})();
