/* The clang runs of vms_build(): plain, through the -g PCH, and the -gmodules trial, each
 * building one command line from the plan (build.c) and leaving the verdict to build.c. */
#include "pch/internal.h"
#include "common/sandbox.h"

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

/* The sandbox a clang run that reads the program gets: the caller's, plus what the PCH
 * path makes clang read (the PCH, the header and the files it includes, the include
 * shim), in the caller's current directory unless it names one. */
struct box {
	struct vms_sandbox sb;
	struct vms_argv read;
	char *cwd;
};

static void box_init(const struct compile *c, struct box *x)
{
	const struct pch_build *b = c->b;
	const struct vms_sandbox *sb = b->o->sandbox;
	memset(x, 0, sizeof(*x));
	x->sb = *sb;
	for (size_t i = 0; sb->read && sb->read[i]; i++)
		vms_argv_push(&x->read, sb->read[i]);
	const struct vms_pch_info *info = c->pch == b->info_gm.pch_path ? &b->info_gm : &b->info;
	if (c->pch) {
		vms_argv_push(&x->read, c->pch);
		for (size_t i = 0; i < info->inputs.n; i++)
			vms_argv_push(&x->read, info->inputs.v[i]);
	}
	if (b->header)
		vms_argv_push(&x->read, b->header);
	if (b->shim_path)
		vms_argv_push(&x->read, b->shim_path);
	x->sb.read = (const char *const *)x->read.v;
	if (!sb->cwd) {
		x->cwd = getcwd(NULL, 0);
		x->sb.cwd = x->cwd;
	}
}

static void box_free(struct box *x)
{
	vms_argv_free(&x->read);
	free(x->cwd);
}

/* One clang process, in the sandbox when the build has one. */
static int run_clang(const struct compile *c, struct vms_argv *av, struct vms_proc_result *r,
		     struct vms_diags *d)
{
	int rc;
	if (c->b->o->sandbox) {
		struct box x;
		box_init(c, &x);
		rc = vms_run_sandboxed(av->v, &x.sb, VMS_PCH_CLANG_TIMEOUT_MS, r);
		box_free(&x);
	} else {
		rc = vms_run(av->v, NULL, 0, VMS_PCH_CLANG_TIMEOUT_MS, r);
	}
	if (rc < 0)
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot run %s: %s", c->b->cc.path,
			     strerror(-rc));
	return rc;
}

/* The frontend's command, to the object or (ir non-NULL) to textual LLVM IR without
 * any optimization: the backend step then runs exactly the passes a one-step build
 * would (measured byte-identical objects, see tests/pch/test_seal.c). */
static void frontend_cmdline(const struct compile *c, const char *ir, struct vms_argv *av)
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
	/* writing to a temporary output (or to IR), clang would name the dependency file
	 * and its target after it: name both after the real output */
	int explicit_deps = c->explicit_deps || ir;
	if (explicit_deps && deps->path && !deps->has_mf) {
		vms_argv_push(&dep, "-MF");
		vms_argv_push(&dep, deps->path);
	}
	if (explicit_deps && deps->path && !deps->has_target) {
		vms_argv_push(&dep, "-MQ");
		vms_argv_push(&dep, o->output);
	}
	/* a -gmodules trial may crash clang by design, and an untrusted source may crash
	 * it at will: no reproducer files in /tmp */
	const char *extra[8];
	size_t n = 0;
	if (c->gmodules)
		extra[n++] = "-gmodules";
	if (c->gmodules || o->sandbox)
		extra[n++] = "-fno-crash-diagnostics";
	if (ir) {
		extra[n++] = "-S";
		extra[n++] = "-emit-llvm";
		extra[n++] = "-Xclang";
		extra[n++] = "-disable-llvm-passes";
	}
	struct vms_bpf_cmd cmd = {
		.clang = c->b->cc.path,
		.opts = VMS_BPF_RAW, /* the plan's flags hold the BPF defaults already */
		.user = { { (const char *const *)c->b->flags.v, c->b->flags.n } },
		.extra = { extra, n },
		.pch = c->pch,
		.include = c->include,
		.deps = { (const char *const *)dep.v, dep.n },
		.input = o->source,
		.output = ir ? ir : c->output,
	};
	vms_bpf_cmdline(&cmd, av);
	vms_argv_free(&dep);
}

/* The backend on the IR: the same flags (target, optimization, debug info; the
 * preprocessor's go unused), the IR read as IR whatever the flags say of languages. */
static void backend_cmdline(const struct compile *c, const char *ir, struct vms_argv *av)
{
	const struct pch_build *b = c->b;
	vms_argv_push(av, b->cc.path);
	for (size_t i = 0; i < b->flags.n; i++)
		vms_argv_push(av, b->flags.v[i]);
	if (c->gmodules)
		vms_argv_push(av, "-gmodules");
	if (c->gmodules || b->o->sandbox)
		vms_argv_push(av, "-fno-crash-diagnostics");
	vms_argv_push(av, "-Wno-unused-command-line-argument");
	vms_argv_push(av, "-x");
	vms_argv_push(av, "ir");
	vms_argv_push(av, "-c");
	vms_argv_push(av, ir);
	vms_argv_push(av, "-o");
	vms_argv_push(av, c->output);
}

/* The IR's inline assembly: PCH_REFUSED with the diagnostic, or 0. */
static int audit_ir(const struct compile *c, const char *ir, struct vms_diags *d)
{
	const struct pch_build *b = c->b;
	char *text;
	size_t len;
	int rc = vms_read_file(ir, &text, &len);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, ir, 0, 0, "cannot read the IR: %s", strerror(-rc));
		return rc;
	}
	struct pch_asm_finding f;
	if (pch_ir_audit(text, len, b->src, b->src_len, &f)) {
		vms_diag_add(d, VMS_ERROR, b->o->source, f.line, 0,
			     "refused: assembler directive %s %s", f.directive, f.why);
		rc = PCH_REFUSED;
	}
	free(text);
	return rc;
}

/* Runs clang once (or, auditing, frontend + audit + backend). Returns what vms_run()
 * returned, PCH_REFUSED, or -errno; r holds clang's answer when 0 (both steps' output,
 * the exit code of the first that failed). */
static int run_compile(const struct compile *c, struct vms_proc_result *r, struct vms_diags *d)
{
	const struct vms_build_opts *o = c->b->o;
	if (o->audit_asm && !strcmp(c->output, "-")) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "auditing the assembly needs an output file");
		return -EINVAL;
	}
	char *ir = o->audit_asm ? vms_xasprintf("%s.ll.tmp.%d", c->output, (int)getpid()) : NULL;
	if (ir)
		vms_cleanup_add_path(ir);
	struct vms_argv av = { 0 };
	frontend_cmdline(c, ir, &av);
	int rc = run_clang(c, &av, r, d);
	vms_argv_free(&av);
	if (ir && rc == 0 && r->exit_code == 0) {
		rc = audit_ir(c, ir, d);
		if (rc == 0) {
			struct vms_proc_result r2;
			backend_cmdline(c, ir, &av);
			rc = run_clang(c, &av, &r2, d);
			vms_argv_free(&av);
			if (rc == 0) {
				char *both = vms_xasprintf("%s%s", r->err, r2.err);
				free(r2.err);
				r2.err = both;
				r2.err_len = strlen(both);
				vms_proc_result_free(r);
				*r = r2;
			}
		}
		if (rc != 0)
			vms_proc_result_free(r);
	}
	if (ir) {
		unlink(ir);
		vms_cleanup_remove_path(ir);
		free(ir);
	}
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
	b->r->pch_hashed |= info->hashed;
	b->r->pch_seal = info->seal;
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
		r->pch_hashed |= again.hashed;
		r->pch_seal = again.seal;
		free(r->pch_path);
		r->pch_path = vms_xstrdup(again.pch_path);
		c.pch = r->pch_path;
		rc = run_compile(&c, pr, b->d);
		vms_pch_info_free(&again);
	}
	return rc;
}

/* ---- through a compile server (o->via) ---- */

/* -MT/-MQ's targets as clang writes them (-MQ quoted for make), else the output's. */
static void dep_targets(const struct vms_build_opts *o, struct vms_argv *out)
{
	for (size_t i = 0; o->dep_flags && o->dep_flags[i]; i++) {
		const char *a = o->dep_flags[i], *v = NULL;
		int quote = !strncmp(a, "-MQ", 3);
		if ((!strcmp(a, "-MT") || !strcmp(a, "-MQ")) && o->dep_flags[i + 1])
			v = o->dep_flags[++i];
		else if (!strncmp(a, "-MT", 3) || quote)
			v = a + 3;
		if (!v)
			continue;
		char *q = quote ? pch_dep_escape(v) : vms_xstrdup(v);
		vms_argv_push(out, q);
		free(q);
	}
	if (!out->n) {
		char *q = pch_dep_escape(o->output);
		vms_argv_push(out, q);
		free(q);
	}
}

int pch_compile_via(struct pch_build *b, int *rc)
{
	const struct vms_build_opts *o = b->o;
	/* a program that #defines before its include never matches a server that read the
	 * header first; asking would only start one in vain */
	if (!o->via || o->sandbox || o->audit_asm || !b->header || b->pre.defines.n ||
	    !strcmp(o->output, "-"))
		return 0;
	int mmd = 0, phony = 0;
	for (size_t i = 0; o->dep_flags && o->dep_flags[i]; i++) {
		mmd |= !strcmp(o->dep_flags[i], "-MMD");
		phony |= !strcmp(o->dep_flags[i], "-MP");
	}
	struct vms_argv targets = { 0 };
	dep_targets(o, &targets);
	struct vms_dep_req dr = { .file = b->deps.path, .system = !mmd, .phony = phony,
				  .targets = (const char *const *)targets.v };
	struct vms_build_via_req q = {
		.clang = b->cc.path, .flags = (const char *const *)b->flags.v, .header = b->header,
		.source = o->source, .output = o->output, .deps = b->deps.path ? &dr : NULL,
	};
	struct vms_build_result vr = { 0 };
	int got = o->via->compile(o->via->ctx, &q, &vr, b->d);
	vms_argv_free(&targets);
	struct vms_build_result *r = b->r;
	if (got == 0 || got == 1) {
		free(r->clang_stderr);
		r->clang_stderr = vr.clang_stderr ? vr.clang_stderr : vms_xstrdup("");
		vr.clang_stderr = NULL;
		r->clang_exit = vr.clang_exit;
		r->compile_ms += vr.compile_ms;
		r->used_pch = 0;
		char *m = vms_xstrdup(vr.mode ? vr.mode : "compile server");
		free(r->mode);
		r->mode = m;
		b->installed = got == 0; /* the server wrote the output itself */
		*rc = got;
	} else if (vr.mode) {
		/* why it did not serve, after why the build went the way it goes */
		char *m = r->mode ? vms_xasprintf("%s; %s", r->mode, vr.mode) : vms_xstrdup(vr.mode);
		free(r->mode);
		r->mode = m;
	}
	vms_build_result_free(&vr);
	if (got < 0 || got > 2)
		*rc = got < 0 ? got : -EIO;
	return got != 2;
}
