/* The WebAssembly checker's exports: one check of one program, answered as JSON.
 *
 * A check is tccarena's in-process arena check (tccarena/inprocess.c, compiled as is)
 * with the same prelude, shims, vmlinux.h substitution and classification (diag.c) as
 * `vmslim check`, so the verdicts are the native ones. The JS side (vmslim-check.js)
 * configures the options once, writes the bundle's headers into the in-memory file
 * system under their native paths (so diagnostics in headers name the same files), and
 * turns the JSON into diagnostics and an exit code.
 */
#include <emscripten.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tccarena/internal.h"
#include "wasm/wasm.h"

static struct vms_tcc_opts opts;
static struct vms_argv incs, defs;
static char *headers_dir, *tcc_lib_dir, *vmlinux;
static char *answer;

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = s && *s ? vms_xstrdup(s) : NULL;
}

/* Options, as `vmslim check` takes them: the headers directory (prelude and shims),
 * TCC's runtime directory, the substituted vmlinux.h ("" for none). */
EMSCRIPTEN_KEEPALIVE void vms_wasm_setup(const char *hdir, const char *tccdir, const char *vmlinux_h,
					 int warnings)
{
	set_str(&headers_dir, hdir);
	set_str(&tcc_lib_dir, tccdir);
	set_str(&vmlinux, vmlinux_h);
	opts.headers_dir = headers_dir;
	opts.tcc_lib_dir = tcc_lib_dir;
	opts.vmlinux_header = vmlinux;
	opts.warnings = warnings;
}

EMSCRIPTEN_KEEPALIVE void vms_wasm_add_include(const char *dir)
{
	vms_argv_push(&incs, dir);
	opts.include_dirs = (const char *const *)incs.v;
}

EMSCRIPTEN_KEEPALIVE void vms_wasm_add_define(const char *def)
{
	vms_argv_push(&defs, def);
	opts.defines = (const char *const *)defs.v;
}

static void json_str(struct vms_buf *b, const char *s)
{
	vms_buf_puts(b, "\"");
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			vms_buf_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			vms_buf_printf(b, "\\u%04x", *p);
		else
			vms_buf_append(b, (const char *)p, 1);
	}
	vms_buf_puts(b, "\"");
}

static const char *sev_name(enum vms_severity s)
{
	return s == VMS_NOTE ? "note" : s == VMS_WARNING ? "warning" : "error";
}

const struct vms_tcc_opts *vms_wasm_opts(void)
{
	return &opts;
}

void vms_wasm_answer(const struct vms_tcc_result *r)
{
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "{\"status\":");
	json_str(&b, vms_tcc_status_name(r->status));
	vms_buf_puts(&b, ",\"diags\":[");
	for (size_t i = 0; i < r->diags.n; i++) {
		const struct vms_diag *g = &r->diags.v[i];
		vms_buf_puts(&b, i ? ",{\"file\":" : "{\"file\":");
		json_str(&b, g->file);
		vms_buf_printf(&b, ",\"line\":%d,\"column\":%d,\"severity\":", g->line, g->col);
		json_str(&b, sev_name(g->sev));
		vms_buf_puts(&b, ",\"message\":");
		json_str(&b, g->msg);
		vms_buf_puts(&b, "}");
	}
	vms_buf_printf(&b, "],\"ms\":%.3f}", r->ms);
	free(answer);
	answer = vms_buf_steal(&b);
}

/* The last answer (vms_wasm_check's, or a snapshot check's). */
EMSCRIPTEN_KEEPALIVE const char *vms_wasm_get_answer(void)
{
	return answer ? answer : "";
}

/* Checks len bytes of src as file `name` with a fresh parse; time_ms bounds the check
 * (0: none). Returns {"status":..., "diags":[{file,line,column,severity,message}...],
 * "ms":...}, valid until the next call. */
EMSCRIPTEN_KEEPALIVE const char *vms_wasm_check(const char *src, size_t len, const char *name,
						int time_ms)
{
	struct vms_tcc_request req = { .source = src, .len = len, .file_name = name };
	struct vms_tcc_result r = { 0 };
	vms_wasm_set_deadline(time_ms);
	vms_tcc_check_inprocess(&opts, VMS_TCC_ALLOC_ARENA, &req, &r);
	int late = vms_wasm_timed_out();
	vms_wasm_set_deadline(0);
	if (late)
		r.status = VMS_TCC_TIMEOUT;
	vms_wasm_answer(&r);
	vms_tcc_result_free(&r);
	return answer;
}
