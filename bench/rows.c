/* The rows: one function per pipeline, each timing exactly what a user of that pipeline
 * waits for, through the project's own code wherever the project has the pipeline.
 *
 * Reference rows run the commands people run today (clang, the `tcc` command, a PCH made
 * by hand) with the flags `vmslim build` itself hands clang (vms_build_flags), so that a
 * difference between a reference row and a vmslim row is the pipeline, never the flags.
 * Every program is compiled from a staged copy in a directory without a vmlinux.h, the
 * program's own directory given as -iquote: the -I path alone then decides whether the
 * full or the slim header is included, exactly as in `vmslim verify`.
 *
 * A clang that dies is a result, not an error of the bench: clang 14/19/22 crash when
 * -gmodules meets CO-RE's preserve_access_index, and the -gmodules rows exist to show it.
 * Those rows pass -fno-crash-diagnostics, or every crash would leave a preprocessed copy
 * of vmlinux.h (3 MB) in /tmp.
 *
 * What the rows rely on (the hand-made PCHs, the checkers, the daemons) is prepared in
 * setup.c. */
#include "exact/exact.h"
#include "bench/internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "extract/extract.h"
#include "pch/pch.h"
#include "tccarena/tccarena.h"
#include "serve/serve.h"

enum { HDR_FULL = 0, HDR_SLIM = 1 };
enum { ALLOC_LIBC = 0, ALLOC_ARENA = 2 };

/* ---- helpers -------------------------------------------------------------------- */

static void set_state(struct bsample *s, enum vms_bench_state st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_state(struct bsample *s, enum vms_bench_state st, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	s->state = st;
	free(s->note);
	s->note = msg ? msg : vms_xstrdup("");
}

static long long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* The first line of a tool's output that says what went wrong (an "error:" line if there
 * is one), trimmed, for a one-line note. */
static char *first_error_line(const char *text)
{
	const char *hit = strstr(text, "error:");
	const char *start = text;
	if (hit) {
		start = hit;
		while (start > text && start[-1] != '\n')
			start--;
	}
	while (*start == '\n' || *start == ' ')
		start++;
	const char *end = strchr(start, '\n');
	size_t n = end ? (size_t)(end - start) : strlen(start);
	if (n > 200)
		n = 200;
	return vms_xstrndup(start, n);
}

static int looks_like_crash(const struct vms_proc_result *r)
{
	return r->signaled || r->exit_code >= 128 ||
	       strstr(r->err, "PLEASE submit a bug report") || strstr(r->err, "Stack dump:");
}

/* Runs a command; the sample gets its time and, if the command failed, why. */
void bench_run_cmd(struct bctx *c, char *const *argv, const char *out, struct bsample *s)
{
	struct vms_proc_result r;
	if (out)
		unlink(out);
	double t0 = vms_now_ms();
	int rc = vms_run(argv, NULL, 0, c->timeout_ms, &r);
	s->ms = vms_now_ms() - t0;
	const char *tool = vms_basename(argv[0]);
	if (rc) {
		set_state(s, VMS_BENCH_FAILED, "cannot run %s: %s", argv[0], strerror(-rc));
		return;
	}
	if (r.timed_out) {
		set_state(s, VMS_BENCH_FAILED, "%s timed out after %d ms", tool, c->timeout_ms);
	} else if (looks_like_crash(&r)) {
		if (r.signaled)
			set_state(s, VMS_BENCH_CRASHES, "%s crashed (%s) after %.0f ms", tool,
				  strsignal(r.signaled), s->ms);
		else
			set_state(s, VMS_BENCH_CRASHES, "%s crashed (exit %d%s%s, stack dump) after %.0f ms",
				  tool, r.exit_code, r.exit_code > 128 ? ": " : "",
				  r.exit_code > 128 && r.exit_code < 128 + 65 ? sigabbrev_np(r.exit_code - 128) : "",
				  s->ms);
	} else if (r.exit_code) {
		char *line = first_error_line(r.err[0] ? r.err : r.out);
		set_state(s, VMS_BENCH_FAILED, "%s exit %d: %s", tool, r.exit_code, line);
		free(line);
	} else if (out) {
		s->out_bytes = file_size(out);
		s->out_path = vms_xstrdup(out);
		if (s->out_bytes < 0)
			set_state(s, VMS_BENCH_FAILED, "%s wrote no %s", tool, out);
	}
	vms_proc_result_free(&r);
}

static const char *header_of(struct bctx *c, struct bprog *p, int which)
{
	return which == HDR_SLIM ? p->slim : c->full;
}

/* clang, then the flags `vmslim build --header H` uses, then the program's directory as
 * -iquote. Without the pch library the same defaults are spelled out here. */
int bench_clang_argv(struct bctx *c, struct bprog *p, const char *header, struct vms_argv *a,
		      struct vms_diags *d)
{
	memset(a, 0, sizeof(*a));
	vms_argv_push(a, c->clang);
	const char *user[] = { "-iquote", p ? p->dir : NULL, NULL };
	if (!p)
		user[0] = NULL;
	struct vms_argv f;
	int rc = vms_build_flags(header, user, 0, c->cache, &f, d);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < f.n; i++)
		vms_argv_push(a, f.v[i]);
	vms_argv_free(&f);
	return 0;
}

static char *obj_path(struct bprog *p, const struct brow_def *def)
{
	return vms_xasprintf("%s/obj/%s.o", p->root, def->id);
}

/* ---- extract -------------------------------------------------------------------- */

static void row_extract(struct bctx *c, struct bprog *p, const struct brow_def *def,
			struct bsample *s)
{
	const char *progs[] = { p->path, NULL };
	struct vms_extract_opts eo = { .header_path = c->full, .programs = progs };
	struct vms_extract_stats st;
	struct vms_diags d = { 0 };
	char *text = NULL;
	size_t len = 0;
	double t0 = vms_now_ms();
	int rc = vms_extract(&eo, &text, &len, &st, &d);
	s->ms = vms_now_ms() - t0;
	if (rc) {
		set_state(s, VMS_BENCH_FAILED, "vms_extract: %s", d.n ? d.v[0].msg : "failed");
	} else {
		s->out_bytes = (long long)len;
		s->ref_bytes = (long long)st.bytes_total;
		char hex[33];
		vms_hash128_hex(vms_hash128(text, len), hex);
		if (strcmp(hex, p->slim_hash))
			set_state(s, VMS_BENCH_FAILED, "the slim header differs from the first run's");
	}
	free(text);
	vms_diags_free(&d);
}

/* ---- check ---------------------------------------------------------------------- */

static void row_clang_syntax(struct bctx *c, struct bprog *p, const struct brow_def *def,
			     struct bsample *s)
{
	struct vms_argv a;
	struct vms_diags d = { 0 };
	if (bench_clang_argv(c, p, header_of(c, p, def->arg), &a, &d) < 0) {
		set_state(s, VMS_BENCH_FAILED, "%s", d.n ? d.v[0].msg : "no flags");
	} else {
		vms_argv_push(&a, "-fsyntax-only");
		vms_argv_push(&a, p->staged);
		bench_run_cmd(c, a.v, NULL, s);
	}
	vms_argv_free(&a);
	vms_diags_free(&d);
}

/* The `tcc` command with the same prelude and shims the library gives libtcc, so the
 * command and the library check the same text. */
static void row_tcc_cmd(struct bctx *c, struct bprog *p, const struct brow_def *def,
			struct bsample *s)
{
	struct vms_argv a = { 0 };
	vms_argv_push(&a, c->tcc);
	vms_argv_push(&a, "-xc");
	vms_argv_push(&a, "-include");
	vms_argv_pushf(&a, "%s/vmslim-tcc-prelude.h", c->o->headers_dir);
	vms_argv_pushf(&a, "-I%s/vmslim-tcc-shims", c->o->headers_dir);
	char *dir = vms_dirname(header_of(c, p, def->arg));
	vms_argv_pushf(&a, "-I%s", dir);
	free(dir);
	vms_argv_pushf(&a, "-I%s", p->dir);
	vms_argv_push(&a, "-c");
	vms_argv_push(&a, p->staged);
	vms_argv_push(&a, "-o");
	char *out = vms_xasprintf("%s/obj/tcc-x86.o", p->root);
	vms_argv_push(&a, out);
	bench_run_cmd(c, a.v, out, s);
	/* an x86 object is no BPF object: nothing to compare, no size to report */
	s->out_bytes = -1;
	free(s->out_path);
	s->out_path = NULL;
	free(out);
	vms_argv_free(&a);
}

void bench_tcc_opts(struct bctx *c, const char *header, const char *const *inc,
		     struct vms_tcc_opts *to)
{
	memset(to, 0, sizeof(*to));
	to->headers_dir = c->o->headers_dir;
	to->include_dirs = inc;
	to->vmlinux_header = header;
	to->max_snapshots = (int)c->n_progs + 2;
}

/* TCC's verdict on a program: only a clean check is a measurement. */
static void tcc_verdict(const struct vms_tcc_result *r, struct bsample *s)
{
	switch (r->status) {
	case VMS_TCC_OK:
		break;
	case VMS_TCC_UNSUPPORTED:
		set_state(s, VMS_BENCH_UNSUPPORTED, "TCC cannot judge it: %s",
			  r->diags.n ? r->diags.v[0].msg : "?");
		break;
	case VMS_TCC_CRASHED:
		set_state(s, VMS_BENCH_CRASHES, "TCC crashed");
		break;
	default:
		set_state(s, VMS_BENCH_FAILED, "TCC: %s%s%s", vms_tcc_status_name(r->status),
			  r->diags.n ? ": " : "", r->diags.n ? r->diags.v[0].msg : "");
	}
}

static void row_libtcc(struct bctx *c, struct bprog *p, const struct brow_def *def,
		       struct bsample *s)
{
	const char *inc[] = { p->dir, NULL };
	struct vms_tcc_opts to;
	bench_tcc_opts(c, header_of(c, p, def->arg & 1), inc, &to);
	struct vms_tcc_request req = { .source = p->source, .len = p->len, .file_name = p->path };
	struct vms_tcc_result r;
	double t0 = vms_now_ms();
	int rc = vms_tcc_check_inprocess(&to, (def->arg & ALLOC_ARENA) ? VMS_TCC_ALLOC_ARENA
								      : VMS_TCC_ALLOC_LIBC,
					 &req, &r);
	s->ms = vms_now_ms() - t0;
	if (rc < 0)
		set_state(s, VMS_BENCH_FAILED, "vms_tcc_check_inprocess: %s",
			  r.diags.n ? r.diags.v[0].msg : strerror(-rc));
	else
		tcc_verdict(&r, s);
	vms_tcc_result_free(&r);
}

static void row_snapshot(struct bctx *c, struct bprog *p, const struct brow_def *def,
			 struct bsample *s)
{
	struct vms_tcc_checker *ck = def->arg == HDR_SLIM ? p->checker_slim : c->checker_full;
	if (!ck) {
		set_state(s, VMS_BENCH_FAILED, "no snapshot checker (see setup)");
		return;
	}
	struct vms_tcc_request req = { .source = p->source, .len = p->len, .file_name = p->path };
	struct vms_tcc_result r;
	double t0 = vms_now_ms();
	int rc = vms_tcc_check(ck, &req, &r);
	s->ms = vms_now_ms() - t0;
	if (rc < 0)
		set_state(s, VMS_BENCH_FAILED, "vms_tcc_check: %s",
			  r.diags.n ? r.diags.v[0].msg : strerror(-rc));
	else
		tcc_verdict(&r, s);
	if (rc >= 0 && s->state == VMS_BENCH_OK && !r.snapshot_hit) {
		/* a measured check that paid for a parse: say why, from the checker's counters */
		struct vms_tcc_stats st;
		vms_tcc_checker_stats(ck, &st);
		set_state(s, VMS_BENCH_OK,
			  "a snapshot was (re)built during a measured run (checker: %llu hits, "
			  "%llu misses, %llu rebuilds, %llu evictions)",
			  (unsigned long long)st.hits, (unsigned long long)st.misses,
			  (unsigned long long)st.rebuilds, (unsigned long long)st.evictions);
	}
	vms_tcc_result_free(&r);
}

/* check --exact: libclang with a precompiled preamble (exact/), the program's own checker
 * kept across samples, so the warm-up builds the preamble and the measured samples are
 * what an edit costs (the same text each time: libclang reparses it all the same). */
static void row_exact(struct bctx *c, struct bprog *p, const struct brow_def *def,
		      struct bsample *s)
{
	int k = def->arg == HDR_SLIM;
	struct vms_diags d = { 0 };
	if (!p->exact[k]) {
		const char *inc[] = { k ? p->slim_dir : c->full_dir };
		const char *flags[] = { "-D__TARGET_ARCH_x86" };
		struct vms_exact_opts xo = { .include_dirs = inc, .n_inc = 1, .flags = flags,
					     .n_flags = 1, .src_dir = p->dir };
		if (vms_exact_new(&xo, p->staged, &p->exact[k], &d) < 0) {
			set_state(s, VMS_BENCH_FAILED, "vms_exact_new: %s", d.n ? d.v[0].msg : "?");
			vms_diags_free(&d);
			return;
		}
	}
	double t0 = vms_now_ms();
	int rc = vms_exact_check(p->exact[k], p->source, p->len, &d);
	s->ms = vms_now_ms() - t0;
	if (rc < 0 || vms_diags_count(&d, VMS_ERROR))
		set_state(s, VMS_BENCH_FAILED, "check --exact: %s",
			  d.n ? d.v[0].msg : "libclang failed");
	vms_diags_free(&d);
}

/* ---- build ---------------------------------------------------------------------- */

static void row_clang_build(struct bctx *c, struct bprog *p, const struct brow_def *def,
			    struct bsample *s)
{
	const char *pch = NULL, *pch_err = NULL;
	int gm = 0;
	switch (def->arg) {
	case 2: pch = c->pch_full, pch_err = c->pch_full_err; break;
	case 3: pch = p->pch_slim, pch_err = p->pch_slim_err; break;
	case 4: pch = c->gm_pch_full, pch_err = c->gm_pch_full_err, gm = 1; break;
	case 5: pch = p->gm_pch_slim, pch_err = p->gm_pch_slim_err, gm = 1; break;
	}
	int which = (def->arg == 0 || def->arg == 2 || def->arg == 4) ? HDR_FULL : HDR_SLIM;
	if (def->arg >= 2 && !pch) {
		/* the PCH build itself crashed or failed in setup: that is the row's result */
		set_state(s, pch_err && strstr(pch_err, "crashed") ? VMS_BENCH_CRASHES
								   : VMS_BENCH_FAILED,
			  "building the PCH: %s", pch_err ? pch_err : "failed");
		return;
	}
	struct vms_argv a;
	struct vms_diags d = { 0 };
	if (bench_clang_argv(c, p, header_of(c, p, which), &a, &d) < 0) {
		set_state(s, VMS_BENCH_FAILED, "%s", d.n ? d.v[0].msg : "no flags");
	} else {
		if (gm) {
			vms_argv_push(&a, "-gmodules");
			vms_argv_push(&a, "-fno-crash-diagnostics");
		}
		if (pch) {
			vms_argv_push(&a, "-include-pch");
			vms_argv_push(&a, pch);
		}
		char *out = obj_path(p, def);
		vms_argv_push(&a, "-c");
		vms_argv_push(&a, p->staged);
		vms_argv_push(&a, "-o");
		vms_argv_push(&a, out);
		bench_run_cmd(c, a.v, out, s);
		free(out);
	}
	vms_argv_free(&a);
	vms_diags_free(&d);
}

static void row_vmslim_build(struct bctx *c, struct bprog *p, const struct brow_def *def,
			     struct bsample *s)
{
	const char *flags[] = { "-iquote", p->dir, NULL };
	char *out = obj_path(p, def);
	struct vms_build_opts bo = {
		.source = p->staged,
		.output = out,
		.header = header_of(c, p, def->arg),
		.flags = flags,
		.clang = c->clang,
		.cache_dir = c->cache,
	};
	struct vms_build_result r;
	struct vms_diags d = { 0 };
	unlink(out);
	double t0 = vms_now_ms();
	int rc = vms_build(&bo, &r, &d);
	s->ms = vms_now_ms() - t0;
	if (rc < 0) {
		set_state(s, VMS_BENCH_FAILED, "vms_build: %s", d.n ? d.v[0].msg : strerror(-rc));
	} else if (rc > 0) {
		char *line = first_error_line(r.clang_stderr);
		set_state(s, looks_like_crash(&(struct vms_proc_result){ .exit_code = r.clang_exit,
									   .err = r.clang_stderr })
				     ? VMS_BENCH_CRASHES : VMS_BENCH_FAILED,
			  "vms_build: clang exit %d: %s", r.clang_exit, line);
		free(line);
	} else {
		s->out_bytes = file_size(out);
		s->out_path = vms_xstrdup(out);
		if (r.pch_rebuilt)
			set_state(s, VMS_BENCH_OK, "PCH rebuilt during this run");
		else if (!r.used_pch)
			set_state(s, VMS_BENCH_OK, "%s", r.mode ? r.mode : "no PCH");
		else if (r.mode)
			set_state(s, VMS_BENCH_OK, "%s", r.mode);
	}
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(out);
}

/* The same build as the `vmslim build` command: what a Makefile or a person typing it
 * waits for, process start-up included. */
static void row_vmslim_cmd(struct bctx *c, struct bprog *p, const struct brow_def *def,
			   struct bsample *s)
{
	if (!c->o->vmslim_exe) {
		set_state(s, VMS_BENCH_SKIPPED, "no vmslim binary to run");
		return;
	}
	char *out = obj_path(p, def);
	struct vms_argv a = { 0 };
	vms_argv_push(&a, c->o->vmslim_exe);
	vms_argv_push(&a, "build");
	vms_argv_push(&a, p->staged);
	vms_argv_push(&a, "-o");
	vms_argv_push(&a, out);
	vms_argv_push(&a, "--header");
	vms_argv_push(&a, header_of(c, p, def->arg));
	vms_argv_push(&a, "--cache-dir");
	vms_argv_push(&a, c->cache);
	vms_argv_push(&a, "--clang");
	vms_argv_push(&a, c->clang);
	vms_argv_push(&a, "--");
	vms_argv_push(&a, "-iquote");
	vms_argv_push(&a, p->dir);
	bench_run_cmd(c, a.v, out, s);
	vms_argv_free(&a);
	free(out);
}

/* ---- the daemon ----------------------------------------------------------------- */

static int b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	return ch == '+' ? 62 : ch == '/' ? 63 : -1;
}

/* the reply's object; 0 or -1 on bad base64 */
static int b64_decode(const char *in, struct vms_buf *out)
{
	unsigned acc = 0;
	int bits = 0;
	for (; *in && *in != '='; in++) {
		int v = b64val((unsigned char)*in);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char ch = (char)((acc >> bits) & 0xff);
			vms_buf_append(out, &ch, 1);
		}
	}
	return 0;
}

/* One request as an editor or a playground back-end sends it. `edit` > 0 appends a
 * comment that changes the source's hash and nothing else: a cache miss, as after a
 * keystroke. */
static char *daemon_request(struct bprog *p, const char *op, unsigned edit)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "file", json_object_new_string(p->name));
	if (edit) {
		char *src = vms_xasprintf("%s\n/* vmslim bench edit %u */\n", p->source, edit);
		json_object_object_add(o, "source", json_object_new_string(src));
		free(src);
	} else {
		json_object_object_add(o, "source", json_object_new_string_len(p->source, (int)p->len));
	}
	char *s = vms_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static const char *jget_str(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : NULL;
}

static void daemon_call(struct bctx *c, struct bprog *p, const struct brow_def *def,
			const char *op, int miss, struct bsample *s)
{
	if (!p->serve_socket) {
		set_state(s, VMS_BENCH_SKIPPED, "%s", p->serve_why_not ? p->serve_why_not
								      : "no daemon");
		return;
	}
	char *req = daemon_request(p, op, miss ? ++p->serve_edits : 0);
	char *reply = NULL;
	double t0 = vms_now_ms();
	int rc = vms_client_call(p->serve_socket, req, &reply, c->timeout_ms);
	s->ms = vms_now_ms() - t0;
	free(req);
	if (rc < 0) {
		set_state(s, VMS_BENCH_FAILED, "vms_client_call: %s", strerror(-rc));
		return;
	}
	json_object *o = json_tokener_parse(reply);
	json_object *v;
	const char *status = o ? jget_str(o, "status") : NULL;
	if (!o || !json_object_object_get_ex(o, "ok", &v) || !json_object_get_boolean(v)) {
		json_object *e = NULL;
		const char *msg = o && json_object_object_get_ex(o, "error", &e) ? jget_str(e, "message")
										 : NULL;
		set_state(s, VMS_BENCH_FAILED, "daemon: %s", msg ? msg : reply);
	} else if (!status || strcmp(status, "ok")) {
		const char *msg = NULL;
		if (json_object_object_get_ex(o, "diagnostics", &v) && json_object_array_length(v))
			msg = jget_str(json_object_array_get_idx(v, 0), "message");
		set_state(s, !strcmp(status ? status : "", "crashed") ? VMS_BENCH_CRASHES
			     : !strcmp(status ? status : "", "unsupported") ? VMS_BENCH_UNSUPPORTED
			     : VMS_BENCH_FAILED,
			  "daemon: %s%s%s", status ? status : "?", msg ? ": " : "", msg ? msg : "");
	} else {
		json_object *cached = NULL;
		json_object_object_get_ex(o, "cached", &cached);
		int hit = cached && json_object_is_type(cached, json_type_string);
		const char *backend = jget_str(o, "backend");
		if (hit != !miss)
			set_state(s, VMS_BENCH_OK, "expected a cache %s, got a %s", miss ? "miss" : "hit",
				  hit ? "hit" : "miss");
		else if (hit)
			set_state(s, VMS_BENCH_OK, "cache: %s", json_object_get_string(cached));
		else if (backend)
			set_state(s, VMS_BENCH_OK, "answered by %s", backend);
		const char *obj = jget_str(o, "object");
		if (obj) {
			struct vms_buf b = { 0 };
			char *out = obj_path(p, def);
			if (b64_decode(obj, &b) < 0) {
				set_state(s, VMS_BENCH_FAILED, "daemon: the object is not base64");
			} else if (vms_write_file_atomic(out, b.data ? b.data : "", b.len, 0644) == 0) {
				s->out_bytes = (long long)b.len;
				s->out_path = vms_xstrdup(out);
			}
			vms_buf_free(&b);
			free(out);
		} else if (!strcmp(op, "build")) {
			set_state(s, VMS_BENCH_FAILED, "daemon: build reply without an object");
		}
	}
	if (o)
		json_object_put(o);
	free(reply);
}

static void row_daemon(struct bctx *c, struct bprog *p, const struct brow_def *def,
		       struct bsample *s)
{
	daemon_call(c, p, def, def->arg & 1 ? "build" : "check", def->arg & 2, s);
}

/* ---- the table ------------------------------------------------------------------ */

/* The rows, in report order. `command` is what a user types to get that pipeline (P the
 * program, full/ and slim/ the directories holding each vmlinux.h); `calls` is what the
 * bench times to stand for it. Rows marked internal compare the project's own variants (an
 * allocator, libtcc in process, -gmodules) that no user chooses between: they run only
 * with --all-rows. */
#define USER 0
#define INTERNAL 1
const struct brow_def vms_bench_rows[] = {
	{ "extract", "extract", "vmslim extract (slim header from the program)",
	  "vms_extract()", 1, row_extract, 0,
	  "vmslim extract --from P --header full/vmlinux.h -o slim/vmlinux.h", USER },

	{ "check.clang_full", "check", "clang -fsyntax-only, full header",
	  "clang -fsyntax-only + vms_build_flags()", 1, row_clang_syntax, HDR_FULL,
	  "clang -fsyntax-only --target=bpf -g -O2 -D__TARGET_ARCH_x86 -I full/ P", USER },
	{ "check.clang_slim", "check", "clang -fsyntax-only, slim header",
	  "clang -fsyntax-only + vms_build_flags()", 0, row_clang_syntax, HDR_SLIM,
	  "clang -fsyntax-only --target=bpf -g -O2 -D__TARGET_ARCH_x86 -I slim/ P", USER },
	{ "check.tcc_full", "check", "tcc command, full header",
	  "tcc -c + headers/vmslim-tcc-prelude.h", 0, row_tcc_cmd, HDR_FULL,
	  "tcc -c -include vmslim-tcc-prelude.h -I full/ P", USER },
	{ "check.tcc_slim", "check", "tcc command, slim header",
	  "tcc -c + headers/vmslim-tcc-prelude.h", 0, row_tcc_cmd, HDR_SLIM,
	  "tcc -c -include vmslim-tcc-prelude.h -I slim/ P", INTERNAL },
	{ "check.libtcc_libc_full", "check", "libtcc in process, glibc malloc, full header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_LIBC)", 0, row_libtcc, HDR_FULL | ALLOC_LIBC,
	  "(internal) libtcc in process, glibc malloc", INTERNAL },
	{ "check.libtcc_arena_full", "check", "libtcc in process, arena, full header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_ARENA)", 0, row_libtcc, HDR_FULL | ALLOC_ARENA,
	  "(internal) libtcc in process, arena allocator", INTERNAL },
	{ "check.libtcc_libc_slim", "check", "libtcc in process, glibc malloc, slim header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_LIBC)", 0, row_libtcc, HDR_SLIM | ALLOC_LIBC,
	  "(internal) libtcc in process, glibc malloc", INTERNAL },
	{ "check.libtcc_arena_slim", "check", "libtcc in process, arena, slim header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_ARENA)", 0, row_libtcc, HDR_SLIM | ALLOC_ARENA,
	  "(internal) libtcc in process, arena allocator", INTERNAL },
	{ "check.snapshot_full", "check", "vmslim lsp / serve fast check (warm), full header",
	  "vms_tcc_check()", 0, row_snapshot, HDR_FULL,
	  "vmslim lsp --fast-only (each edit), or vmslim serve's check", USER },
	{ "check.snapshot_slim", "check", "vmslim lsp / serve fast check (warm), slim header",
	  "vms_tcc_check()", 0, row_snapshot, HDR_SLIM,
	  "vmslim lsp --fast-only --header slim/vmlinux.h (each edit)", USER },
	{ "check.exact_full", "check", "vmslim lsp --exact (warm), full header",
	  "vms_exact_check() after a first parse", 0, row_exact, HDR_FULL,
	  "vmslim lsp --exact (each edit after the first)", USER },
	{ "check.exact_slim", "check", "vmslim lsp --exact (warm), slim header",
	  "vms_exact_check() after a first parse", 0, row_exact, HDR_SLIM,
	  "vmslim lsp --exact --header slim/vmlinux.h (each edit after the first)", USER },
	{ "check.daemon_miss", "check", "daemon check, new source (vmslim serve), slim header",
	  "vms_client_call() to vmslim serve", 0, row_daemon, 2,
	  "vmslim client check P (to a running vmslim serve -I slim/)", USER },

	{ "build.clang_full", "build", "clang -g -O2, full header",
	  "clang + vms_build_flags()", 1, row_clang_build, 0,
	  "clang --target=bpf -g -O2 -D__TARGET_ARCH_x86 -I full/ -c P -o P.o", USER },
	{ "build.clang_slim", "build", "clang -g -O2, slim header",
	  "clang + vms_build_flags()", 0, row_clang_build, 1,
	  "clang --target=bpf -g -O2 -D__TARGET_ARCH_x86 -I slim/ -c P -o P.o", USER },
	{ "build.pch_full", "build", "clang + PCH made by hand, full header",
	  "clang -include-pch + vms_build_flags()", 0, row_clang_build, 2,
	  "clang ... -include-pch full/vmlinux.h.pch -c P -o P.o", USER },
	{ "build.pch_slim", "build", "clang + PCH made by hand, slim header",
	  "clang -include-pch + vms_build_flags()", 0, row_clang_build, 3,
	  "clang ... -include-pch slim/vmlinux.h.pch -c P -o P.o", INTERNAL },
	{ "build.gmodules_full", "build", "clang -gmodules + PCH, full header",
	  "clang -gmodules -include-pch + vms_build_flags()", 0, row_clang_build, 4,
	  "clang ... -gmodules -include-pch full/vmlinux.h.pch -c P -o P.o", INTERNAL },
	{ "build.gmodules_slim", "build", "clang -gmodules + PCH, slim header",
	  "clang -gmodules -include-pch + vms_build_flags()", 0, row_clang_build, 5,
	  "clang ... -gmodules -include-pch slim/vmlinux.h.pch -c P -o P.o", INTERNAL },
	{ "build.vmslim_full", "build", "vmslim build in process (warm), full header",
	  "vms_build()", 0, row_vmslim_build, HDR_FULL,
	  "(internal) vms_build() without the command's start-up", INTERNAL },
	{ "build.vmslim_slim", "build", "vmslim build in process (warm), slim header",
	  "vms_build()", 0, row_vmslim_build, HDR_SLIM,
	  "(internal) vms_build() without the command's start-up", INTERNAL },
	{ "build.vmslim_cmd_full", "build", "vmslim build command (warm PCH), full header",
	  "vmslim build (the CLI, exec'd)", 0, row_vmslim_cmd, HDR_FULL,
	  "vmslim build P --header full/vmlinux.h -o P.o", USER },
	{ "build.vmslim_cmd_slim", "build", "vmslim build command (warm), slim header",
	  "vmslim build (the CLI, exec'd)", 0, row_vmslim_cmd, HDR_SLIM,
	  "vmslim build P --header slim/vmlinux.h -o P.o", USER },
	{ "build.daemon_miss", "build", "daemon build, new source (vmslim serve), slim header",
	  "vms_client_call() to vmslim serve", 0, row_daemon, 1 | 2,
	  "vmslim client build P (to a running vmslim serve -I slim/)", USER },
	{ "build.daemon_hit", "build", "daemon build, cache hit (vmslim serve), slim header",
	  "vms_client_call() to vmslim serve", 0, row_daemon, 1,
	  "vmslim client build P, unchanged (cache hit)", USER },
};
const size_t vms_bench_n_rows = sizeof(vms_bench_rows) / sizeof(vms_bench_rows[0]);
