/* The snapshot in WebAssembly: the preamble parsed once, each check resumed from there.
 *
 * Natively (tccarena/helper.c) the helper process compiles a template — the program's
 * preamble on its own lines, then `#include "<dir>/.vmslim-body-<pid>.c"` (the marker) —
 * and when TCC opens the marker, forks: each child returns from the open hook with the
 * request's body and TCC goes on. WebAssembly has no fork, and the call stack TCC is in
 * at the marker (tcc_add_file ... next_nomacro ... tcc_open) lives partly outside linear
 * memory, in the engine. Asyncify (emscripten -sASYNCIFY, binaryen's pass) brings it in:
 *
 *   1. vms_wasm_snap_prepare compiles the template; the marker hook (on_marker) calls
 *      vms_wasm_pause, an asynchronous import: the stack unwinds into Asyncify's buffer
 *      in linear memory and the export returns to JS, paused.
 *   2. JS copies linear memory and the stack pointer: that copy is the snapshot.
 *   3. Per check, JS restores the copy, hands the body over (vms_wasm_snap_body) and
 *      wakes the paused call: Asyncify rewinds the stack from the buffer and on_marker
 *      returns a memory descriptor of the body, as in a native child.
 *   4. The first error, or the end of the translation unit (before TCC's teardown),
 *      classifies the messages into the answer and calls vms_wasm_done, which throws to
 *      JS: the stack is abandoned, as a native child _exit()s; the next restore erases
 *      whatever the check did to memory.
 * A preamble with errors never reaches the marker: prepare returns 1 and JS checks such
 * a program with a fresh parse (vms_wasm_check), which reports them.
 */
#include <emscripten.h>
#include <libtcc.h>
#include <stdlib.h>
#include <string.h>

#include "tccarena/internal.h"
#include "wasm/wasm.h"

/* wasm/library.js: unwinds (Asyncify) until JS wakes it */
extern void vms_wasm_pause(void);
/* throws to JS: the check is over */
EM_JS(void, vms_wasm_done, (void), { throw Module['vmsDone']; });

static struct {
	char *name, *tmpl_path, *body_path;
	struct vms_buf tmpl;
	struct vms_raw_msgs msgs;
	int preamble_lines;
	/* the request, set after each restore */
	const char *src;
	size_t len;
	char *body;
	size_t body_len;
	size_t mem_limit;
	int time_ms;
	double woke;
} S;


/* The answer, then out to JS. */
static void finish(void)
{
	vms_hooks_set_heap(VMS_HEAP_LIBC);
	struct vms_tcc_result r = { 0 };
	struct vms_name_map map = { .from = { S.tmpl_path, S.body_path }, .to = S.name,
				    .tmpl = S.tmpl_path, .preamble_lines = S.preamble_lines };
	r.status = vms_tcc_classify(&S.msgs, &map, S.src, S.len, vms_wasm_opts()->vmlinux_header,
				    vms_wasm_opts()->warnings, &r.diags);
	if (vms_wasm_timed_out())
		r.status = VMS_TCC_TIMEOUT;
	r.ms = r.tcc_ms = vms_now_ms() - S.woke;
	vms_wasm_answer(&r);
	vms_tcc_result_free(&r);
	vms_wasm_done();
}

static void on_error(struct vms_raw_msgs *m)
{
	(void)m;
	finish();
}

static int on_marker(void *arg)
{
	(void)arg;
	vms_wasm_pause();
	/* woken: a check. JS restored memory and set S.src, S.body... */
	S.woke = vms_now_ms();
	vms_wasm_set_deadline(S.time_ms);
	vms_arena_set_cap(S.mem_limit ? S.mem_limit : (size_t)1 << 30);
	vms_hooks_reset_asm();
	S.msgs.n = 0; /* the preamble's warnings are the snapshot's */
	S.msgs.on_error = on_error;
	vms_hooks_on_finish = finish;
	return vms_hooks_open_memory(S.body, S.body_len);
}

static char *side_path(const char *dir, const char *what)
{
	return vms_xasprintf("%s/.vmslim-%s-0.c", strcmp(dir, "/") ? dir : "", what);
}

EMSCRIPTEN_KEEPALIVE size_t vms_wasm_preamble_len(const char *src, size_t len)
{
	return vms_tcc_preamble_len(src, len);
}

/* Parses the preamble (the first plen bytes of src) of a program named `name`, and
 * pauses at the marker (returns after the unwind, JS sees it paused). Returns 1 when the
 * preamble has errors (no snapshot: check the program fresh), 0 otherwise. */
EMSCRIPTEN_KEEPALIVE int vms_wasm_snap_prepare(const char *src, size_t plen, const char *name)
{
	S.name = vms_xstrdup(name);
	/* absolute (the module's cwd is /): TCC resolves a quoted include against the
	 * including file's directory, so a relative marker would not be found as named */
	char *abs = name[0] == '/' ? vms_xstrdup(name) : vms_xasprintf("/%s", name);
	char *dir = vms_dirname(abs);
	free(abs);
	S.tmpl_path = side_path(dir, "preamble");
	S.body_path = side_path(dir, "body");
	free(dir);
	S.preamble_lines = vms_tcc_count_lines(src, plen);
	vms_buf_append(&S.tmpl, src, plen);
	if (plen && src[plen - 1] != '\n')
		vms_buf_puts(&S.tmpl, "\n");
	vms_buf_printf(&S.tmpl, "#include \"%s\"\n", S.body_path);
	vms_wasm_set_memory_file(S.tmpl_path, S.tmpl.data, S.tmpl.len);
	vms_hooks_set_marker(S.body_path, on_marker, NULL);
	vms_hooks_set_vmlinux(vms_wasm_opts()->vmlinux_header);
	vms_arena_reset();
	vms_arena_set_cap(0);
	vms_hooks_set_heap(VMS_HEAP_ARENA);
	struct vms_diags d = { 0 };
	struct TCCState *st = vms_tcc_new_state(vms_wasm_opts(), &S.msgs, &d);
	if (st)
		tcc_add_file(st, S.tmpl_path);
	/* only a preamble that never reached the marker gets here */
	vms_hooks_set_heap(VMS_HEAP_LIBC);
	vms_diags_free(&d);
	return 1;
}

/* After a restore: the request, named `name`. The body is the program with its preamble blanked out
 * (newlines kept, so lines match); src stays valid for the check. */
EMSCRIPTEN_KEEPALIVE void vms_wasm_snap_body(const char *src, size_t len, size_t plen, int time_ms,
					     const char *name)
{
	S.name = (char *)name; /* the snapshot serves every program of its directory */
	S.src = src;
	S.len = len;
	S.body = malloc(len + 1);
	for (size_t i = 0; i < plen; i++)
		S.body[i] = src[i] == '\n' ? '\n' : ' ';
	memcpy(S.body + plen, src + plen, len - plen);
	S.body[len] = 0;
	S.body_len = len;
	S.time_ms = time_ms;
	S.mem_limit = 0;
}

/* For the JS restore (vmslim-check.js): the arena's bytes in use, its peak and mapped
 * bytes, and where its next block would start. A check dirties the arena only from that
 * point up to its peak, so a restore needs to clear only that much of the (64 MiB,
 * mostly untouched) chunk instead of copying all of it. */
EMSCRIPTEN_KEEPALIVE void vms_wasm_arena_probe(double *out)
{
	struct vms_arena_stats a;
	vms_tcc_arena_stats(&a);
	out[0] = (double)a.in_use;
	out[1] = (double)a.peak;
	out[2] = (double)a.mapped;
	char *p = vms_arena_alloc(1);
	out[3] = (double)(uintptr_t)p;
	if (p)
		vms_arena_free(p);
}
