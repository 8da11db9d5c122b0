/* The language server: LSP over stdio (Content-Length framing, JSON-RPC 2.0).
 *
 * What an editor gets, and from where:
 *  - on every change, the TCC snapshot checker's diagnostics (about a millisecond with
 *    the full vmlinux.h once the snapshot exists), published with the document's
 *    version. Messages already queued are all applied before checking, so a burst of
 *    keystrokes costs one check;
 *  - right after it, for the same version, clang's own diagnostics (line, column, every
 *    warning) from the exact checker (exact/: libclang with a precompiled preamble, a
 *    few ms per edit after a first parse of about a second), unless --fast-only. It runs
 *    on a thread of its own (lsp_exact.c), so the loop answers edits meanwhile, and its
 *    answer is published only if the document still has that version and text: an
 *    exact answer is never published for a stale version;
 *  - where the checker cannot judge the text (unsupported construct, crash, time or
 *    memory limit), the exact checker answers at once; without it (--fast-only, no
 *    libclang) clang -fsyntax-only on that version, in a worker; a newer version
 *    kills an older one's job, and a stale answer is never published;
 *  - on save, a clang build through the PCH path (and, with loadOnSave, a verifier load
 *    of the object) in a worker. Its diagnostics are clang's exact ones, so while the
 *    text is still what was saved they replace the checker's; the first edit after the
 *    save returns to the checker's.
 * Positions are UTF-16 code units (the protocol's default) on both sides: incremental
 * changes are mapped onto the UTF-8 text, and diagnostic columns (bytes) back.
 * Jobs run in forked workers (worker.c), so the loop (loop.c, shared with the daemon)
 * stays responsive while clang runs; it watches stdin and every job's pipe, however
 * many, and a timer per job enforces its wall-time limit. Framing is lsp_rpc.c,
 * positions lsp_pos.c. */
#include "serve/internal.h"
#include "bpfobj/bpfobj.h"
#include "exact/exact.h"
#include "serve/loop.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct lsp;
struct doc;

struct lsp_job {
	struct worker_watch run;	/* first: done() gets &run */
	struct lsp *l;
	struct doc *d;
	int version;
	struct vms_hash128 text_hash;
};

struct doc {
	char *uri, *path, *dir;
	struct vms_buf text;
	int version;
	int dirty;
	struct vms_diags check;	/* for `version`, from the checker or clang */
	int check_version;
	int check_is_exact;/* check came from the exact checker (source "vmslim exact") */
	int check_pending;	/* a clang fallback is running for this version */
	struct lsp_job fallback, build;
	struct vms_diags built;	/* the last finished build's, for built_hash */
	uint64_t id;		/* the exact checker's name for it (lsp_exact.c) */
	int exact_direct;	/* the exact answer asked for is the first for the version
				 * (no fast one): without it, a clang process answers */
	int fast_shown;		/* the fast answer for check_version was published */
	struct vms_hash128 built_hash;
	int have_built;
	struct doc *next;
};

struct lsp {
	const struct vms_lsp_opts *o;
	struct vms_backend_opts bo;
	struct vms_argv inc, flags;
	char *header;
	int build_on_save, load_on_save, clang_tier, exact, fast_only;
	int no_libclang;	/* the exact checker could not start: not tried again */
	struct xworker *xw;	/* the exact checker's thread (NULL: none could start) */
	uint64_t next_doc_id;
	struct backend *be;
	int in, out;
	struct loop *lp;
	struct vms_buf inbuf;	/* what stdin sent that is not a whole message yet */
	size_t off;
	int initialized, shutdown, exit_seen, eof;
	struct doc *docs;
	struct limits lim;
};

static void lsp_log(struct lsp *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void lsp_log(struct lsp *l, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(l->o->log, l->o->log_ctx, fmt, ap);
	va_end(ap);
}

/* ---- documents -------------------------------------------------------------------- */

static char *uri_to_path(const char *uri)
{
	if (strncmp(uri, "file://", 7))
		return NULL;
	const char *p = uri + 7;
	struct vms_buf b = { 0 };
	for (; *p; p++) {
		if (*p == '%' && p[1] && p[2]) {
			char hex[3] = { p[1], p[2], 0 };
			char *end;
			long v = strtol(hex, &end, 16);
			if (!*end) {
				char c = (char)v;
				vms_buf_append(&b, &c, 1);
				p += 2;
				continue;
			}
		}
		vms_buf_append(&b, p, 1);
	}
	return vms_buf_steal(&b);
}

static struct doc *find_doc(struct lsp *l, const char *uri)
{
	for (struct doc *d = l->docs; d; d = d->next)
		if (!strcmp(d->uri, uri))
			return d;
	return NULL;
}

static void job_stop(struct lsp_job *j)
{
	worker_watch_stop(&j->run);
}

static void doc_free(struct doc *d)
{
	job_stop(&d->fallback);
	job_stop(&d->build);
	vms_diags_free(&d->check);
	vms_diags_free(&d->built);
	vms_buf_free(&d->text);
	free(d->uri);
	free(d->path);
	free(d->dir);
	free(d);
}

static struct vms_hash128 text_hash(const struct doc *d)
{
	return vms_hash128(d->text.data ? d->text.data : "", d->text.len);
}

/* ---- diagnostics -------------------------------------------------------------------- */

static struct json_object *pos(int line, int ch)
{
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "line", json_object_new_int(line));
	json_object_object_add(p, "character", json_object_new_int(ch));
	return p;
}

static struct json_object *to_lsp(const struct doc *d, const struct vms_diag *g,
				  const char *source)
{
	const char *t = d->text.data ? d->text.data : "";
	size_t len = d->text.len;
	int here = g->file && d->path && !strcmp(g->file, d->path);
	int line = here && g->line > 0 ? g->line - 1 : 0;
	int sc, ec;
	lsp_range(t, len, line, here ? g->col : 0, &sc, &ec);
	struct json_object *o = json_object_new_object(), *r = json_object_new_object();
	json_object_object_add(r, "start", pos(line, sc));
	json_object_object_add(r, "end", pos(line, ec));
	json_object_object_add(o, "range", r);
	json_object_object_add(o, "severity",
			       json_object_new_int(g->sev == VMS_ERROR ? 1 : g->sev == VMS_WARNING ? 2 : 3));
	json_object_object_add(o, "source", json_object_new_string(source));
	char *msg;
	if (here || !g->file)
		msg = vms_xstrdup(g->msg ? g->msg : "");
	else if (g->line > 0)
		msg = vms_xasprintf("in %s:%d: %s", g->file, g->line, g->msg ? g->msg : "");
	else
		msg = vms_xasprintf("in %s: %s", g->file, g->msg ? g->msg : "");
	char *clean = utf8_clean(msg, strlen(msg));
	json_object_object_add(o, "message", json_object_new_string(clean));
	free(clean);
	free(msg);
	return o;
}

/* Notes that point into headers say little in an editor: errors and warnings, and notes
 * about this very file, are what it is shown. */
static int shown(const struct doc *d, const struct vms_diag *g)
{
	return g->sev != VMS_NOTE || !g->file || !d->path || !strcmp(g->file, d->path);
}

static size_t n_shown(const struct doc *d, const struct vms_diags *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += shown(d, &s->v[i]);
	return n;
}

static void publish(struct lsp *l, struct doc *d)
{
	struct vms_hash128 h = text_hash(d);
	int use_build = d->have_built && h.hi == d->built_hash.hi && h.lo == d->built_hash.lo;
	const struct vms_diags *src = use_build ? &d->built : &d->check;
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < src->n; i++) {
		const struct vms_diag *g = &src->v[i];
		if (!shown(d, g))
			continue;
		json_object_array_add(arr, to_lsp(d, g, !use_build && d->check_is_exact ? "vmslim exact"
										      : "vmslim"));
	}
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "uri", json_object_new_string(d->uri));
	json_object_object_add(p, "version", json_object_new_int(d->version));
	json_object_object_add(p, "diagnostics", arr);
	rpc_notify(l->out, "textDocument/publishDiagnostics", p);
}

/* ---- jobs ------------------------------------------------------------------------- */

struct job_arg {
	struct lsp *l;
	struct doc *d;
	int build;
};

static void fill_req(struct lsp *l, struct doc *d, struct backend_req *q)
{
	*q = (struct backend_req){
		.source = d->text.data ? d->text.data : "",
		.len = d->text.len,
		.file = d->path ? d->path : vms_basename(d->uri),
		.src_dir = d->dir,
		.time_limit_ms = l->lim.wall_ms,
	};
}

/* The verifier's log names source lines as "; code @ file.c:57": the last one before
 * the complaint is where it gave up, and the complaint is the last line of the log that
 * is neither an instruction, a source reference nor libbpf's or vmslim's framing. */
static void verifier_diag(const char *log, const char *path, struct vms_diags *out)
{
	int line = 0, done = 0;
	char *msg = NULL;
	const char *base = vms_basename(path);
	for (const char *p = log; p && *p && !done;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		char *l = vms_xstrndup(p, n);
		char *at = strstr(l, " @ ");
		if (l[0] == ';' && at) {
			char *colon = strrchr(at + 3, ':');
			if (colon) {
				*colon = 0;
				if (!strcmp(vms_basename(at + 3), base) && atoi(colon + 1) > 0)
					line = atoi(colon + 1);
			}
		} else if (!strncmp(l, "processed ", 10)) {
			done = 1;
		} else if (n && !(l[0] >= '0' && l[0] <= '9') && strncmp(l, "libbpf:", 7) &&
			   strncmp(l, "vmslim:", 7) && strncmp(l, "--", 2) && l[0] != ';') {
			free(msg);
			msg = vms_xstrdup(l);
		}
		free(l);
		p = eol ? eol + 1 : NULL;
	}
	vms_diag_add(out, VMS_ERROR, path, line, 0, "the verifier rejects the program: %s",
		     msg ? msg : "(see `vmslim build --load`)");
	free(msg);
}

static void job_main(void *arg, struct vms_result *r)
{
	struct job_arg *a = arg;
	struct backend_req q;
	fill_req(a->l, a->d, &q);
	if (!a->build) {
		backend_check_clang(a->l->be, &q, r);
		return;
	}
	backend_build(a->l->be, &q, r);
	if (r->status != VMS_ST_OK || !a->l->load_on_save || !r->obj)
		return;
	char *dir = vms_make_tempdir("vmslim-lsp-load");
	if (!dir)
		return;
	char *obj = vms_xasprintf("%s/prog.o", dir);
	if (vms_write_file_atomic(obj, r->obj, r->obj_len, 0600) == 0) {
		char *log = NULL;
		enum vms_load_result lr = vms_bpf_load_object(obj, &log);
		if (lr == VMS_LOAD_REJECTED || lr == VMS_LOAD_ERROR) {
			verifier_diag(log ? log : "", q.file, &r->diags);
			r->status = VMS_ST_ERRORS;
		} else if (lr == VMS_LOAD_REFUSED) {
			vms_diag_add(&r->diags, VMS_NOTE, q.file, 0, 0,
				     "not loaded: this machine refuses to load BPF programs");
		}
		free(log);
	}
	vms_remove_tree(dir);
	free(dir);
	free(obj);
}

static void job_finished(struct worker_watch *w, struct vms_result *r);

static void job_start(struct lsp *l, struct doc *d, struct lsp_job *j, int build)
{
	job_stop(j);
	struct job_arg a = { l, d, build };
	int e = worker_watch_start(&j->run, l->lp, job_main, &a, &l->lim, job_finished);
	if (e < 0) {
		lsp_log(l, "cannot start a worker: %s", strerror(-e));
		return;
	}
	j->version = d->version;
	j->text_hash = text_hash(d);
}

static void job_finished(struct worker_watch *w, struct vms_result *res)
{
	struct lsp_job *j = (struct lsp_job *)w;
	struct lsp *l = j->l;
	struct doc *d = j->d;
	struct vms_result r = *res;
	memset(res, 0, sizeof(*res));
	struct vms_hash128 h = text_hash(d);
	int current = h.hi == j->text_hash.hi && h.lo == j->text_hash.lo;
	if (j == &d->build) {
		vms_diags_free(&d->built);
		d->built = r.diags;
		memset(&r.diags, 0, sizeof(r.diags));
		d->built_hash = j->text_hash;
		d->have_built = 1;
		lsp_log(l, "%s: build %s (%.0f ms)", d->path ? d->path : d->uri,
			vms_status_name(r.status), r.ms);
		if (current)
			publish(l, d);
	} else if (current && d->check_version == j->version) {
		vms_diags_free(&d->check);
		d->check = r.diags;
		memset(&r.diags, 0, sizeof(r.diags));
		d->check_pending = 0;
		d->check_is_exact = 0;
		publish(l, d);
	}
	vms_result_free(&r);
}

/* ---- checks ----------------------------------------------------------------------- */

/* Asks the exact checker's thread about the current text; its answer comes back through
 * exact_ready(). 0 when asked, -1 when there is no exact checker to ask. */
static int ask_exact(struct lsp *l, struct doc *d, int direct)
{
	if (!d->path || l->no_libclang || !l->xw)
		return -1;
	struct vms_exact_opts xo = {
		.include_dirs = (const char *const *)l->inc.v,
		.n_inc = l->inc.n,
		.flags = (const char *const *)l->flags.v,
		.n_flags = l->flags.n,
		.vmlinux_header = backend_vmlinux(l->be),
		.src_dir = d->dir,
	};
	/* the backend's header is the one found or given; only a --header override has to
	 * be staged for libclang */
	if (!backend_vmlinux_dir(l->be))
		xo.vmlinux_header = NULL;
	d->exact_direct = direct;
	if (direct)
		d->check_pending = 1;
	xworker_submit(l->xw, d->id, &xo, d->path, d->text.data, d->text.len, d->version,
		       text_hash(d));
	return 0;
}

/* dd (the exact checker's when exact) becomes what the document shows for its current
 * version. */
static void show(struct lsp *l, struct doc *d, struct vms_diags *dd, int exact)
{
	/* clang agreeing that a text the editor already shows as clean is clean: nothing
	 * new to publish (a second empty list for the same version is only churn) */
	int quiet = exact && d->fast_shown && !d->check_pending && !d->check_is_exact &&
		    n_shown(d, &d->check) == 0 && n_shown(d, dd) == 0;
	d->check_is_exact = exact;
	d->fast_shown |= !exact;
	job_stop(&d->fallback);
	d->check_pending = 0;
	vms_diags_free(&d->check);
	d->check = *dd;
	memset(dd, 0, sizeof(*dd));
	if (!quiet)
		publish(l, d);
}

/* A new version: the fast answer at once, clang's to follow for the same version. */
static void check_doc(struct lsp *l, struct doc *d)
{
	d->dirty = 0;
	d->check_version = d->version;
	d->fast_shown = 0;
	if (l->exact && ask_exact(l, d, 1) == 0)
		return;
	struct backend_req q;
	fill_req(l, d, &q);
	q.time_limit_ms = 5000;
	struct vms_result r = { 0 };
	backend_check_fast(l->be, &q, &r);
	int judged = r.status == VMS_ST_OK || r.status == VMS_ST_ERRORS;
	int tier = !l->fast_only || l->clang_tier;
	if (!judged && tier && ask_exact(l, d, 1) == 0) {
		vms_result_free(&r);
		return;
	}
	if (judged) {
		show(l, d, &r.diags, 0);
		if (!l->fast_only && !l->exact)
			ask_exact(l, d, 0);
	} else {
		/* the checker cannot judge this text: clang answers for this version */
		d->check_pending = 1;
		job_start(l, d, &d->fallback, 0);
	}
	vms_result_free(&r);
}

/* The exact checker's answers: each is shown if its document still has that version
 * and that text; a direct one that failed (libclang could not parse, or is missing) is
 * handed to a clang process as the fast checker's "cannot judge" would be. */
static void exact_ready(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)fd, (void)events;
	struct lsp *l = data;
	struct xresult *all = xworker_take(l->xw);
	for (struct xresult *r = all; r; r = r->next) {
		struct doc *d = l->docs;
		while (d && d->id != r->doc_id)
			d = d->next;
		if (r->no_libclang && !l->no_libclang) {
			lsp_log(l, "no exact diagnostics: %s",
				r->diags.n ? r->diags.v[0].msg : "libclang failed");
			l->no_libclang = 1;
		}
		struct vms_hash128 h = d ? text_hash(d) : (struct vms_hash128){ 0 };
		if (!d || d->dirty || r->version != d->version || h.hi != r->hash.hi ||
		    h.lo != r->hash.lo)
			continue; /* stale: a newer text has its own answer coming */
		if (r->ms > 100)
			lsp_log(l, "%s: libclang parse %.0f ms", d->path, r->ms);
		if (r->ok) {
			show(l, d, &r->diags, 1);
		} else if (d->exact_direct) {
			lsp_log(l, "%s: %s", d->path,
				r->diags.n ? r->diags.v[r->diags.n - 1].msg : "libclang failed");
			job_start(l, d, &d->fallback, 0);
		}
	}
	xresult_free(all);
}

/* ---- requests and notifications --------------------------------------------------- */

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!o || !json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *jget(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static void take_options(struct lsp *l, struct json_object *opts)
{
	if (!json_object_is_type(opts, json_type_object))
		return;
	struct json_object *v;
	if ((v = jget(opts, "includeDirs")) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			vms_argv_push(&l->inc, json_object_get_string(json_object_array_get_idx(v, i)));
	if ((v = jget(opts, "defines")) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			vms_argv_pushf(&l->flags, "-D%s",
				       json_object_get_string(json_object_array_get_idx(v, i)));
	if (jstr(opts, "header")) {
		free(l->header);
		l->header = vms_xstrdup(jstr(opts, "header"));
	}
	if ((v = jget(opts, "buildOnSave")))
		l->build_on_save = json_object_get_boolean(v);
	if ((v = jget(opts, "loadOnSave")))
		l->load_on_save = json_object_get_boolean(v);
	if ((v = jget(opts, "clangTier")))
		l->clang_tier = json_object_get_boolean(v);
	if ((v = jget(opts, "exact")))
		l->exact = json_object_get_boolean(v);
	if ((v = jget(opts, "fastOnly")))
		l->fast_only = json_object_get_boolean(v);
}

static void on_initialize(struct lsp *l, struct json_object *id, struct json_object *params)
{
	if (l->initialized) {
		rpc_error(l->out, id, RPC_INVALID, "initialize was already received");
		return;
	}
	take_options(l, jget(params, "initializationOptions"));
	l->bo.inc_dirs = (const char *const *)l->inc.v;
	l->bo.n_inc = l->inc.n;
	l->bo.flags = (const char *const *)l->flags.v;
	l->bo.n_flags = l->flags.n;
	l->bo.header = l->header;
	l->bo.untrusted = 0;
	struct vms_diags d = { 0 };
	if (backend_new(&l->bo, &l->be, &d) < 0) {
		struct vms_buf b = { 0 };
		vms_buf_puts(&b, "cannot start the checker:");
		for (size_t i = 0; i < d.n; i++)
			vms_buf_printf(&b, " %s%s%s", d.v[i].file ? d.v[i].file : "",
				       d.v[i].file ? ": " : "", d.v[i].msg);
		rpc_error(l->out, id, RPC_INVALID, b.data);
		lsp_log(l, "%s", b.data);
		vms_buf_free(&b);
		vms_diags_free(&d);
		return;
	}
	vms_diags_free(&d);
	l->initialized = 1;
	struct json_object *caps = json_object_new_object(), *sync = json_object_new_object(),
			   *save = json_object_new_object(), *res = json_object_new_object(),
			   *info = json_object_new_object();
	json_object_object_add(sync, "openClose", json_object_new_boolean(1));
	json_object_object_add(sync, "change", json_object_new_int(2)); /* incremental */
	json_object_object_add(save, "includeText", json_object_new_boolean(0));
	json_object_object_add(sync, "save", save);
	json_object_object_add(caps, "positionEncoding", json_object_new_string("utf-16"));
	json_object_object_add(caps, "textDocumentSync", sync);
	json_object_object_add(res, "capabilities", caps);
	json_object_object_add(info, "name", json_object_new_string("vmslim"));
	json_object_object_add(res, "serverInfo", info);
	rpc_respond(l->out, id, res);
}

static void on_open(struct lsp *l, struct json_object *params)
{
	struct json_object *td = jget(params, "textDocument");
	const char *uri = jstr(td, "uri"), *text = jstr(td, "text");
	struct json_object *ver = jget(td, "version");
	if (!uri || !text)
		return;
	struct doc *d = find_doc(l, uri);
	if (!d) {
		d = vms_xcalloc(1, sizeof(*d));
		d->id = ++l->next_doc_id;
		d->uri = vms_xstrdup(uri);
		d->path = uri_to_path(uri);
		d->dir = d->path ? vms_dirname(d->path) : NULL;
		d->fallback = d->build = (struct lsp_job){ .l = l, .d = d, .run.fd = -1 };
		d->next = l->docs;
		l->docs = d;
	}
	d->text.len = 0;
	vms_buf_append(&d->text, text, (size_t)json_object_get_string_len(jget(td, "text")));
	d->version = ver ? json_object_get_int(ver) : 0;
	d->dirty = 1;
}

static void on_change(struct lsp *l, struct json_object *params)
{
	struct json_object *td = jget(params, "textDocument");
	struct doc *d = find_doc(l, jstr(td, "uri") ? jstr(td, "uri") : "");
	struct json_object *changes = jget(params, "contentChanges");
	if (!d || !json_object_is_type(changes, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(changes); i++) {
		struct json_object *c = json_object_array_get_idx(changes, i);
		struct json_object *tv = jget(c, "text"), *range = jget(c, "range");
		if (!tv || !json_object_is_type(tv, json_type_string))
			continue;
		const char *t = json_object_get_string(tv);
		size_t tl = (size_t)json_object_get_string_len(tv);
		if (!range) {
			d->text.len = 0;
			vms_buf_append(&d->text, t, tl);
			continue;
		}
		struct json_object *s = jget(range, "start"), *e = jget(range, "end");
		const char *txt = d->text.data ? d->text.data : "";
		size_t so = lsp_offset(txt, d->text.len, json_object_get_int(jget(s, "line")),
				      json_object_get_int(jget(s, "character")));
		size_t eo = lsp_offset(txt, d->text.len, json_object_get_int(jget(e, "line")),
				      json_object_get_int(jget(e, "character")));
		if (eo < so)
			eo = so;
		struct vms_buf nb = { 0 };
		vms_buf_append(&nb, txt, so);
		vms_buf_append(&nb, t, tl);
		vms_buf_append(&nb, txt + eo, d->text.len - eo);
		vms_buf_free(&d->text);
		d->text = nb;
	}
	struct json_object *ver = jget(td, "version");
	if (ver)
		d->version = json_object_get_int(ver);
	d->dirty = 1;
}

/* JSON-RPC's Invalid Request (-32600): a method that is missing or not a string, an id
 * that is not a string or number, params that are not an object for a method whose
 * handler reads them. A request gets the error, a notification is only logged (it gets
 * no reply); a message with no method but a result or error is a response to a request
 * this server never sends, and is dropped. 1 when m is fine to dispatch. */
static int valid_request(struct lsp *l, struct json_object *m, const char *method,
			 struct json_object *id, struct json_object *params)
{
	static const char *const needs_object[] = { "initialize", "textDocument/didOpen",
						    "textDocument/didChange", "textDocument/didSave",
						    "textDocument/didClose" };
	const char *why = NULL;
	int request = id != NULL;
	if (!json_object_object_get_ex(m, "method", NULL)) {
		if (json_object_object_get_ex(m, "result", NULL) ||
		    json_object_object_get_ex(m, "error", NULL))
			return 0;
		why = "no method";
	} else if (!method) {
		why = "the method is not a string";
	} else if (id && !json_object_is_type(id, json_type_string) &&
		   !json_object_is_type(id, json_type_int) &&
		   !json_object_is_type(id, json_type_double)) {
		why = "the id is not a string or number";
		id = NULL;
	} else if (params && !json_object_is_type(params, json_type_object)) {
		for (size_t i = 0; i < sizeof(needs_object) / sizeof(*needs_object); i++)
			if (!strcmp(method, needs_object[i]))
				why = "params is not an object";
	}
	if (!why)
		return 1;
	lsp_log(l, "invalid %s%s%s: %s", request ? "request" : "notification", method ? " " : "",
		method ? method : "", why);
	if (request) /* id NULL here when the id itself is what is wrong: answered with null */
		rpc_error(l->out, id, RPC_INVALID, why);
	return 0;
}

static void dispatch(struct lsp *l, struct json_object *m)
{
	const char *method = jstr(m, "method");
	struct json_object *id = jget(m, "id"), *params = jget(m, "params");
	if (!valid_request(l, m, method, id, params))
		return;
	if (!strcmp(method, "initialize")) {
		on_initialize(l, id, params);
		return;
	}
	if (!strcmp(method, "exit"))
		return; /* the loop looks for it */
	if (!l->initialized) {
		if (id)
			rpc_error(l->out, id, RPC_NOT_INITIALIZED, "the server is not initialized");
		return;
	}
	if (!strcmp(method, "shutdown")) {
		l->shutdown = 1;
		rpc_respond(l->out, id, NULL);
	} else if (!strcmp(method, "textDocument/didOpen")) {
		on_open(l, params);
	} else if (!strcmp(method, "textDocument/didChange")) {
		on_change(l, params);
	} else if (!strcmp(method, "textDocument/didSave")) {
		struct doc *d = find_doc(l, jstr(jget(params, "textDocument"), "uri") ?: "");
		if (d && l->build_on_save)
			job_start(l, d, &d->build, 1);
	} else if (!strcmp(method, "textDocument/didClose")) {
		const char *uri = jstr(jget(params, "textDocument"), "uri");
		for (struct doc **p = &l->docs; uri && *p; p = &(*p)->next)
			if (!strcmp((*p)->uri, uri)) {
				struct doc *d = *p;
				*p = d->next;
				struct json_object *pp = json_object_new_object();
				json_object_object_add(pp, "uri", json_object_new_string(d->uri));
				json_object_object_add(pp, "diagnostics", json_object_new_array());
				rpc_notify(l->out, "textDocument/publishDiagnostics", pp);
				if (l->xw)
					xworker_forget(l->xw, d->id);
				doc_free(d);
				break;
			}
	} else if (id) {
		rpc_error(l->out, id, RPC_NO_METHOD, "method not supported");
	}
	/* other notifications ($/cancelRequest, initialized, workspace/...) need nothing */
}

/* ---- the loop ------------------------------------------------------------------- */

static const char *framing_why(int bad)
{
	switch (bad) {
	case RPC_BAD_HEADER_LONG:
		return "no end of the header within 8 KiB";
	case RPC_BAD_NO_LENGTH:
		return "no Content-Length";
	case RPC_BAD_TOO_LARGE:
		return "Content-Length too large";
	default:
		return "Content-Length not a number";
	}
}

/* Everything stdin has sent so far is applied before any check runs (before_sleep),
 * so a burst of keystrokes costs one check. */
static void stdin_readable(struct loop *lp, int fd, int events, void *data)
{
	(void)events;
	struct lsp *l = data;
	char buf[65536];
	ssize_t k = read(fd, buf, sizeof(buf));
	if (k > 0)
		vms_buf_append(&l->inbuf, buf, (size_t)k);
	else if (k == 0 || (errno != EINTR && errno != EAGAIN))
		l->eof = 1;
	for (;;) {
		struct json_object *m;
		int bad;
		int t = rpc_take(&l->inbuf, &l->off, &m, &bad);
		if (t < 0) {
			/* the framing is lost: log it and carry on at the next header */
			lsp_log(l, "bad message header (%s); skipping to the next Content-Length",
				framing_why(bad));
			continue;
		}
		if (t == 0)
			break;
		if (bad == RPC_BAD_JSON) {
			lsp_log(l, "a message body is not valid JSON");
			rpc_error(l->out, NULL, RPC_PARSE_ERROR, "malformed JSON");
			continue;
		}
		if (bad) {
			lsp_log(l, "a message body is not a JSON object");
			rpc_error(l->out, NULL, RPC_INVALID, "a message must be a JSON object");
			continue;
		}
		const char *method = jstr(m, "method");
		if (method && !strcmp(method, "exit"))
			l->exit_seen = 1;
		else
			dispatch(l, m);
		json_object_put(m);
		if (l->exit_seen)
			break;
	}
	if (l->off == l->inbuf.len) {
		l->inbuf.len = l->off = 0;
	} else if (l->off > (1u << 20)) {
		memmove(l->inbuf.data, l->inbuf.data + l->off, l->inbuf.len - l->off);
		l->inbuf.len -= l->off;
		l->off = 0;
	}
	if (l->exit_seen || l->eof)
		loop_stop(lp);
}

static void before_sleep(struct loop *lp, void *data)
{
	(void)lp;
	struct lsp *l = data;
	if (!l->be)
		return;
	for (struct doc *d = l->docs; d; d = d->next)
		if (d->dirty)
			check_doc(l, d);
}

int vms_lsp_run(const struct vms_lsp_opts *o, int in_fd, int out_fd)
{
	struct lsp l = { .o = o, .in = in_fd, .out = out_fd };
	l.bo = o->backend;
	for (size_t i = 0; i < o->backend.n_inc; i++)
		vms_argv_push(&l.inc, o->backend.inc_dirs[i]);
	for (size_t i = 0; i < o->backend.n_flags; i++)
		vms_argv_push(&l.flags, o->backend.flags[i]);
	l.header = o->backend.header ? vms_xstrdup(o->backend.header) : NULL;
	l.build_on_save = o->build_on_save;
	l.load_on_save = o->load_on_save;
	l.clang_tier = o->clang_tier;
	l.exact = o->exact;
	l.fast_only = o->fast_only;
	l.lim.cpu_s = 60;
	l.lim.mem_bytes = 4ull << 30;
	l.lim.wall_ms = o->time_limit_ms > 0 ? o->time_limit_ms : 60000;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_pipe;
	sigaction(SIGPIPE, &ign, &old_pipe);

	l.lp = loop_new();
	if (!l.lp || loop_add_fd(l.lp, in_fd, LOOP_READ, stdin_readable, &l) < 0) {
		lsp_log(&l, "cannot watch the input: %s", strerror(errno));
	} else {
		loop_set_before_sleep(l.lp, before_sleep, &l);
		if (!l.fast_only || l.exact || l.clang_tier) {
			l.xw = xworker_new();
			if (!l.xw || loop_add_fd(l.lp, xworker_fd(l.xw), LOOP_READ, exact_ready, &l) < 0)
				lsp_log(&l, "no exact checker thread: %s", strerror(errno));
		}
		int e = loop_run(l.lp);
		if (l.xw)
			loop_del_fd(l.lp, xworker_fd(l.xw));
		if (e < 0)
			lsp_log(&l, "the event loop failed: %s", strerror(-e));
		loop_del_fd(l.lp, in_fd);
	}
	xworker_free(l.xw); /* before the documents: it may still be parsing one */
	while (l.docs) {
		struct doc *d = l.docs;
		l.docs = d->next;
		doc_free(d);
	}
	loop_free(l.lp);
	backend_free(l.be);
	vms_buf_free(&l.inbuf);
	vms_argv_free(&l.inc);
	vms_argv_free(&l.flags);
	free(l.header);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return l.exit_seen && l.shutdown ? 0 : 1;
}
