/* The BPF clang command line: one builder for extract, verify, the PCH build and the daemon,
 * so that the target and the architecture rule are decided in one place. */
#include <string.h>

#include "common/bpf_cmdline.h"
#include "common/ppscan.h"

#define ARCH_PREFIX "__TARGET_ARCH_"

size_t vms_args_count(struct vms_args a)
{
	if (!a.v)
		return 0;
	if (a.n != VMS_ARGS_NT)
		return a.n;
	size_t n = 0;
	while (a.v[n])
		n++;
	return n;
}

static int is_arch_name(const char *s)
{
	return !strncmp(s, ARCH_PREFIX, strlen(ARCH_PREFIX));
}

/* The macro a define option names, or NULL when a is not one. *takes_next is set when the
 * name is the next argument ("-D X", "--define-macro X"). */
static const char *define_operand(const char *a, int *takes_next)
{
	*takes_next = 0;
	if (!strcmp(a, "-D") || !strcmp(a, "--define-macro")) {
		*takes_next = 1;
		return NULL;
	}
	if (!strncmp(a, "-D", 2))
		return a + 2;
	if (!strncmp(a, "--define-macro=", 15))
		return a + 15;
	return NULL;
}

int vms_args_define_arch(struct vms_args a)
{
	size_t n = vms_args_count(a);
	for (size_t i = 0; i < n; i++) {
		const char *s = a.v[i];
		int next;
		const char *name = define_operand(s, &next);
		if (next) {
			if (i + 1 < n && is_arch_name(a.v[i + 1]))
				return 1;
			i++;
			continue;
		}
		if (name ? is_arch_name(name) : is_arch_name(s))
			return 1;
		/* "-U X" names a macro to forget, never one to define */
		if (!strcmp(s, "-U") || !strcmp(s, "--undefine-macro"))
			i++;
	}
	return 0;
}

static void push_args(struct vms_argv *out, struct vms_args a)
{
	size_t n = vms_args_count(a);
	for (size_t i = 0; i < n; i++)
		vms_argv_push(out, a.v[i]);
}

void vms_bpf_cmdline(const struct vms_bpf_cmd *c, struct vms_argv *out)
{
	if (c->clang)
		vms_argv_push(out, c->clang);
	if (c->opts & VMS_BPF_LANG_C) {
		vms_argv_push(out, "-x");
		vms_argv_push(out, "c");
	}
	if (!(c->opts & VMS_BPF_RAW)) {
		vms_argv_push(out, "--target=bpf");
		if (c->opts & VMS_BPF_DEBUG)
			vms_argv_push(out, "-g");
		if (c->opts & VMS_BPF_O2)
			vms_argv_push(out, "-O2");
	}
	if (c->opts & VMS_BPF_SYNTAX_ONLY)
		vms_argv_push(out, "-fsyntax-only");
	if (!(c->opts & VMS_BPF_RAW) && vms_bpf_host_arch_define() &&
	    !vms_args_define_arch(c->user[0]) && !vms_args_define_arch(c->user[1]) &&
	    !vms_args_define_arch(c->defines) && !vms_args_define_arch(c->source_defines))
		vms_argv_push(out, vms_bpf_host_arch_define());
	if (c->opts & VMS_BPF_PLAIN_DIAGS) {
		vms_argv_push(out, "-fno-color-diagnostics");
		vms_argv_push(out, "-fno-caret-diagnostics");
	}
	if (c->resource_dir) {
		vms_argv_push(out, "-resource-dir");
		vms_argv_push(out, c->resource_dir);
	}
	if (c->iquote)
		vms_argv_pushf(out, "-iquote%s", c->iquote);
	size_t ninc = vms_args_count(c->inc_dirs);
	for (size_t i = 0; i < ninc; i++)
		vms_argv_pushf(out, "-I%s", c->inc_dirs.v[i]);
	push_args(out, c->user[0]);
	push_args(out, c->user[1]);
	size_t ndef = vms_args_count(c->defines);
	for (size_t i = 0; i < ndef; i++) {
		const char *d = c->defines.v[i];
		if (!strncmp(d, "-D", 2))
			vms_argv_push(out, d);
		else
			vms_argv_pushf(out, "-D%s", d);
	}
	push_args(out, c->extra);
	if (c->pch) {
		vms_argv_push(out, "-include-pch");
		vms_argv_push(out, c->pch);
	}
	if (c->include) {
		vms_argv_push(out, "-include");
		vms_argv_push(out, c->include);
	}
	push_args(out, c->deps);
	if (c->input && c->output) {
		vms_argv_push(out, "-c");
		vms_argv_push(out, c->input);
		vms_argv_push(out, "-o");
		vms_argv_push(out, c->output);
	} else if (c->input) {
		vms_argv_push(out, c->input);
	}
}

/* ---- the rule for checkers ---- */

static int note_arch(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	(void)s;
	if (d->name_len == 6 && !memcmp(d->name, "define", 6) && d->text_len > 14 &&
	    !memcmp(d->text, "__TARGET_ARCH_", 14))
		*(int *)ctx = 1;
	return 0;
}

int vms_source_defines_arch(const char *text, size_t len)
{
	int found = 0;
	struct vms_pp_src s;
	struct vms_diags ignored = { 0 };
	if (text && vms_pp_open(&s, text, len, 0, "<source>", &ignored) == 0)
		vms_pp_scan(&s, 0, &(struct vms_pp_ops){ .directive = note_arch, .ctx = &found });
	if (text)
		vms_pp_close(&s);
	vms_diags_free(&ignored);
	return found;
}

static int list_defines_arch(const char *const *defs)
{
	for (; defs && *defs; defs++)
		if (!strncmp(*defs, "__TARGET_ARCH_", 14))
			return 1;
	return 0;
}

const char *vms_checker_arch_define(const char *const *defs1, const char *const *defs2,
				    const char *text, size_t len)
{
	const char *host = vms_bpf_host_arch_define(); /* "-D__TARGET_ARCH_x86" */
	if (!host || list_defines_arch(defs1) || list_defines_arch(defs2) ||
	    vms_source_defines_arch(text, len))
		return NULL;
	return host + 2;
}
