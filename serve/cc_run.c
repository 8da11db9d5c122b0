/* One `vmslim cc` compile, the same code whether the CLI runs it in-process or the per-user
 * daemon runs it for the CLI: the PCH path (or the slim path), and where that cannot answer,
 * plain clang — exec'd by the CLI (its output then is clang's, to the terminal), or run
 * here with its output captured (the daemon, which sends it back). */
#include "serve/cc.h"
#include "slim/slim.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const vms_cc_env_names[] = { "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH",
					 "OBJC_INCLUDE_PATH", "SOURCE_DATE_EPOCH",
					 "CCC_OVERRIDE_OPTIONS", NULL };

void vms_cc_answer_free(struct vms_cc_answer *a)
{
	free(a->out);
	free(a->err);
	free(a->mode);
	vms_diags_free(&a->diags);
	memset(a, 0, sizeof(*a));
}

char *vms_cc_dep_path(const struct vms_cc_plan *p, int *mmd)
{
	int md = 0;
	*mmd = 0;
	for (size_t i = 0; i < p->dep_flags.n; i++) {
		if (!strcmp(p->dep_flags.v[i], "-MD"))
			md = 1;
		else if (!strcmp(p->dep_flags.v[i], "-MMD"))
			md = *mmd = 1;
	}
	if (!md)
		return NULL; /* -MF alone writes nothing */
	if (p->dep_file)
		return vms_xstrdup(p->dep_file);
	/* clang's default: the output with its extension replaced by .d */
	const char *base = p->output;
	const char *dot = strrchr(vms_basename(base), '.');
	return vms_xasprintf("%.*s.d", (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
}

void vms_cc_dep_parse(const char *s, size_t len, struct vms_argv *out)
{
	struct vms_argv targets = { 0 }, deps = { 0 };
	vms_dep_rule(s, len, &targets, &deps);
	for (size_t i = 0; i < deps.n; i++) {
		char *u = vms_dep_unescape(deps.v[i]);
		vms_argv_push(out, u);
		free(u);
	}
	vms_argv_free(&targets);
	vms_argv_free(&deps);
}

static int has_md(const struct vms_cc_plan *p)
{
	for (size_t i = 0; i < p->dep_flags.n; i++)
		if (!strcmp(p->dep_flags.v[i], "-MD") || !strcmp(p->dep_flags.v[i], "-MMD"))
			return 1;
	return 0;
}

/* Plain clang with the program's own command line (and the private dependency file). */
static int run_plain(const struct vms_cc_req *q, struct vms_cc_answer *a)
{
	struct vms_argv av = { 0 };
	vms_argv_push(&av, q->clang);
	for (int i = 0; i < q->nargs; i++)
		vms_argv_push(&av, q->args[i]);
	if (q->extra_dep_file) {
		vms_argv_push(&av, "-MD");
		vms_argv_push(&av, "-MF");
		vms_argv_push(&av, q->extra_dep_file);
	}
	struct vms_proc_result pr;
	int e = vms_run(av.v, NULL, 0, 0, &pr);
	vms_argv_free(&av);
	if (e < 0)
		return e;
	a->plain = 1;
	a->exit_code = pr.exit_code;
	a->out = pr.out, a->out_len = pr.out_len;
	a->err = pr.err, a->err_len = pr.err_len;
	pr.out = pr.err = NULL;
	vms_proc_result_free(&pr);
	return VMS_CC_DONE;
}

/* Why the fast path handed a compile back to clang, by vms_build's result. */
static char *rerun_reason(int rc, const struct vms_build_result *r)
{
	switch (rc) {
	case 1:
		return vms_xasprintf("the compile failed (clang exit %d); clang runs again for its "
				     "own messages", r->clang_exit);
	case 2:
		return vms_xstrdup(r->mode ? r->mode : "the PCH path does not apply");
	case 3:
		return vms_xstrdup("the inline assembly was refused");
	default:
		return vms_xstrdup("the PCH path could not run");
	}
}

int vms_cc_run(const struct vms_cc_req *q, struct vms_cc_answer *a)
{
	memset(a, 0, sizeof(*a));
	struct vms_cc_plan plan;
	vms_cc_plan(q->nargs, q->args, &plan);
	int rc = -1;
	struct vms_build_result r = { 0 };
	int have_r = 0;
	if (!plan.is_bpf_compile) {
		a->mode = vms_xstrdup(plan.why_not ? plan.why_not : "not a BPF compile");
		goto plain;
	}
	struct vms_argv dep = { 0 };
	for (size_t i = 0; i < plan.dep_flags.n; i++)
		vms_argv_push(&dep, plan.dep_flags.v[i]);
	const char *dep_file = plan.dep_file;
	if (q->extra_dep_file && !has_md(&plan)) {
		vms_argv_push(&dep, "-MD");
		dep_file = q->extra_dep_file;
	}
	struct vms_build_opts o = {
		.source = plan.source, .output = plan.output,
		.flags = (const char *const *)plan.flags.v, .clang = q->clang,
		.cache_dir = q->cache_dir, .raw_flags = 1, .dep_file = dep_file,
		.dep_flags = (const char *const *)dep.v, .require_pch = 1,
		.pch_seal_in = q->seal_in, .via = q->via,
	};
	struct vms_slim_build_opts so = { .ctx = q->slim_ctx, .verify = q->slim_verify };
	char *slim_why = NULL;
	rc = vms_slim_or_full_build(&o, q->slim ? &so : NULL, &r, &a->diags, &slim_why);
	have_r = 1;
	vms_argv_free(&dep);
	if (rc == 1 && r.clang_exit == 0 && q->slim_verify) {
		/* --verify found the slim object different from the full-header one: that is
		 * the answer (clang again would hide it behind a good object) */
		vms_diags_to_text(&a->diags, &a->err, &a->err_len);
		a->exit_code = 1;
		a->out = vms_xstrdup("");
		a->mode = vms_xstrdup(r.mode ? r.mode : "--verify failed");
		vms_build_result_free(&r);
		vms_cc_plan_free(&plan);
		free(slim_why);
		return VMS_CC_DONE;
	}
	if (rc == 0) {
		a->exit_code = r.clang_exit;
		a->err = vms_xstrdup(r.clang_stderr ? r.clang_stderr : "");
		a->err_len = strlen(a->err);
		a->out = vms_xstrdup("");
		a->mode = vms_xasprintf("%s (pch %.1f ms, compile %.1f ms)%s%s",
					r.mode ? r.mode : "PCH", r.pch_ms, r.compile_ms,
					slim_why ? "; --slim: " : "", slim_why ? slim_why : "");
		a->seal = r.pch_seal;
		vms_build_result_free(&r);
		vms_cc_plan_free(&plan);
		free(slim_why);
		return VMS_CC_DONE;
	}
	free(slim_why);
	a->mode = rerun_reason(rc, &r);
	if (rc != 1)
		a->seal = r.pch_seal;
plain:
	if (have_r)
		vms_build_result_free(&r);
	vms_cc_plan_free(&plan);
	/* On a compile error plain clang runs it again: its messages then are exactly clang's
	 * (no PCH in the include stacks), which a drop-in owes the user; errors are the slow
	 * path anyway. */
	if (!q->capture)
		return VMS_CC_EXEC;
	return run_plain(q, a);
}
