/* The clang runs of vms_build(): plain, through the -g PCH, and the -gmodules trial, each
 * building one command line from the plan (build.c) and leaving the verdict to build.c. */
#include "pch/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One clang command: the plan's flags, then what this run adds. */
struct compile {
	const struct pch_build *b;
	const char *pch;
	const char *include;		/* -include this header (a small one, instead of a PCH) */
	int gmodules;
	const char *output;		/* where clang writes (a temporary during a trial) */
	int explicit_deps;		/* to a temporary: name dep file and target explicitly */
};

static int run_compile(const struct compile *c, struct vms_proc_result *r, struct vms_diags *d)
{
	const struct vms_build_opts *o = c->b->o;
	const struct pch_depinfo *deps = &c->b->deps;
	struct vms_argv dep = { 0 };
	for (size_t i = 0; o->dep_flags && o->dep_flags[i]; i++)
		vms_argv_push(&dep, o->dep_flags[i]);
	if (o->dep_file) {
		vms_argv_push(&dep, "-MF");
		vms_argv_push(&dep, o->dep_file);
	}
	/* writing to a temporary output, clang would name the dependency file and its
	 * target after the temporary: name both after the real output */
	if (c->explicit_deps && deps->path && !deps->has_mf) {
		vms_argv_push(&dep, "-MF");
		vms_argv_push(&dep, deps->path);
	}
	if (c->explicit_deps && deps->path && !deps->has_target) {
		vms_argv_push(&dep, "-MQ");
		vms_argv_push(&dep, o->output);
	}
	/* a -gmodules trial may crash clang by design: no reproducer files in /tmp */
	static const char *const gm[] = { "-gmodules", "-fno-crash-diagnostics" };
	struct vms_bpf_cmd cmd = {
		.clang = c->b->cc.path,
		.opts = VMS_BPF_RAW, /* the plan's flags hold the BPF defaults already */
		.user = { { (const char *const *)c->b->flags.v, c->b->flags.n } },
		.extra = { gm, c->gmodules ? 2 : 0 },
		.pch = c->pch,
		.include = c->include,
		.deps = { (const char *const *)dep.v, dep.n },
		.input = o->source,
		.output = c->output,
	};
	struct vms_argv av = { 0 };
	vms_bpf_cmdline(&cmd, &av);
	vms_argv_free(&dep);
	int rc = vms_run(av.v, NULL, 0, VMS_PCH_CLANG_TIMEOUT_MS, r);
	if (rc < 0)
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", c->b->cc.path,
			     strerror(-rc));
	vms_argv_free(&av);
	return rc;
}

/* Runs c, adding its time to r->compile_ms. */
static int timed_compile(struct pch_build *b, const struct compile *c, struct vms_proc_result *pr)
{
	double t = vms_now_ms();
	int rc = run_compile(c, pr, b->d);
	b->r->compile_ms += vms_now_ms() - t;
	return rc;
}

/* The output clang writes when no trial is involved. */
static void final_output(const struct pch_build *b, struct compile *c)
{
	c->output = b->tmp_out ? b->tmp_out : b->o->output;
	c->explicit_deps = !!b->tmp_out;
}

int pch_looks_like_crash(const struct vms_proc_result *r)
{
	return r->signaled || r->exit_code >= 128 || strstr(r->err, "PLEASE submit a bug report") ||
	       strstr(r->err, "Stack dump:");
}

int pch_compile_plain(struct pch_build *b, struct vms_proc_result *pr)
{
	struct compile c = { .b = b, .include = b->small ? b->header : NULL };
	final_output(b, &c);
	return timed_compile(b, &c, pr);
}

/* Ensures the PCH po describes, holding its lock in *lock; PCH_NO_PCH when that fails. */
static int ensure_pch(struct pch_build *b, int gmodules, struct vms_pch_info *info, int *lock)
{
	double t = vms_now_ms();
	b->po.gmodules = gmodules;
	*lock = pch_ensure_locked(&b->po, &b->cc, info, b->d);
	b->r->pch_ms += vms_now_ms() - t;
	if (*lock < 0)
		return PCH_NO_PCH;
	b->r->pch_rebuilt |= info->rebuilt;
	return 0;
}

int pch_compile_gmodules(struct pch_build *b, const char *tmp, struct vms_proc_result *pr)
{
	if (ensure_pch(b, 1, &b->info_gm, &b->lock_gm))
		return PCH_NO_PCH;
	struct compile c = { .b = b, .pch = b->info_gm.pch_path, .gmodules = 1, .output = tmp,
			     .explicit_deps = 1 };
	int rc = timed_compile(b, &c, pr);
	close(b->lock_gm);
	b->lock_gm = -1;
	return rc;
}

int pch_compile_pch(struct pch_build *b, struct vms_proc_result *pr)
{
	struct vms_build_result *r = b->r;
	if (ensure_pch(b, 0, &b->info, &b->lock))
		return PCH_NO_PCH;
	r->used_pch = 1;
	r->pch_path = vms_xstrdup(b->info.pch_path);
	struct compile c = { .b = b, .pch = b->info.pch_path };
	final_output(b, &c);
	int rc = timed_compile(b, &c, pr);
	if (rc == 0 && pr->exit_code != 0 &&
	    strstr(pr->err, "has been modified since the precompiled header")) {
		/* the header moved between our check and clang's: clang refused, as it should;
		 * one more round rebuilds the PCH */
		vms_proc_result_free(pr);
		close(b->lock);
		struct vms_pch_info again;
		b->lock = pch_ensure_locked(&b->po, &b->cc, &again, b->d);
		if (b->lock < 0) {
			vms_pch_info_free(&again);
			return b->lock;
		}
		r->pch_rebuilt |= again.rebuilt;
		free(r->pch_path);
		r->pch_path = vms_xstrdup(again.pch_path);
		c.pch = r->pch_path;
		rc = run_compile(&c, pr, b->d);
		vms_pch_info_free(&again);
	}
	return rc;
}
