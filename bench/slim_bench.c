/* bench/slim_bench: the slim path's costs, in-process, per program.
 *
 *   slim_bench FULL_VMLINUX_H RUNS WORKDIR PROG.bpf.c...
 *
 * Per program, the median of RUNS runs of:
 *   cold       vms_extract (what `vmslim extract --from PROG` runs: program and header parsed
 *              together)
 *   warm       vms_slim_extract through one warm context (what the daemon does)
 *   slim build vms_slim_build with that context (derived header from the cache after the
 *              first run; what `vmslim cc --slim` costs inside the daemon)
 *   pch build  vms_build through the full header's PCH (made before timing)
 *   plain      vms_build --no-pch with the full header
 * and once, the warm context's creation. Each slim object is checked with vms_obj_compare
 * against the plain one, so no figure stands for a wrong build. Exit 0, 1 when a build
 * failed or differed, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bpfobj/bpfobj.h"
#include "slim/slim.h"

enum { COLD, WARM, SLIM, PCH, PLAIN, NCOL };
static const char *const col_names[NCOL] = { "cold extract", "warm extract", "slim build",
					     "pch build", "plain build" };

struct prog_run {
	const char *header, *prog, *work;
	struct vms_slim_ctx *ctx;
	const char *const *flags;
};

static double time_cold(const struct prog_run *p)
{
	const char *progs[] = { p->prog, NULL };
	struct vms_extract_opts o = { .header_path = p->header, .programs = progs };
	struct vms_diags d = { 0 };
	char *out = NULL;
	size_t len;
	double t0 = vms_now_ms();
	int rc = vms_extract(&o, &out, &len, NULL, &d);
	double ms = vms_now_ms() - t0;
	free(out);
	vms_diags_free(&d);
	return rc ? -1 : ms;
}

static double time_warm(const struct prog_run *p)
{
	struct vms_diags d = { 0 };
	char *out = NULL;
	size_t len;
	double t0 = vms_now_ms();
	int rc = vms_slim_extract(p->ctx, p->prog, NULL, &out, &len, NULL, &d);
	double ms = vms_now_ms() - t0;
	free(out);
	vms_diags_free(&d);
	return rc ? -1 : ms;
}

/* col SLIM, PCH or PLAIN into WORKDIR/<col>.o */
static double time_build(const struct prog_run *p, int col)
{
	static const char *const outs[NCOL] = { [SLIM] = "slim.o", [PCH] = "pch.o",
						[PLAIN] = "plain.o" };
	char *out = vms_xasprintf("%s/%s", p->work, outs[col]);
	char *cache = vms_xasprintf("%s/cache", p->work);
	struct vms_build_opts o = { .source = p->prog, .output = out, .flags = p->flags,
				    .cache_dir = cache, .no_pch = col == PLAIN };
	struct vms_slim_build_opts so = { .build = &o, .ctx = p->ctx };
	struct vms_build_result r;
	struct vms_diags d = { 0 };
	double t0 = vms_now_ms();
	int rc = col == SLIM ? vms_slim_build(&so, &r, &d) : vms_build(&o, &r, &d);
	double ms = vms_now_ms() - t0;
	if (rc)
		fprintf(stderr, "%s: %s: %s%s", p->prog, col_names[col], r.mode, r.clang_stderr);
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(out), free(cache);
	return rc ? -1 : ms;
}

static double time_one(const struct prog_run *p, int col)
{
	return col == COLD ? time_cold(p) : col == WARM ? time_warm(p) : time_build(p, col);
}

static int same_objects(const struct prog_run *p)
{
	char *a = vms_xasprintf("%s/plain.o", p->work), *b = vms_xasprintf("%s/slim.o", p->work);
	struct vms_diags d = { 0 };
	int same = vms_obj_compare(a, b, &d) == 0;
	if (!same)
		fprintf(stderr, "%s: the slim object differs from the plain one\n", p->prog);
	vms_diags_free(&d);
	free(a), free(b);
	return same;
}

int main(int argc, char **argv)
{
	if (argc < 5 || atoi(argv[2]) < 1) {
		fprintf(stderr, "usage: %s FULL_VMLINUX_H RUNS WORKDIR PROG.bpf.c...\n", argv[0]);
		return 2;
	}
	int runs = atoi(argv[2]);
	char *inc = vms_dirname(argv[1]);
	char *incflag = vms_xasprintf("-I%s", inc);
	const char *flags[] = { incflag, NULL };
	struct prog_run p = { .header = argv[1], .work = argv[3], .flags = flags };
	struct vms_diags d = { 0 };
	vms_mkdir_p(argv[3], 0755);
	double t0 = vms_now_ms();
	if (vms_slim_ctx_new(argv[1], flags, NULL, &p.ctx, &d)) {
		vms_diags_print(stderr, &d);
		return 1;
	}
	printf("warm context for %s: %.0f ms (once per header and flags)\n\n", argv[1],
	       vms_now_ms() - t0);
	/* the warm context was made for these flags; the extraction columns use none, as
	 * `vmslim extract --from` does, so they get a context of their own */
	struct vms_slim_ctx *bare;
	if (vms_slim_ctx_new(argv[1], NULL, NULL, &bare, &d)) {
		vms_diags_print(stderr, &d);
		return 1;
	}
	printf("| program | %s | %s | %s | %s | %s | cold/warm | plain/slim |\n", col_names[0],
	       col_names[1], col_names[2], col_names[3], col_names[4]);
	printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
	int bad = 0;
	for (int i = 4; i < argc; i++) {
		p.prog = argv[i];
		double med[NCOL];
		for (int c = 0; c < NCOL; c++) {
			struct prog_run q = p;
			if (c == COLD || c == WARM)
				q.ctx = bare, q.flags = NULL;
			(void)time_one(&q, c); /* warm-up: PCH and derived header made */
			double *ms = vms_xcalloc((size_t)runs, sizeof(double));
			int ok = 1;
			for (int k = 0; k < runs; k++)
				ok &= (ms[k] = time_one(&q, c)) >= 0;
			struct vms_bench_summary s;
			vms_bench_summarize(ms, (size_t)runs, &s);
			med[c] = ok ? s.median : -1;
			bad += !ok;
			free(ms);
		}
		bad += !same_objects(&p);
		printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1fx | %.2fx |\n",
		       vms_basename(p.prog), med[COLD], med[WARM], med[SLIM], med[PCH], med[PLAIN],
		       med[COLD] / med[WARM], med[PLAIN] / med[SLIM]);
		fflush(stdout);
	}
	vms_slim_ctx_free(p.ctx);
	vms_slim_ctx_free(bare);
	vms_diags_free(&d);
	free(inc), free(incflag);
	return bad ? 1 : 0;
}
