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
 * Editor features (completion, hover, definition, signature help) come from the exact
 * checker's translation unit, on its thread (lsp_exact.c, lsp_feat.c): served, and
 * advertised, unless --fast-only. Each document's flags come from the command line and
 * the project's compile_commands.json or compile_flags.txt (common/compdb.h), found as
 * clangd finds them; documents with the same flags share a backend. With --target-btf,
 * each successful build on save has its CO-RE relocations resolved against each target
 * kernel (core/) and the unguarded ones a kernel cannot satisfy become warnings, shown
 * until the next build.
 * Jobs run in forked workers (worker.c), so the loop (loop.c, shared with the daemon)
 * stays responsive while clang runs; it watches stdin and every job's pipe, however
 * many, and a timer per job enforces its wall-time limit. Framing is lsp_rpc.c,
 * positions lsp_pos.c. */
#include "serve/internal.h"
#include "bpfobj/bpfobj.h"
#include "common/compdb.h"
#include "core/core.h"
#include "exact/exact.h"
#include "serve/loop.h"
#include "serve/lsp_feat.h"

#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct lsp;
struct doc;

/* The flags a set of documents is checked with (the server's, then their compilation
 * database's) and the backend made for them. */
struct flagset {
	struct vms_argv inc, flags;
	char *from;		/* the database that gave them; NULL for the server's own */
	struct backend *be;
	struct flagset *next;
};

/* A request handed to the exact checker's thread, waiting for its answer. */
struct pending {
	uint64_t seq;
	struct json_object *id;
	struct pending *next;
};

/* The prefix of the warnings the CO-RE check on save adds to a build's messages: how
 * the loop tells them from clang's. */
#define CORE_PREFIX "CO-RE: "

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
	struct vms_diags core;	/* the last build's CO-RE warnings (--target-btf) */
	struct flagset *fs;
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
	int features;		/* completion, hover... served (and advertised) */
	struct vms_argv targets;	/* --target-btf and initializationOptions.targetBtf */
	char *root;		/* the workspace's root directory */
	char *ccdir;		/* --compile-commands-dir */
	struct flagset *sets;	/* the first: the server's own flags */
	struct pending *pending;
	uint64_t next_seq;
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
	vms_diags_free(&d->core);
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
	for (size_t i = 0; i < d->core.n; i++)
		json_object_array_add(arr, to_lsp(d, &d->core.v[i], "vmslim core"));
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

/* The object's CO-RE relocations against each target kernel: each unguarded one that a
 * kernel cannot satisfy, a warning on its source line naming the kernel. */
static void core_check(struct lsp *l, const char *obj, const char *file, struct vms_result *r)
{
	struct vms_core_report rep;
	struct vms_diags d = { 0 };
	int rc = vms_core_resolve(obj, (const char *const *)l->targets.v, l->targets.n, &rep, &d);
	if (rc < 0) {
		for (size_t i = 0; i < d.n; i++)
			vms_diag_add(&r->diags, VMS_WARNING, file, 0, 0, CORE_PREFIX "%s%s%s",
				     d.v[i].file ? d.v[i].file : "", d.v[i].file ? ": " : "",
				     d.v[i].msg);
		vms_diags_free(&d);
		return;
	}
	for (size_t i = 0; i < rep.n; i++) {
		const struct vms_core_result *v = &rep.v[i];
		if (v->status != VMS_CORE_FAILED)
			continue;
		int here = v->file && !strcmp(vms_basename(v->file), vms_basename(file));
		vms_diag_add(&r->diags, VMS_WARNING, file, here ? v->line : 0, here ? v->col : 0,
			     CORE_PREFIX "%s%s%s%s%s",
			     v->message && strstr(v->message, vms_basename(v->target)) ? ""
										  : vms_basename(v->target),
			     v->message && strstr(v->message, vms_basename(v->target)) ? "" : ": ",
			     v->message ? v->message : "cannot be relocated", v->hint ? "; hint: " : "",
			     v->hint ? v->hint : "");
	}
	vms_core_report_free(&rep);
	vms_diags_free(&d);
}

static void job_main(void *arg, struct vms_result *r)
{
	struct job_arg *a = arg;
	struct backend_req q;
	fill_req(a->l, a->d, &q);
	if (!a->build) {
		backend_check_clang(a->d->fs->be, &q, r);
		return;
	}
	backend_build(a->d->fs->be, &q, r);
	if (r->status == VMS_ST_OK && r->obj && a->l->targets.n) {
		char *dir = vms_make_tempdir("vmslim-lsp-core");
		char *obj = dir ? vms_xasprintf("%s/prog.o", dir) : NULL;
		/* core/ reads the source its line info names (relative: the build compiled it
		 * under its base name) to place each relocation on the line that names the
		 * field: the text built, beside the object, in this worker's own directory */
		char *src = dir ? vms_xasprintf("%s/%s", dir, vms_basename(q.file)) : NULL;
		if (obj && vms_write_file_atomic(obj, r->obj, r->obj_len, 0600) == 0 &&
		    vms_write_file_atomic(src, q.source, q.len, 0600) == 0 && chdir(dir) == 0)
			core_check(a->l, obj, q.file, r);
		free(src);
		if (dir)
			vms_remove_tree(dir);
		free(dir);
		free(obj);
	}
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
		vms_diags_free(&d->core);
		for (size_t i = 0; i < r.diags.n; i++) {
			const struct vms_diag *g = &r.diags.v[i];
			int core = g->msg && !strncmp(g->msg, CORE_PREFIX, strlen(CORE_PREFIX));
			vms_diag_add(core ? &d->core : &d->built, g->sev, g->file, g->line, g->col,
				     "%s", g->msg ? g->msg : "");
		}
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
static void exact_opts(struct lsp *l, struct doc *d, struct vms_exact_opts *xo)
{
	*xo = (struct vms_exact_opts){
		.include_dirs = (const char *const *)d->fs->inc.v,
		.n_inc = d->fs->inc.n,
		.flags = (const char *const *)d->fs->flags.v,
		.n_flags = d->fs->flags.n,
		.vmlinux_header = backend_vmlinux(d->fs->be),
		.src_dir = d->dir,
		.features = l->features,
	};
	/* the backend's header is the one found or given; only a --header override has to
	 * be staged for libclang */
	if (!backend_vmlinux_dir(d->fs->be))
		xo->vmlinux_header = NULL;
}

static int ask_exact(struct lsp *l, struct doc *d, int direct)
{
	if (!d->path || l->no_libclang || !l->xw)
		return -1;
	struct vms_exact_opts xo;
	exact_opts(l, d, &xo);
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
	backend_check_fast(d->fs->be, &q, &r);
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
	struct xreply *replies = xworker_take_replies(l->xw);
	for (struct xreply *r = replies; r; r = r->next)
		for (struct pending **p = &l->pending; *p; p = &(*p)->next)
			if ((*p)->seq == r->seq) {
				struct pending *q = *p;
				*p = q->next;
				rpc_respond(l->out, q->id, r->result);
				r->result = NULL;
				json_object_put(q->id);
				free(q);
				break;
			}
	xreply_free(replies);
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
	if ((v = jget(opts, "targetBtf")) && json_object_is_type(v, json_type_array))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			vms_argv_push(&l->targets,
				      json_object_get_string(json_object_array_get_idx(v, i)));
	if (jstr(opts, "compileCommandsDir")) {
		free(l->ccdir);
		l->ccdir = vms_xstrdup(jstr(opts, "compileCommandsDir"));
	}
}

/* The workspace's root: rootUri, else the first workspace folder, else rootPath. */
static void take_root(struct lsp *l, struct json_object *params)
{
	struct json_object *wf = jget(params, "workspaceFolders");
	char *root = jstr(params, "rootUri") ? uri_to_path(jstr(params, "rootUri")) : NULL;
	if (!root && wf && json_object_is_type(wf, json_type_array) &&
	    json_object_array_length(wf) && jstr(json_object_array_get_idx(wf, 0), "uri"))
		root = uri_to_path(jstr(json_object_array_get_idx(wf, 0), "uri"));
	if (!root && jstr(params, "rootPath"))
		root = vms_xstrdup(jstr(params, "rootPath"));
	free(l->root);
	l->root = root;
}

/* ---- flags per document ------------------------------------------------------------ */

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static struct flagset *flagset_make(struct lsp *l, const struct vms_argv *inc,
				    const struct vms_argv *flags, const char *from)
{
	for (struct flagset *f = l->sets; f; f = f->next)
		if (vms_argv_equal(&f->inc, inc) && vms_argv_equal(&f->flags, flags))
			return f;
	struct vms_backend_opts bo = l->bo;
	bo.inc_dirs = (const char *const *)inc->v;
	bo.n_inc = inc->n;
	bo.flags = (const char *const *)flags->v;
	bo.n_flags = flags->n;
	struct backend *be;
	struct vms_diags d = { 0 };
	if (backend_new(&bo, &be, &d) < 0) {
		lsp_log(l, "%s: its flags cannot be used (%s); the server's own instead",
			from ? from : "flags", d.n ? d.v[0].msg : "no backend");
		vms_diags_free(&d);
		return NULL;
	}
	vms_diags_free(&d);
	struct flagset *f = vms_xcalloc(1, sizeof(*f));
	for (size_t i = 0; i < inc->n; i++)
		vms_argv_push(&f->inc, inc->v[i]);
	for (size_t i = 0; i < flags->n; i++)
		vms_argv_push(&f->flags, flags->v[i]);
	f->from = from ? vms_xstrdup(from) : NULL;
	f->be = be;
	/* after the server's own, which stays first */
	if (l->sets) {
		f->next = l->sets->next;
		l->sets->next = f;
	} else {
		l->sets = f;
	}
	return f;
}

/* The document's flags: the server's, then what its compilation database says (from
 * --compile-commands-dir, else the workspace root or its build/, else the directories
 * above the file), as clangd looks. Include directories that do not exist (an output
 * directory not built yet) are left out. */
static struct flagset *doc_flagset(struct lsp *l, const char *path)
{
	struct flagset *base = l->sets;
	if (!path)
		return base;
	struct vms_argv cf = { 0 };
	char *from = NULL;
	struct vms_diags d = { 0 };
	int r;
	if (l->ccdir) {
		r = vms_compdb_flags(path, l->ccdir, &cf, &from, &d);
	} else {
		r = l->root ? vms_compdb_flags(path, l->root, &cf, &from, &d) : 0;
		if (r == 0) {
			free(from);
			from = NULL;
			r = vms_compdb_flags(path, NULL, &cf, &from, &d);
		}
	}
	if (r < 0)
		lsp_log(l, "%s", d.n ? d.v[0].msg : "the compilation database cannot be read");
	vms_diags_free(&d);
	if (r <= 0) {
		vms_argv_free(&cf);
		free(from);
		return base;
	}
	struct vms_argv inc = { 0 }, flags = { 0 };
	for (size_t i = 0; i < base->inc.n; i++)
		vms_argv_push(&inc, base->inc.v[i]);
	for (size_t i = 0; i < base->flags.n; i++)
		vms_argv_push(&flags, base->flags.v[i]);
	for (size_t i = 0; i < cf.n; i++) {
		const char *a = cf.v[i];
		int two = i + 1 < cf.n && (!strcmp(a, "-I") || !strcmp(a, "-isystem") ||
					   !strcmp(a, "-idirafter") || !strcmp(a, "-iquote") ||
					   !strcmp(a, "-include"));
		if (two && (!strcmp(a, "-I") || !strcmp(a, "-isystem") || !strcmp(a, "-idirafter"))) {
			if (is_dir(cf.v[i + 1]))
				vms_argv_push(&inc, cf.v[i + 1]);
			i++;
		} else if (two) {
			vms_argv_push(&flags, a);
			vms_argv_push(&flags, cf.v[++i]);
		} else {
			vms_argv_push(&flags, a);
		}
	}
	struct flagset *f = flagset_make(l, &inc, &flags, from);
	if (f && f != base)
		lsp_log(l, "%s: flags from %s", path, from);
	vms_argv_free(&inc);
	vms_argv_free(&flags);
	vms_argv_free(&cf);
	free(from);
	return f ? f : base;
}

static void on_initialize(struct lsp *l, struct json_object *id, struct json_object *params)
{
	if (l->initialized) {
		rpc_error(l->out, id, RPC_INVALID, "initialize was already received");
		return;
	}
	take_options(l, jget(params, "initializationOptions"));
	take_root(l, params);
	l->bo.inc_dirs = (const char *const *)l->inc.v;
	l->bo.n_inc = l->inc.n;
	l->bo.flags = (const char *const *)l->flags.v;
	l->bo.n_flags = l->flags.n;
	l->bo.header = l->header;
	l->bo.untrusted = 0;
	struct vms_diags d = { 0 };
	for (size_t i = 0; i < l->targets.n; i++)
		if (access(l->targets.v[i], R_OK) < 0)
			vms_diag_add(&d, VMS_ERROR, l->targets.v[i], 0, 0, "cannot read: %s",
				     strerror(errno));
	if (d.n || backend_new(&l->bo, &l->be, &d) < 0) {
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
	l->sets = vms_xcalloc(1, sizeof(*l->sets));
	for (size_t i = 0; i < l->inc.n; i++)
		vms_argv_push(&l->sets->inc, l->inc.v[i]);
	for (size_t i = 0; i < l->flags.n; i++)
		vms_argv_push(&l->sets->flags, l->flags.v[i]);
	l->sets->be = l->be;
	/* the features need libclang in this process, which --fast-only promises not to load */
	l->features = !l->fast_only && l->xw;
	if (l->xw)
		xworker_set_targets(l->xw, (const char *const *)l->targets.v, l->targets.n);
	struct json_object *caps = json_object_new_object(), *sync = json_object_new_object(),
			   *save = json_object_new_object(), *res = json_object_new_object(),
			   *info = json_object_new_object();
	json_object_object_add(sync, "openClose", json_object_new_boolean(1));
	json_object_object_add(sync, "change", json_object_new_int(2)); /* incremental */
	json_object_object_add(save, "includeText", json_object_new_boolean(0));
	json_object_object_add(sync, "save", save);
	json_object_object_add(caps, "positionEncoding", json_object_new_string("utf-16"));
	json_object_object_add(caps, "textDocumentSync", sync);
	if (l->features) {
		struct json_object *cp = json_object_new_object(), *tc = json_object_new_array(),
				   *sp = json_object_new_object(), *st = json_object_new_array();
		json_object_array_add(tc, json_object_new_string("."));
		json_object_array_add(tc, json_object_new_string(">"));
		json_object_object_add(cp, "triggerCharacters", tc);
		json_object_object_add(caps, "completionProvider", cp);
		json_object_object_add(caps, "hoverProvider", json_object_new_boolean(1));
		json_object_object_add(caps, "definitionProvider", json_object_new_boolean(1));
		json_object_array_add(st, json_object_new_string("("));
		json_object_array_add(st, json_object_new_string(","));
		json_object_object_add(sp, "triggerCharacters", st);
		json_object_object_add(caps, "signatureHelpProvider", sp);
	}
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
		d->fs = doc_flagset(l, d->path);
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

/* An editor request: handed to the exact checker's thread with the document's current
 * text; answered (possibly after later requests) when the thread is done, null when
 * there is no document or no libclang. */
static void on_feature(struct lsp *l, struct json_object *id, struct json_object *params,
		       int kind)
{
	struct doc *d = find_doc(l, jstr(jget(params, "textDocument"), "uri") ?: "");
	struct json_object *p = jget(params, "position");
	if (!id)
		return;
	if (!d || !d->path || !p || !l->features || !l->xw || l->no_libclang) {
		rpc_respond(l->out, id, NULL);
		return;
	}
	struct vms_exact_opts xo;
	exact_opts(l, d, &xo);
	struct pending *q = vms_xcalloc(1, sizeof(*q));
	q->seq = ++l->next_seq;
	q->id = json_object_get(id);
	q->next = l->pending;
	l->pending = q;
	xworker_request(l->xw, d->id, &xo, d->path, d->text.data, d->text.len, kind, q->seq,
			json_object_get_int(jget(p, "line")),
			json_object_get_int(jget(p, "character")));
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
						    "textDocument/didClose", "textDocument/completion",
						    "textDocument/hover", "textDocument/definition",
						    "textDocument/signatureHelp" };
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
	} else if (!strcmp(method, "textDocument/completion")) {
		on_feature(l, id, params, XREQ_COMPLETE);
	} else if (!strcmp(method, "textDocument/hover")) {
		on_feature(l, id, params, XREQ_HOVER);
	} else if (!strcmp(method, "textDocument/definition")) {
		on_feature(l, id, params, XREQ_DEFINITION);
	} else if (!strcmp(method, "textDocument/signatureHelp")) {
		on_feature(l, id, params, XREQ_SIGNATURE);
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
	for (size_t i = 0; i < o->n_target_btfs; i++)
		vms_argv_push(&l.targets, o->target_btfs[i]);
	l.ccdir = o->compile_commands_dir ? vms_xstrdup(o->compile_commands_dir) : NULL;
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
	while (l.sets) {
		struct flagset *f = l.sets;
		l.sets = f->next;
		backend_free(f->be); /* the first's is l.be */
		vms_argv_free(&f->inc);
		vms_argv_free(&f->flags);
		free(f->from);
		free(f);
	}
	if (!l.initialized)
		backend_free(l.be);
	while (l.pending) {
		struct pending *q = l.pending;
		l.pending = q->next;
		json_object_put(q->id);
		free(q);
	}
	vms_argv_free(&l.targets);
	free(l.root);
	free(l.ccdir);
	vms_buf_free(&l.inbuf);
	vms_argv_free(&l.inc);
	vms_argv_free(&l.flags);
	free(l.header);
	sigaction(SIGPIPE, &old_pipe, NULL);
	return l.exit_seen && l.shutdown ? 0 : 1;
}
