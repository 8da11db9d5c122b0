/* A TCC state set up for checking BPF C, and the in-process check built on it.
 *
 * The state: the prelude (headers/vmslim-tcc-prelude.h) is force-included, the libbpf
 * shims directory comes first in the include path so that <bpf/bpf_core_read.h> finds
 * the shim (which #include_next's the real one), then the caller's -I directories, then
 * TCC's own system directories. Output goes to memory and is never relocated or run:
 * only the diagnostics matter.
 */
#include "tccarena/internal.h"

#include <errno.h>
#include <libtcc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the multiarch name of TCC's system include directories (from the build) */
#ifndef VMSLIM_MULTIARCH
#define VMSLIM_MULTIARCH "x86_64-linux-gnu"
#endif

char *vms_tcc_prelude_path(const struct vms_tcc_opts *o)
{
	return vms_xasprintf("%s/%s", o->headers_dir, VMS_TCC_PRELUDE);
}

static void on_tcc_msg(void *opaque, const char *text)
{
	struct vms_raw_msgs *m = opaque;
	vms_raw_msgs_add(m, vms_xstrdup(text), vms_hooks_in_asm(), vms_arena_cap_hit());
	if (m->on_error && vms_tcc_msg_is_error(text))
		m->on_error(m);
}

/* tcc_set_options splits on spaces; quotes keep a path whole. */
static char *quoted(const char *s)
{
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "\"");
	for (const char *p = s; *p; p++) {
		if (*p == '"' || *p == '\\')
			vms_buf_puts(&b, "\\");
		vms_buf_append(&b, p, 1);
	}
	vms_buf_puts(&b, "\"");
	return vms_buf_steal(&b);
}

TCCState *vms_tcc_new_state(const struct vms_tcc_opts *o, struct vms_raw_msgs *msgs,
			    struct vms_diags *d)
{
	TCCState *s = tcc_new();
	if (!s) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "tcc_new failed (out of memory)");
		return NULL;
	}
	tcc_set_error_func(s, msgs, on_tcc_msg);
	tcc_set_lib_path(s, o->tcc_lib_dir ? o->tcc_lib_dir : VMS_TCC_DEFAULT_LIB_DIR);
	char *prelude = vms_tcc_prelude_path(o);
	char *q = quoted(prelude);
	char *opts = vms_xasprintf("-xc -include %s", q);
	tcc_set_options(s, opts);
	free(opts);
	free(q);
	free(prelude);
	char *shims = vms_xasprintf("%s/%s", o->headers_dir, VMS_TCC_SHIMS);
	tcc_add_include_path(s, shims);
	free(shims);
	for (const char *const *i = o->include_dirs; i && *i; i++)
		tcc_add_include_path(s, *i);
	for (const char *const *def = o->defines; def && *def; def++) {
		const char *eq = strchr(*def, '=');
		if (**def == '-') {
			tcc_undefine_symbol(s, *def + 1);
		} else if (eq) {
			char *name = vms_xstrndup(*def, (size_t)(eq - *def));
			tcc_define_symbol(s, name, eq + 1);
			free(name);
		} else {
			tcc_define_symbol(s, *def, NULL);
		}
	}
	tcc_set_output_type(s, TCC_OUTPUT_MEMORY);
	return s;
}

void vms_tcc_confine_lists(const struct vms_tcc_opts *o, char ***dirs, char ***files)
{
	struct vms_argv dv = { 0 }, fv = { 0 };
	/* TCC's default system directories, where libbpf's headers live */
	const char *fixed[] = { o->headers_dir, o->tcc_lib_dir ? o->tcc_lib_dir : VMS_TCC_DEFAULT_LIB_DIR,
				"/usr/include", "/usr/local/include", "/usr/include/" VMSLIM_MULTIARCH,
				"/usr/local/include/" VMSLIM_MULTIARCH };
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		char *r = vms_realpath(fixed[i]);
		if (r)
			vms_argv_push(&dv, r);
		free(r);
	}
	for (const char *const *i = o->include_dirs; i && *i; i++) {
		char *r = vms_realpath(*i);
		if (r)
			vms_argv_push(&dv, r);
		free(r);
	}
	if (o->vmlinux_header) {
		char *r = vms_realpath(o->vmlinux_header);
		if (r)
			vms_argv_push(&fv, r);
		free(r);
	}
	*dirs = dv.v;
	*files = fv.v;
}

int vms_tcc_check_inprocess(const struct vms_tcc_opts *o, enum vms_tcc_alloc alloc,
			    const struct vms_tcc_request *req, struct vms_tcc_result *r)
{
	memset(r, 0, sizeof(*r));
	double t0 = vms_now_ms();
	const char *name = req->file_name ? req->file_name : "<stdin>";
	struct vms_raw_msgs msgs = { 0 };
	char **cdirs = NULL, **cfiles = NULL;
	if (o->confine)
		vms_tcc_confine_lists(o, &cdirs, &cfiles);
	vms_hooks_set_confine(cdirs, cfiles);
	vms_hooks_set_vmlinux(o->vmlinux_header);
	vms_hooks_reset_asm();
	vms_hooks_add_vfile(name, req->source, req->len);

	int arena = alloc == VMS_TCC_ALLOC_ARENA;
	if (arena) {
		vms_arena_reset();
		vms_hooks_cap_on_first_read(req->mem_limit ? req->mem_limit
					    : o->mem_limit ? o->mem_limit : (size_t)1 << 30);
	}
	vms_hooks_set_heap(arena ? VMS_HEAP_ARENA : VMS_HEAP_LIBC);

	int rc = 0;
	jmp_buf jb;
	vms_hooks_exit_jmp = &jb;
	if (setjmp(jb) == 0) {
		TCCState *s = vms_tcc_new_state(o, &msgs, &r->diags);
		if (s) {
			tcc_add_file(s, name);
			tcc_delete(s);
		} else {
			rc = -ENOMEM;
		}
	} else {
		rc = -EIO;
		vms_diag_add(&r->diags, VMS_ERROR, name, 0, 0, "TCC gave up (it called exit)");
	}
	vms_hooks_exit_jmp = NULL;
	vms_hooks_cap_on_first_read(0);
	vms_hooks_set_heap(VMS_HEAP_LIBC);
	if (arena) {
		r->arena_bytes = vms_arena_used_since_cap();
		vms_arena_reset();
	}
	vms_hooks_clear_vfiles();
	vms_hooks_set_vmlinux(NULL);
	vms_hooks_set_confine(NULL, NULL);
	vms_strv_free(cdirs);
	vms_strv_free(cfiles);

	if (rc < 0) {
		r->status = VMS_TCC_FAILED;
	} else {
		struct vms_name_map map = { .from = { name }, .to = name };
		r->status = vms_tcc_classify(&msgs, &map, req->source, req->len,
					     o->vmlinux_header, o->warnings, &r->diags);
	}
	vms_raw_msgs_free(&msgs);
	r->ms = r->tcc_ms = vms_now_ms() - t0;
	return rc;
}
