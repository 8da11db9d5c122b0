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
 * of vmlinux.h (3 MB) in /tmp. */
#include "bench/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
static void run_cmd(struct bctx *c, char *const *argv, const char *out, struct bsample *s)
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
static int clang_argv(struct bctx *c, struct bprog *p, const char *header, struct vms_argv *a,
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
	if (clang_argv(c, p, header_of(c, p, def->arg), &a, &d) < 0) {
		set_state(s, VMS_BENCH_FAILED, "%s", d.n ? d.v[0].msg : "no flags");
	} else {
		vms_argv_push(&a, "-fsyntax-only");
		vms_argv_push(&a, p->staged);
		run_cmd(c, a.v, NULL, s);
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
	run_cmd(c, a.v, out, s);
	/* an x86 object is no BPF object: nothing to compare, no size to report */
	s->out_bytes = -1;
	free(s->out_path);
	s->out_path = NULL;
	free(out);
	vms_argv_free(&a);
}

static void tcc_opts(struct bctx *c, const char *header, const char *const *inc,
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
	tcc_opts(c, header_of(c, p, def->arg & 1), inc, &to);
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
	if (clang_argv(c, p, header_of(c, p, which), &a, &d) < 0) {
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
		run_cmd(c, a.v, out, s);
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
	run_cmd(c, a.v, out, s);
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

const struct brow_def vms_bench_rows[] = {
	{ "extract", "extract", "vmslim extract (slim header from the program)",
	  "vms_extract()", 1, row_extract, 0 },

	{ "check.clang_full", "check", "clang -fsyntax-only, full header",
	  "clang -fsyntax-only + vms_build_flags()", 1, row_clang_syntax, HDR_FULL },
	{ "check.clang_slim", "check", "clang -fsyntax-only, slim header",
	  "clang -fsyntax-only + vms_build_flags()", 0, row_clang_syntax, HDR_SLIM },
	{ "check.tcc_full", "check", "tcc command, full header",
	  "tcc -c + headers/vmslim-tcc-prelude.h", 0, row_tcc_cmd, HDR_FULL },
	{ "check.tcc_slim", "check", "tcc command, slim header",
	  "tcc -c + headers/vmslim-tcc-prelude.h", 0, row_tcc_cmd, HDR_SLIM },
	{ "check.libtcc_libc_full", "check", "libtcc in process, glibc malloc, full header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_LIBC)", 0, row_libtcc, HDR_FULL | ALLOC_LIBC },
	{ "check.libtcc_arena_full", "check", "libtcc in process, arena, full header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_ARENA)", 0, row_libtcc, HDR_FULL | ALLOC_ARENA },
	{ "check.libtcc_libc_slim", "check", "libtcc in process, glibc malloc, slim header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_LIBC)", 0, row_libtcc, HDR_SLIM | ALLOC_LIBC },
	{ "check.libtcc_arena_slim", "check", "libtcc in process, arena, slim header",
	  "vms_tcc_check_inprocess(VMS_TCC_ALLOC_ARENA)", 0, row_libtcc, HDR_SLIM | ALLOC_ARENA },
	{ "check.snapshot_full", "check", "TCC snapshot checker, full header",
	  "vms_tcc_check()", 0, row_snapshot, HDR_FULL },
	{ "check.snapshot_slim", "check", "TCC snapshot checker, slim header",
	  "vms_tcc_check()", 0, row_snapshot, HDR_SLIM },
	{ "check.daemon_miss", "check", "daemon check, new source (vmslim serve), slim header",
	  "vms_client_call() to vmslim serve", 0, row_daemon, 2 },

	{ "build.clang_full", "build", "clang -g -O2, full header",
	  "clang + vms_build_flags()", 1, row_clang_build, 0 },
	{ "build.clang_slim", "build", "clang -g -O2, slim header",
	  "clang + vms_build_flags()", 0, row_clang_build, 1 },
	{ "build.pch_full", "build", "clang + PCH made by hand, full header",
	  "clang -include-pch + vms_build_flags()", 0, row_clang_build, 2 },
	{ "build.pch_slim", "build", "clang + PCH made by hand, slim header",
	  "clang -include-pch + vms_build_flags()", 0, row_clang_build, 3 },
	{ "build.gmodules_full", "build", "clang -gmodules + PCH, full header",
	  "clang -gmodules -include-pch + vms_build_flags()", 0, row_clang_build, 4 },
	{ "build.gmodules_slim", "build", "clang -gmodules + PCH, slim header",
	  "clang -gmodules -include-pch + vms_build_flags()", 0, row_clang_build, 5 },
	{ "build.vmslim_full", "build", "vmslim build in process (warm), full header",
	  "vms_build()", 0, row_vmslim_build, HDR_FULL },
	{ "build.vmslim_slim", "build", "vmslim build in process (warm), slim header",
	  "vms_build()", 0, row_vmslim_build, HDR_SLIM },
	{ "build.vmslim_cmd_slim", "build", "vmslim build command (warm), slim header",
	  "vmslim build (the CLI, exec'd)", 0, row_vmslim_cmd, HDR_SLIM },
	{ "build.daemon_miss", "build", "daemon build, new source (vmslim serve), slim header",
	  "vms_client_call() to vmslim serve", 0, row_daemon, 1 | 2 },
	{ "build.daemon_hit", "build", "daemon build, cache hit (vmslim serve), slim header",
	  "vms_client_call() to vmslim serve", 0, row_daemon, 1 },
};
const size_t vms_bench_n_rows = sizeof(vms_bench_rows) / sizeof(vms_bench_rows[0]);

/* ---- preparation ---------------------------------------------------------------- */

/* Builds a PCH of header by hand: the command a user would type, with the flags of the
 * build rows. On failure *err says why ("clang crashed ..."). */
static char *hand_pch(struct bctx *c, const char *header, const char *what, const char *out,
		      int gm, char **err, struct vms_diags *d)
{
	struct vms_argv a;
	*err = NULL;
	if (clang_argv(c, NULL, header, &a, d) < 0)
		return NULL;
	if (gm) {
		vms_argv_push(&a, "-gmodules");
		vms_argv_push(&a, "-fno-crash-diagnostics");
	}
	vms_argv_push(&a, "-x");
	vms_argv_push(&a, "c-header");
	vms_argv_push(&a, header);
	vms_argv_push(&a, "-o");
	vms_argv_push(&a, out);
	struct bsample s = { 0 };
	run_cmd(c, a.v, out, &s);
	vms_argv_free(&a);
	free(s.out_path);
	if (s.state != VMS_BENCH_OK) {
		*err = s.note;
		return NULL;
	}
	free(s.note);
	bench_progress(c, "  PCH%s of %s: %.0f ms", gm ? " (-gmodules)" : "", what, s.ms);
	return vms_xstrdup(out);
}

static int reply_ok(const char *reply)
{
	json_object *o = json_tokener_parse(reply), *v;
	int ok = o && json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
	if (o)
		json_object_put(o);
	return ok;
}

/* `vmslim serve` for one program: its slim header is the vmlinux.h the daemon's -I path
 * finds first, libbpf's headers come from /usr/include. The real binary, a real socket: the
 * row measures what a client of the daemon waits for. */
static void start_daemon(struct bctx *c, struct bprog *p)
{
	char *sock = vms_xasprintf("%s/serve.sock", p->root);
	if (strlen(sock) >= 100) {
		free(sock);
		sock = vms_xasprintf("/tmp/vmslim-bench-%d-%s.sock", (int)getpid(), p->name);
	}
	unlink(sock);
	char *cache = vms_xasprintf("%s/serve-cache", p->root);
	char *log = vms_xasprintf("%s/serve.log", p->root);
	struct vms_argv a = { 0 };
	vms_argv_push(&a, c->o->vmslim_exe);
	vms_argv_push(&a, "serve");
	vms_argv_push(&a, "--socket");
	vms_argv_push(&a, sock);
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, p->slim_dir);
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, "/usr/include");
	/* the program's own headers, as -iquote gives them to clang in the other rows */
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, p->dir);
	vms_argv_push(&a, "--cache-dir");
	vms_argv_push(&a, cache);
	vms_argv_push(&a, "--headers-dir");
	vms_argv_push(&a, c->o->headers_dir);
	vms_argv_push(&a, "--clang");
	vms_argv_push(&a, c->clang);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	pid_t pid;
	extern char **environ;
	int rc = posix_spawn(&pid, a.v[0], &fa, NULL, a.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	vms_argv_free(&a);
	free(cache);
	if (rc) {
		p->serve_why_not = vms_xasprintf("cannot start %s serve: %s", c->o->vmslim_exe,
						 strerror(rc));
		free(sock), free(log);
		return;
	}
	p->serve_pid = pid;
	vms_cleanup_add_child(pid);
	double t0 = vms_now_ms();
	for (;;) {
		char *reply = NULL;
		if (vms_client_call(sock, "{\"op\":\"ping\"}", &reply, 2000) == 0 && reply_ok(reply)) {
			free(reply);
			p->serve_socket = sock;
			bench_progress(c, "  daemon for %s: ready in %.0f ms", p->name,
				       vms_now_ms() - t0);
			break;
		}
		free(reply);
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid || vms_now_ms() - t0 > 30000) {
			char *text = NULL;
			size_t len;
			if (vms_read_file(log, &text, &len) == 0 && len && text[len - 1] == '\n')
				text[len - 1] = 0;
			const char *last = text ? strrchr(text, '\n') : NULL;
			p->serve_why_not = vms_xasprintf("vmslim serve did not start: %s",
							 last ? last + 1 : text && *text ? text
							 : "no reply to ping in 30 s");
			free(text);
			if (p->serve_pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
				kill(pid, SIGTERM);
				waitpid(pid, &st, 0);
			}
			vms_cleanup_remove_child(pid);
			p->serve_pid = 0;
			free(sock);
			break;
		}
		usleep(20000);
	}
	free(log);
}

int bench_prepare_global(struct bctx *c, struct vms_diags *d)
{
	char *p = vms_xasprintf("%s/full.pch", c->work);
	c->pch_full = hand_pch(c, c->full, "the full header", p, 0, &c->pch_full_err, d);
	free(p);
	p = vms_xasprintf("%s/full-gmodules.pch", c->work);
	c->gm_pch_full = hand_pch(c, c->full, "the full header", p, 1, &c->gm_pch_full_err, d);
	free(p);
	struct vms_tcc_opts to;
	tcc_opts(c, c->full, NULL, &to);
	if (vms_tcc_checker_new(&to, &c->checker_full, d) < 0)
		c->checker_full = NULL;
	return 0;
}

int bench_prepare_prog(struct bctx *c, struct bprog *p, struct vms_diags *d)
{
	char *pch = vms_xasprintf("%s/slim.pch", p->root);
	char *what = vms_xasprintf("%s's slim header", p->name);
	p->pch_slim = hand_pch(c, p->slim, what, pch, 0, &p->pch_slim_err, d);
	free(pch);
	pch = vms_xasprintf("%s/slim-gmodules.pch", p->root);
	p->gm_pch_slim = hand_pch(c, p->slim, what, pch, 1, &p->gm_pch_slim_err, d);
	free(pch);
	free(what);
	const char *inc[] = { p->dir, NULL };
	struct vms_tcc_opts to;
	tcc_opts(c, p->slim, inc, &to);
	if (vms_tcc_checker_new(&to, &p->checker_slim, d) < 0)
		p->checker_slim = NULL;
	/* pay for the snapshots (parse of the preamble) before anything is measured */
	struct vms_tcc_request req = { .source = p->source, .len = p->len, .file_name = p->path };
	double t0 = vms_now_ms();
	if (p->checker_slim)
		vms_tcc_checker_prepare(p->checker_slim, &req, d);
	double t1 = vms_now_ms();
	if (c->checker_full)
		vms_tcc_checker_prepare(c->checker_full, &req, d);
	bench_progress(c, "  TCC snapshots for %s: slim header %.0f ms, full %.0f ms", p->name, t1 - t0,
		       vms_now_ms() - t1);
	if (c->o->no_daemon)
		p->serve_why_not = vms_xstrdup("no daemon (--no-daemon)");
	else if (!c->o->vmslim_exe)
		p->serve_why_not = vms_xstrdup("no vmslim binary to start the daemon");
	else
		start_daemon(c, p);
	return 0;
}

/* Stops a program's daemon (SIGTERM: it shuts down cleanly and removes its socket).
 * 0 when it exited with status 0, -1 with *why (owned) when it did not: a daemon that
 * crashed or that a sanitizer stopped has not served its rows well. */
int bench_stop_daemon(struct bprog *p, char **why)
{
	*why = NULL;
	if (p->serve_pid <= 0)
		return 0;
	kill(p->serve_pid, SIGTERM);
	int st = 0;
	while (waitpid(p->serve_pid, &st, 0) < 0 && errno == EINTR)
		;
	vms_cleanup_remove_child(p->serve_pid);
	p->serve_pid = 0;
	if (p->serve_socket)
		unlink(p->serve_socket);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char *log = vms_xasprintf("%s/serve.log", p->root), *text = NULL;
	size_t len = 0;
	const char *line = "";
	if (vms_read_file(log, &text, &len) == 0) {
		/* the first line that names an error, else the last line */
		while (len && text[len - 1] == '\n')
			text[--len] = 0;
		char *hit = strstr(text, "ERROR:");
		if (!hit)
			hit = strstr(text, "runtime error");
		if (hit) {
			char *nl = strchr(hit, '\n');
			if (nl)
				*nl = 0;
			line = hit;
		} else {
			char *nl = strrchr(text, '\n');
			line = nl ? nl + 1 : text;
		}
	}
	if (WIFSIGNALED(st))
		*why = vms_xasprintf("vmslim serve died (%s) at shutdown: %s", strsignal(WTERMSIG(st)),
				     line);
	else
		*why = vms_xasprintf("vmslim serve exited %d at shutdown: %s", WEXITSTATUS(st), line);
	free(text);
	free(log);
	return -1;
}

void bench_teardown(struct bctx *c)
{
	vms_tcc_checker_free(c->checker_full);
	c->checker_full = NULL;
	for (size_t i = 0; i < c->n_progs; i++) {
		vms_tcc_checker_free(c->progs[i].checker_slim);
		c->progs[i].checker_slim = NULL;
	}
	for (size_t i = 0; i < c->n_progs; i++) {
		char *why;
		bench_stop_daemon(&c->progs[i], &why);
		free(why);
	}
}

int bench_same_object(const char *ref, const char *obj, char **why)
{
	struct vms_diags d = { 0 };
	int rc = vms_obj_compare(ref, obj, &d);
	*why = NULL;
	if (rc != 0 && d.n)
		*why = vms_xstrdup(d.v[0].msg);
	vms_diags_free(&d);
	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}
