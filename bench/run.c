/* The harness: inputs prepared once, then rounds of every row, interleaved.
 *
 * On a shared machine the cost of the same command drifts by tens of percent over a
 * minute (other jobs, frequency scaling, the page cache). Running row A ten times and
 * then row B ten times would put that drift between A and B; running A B C ... once per
 * round, round after round, spreads it over all rows alike, so their ratios stay honest
 * even when the absolute times do not. Warm-up rounds come first and are not recorded:
 * they fill the page cache, build the PCH of `vmslim build` and the daemon's cache entry,
 * which is the state a developer's machine is in after the first build of the day.
 * The median is the figure reported (robust to the odd slow run); p90 says how bad the
 * slow runs are. A row that crashes or fails once stops being run: it keeps its state
 * and its note, and the table still shows it. */
#include "bench/internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "extract/extract.h"
#include "pch/pch.h"

#define KERNEL_BTF "/sys/kernel/btf/vmlinux"

/* With no program given: the exec tracer (the seed-style program), a CO-RE program that
 * chases task_struct pointers, and an XDP program that uses almost nothing of vmlinux.h. */
static const char *const default_programs[] = { "execsnoop.bpf.c", "procinfo.bpf.c",
						"xdp_filter.bpf.c" };

const char *vms_bench_state_name(enum vms_bench_state s)
{
	switch (s) {
	case VMS_BENCH_OK: return "ok";
	case VMS_BENCH_CRASHES: return "crashes";
	case VMS_BENCH_FAILED: return "failed";
	case VMS_BENCH_UNSUPPORTED: return "unsupported";
	case VMS_BENCH_SKIPPED: return "skipped";
	}
	return "?";
}

void bench_progress(struct bctx *c, const char *fmt, ...)
{
	if (!c->o->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line;
	if (vasprintf(&line, fmt, ap) >= 0) {
		c->o->progress(c->o->progress_ctx, line);
		free(line);
	}
	va_end(ap);
}

void bench_fmt_bytes(char *out, size_t n, long long bytes)
{
	if (bytes < 0)
		snprintf(out, n, "-");
	else if (bytes < 1000)
		snprintf(out, n, "%lld B", bytes);
	else if (bytes < 1000 * 1000)
		snprintf(out, n, "%.1f KB", (double)bytes / 1e3);
	else
		snprintf(out, n, "%.1f MB", (double)bytes / 1e6);
}

void bench_fmt_ms(char *out, size_t n, double ms)
{
	if (ms < 0.995)
		snprintf(out, n, "%.2f", ms);
	else if (ms < 99.95)
		snprintf(out, n, "%.1f", ms);
	else
		snprintf(out, n, "%.0f", ms);
}

/* ---- the machine and the tools, for the report's header ------------------------ */

static char *first_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	return vms_xstrndup(s, nl ? (size_t)(nl - s) : strlen(s));
}

static char *tool_version(const char *tool, const char *flag)
{
	char *argv[] = { (char *)tool, (char *)flag, NULL };
	struct vms_proc_result r;
	if (vms_run(argv, NULL, 0, 10000, &r))
		return vms_xasprintf("%s: not found", tool);
	char *v = first_line(r.out_len ? r.out : r.err);
	vms_proc_result_free(&r);
	return v;
}

static char *machine_line(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	char *model = NULL, *text;
	size_t len;
	if (vms_read_file("/proc/cpuinfo", &text, &len) == 0) {
		char *m = strstr(text, "model name");
		char *colon = m ? strchr(m, ':') : NULL;
		if (colon) {
			colon++;
			while (*colon == ' ' || *colon == '\t')
				colon++;
			model = first_line(colon);
		}
		free(text);
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	char *s = vms_xasprintf("%s %s %s, %ld CPU%s%s%s%s", u.sysname, u.release, u.machine, ncpu,
				ncpu == 1 ? "" : "s", model ? " (" : "", model ? model : "",
				model ? ")" : "");
	free(model);
	return s;
}

/* ---- inputs --------------------------------------------------------------------- */

static int prepare_header(struct bctx *c, struct vms_bench_report *rep, struct vms_diags *d)
{
	const struct vms_bench_opts *o = c->o;
	c->full_dir = vms_xasprintf("%s/full", c->work);
	c->full = vms_xasprintf("%s/vmlinux.h", c->full_dir);
	vms_mkdir_p(c->full_dir, 0755);
	if (o->header) {
		char *real = vms_realpath(o->header);
		if (!real || access(real, R_OK) != 0) {
			vms_diag_add(d, VMS_ERROR, o->header, 0, 0, "cannot read the header: %s",
				     strerror(errno));
			free(real);
			return -1;
		}
		/* a symlink named vmlinux.h, so -I<dir> resolves the program's include to it */
		if (symlink(real, c->full) < 0) {
			vms_diag_add(d, VMS_ERROR, c->full, 0, 0, "cannot create symlink: %s",
				     strerror(errno));
			free(real);
			return -1;
		}
		rep->header_origin = real;
	} else {
		const char *btf = o->btf;
		const char *why = "";
		if (!btf) {
			if (access(KERNEL_BTF, R_OK) == 0) {
				btf = KERNEL_BTF;
				why = " (running kernel)";
			} else if (o->fallback_btf) {
				btf = o->fallback_btf;
				why = " (pinned; the running kernel has no BTF)";
			} else {
				vms_diag_add(d, VMS_ERROR, KERNEL_BTF, 0, 0,
					     "no kernel BTF here: give --header or --btf");
				return -1;
			}
		}
		char *text;
		size_t len;
		double t0 = vms_now_ms();
		if (vms_btf_to_c(btf, &text, &len, d) < 0)
			return -1;
		int rc = vms_write_file_atomic(c->full, text, len, 0644);
		free(text);
		if (rc < 0) {
			vms_diag_add(d, VMS_ERROR, c->full, 0, 0, "cannot write: %s", strerror(-rc));
			return -1;
		}
		bench_progress(c, "vmlinux.h from %s: %.0f ms (vms_btf_to_c)", btf, vms_now_ms() - t0);
		rep->header_origin = vms_xasprintf("BTF %s%s", btf, why);
	}
	struct stat st;
	rep->header_bytes = stat(c->full, &st) == 0 ? (long long)st.st_size : -1;
	return 0;
}

static int prepare_program(struct bctx *c, struct bprog *p, size_t idx, const char *path,
			   struct vms_diags *d)
{
	p->path = vms_realpath(path);
	int e = p->path ? -vms_read_file(p->path, &p->source, &p->len) : errno;
	if (e) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot read the program: %s", strerror(e));
		return -1;
	}
	p->name = vms_xstrdup(vms_basename(p->path));
	p->dir = vms_dirname(p->path);
	char *stem = vms_xstrdup(p->name);
	char *dot = strchr(stem, '.');
	if (dot)
		*dot = 0;
	p->root = vms_xasprintf("%s/%zu-%s", c->work, idx, stem);
	free(stem);
	char *src = vms_xasprintf("%s/src", p->root), *obj = vms_xasprintf("%s/obj", p->root);
	p->slim_dir = vms_xasprintf("%s/slim", p->root);
	p->slim = vms_xasprintf("%s/vmlinux.h", p->slim_dir);
	p->staged = vms_xasprintf("%s/%s", src, p->name);
	int rc = vms_mkdir_p(src, 0755);
	if (!rc)
		rc = vms_mkdir_p(obj, 0755);
	if (!rc)
		rc = vms_mkdir_p(p->slim_dir, 0755);
	if (!rc)
		rc = vms_write_file_atomic(p->staged, p->source, p->len, 0644);
	free(src);
	free(obj);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, p->root, 0, 0, "cannot prepare: %s", strerror(-rc));
		return -1;
	}

	/* The slim header every slim row uses: the same call `vmslim extract --from` makes. */
	const char *progs[] = { p->path, NULL };
	struct vms_extract_opts eo = { .header_path = c->full, .programs = progs };
	struct vms_extract_stats st;
	char *text;
	size_t len;
	if (vms_extract(&eo, &text, &len, &st, d) < 0)
		return -1;
	rc = vms_write_file_atomic(p->slim, text, len, 0644);
	char hex[33];
	vms_hash128_hex(vms_hash128(text, len), hex);
	p->slim_hash = vms_xstrdup(hex);
	p->slim_bytes = (long long)len;
	free(text);
	if (rc < 0) {
		vms_diag_add(d, VMS_ERROR, p->slim, 0, 0, "cannot write: %s", strerror(-rc));
		return -1;
	}
	char a[32], b[32];
	bench_fmt_bytes(a, sizeof(a), (long long)st.bytes_kept);
	bench_fmt_bytes(b, sizeof(b), (long long)st.bytes_total);
	bench_progress(c, "%s: slim header %s of %s (%zu of %zu types), %.0f ms", p->name, a, b,
		       st.types_kept, st.types_total, st.total_ms);
	return 0;
}

/* ---- statistics ----------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void vms_bench_summarize(const double *ms, size_t n, struct vms_bench_summary *out)
{
	*out = (struct vms_bench_summary){ 0 };
	if (!n)
		return;
	double *v = vms_xmalloc(n * sizeof(*v));
	memcpy(v, ms, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_double);
	out->min = v[0];
	out->max = v[n - 1];
	out->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	/* nearest rank */
	size_t k = (size_t)ceil(0.9 * (double)n);
	out->p90 = v[k ? k - 1 : 0];
	free(v);
}

static void row_stats(struct vms_bench_row *r)
{
	if (!r->n)
		return;
	struct vms_bench_summary s;
	vms_bench_summarize(r->ms, r->n, &s);
	r->median = s.median;
	r->p90 = s.p90;
	r->min = s.min;
	r->max = s.max;
}

static void finish_rows(struct bctx *c, struct vms_bench_report *rep, char **last_obj)
{
	size_t nr = c->n_rows;
	for (size_t i = 0; i < rep->n; i++)
		row_stats(&rep->rows[i]);
	for (size_t pi = 0; pi < c->n_progs; pi++) {
		struct vms_bench_row *rows = rep->rows + pi * nr;
		char **objs = last_obj + pi * nr;
		const char *ref_obj = NULL;
		for (size_t j = 0; j < nr; j++) {
			if (!rows[j].baseline)
				continue;
			if (!strcmp(rows[j].stage, "build") && rows[j].state == VMS_BENCH_OK)
				ref_obj = objs[j];
			for (size_t k = 0; k < nr; k++) {
				if (strcmp(rows[k].stage, rows[j].stage) || rows[k].state != VMS_BENCH_OK ||
				    rows[j].state != VMS_BENCH_OK || rows[j].median <= 0)
					continue;
				rows[k].ratio = k == j ? 1.0 : rows[k].median / rows[j].median;
			}
		}
		/* the claim behind every faster build row: the same object as the plain one */
		for (size_t j = 0; j < nr; j++) {
			if (strcmp(rows[j].stage, "build") || rows[j].state != VMS_BENCH_OK ||
			    !objs[j] || !ref_obj)
				continue;
			if (objs[j] == ref_obj) {
				rows[j].same_object = 1;
				continue;
			}
			char *why;
			rows[j].same_object = bench_same_object(ref_obj, objs[j], &why);
			if (rows[j].same_object == 0 && why) {
				char *note = vms_xasprintf("%s%sobject differs: %s",
							   rows[j].note ? rows[j].note : "",
							   rows[j].note ? "; " : "", why);
				free(rows[j].note);
				rows[j].note = note;
			}
			free(why);
		}
	}
}

/* ---- the run -------------------------------------------------------------------- */

static void free_prog(struct bprog *p)
{
	free(p->path), free(p->name), free(p->dir), free(p->source), free(p->root);
	free(p->staged), free(p->slim_dir), free(p->slim), free(p->slim_hash);
	free(p->pch_slim), free(p->gm_pch_slim), free(p->pch_slim_err), free(p->gm_pch_slim_err);
	free(p->serve_socket), free(p->serve_why_not);
}

int vms_bench_run(const struct vms_bench_opts *o, struct vms_bench_report *rep,
		  struct vms_diags *d)
{
	memset(rep, 0, sizeof(*rep));
	double t_start = vms_now_ms();
	struct bctx c = { .o = o };
	int rc = -1;
	char **last_obj = NULL;
	struct vms_argv progs = { 0 };

	if (!o->headers_dir) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "bench needs vmslim's headers directory");
		return -1;
	}
	for (const char *const *p = o->programs; p && *p; p++)
		vms_argv_push(&progs, *p);
	if (!progs.n) {
		if (!o->programs_dir) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
				     "no program given and no directory of example programs");
			return -1;
		}
		size_t n = o->quick ? 1 : sizeof(default_programs) / sizeof(default_programs[0]);
		for (size_t i = 0; i < n; i++)
			vms_argv_pushf(&progs, "%s/%s", o->programs_dir, default_programs[i]);
	}
	rep->runs = o->runs > 0 ? o->runs : o->quick ? 3 : 10;
	rep->warmup = o->warmup > 0 ? o->warmup : 1;
	c.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 120000;
	c.tcc = vms_xstrdup(o->tcc ? o->tcc : "tcc");

	if (o->work_dir) {
		c.work = vms_realpath(o->work_dir);
		if (!c.work && vms_mkdir_p(o->work_dir, 0755) == 0)
			c.work = vms_realpath(o->work_dir);
	} else {
		c.work = vms_make_tempdir("vmslim-bench");
		c.own_work = 1;
	}
	if (!c.work) {
		vms_diag_add(d, VMS_ERROR, o->work_dir, 0, 0, "cannot make the work directory: %s",
			     strerror(errno));
		goto out;
	}
	c.cache = vms_xasprintf("%s/cache", c.work);
	vms_mkdir_p(c.cache, 0755);

	rep->machine = machine_line();
	{
		struct vms_compiler cc = { 0 };
		if (vms_compiler_identify(vms_clang_default(o->clang), c.cache, &cc, d) < 0)
			goto out;
		c.clang = vms_xstrdup(cc.path);
		rep->clang_version = first_line(cc.version);
		vms_compiler_free(&cc);
	}
	rep->tcc_version = tool_version(c.tcc, "-v");

	if (prepare_header(&c, rep, d) < 0)
		goto out;
	c.n_progs = progs.n;
	c.progs = vms_xcalloc(progs.n, sizeof(*c.progs));
	rep->programs = vms_xcalloc(progs.n, sizeof(*rep->programs));
	for (size_t i = 0; i < progs.n; i++) {
		if (prepare_program(&c, &c.progs[i], i, progs.v[i], d) < 0)
			goto out;
		rep->programs[i] = vms_xstrdup(c.progs[i].name);
		rep->n_programs++;
	}
	bench_progress(&c, "preparing PCHs, TCC snapshots%s", o->vmslim_exe ? ", the daemon" : "");
	if (bench_prepare_global(&c, d) < 0)
		goto out;
	for (size_t i = 0; i < c.n_progs; i++)
		if (bench_prepare_prog(&c, &c.progs[i], d) < 0)
			goto out;
	/* what setup noted (a snapshot that could not start...) shows again in the rows;
	 * the progress lines say it once, and the run goes on */
	for (size_t i = 0; i < d->n; i++)
		bench_progress(&c, "  setup: %s%s%s", d->v[i].file ? d->v[i].file : "",
			       d->v[i].file ? ": " : "", d->v[i].msg);
	vms_diags_free(d);

	/* the rows of this run: a user's choices, and the internal variants only when asked */
	c.rows = vms_xcalloc(vms_bench_n_rows, sizeof(*c.rows));
	for (size_t j = 0; j < vms_bench_n_rows; j++)
		if (o->all_rows || !vms_bench_rows[j].internal)
			c.rows[c.n_rows++] = &vms_bench_rows[j];
	size_t nr = c.n_rows;
	rep->n = c.n_progs * nr;
	rep->rows = vms_xcalloc(rep->n, sizeof(*rep->rows));
	last_obj = vms_xcalloc(rep->n, sizeof(*last_obj));
	for (size_t i = 0; i < c.n_progs; i++)
		for (size_t j = 0; j < nr; j++) {
			struct vms_bench_row *r = &rep->rows[i * nr + j];
			const struct brow_def *def = c.rows[j];
			r->program = vms_xstrdup(c.progs[i].name);
			r->id = def->id;
			r->stage = def->stage;
			r->label = def->label;
			r->calls = def->calls;
			r->command = def->command;
			r->baseline = def->baseline;
			r->out_bytes = r->ref_bytes = -1;
			r->same_object = -1;
			r->ms = vms_xcalloc((size_t)rep->runs, sizeof(double));
		}

	int total = rep->warmup + rep->runs;
	for (int round = 0; round < total; round++) {
		int measured = round >= rep->warmup;
		double t_round = vms_now_ms();
		struct vms_buf line = { 0 };
		vms_buf_printf(&line, "round %d/%d%s:", round + 1, total, measured ? "" : " (warm-up)");
		for (size_t i = 0; i < c.n_progs; i++) {
			double t_prog = vms_now_ms();
			for (size_t j = 0; j < nr; j++) {
				struct vms_bench_row *r = &rep->rows[i * nr + j];
				if (r->state != VMS_BENCH_OK)
					continue;
				struct bsample s = { .out_bytes = -1, .ref_bytes = -1 };
				c.rows[j]->run(&c, &c.progs[i], c.rows[j], &s);
				if (s.state != VMS_BENCH_OK) {
					r->state = s.state;
					free(r->note);
					r->note = s.note;
					s.note = NULL;
					bench_progress(&c, "  %s, %s: %s: %s", r->program, r->label,
						       vms_bench_state_name(r->state),
						       r->note ? r->note : "");
				} else if (measured) {
					r->ms[r->n++] = s.ms;
					r->out_bytes = s.out_bytes;
					r->ref_bytes = s.ref_bytes;
					if (s.note && !r->note) {
						r->note = s.note;
						s.note = NULL;
					}
					if (s.out_path) {
						free(last_obj[i * nr + j]);
						last_obj[i * nr + j] = s.out_path;
						s.out_path = NULL;
					}
				}
				free(s.note);
				free(s.out_path);
			}
			if (c.n_progs <= 4)
				vms_buf_printf(&line, " %s %.1f s", c.progs[i].name,
					       (vms_now_ms() - t_prog) / 1e3);
		}
		if (c.n_progs > 4)
			vms_buf_printf(&line, " %zu programs %.1f s", c.n_progs,
				       (vms_now_ms() - t_round) / 1e3);
		bench_progress(&c, "%s", line.data);
		vms_buf_free(&line);
	}
	/* a daemon must also survive its own shutdown, or its rows do not count */
	for (size_t i = 0; i < c.n_progs; i++) {
		char *why;
		if (bench_stop_daemon(&c.progs[i], &why) == 0)
			continue;
		bench_progress(&c, "  %s", why);
		for (size_t j = 0; j < nr; j++) {
			struct vms_bench_row *r = &rep->rows[i * nr + j];
			if (strstr(r->id, ".daemon") && r->state == VMS_BENCH_OK) {
				r->state = VMS_BENCH_FAILED;
				free(r->note);
				r->note = vms_xstrdup(why);
			}
		}
		free(why);
	}
	finish_rows(&c, rep, last_obj);
	rc = 0;
out:
	bench_teardown(&c);
	if (last_obj)
		for (size_t i = 0; i < rep->n; i++)
			free(last_obj[i]);
	free(last_obj);
	if (c.own_work && c.work)
		vms_remove_tree(c.work);
	for (size_t i = 0; i < c.n_progs; i++)
		free_prog(&c.progs[i]);
	free(c.progs);
	free(c.rows);
	free(c.work), free(c.cache), free(c.full_dir), free(c.full), free(c.clang), free(c.tcc);
	free(c.pch_full), free(c.gm_pch_full), free(c.pch_full_err), free(c.gm_pch_full_err);
	vms_argv_free(&progs);
	rep->total_s = (vms_now_ms() - t_start) / 1e3;
	return rc;
}

void vms_bench_report_free(struct vms_bench_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		free(rep->rows[i].program);
		free(rep->rows[i].note);
		free(rep->rows[i].ms);
	}
	free(rep->rows);
	for (size_t i = 0; i < rep->n_programs; i++)
		free(rep->programs[i]);
	free(rep->programs);
	free(rep->header_origin), free(rep->machine), free(rep->clang_version);
	free(rep->tcc_version);
	memset(rep, 0, sizeof(*rep));
}
