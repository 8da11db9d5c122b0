/* `vmslim extract --header H --from PROG` and `vmslim build PROG` through the per-user
 * daemon (ops "extract_file" and "build_file", docs/protocol.md): the very functions the
 * CLI runs in-process (vms_slim_extract / vms_extract, vms_slim_or_full_build), run in a
 * worker forked from the daemon, so they start from its warm state: the slim context of
 * the header (slim/: the header parsed once, a program by a reparse, ~10 ms instead of a
 * ~300 ms parse) and the last PCH seal.
 *
 * A context is made on the daemon's loop the first time a (cwd, header, flags) is asked
 * for (the cost of one cold extract, paid once); every later request forks from it. The
 * reparse mutates libclang's unit, and a worker's copy is thrown away with it, so each
 * request starts from the same warm state, and a program that crashes or wedges libclang
 * takes only its worker down. The worker runs in the client's directory with its umask, so
 * relative paths, the names in diagnostics and the object's mode are what the client's
 * own process would give. Where no context can be made the worker runs the cold path: the
 * answer is the same either way, only slower. */
#include "serve/trusted.h"
#include "extract/extract.h"
#include "slim/slim.h"

#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILES_WALL_MS (10 * 60 * 1000)

enum fop { F_EXTRACT, F_BUILD };

struct fjob {
	struct worker_watch run;
	struct server *s;
	struct tfiles_pool *pool;
	enum fop op;
	uint64_t conn_id;
	struct json_object *id;
	double t0;
	char *cwd, *program, *header;	/* program: the source; header may be NULL (build) */
	char *ctx_header;		/* absolute: the full header of the warm context */
	struct vms_argv flags;
	struct vms_slim_ctx *ctx;	/* the daemon's, or NULL: the cold path */
	/* build_file only */
	char *output, *clang;
	int slim, verify, no_pch, gmodules;
	unsigned umask_bits;
	struct vms_pch_seal seal;
	struct fjob *next;
};

struct tfiles_pool {
	struct fjob *jobs;
	size_t running;
	uint64_t extracts, extracts_warm, builds, builds_warm;
};

static const char *const op_names[] = { [F_EXTRACT] = "extract_file", [F_BUILD] = "build_file" };

static void fjob_free(struct fjob *x)
{
	json_object_put(x->id);
	free(x->cwd), free(x->program), free(x->header), free(x->output), free(x->clang);
	free(x->ctx_header);
	vms_argv_free(&x->flags);
	free(x);
}

static void unlink_fjob(struct tfiles_pool *p, struct fjob *x)
{
	for (struct fjob **pp = &p->jobs; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
}

/* ---- in the worker ------------------------------------------------------------------ */

/* The stats, then the header's bytes, in r->obj. */
static void extract_in_worker(struct fjob *x, struct vms_result *r)
{
	struct vms_extract_stats st = { 0 };
	char *text = NULL;
	size_t len = 0;
	int e;
	if (x->ctx) {
		e = vms_slim_extract(x->ctx, x->program, (const char *const *)x->flags.v, &text,
				     &len, &st, &r->diags);
	} else {
		const char *progs[] = { x->program, NULL };
		struct vms_extract_opts o = {
			.header_path = x->header, .programs = progs,
			.clang_args = (const char *const *)x->flags.v,
		};
		e = vms_extract(&o, &text, &len, &st, &r->diags);
	}
	if (e == 0) {
		r->obj_len = sizeof(st) + len;
		r->obj = vms_xmalloc(r->obj_len);
		memcpy(r->obj, &st, sizeof(st));
		memcpy((char *)r->obj + sizeof(st), text, len);
	}
	free(text);
}

/* The build's result as JSON text in r->obj (the diagnostics in r->diags). */
static void build_in_worker(struct fjob *x, struct vms_result *r)
{
	umask((mode_t)x->umask_bits);
	struct vms_build_opts o = {
		.source = x->program, .output = x->output, .header = x->header,
		.flags = (const char *const *)x->flags.v, .clang = x->clang,
		.cache_dir = x->s->cache_dir, .gmodules = (enum vms_gmodules_mode)x->gmodules,
		.no_pch = x->no_pch, .pch_seal_in = x->seal.valid ? &x->seal : NULL,
		.via = trusted_snap_via(x->s),
	};
	struct vms_slim_build_opts so = { .ctx = x->ctx, .verify = x->verify };
	struct vms_build_result br;
	char *why = NULL;
	int rc = vms_slim_or_full_build(&o, x->slim ? &so : NULL, &br, &r->diags, &why);
	struct json_object *b = json_object_new_object();
	json_object_object_add(b, "rc", json_object_new_int(rc));
	json_object_object_add(b, "mode", json_object_new_string(br.mode ? br.mode : ""));
	json_object_object_add(b, "clang_stderr",
			       json_object_new_string(br.clang_stderr ? br.clang_stderr : ""));
	json_object_object_add(b, "clang_exit", json_object_new_int(br.clang_exit));
	json_object_object_add(b, "pch_rebuilt", json_object_new_boolean(br.pch_rebuilt));
	json_object_object_add(b, "pch_ms", json_object_new_double(br.pch_ms));
	json_object_object_add(b, "compile_ms", json_object_new_double(br.compile_ms));
	json_object_object_add(b, "total_ms", json_object_new_double(br.total_ms));
	if (why)
		json_object_object_add(b, "slim_why", json_object_new_string(why));
	r->obj = vms_xstrdup(json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN));
	r->obj_len = strlen(r->obj);
	r->pch_seal = br.pch_seal;
	json_object_put(b);
	free(why);
	vms_build_result_free(&br);
}

static void files_worker(void *arg, struct vms_result *r)
{
	struct fjob *x = arg;
	r->status = VMS_ST_OK; /* an answer: the diagnostics say what is wrong, if anything */
	r->backend = vms_xstrdup(x->ctx ? "slim-warm" : "cold");
	if (chdir(x->cwd) < 0) {
		r->status = VMS_ST_INTERNAL;
		vms_diag_add(&r->diags, VMS_ERROR, x->cwd, 0, 0, "cannot enter: %s",
			     strerror(errno));
		return;
	}
	if (x->op == F_EXTRACT)
		extract_in_worker(x, r);
	else
		build_in_worker(x, r);
}

/* ---- on the loop -------------------------------------------------------------------- */

static struct json_object *stats_json(const struct vms_extract_stats *st)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "types_kept", json_object_new_uint64(st->types_kept));
	json_object_object_add(o, "types_total", json_object_new_uint64(st->types_total));
	json_object_object_add(o, "types_opaque", json_object_new_uint64(st->types_opaque));
	json_object_object_add(o, "bytes_kept", json_object_new_uint64(st->bytes_kept));
	json_object_object_add(o, "bytes_total", json_object_new_uint64(st->bytes_total));
	json_object_object_add(o, "parse_ms", json_num3(st->parse_ms));
	json_object_object_add(o, "total_ms", json_num3(st->total_ms));
	return o;
}

static void add_answer(const struct fjob *x, const struct vms_result *r, struct json_object *o)
{
	if (x->op == F_EXTRACT && r->obj && r->obj_len >= sizeof(struct vms_extract_stats)) {
		struct vms_extract_stats st;
		memcpy(&st, r->obj, sizeof(st));
		const char *t = (const char *)r->obj + sizeof(st);
		json_object_object_add(o, "header", json_object_new_string_len(
							    t, (int)(r->obj_len - sizeof(st))));
		json_object_object_add(o, "stats", stats_json(&st));
	} else if (x->op == F_BUILD && r->obj) {
		/* the worker's bytes, not NUL-terminated once decoded */
		struct json_tokener *tok = json_tokener_new();
		struct json_object *b = json_tokener_parse_ex(tok, (const char *)r->obj,
							     (int)r->obj_len);
		json_tokener_free(tok);
		if (b)
			json_object_object_add(o, "build", b);
	}
}

static void files_done(struct worker_watch *w, struct vms_result *r)
{
	struct fjob *x = (struct fjob *)((char *)w - offsetof(struct fjob, run));
	struct server *s = x->s;
	x->pool->running--;
	unlink_fjob(x->pool, x);
	if (r->pch_seal.valid)
		s->pch_seal = r->pch_seal;
	struct conn *c = conn_by_id(s, x->conn_id);
	if (c) {
		if (r->status != VMS_ST_OK) {
			reply_error(c, x->id, "internal", r->diags.n ? r->diags.v[0].msg
								     : vms_status_name(r->status));
		} else {
			struct json_object *o = reply_head(x->id, 1);
			json_object_object_add(o, "op", json_object_new_string(op_names[x->op]));
			result_to_json(r, o);
			add_answer(x, r, o);
			json_object_object_add(o, "warm", json_object_new_boolean(x->ctx != NULL));
			json_object_object_add(o, "total_ms", json_num3(vms_now_ms() - x->t0));
			conn_send_json(c, o);
			json_object_put(o);
		}
		trusted_conn_done(s, c);
	}
	fjob_free(x);
}

static char *at(const char *cwd, const char *p)
{
	return p[0] == '/' ? vms_xstrdup(p) : vms_xasprintf("%s/%s", cwd, p);
}

/* The request into x; NULL, or what is wrong with it. */
static const char *vet(struct server *s, struct json_object *req, struct fjob *x)
{
	const char *cwd = treq_str(req, "cwd"), *hdr = treq_str(req, "header");
	const char *prog = treq_str(req, x->op == F_EXTRACT ? "program" : "source");
	if (!cwd || cwd[0] != '/' || !prog || !*prog || treq_strings(req, "flags", &x->flags) < 0)
		return "needs cwd (an absolute path), the program and flags (strings)";
	if (x->op == F_EXTRACT && (!hdr || !*hdr))
		return "extract_file needs the header";
	x->cwd = vms_xstrdup(cwd);
	x->program = vms_xstrdup(prog);
	x->header = hdr && *hdr ? vms_xstrdup(hdr) : NULL;
	if (x->op == F_EXTRACT) {
		x->ctx_header = at(cwd, hdr);
		return NULL;
	}
	const char *out = treq_str(req, "output"), *clang = treq_str(req, "clang");
	const char *cache = treq_str(req, "cache_dir");
	if (!out || !*out || !clang || clang[0] != '/')
		return "build_file needs output and clang (an absolute path)";
	/* the PCHs and slim headers of another cache directory are not this daemon's */
	if (!cache || strcmp(cache, s->cache_dir))
		return "the request's cache directory is not this daemon's";
	x->output = vms_xstrdup(out);
	x->clang = vms_xstrdup(clang);
	x->slim = treq_int(req, "slim") != 0;
	x->verify = treq_int(req, "verify") != 0;
	x->no_pch = treq_int(req, "no_pch") != 0;
	x->gmodules = treq_int(req, "gmodules");
	x->umask_bits = (unsigned)treq_int(req, "umask") & 0777;
	/* where the client found the full header (vms_slim_full_header): the daemon runs
	 * elsewhere, and -I paths are the client's directory's */
	const char *full = treq_str(req, "slim_header");
	if (x->slim && full && full[0] == '/')
		x->ctx_header = vms_xstrdup(full);
	return NULL;
}

/* The warm slim context of the request's full header and flags, when it has one. */
static void take_context(struct server *s, struct fjob *x)
{
	if (x->ctx_header && access(x->ctx_header, R_OK) == 0)
		x->ctx = trusted_slim_ctx(s, x->cwd, x->ctx_header, (const char *const *)x->flags.v);
}

void tfiles_request(struct server *s, struct conn *c, struct json_object *req,
		    struct json_object *id, const char *op, struct tfiles_pool **pool)
{
	if (!*pool)
		*pool = vms_xcalloc(1, sizeof(**pool));
	struct tfiles_pool *p = *pool;
	struct fjob *x = vms_xcalloc(1, sizeof(*x));
	x->run.fd = -1;
	x->op = strcmp(op, "build_file") ? F_EXTRACT : F_BUILD;
	const char *bad = vet(s, req, x);
	if (bad) {
		reply_error(c, id, "bad_request", bad);
		s->n_bad++;
		fjob_free(x);
		return;
	}
	x->s = s;
	x->pool = p;
	x->id = id ? json_object_get(id) : NULL;
	x->conn_id = c->id;
	x->t0 = vms_now_ms();
	x->seal = s->pch_seal;
	take_context(s, x);
	if (x->op == F_EXTRACT)
		p->extracts++, p->extracts_warm += x->ctx != NULL;
	else
		p->builds++, p->builds_warm += x->ctx != NULL;
	struct limits lim = { .wall_ms = FILES_WALL_MS };
	int e = worker_watch_start(&x->run, s->lp, files_worker, x, &lim, files_done);
	if (e < 0) {
		char *m = vms_xasprintf("cannot start a worker: %s", strerror(-e));
		reply_error(c, id, "internal", m);
		free(m);
		fjob_free(x);
		return;
	}
	p->running++;
	x->next = p->jobs;
	p->jobs = x;
	c->waiting = 1;
}

size_t tfiles_running(const struct tfiles_pool *p)
{
	return p ? p->running : 0;
}

void tfiles_stats_json(const struct tfiles_pool *p, struct json_object *o)
{
	struct json_object *x = json_object_new_object(), *b = json_object_new_object();
	json_object_object_add(x, "requests", json_object_new_uint64(p ? p->extracts : 0));
	json_object_object_add(x, "warm", json_object_new_uint64(p ? p->extracts_warm : 0));
	json_object_object_add(o, "extract", x);
	json_object_object_add(b, "requests", json_object_new_uint64(p ? p->builds : 0));
	json_object_object_add(b, "slim_warm", json_object_new_uint64(p ? p->builds_warm : 0));
	json_object_object_add(o, "build", b);
}

void tfiles_pool_free(struct tfiles_pool *p)
{
	if (!p)
		return;
	while (p->jobs) {
		struct fjob *x = p->jobs;
		p->jobs = x->next;
		worker_watch_stop(&x->run);
		fjob_free(x);
	}
	free(p);
}
