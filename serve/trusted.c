/* The per-user daemon's own ops (`serve --user`, docs/protocol.md "The per-user daemon"):
 * `cc`, a BPF compile of the user's own files by path, answered from the cache when
 * nothing it read has changed (cc_cache.c) or compiled in a worker with the very code the
 * CLI runs in-process (vms_cc_run); and the idle timer that ends the daemon when nobody
 * uses it.
 *
 * Why the user's files may be read by path here and nowhere else: conn.c lets only the
 * daemon's own uid connect in this mode (SO_PEERCRED), so every request comes from a
 * process that could read and write those files itself; the daemon holds nothing the
 * client could not have. A playground daemon refuses these ops. */
#include "serve/trusted.h"
#include "serve/loop.h"
#include "slim/slim.h"
#include "common/cachedir.h"

#include <errno.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef VMSLIM_VERSION
#define VMSLIM_VERSION "unknown"
#endif

#define TRUSTED_WALL_MS (10 * 60 * 1000)
#define MAX_ARGS 4096

/* The environment a compile sees that can change its answer: sent by the client, keyed,
 * and set in the worker (everything else is the daemon's own). */
static const char *const env_names[] = { "CPATH", "C_INCLUDE_PATH", "CPLUS_INCLUDE_PATH",
					 "OBJC_INCLUDE_PATH", "SOURCE_DATE_EPOCH",
					 "CCC_OVERRIDE_OPTIONS", NULL };

struct slim_slot {
	char *key;			/* cwd, header and flags */
	struct vms_slim_ctx *ctx;	/* NULL: it could not be made (one-shot builds) */
	struct slim_slot *next;
};

struct tjob {
	struct server *s;
	struct worker_watch run;
	uint64_t conn_id;
	struct json_object *id;
	double t0;
	char *cwd, *clang, *output, *dep_path;
	struct vms_argv args, env;	/* env: NAME=VALUE */
	int slim, cacheable;
	unsigned umask_bits;
	struct vms_hash128 key1;
	struct vms_slim_ctx *ctx;
	struct vms_pch_seal seal;
	struct tjob *next;
};

struct trusted {
	struct tjob *jobs;
	size_t running;
	struct slim_slot *slims;
	double last;
	uint64_t timer;
	uint64_t hits, misses, uncacheable, stores, cc_requests;
	struct tcheck_pool *checkers;	/* check_file's (trusted_check.c) */
};

/* ---- replies ----------------------------------------------------------------------- */

static void add_b64(struct json_object *o, const char *k, const void *d, size_t n)
{
	char *b = base64_encode(d ? d : "", d ? n : 0);
	json_object_object_add(o, k, json_object_new_string(b));
	free(b);
}

static void reply_cc(struct conn *c, struct json_object *id, const struct cc_answer *a,
		     const char *cached, double t0)
{
	struct json_object *o = reply_head(id, 1);
	json_object_object_add(o, "op", json_object_new_string("cc"));
	json_object_object_add(o, "exit", json_object_new_int(a->exit_code));
	add_b64(o, "stdout", a->out, a->out_len);
	add_b64(o, "stderr", a->err, a->err_len);
	if (a->mode) {
		char *m = utf8_clean(a->mode, strlen(a->mode));
		json_object_object_add(o, "mode", json_object_new_string(m));
		free(m);
	}
	json_object_object_add(o, "cached", cached ? json_object_new_string(cached)
						   : json_object_new_boolean(0));
	json_object_object_add(o, "total_ms", json_num3(vms_now_ms() - t0));
	conn_send_json(c, o);
	json_object_put(o);
}

/* The connection may read its next request. */
static void conn_done(struct server *s, struct conn *c)
{
	c->waiting = 0;
	c->last = vms_now_ms();
	if (conn_flush(s, c) == 0)
		conn_pump(s, c);
}

/* ---- jobs ------------------------------------------------------------------------ */

static void tjob_free(struct tjob *t)
{
	json_object_put(t->id);
	free(t->cwd), free(t->clang), free(t->output), free(t->dep_path);
	vms_argv_free(&t->args);
	vms_argv_free(&t->env);
	free(t);
}

static void unlink_job(struct trusted *tr, struct tjob *t)
{
	for (struct tjob **pp = &tr->jobs; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
}

static void put_u64(struct vms_buf *b, uint64_t v)
{
	vms_buf_append(b, &v, sizeof(v)); /* the worker's pipe: same host, same byte order */
}

static int get_u64(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	if ((size_t)(end - *p) < sizeof(*v))
		return -1;
	memcpy(v, *p, sizeof(*v));
	*p += sizeof(*v);
	return 0;
}

static void read_into(const char *path, void **data, size_t *len)
{
	char *d;
	size_t n;
	*data = NULL;
	*len = 0;
	if (vms_read_file(path, &d, &n) == 0) {
		*data = d;
		*len = n;
	}
}

/* In the worker: the compile, then what the parent caches and sends back, as
 * [cacheable][answer length][answer][manifest]. */
static void cc_worker(void *arg, struct vms_result *r)
{
	struct tjob *t = arg;
	r->backend = vms_xstrdup("cc");
	if (chdir(t->cwd) < 0) {
		r->status = VMS_ST_INTERNAL;
		vms_diag_add(&r->diags, VMS_ERROR, t->cwd, 0, 0, "cannot enter: %s", strerror(errno));
		return;
	}
	for (size_t i = 0; env_names[i]; i++)
		unsetenv(env_names[i]);
	for (size_t i = 0; i < t->env.n; i++) {
		char *eq = strchr(t->env.v[i], '=');
		*eq = 0;
		setenv(t->env.v[i], eq + 1, 1);
		*eq = '=';
	}
	umask((mode_t)t->umask_bits);
	char *extra = NULL;
	int cacheable = t->cacheable;
	if (cacheable && !t->dep_path)
		extra = vms_xasprintf("%s/cc-%d.d", backend_scratch(t->s->be), (int)getpid());
	int64_t start = cc_wall_ns();
	struct vms_cc_req q = {
		.clang = t->clang, .args = t->args.v, .nargs = (int)t->args.n,
		.cache_dir = t->s->cache_dir, .slim = t->slim, .slim_ctx = t->ctx, .capture = 1,
		.extra_dep_file = extra, .seal_in = t->seal.valid ? &t->seal : NULL,
	};
	struct vms_cc_answer a;
	int rc = vms_cc_run(&q, &a);
	struct cc_answer ans = { 0 };
	if (rc < 0) {
		ans.exit_code = rc == -ENOENT ? 127 : 126;
		ans.err = vms_xasprintf("vmslim cc: cannot run %s: %s\n", t->clang, strerror(-rc));
		ans.err_len = strlen(ans.err);
		ans.out = vms_xstrdup("");
		cacheable = 0;
	} else {
		ans.exit_code = a.exit_code;
		ans.out = a.out, ans.out_len = a.out_len;
		ans.err = a.err, ans.err_len = a.err_len;
		ans.mode = a.mode;
		a.out = a.err = a.mode = NULL;
		r->pch_seal = a.seal;
	}
	vms_cc_answer_free(&a);
	if (ans.exit_code == 0 && t->output) {
		read_into(t->output, &ans.obj, &ans.obj_len);
		cacheable &= ans.obj != NULL;
	}
	if (t->dep_path)
		read_into(t->dep_path, &ans.dep, &ans.dep_len);
	struct cc_manifest m = { 0 };
	if (cacheable) {
		void *text = NULL;
		size_t tl = 0;
		read_into(extra ? extra : t->dep_path, &text, &tl);
		struct vms_argv deps = { 0 };
		if (text)
			vms_cc_dep_parse(text, tl, &deps);
		free(text);
		cacheable = deps.n && cc_manifest_make(&deps, t->cwd, start, &m) == 0;
		vms_argv_free(&deps);
	}
	if (extra)
		unlink(extra);
	free(extra);
	struct vms_buf b = { 0 }, ab = { 0 };
	cc_answer_encode(&ans, &ab);
	put_u64(&b, (uint64_t)cacheable);
	put_u64(&b, ab.len);
	vms_buf_append(&b, ab.data, ab.len);
	if (cacheable)
		cc_manifest_encode(&m, &b);
	vms_buf_free(&ab);
	cc_manifest_free(&m);
	cc_answer_free(&ans);
	r->status = VMS_ST_OK;
	r->obj_len = b.len;
	r->obj = vms_buf_steal(&b);
}

static void store(struct server *s, struct vms_hash128 key, const void *d, size_t n)
{
	int e = vms_cache_put(s->cache, key, d, n);
	if (e < 0)
		server_log(s, "cache: cannot store an entry: %s", strerror(-e));
	remote_tier_store(s, key, d, n);
}

static void cc_done(struct worker_watch *w, struct vms_result *r)
{
	struct tjob *t = (struct tjob *)((char *)w - offsetof(struct tjob, run));
	struct server *s = t->s;
	struct trusted *tr = s->trusted;
	tr->running--;
	unlink_job(tr, t);
	if (r->pch_seal.valid)
		s->pch_seal = r->pch_seal;
	struct conn *c = conn_by_id(s, t->conn_id);
	const unsigned char *p = r->obj, *end = p ? p + r->obj_len : NULL;
	uint64_t cacheable = 0, alen = 0;
	struct cc_answer a;
	int ok = r->status == VMS_ST_OK && p && get_u64(&p, end, &cacheable) == 0 &&
		 get_u64(&p, end, &alen) == 0 && alen <= (uint64_t)(end - p) &&
		 cc_answer_decode(p, (size_t)alen, &a) == 0;
	if (!ok) {
		const char *why = r->diags.n ? r->diags.v[0].msg : vms_status_name(r->status);
		if (c) {
			reply_error(c, t->id, "internal", why);
			conn_done(s, c);
		}
		tjob_free(t);
		return;
	}
	p += alen;
	struct cc_manifest m;
	if (cacheable && cc_manifest_decode(p, (size_t)(end - p), &m) == 0) {
		store(s, cc_answer_key(t->key1, &m), p - alen, (size_t)alen);
		store(s, t->key1, p, (size_t)(end - p));
		tr->stores++;
		cc_manifest_free(&m);
		/* one bound over PCHs and answers (vmslim.conf's max_size) */
		vms_cache_trim(s->cache_dir, 0);
	} else {
		tr->uncacheable++;
	}
	if (c) {
		reply_cc(c, t->id, &a, NULL, t->t0);
		conn_done(s, c);
	}
	cc_answer_free(&a);
	tjob_free(t);
}

/* ---- the slim path's warm state ----------------------------------------------------- */

/* Where the program's "vmlinux.h" comes from, as clang looks for a quoted include: the
 * source's directory, then the -I directories in order. Owned, or NULL. */
static char *find_vmlinux(const char *cwd, const struct vms_cc_plan *p)
{
	struct vms_argv dirs = { 0 };
	char *src = cc_path_at(cwd, p->source);
	char *sd = vms_dirname(src);
	vms_argv_push(&dirs, sd);
	free(sd), free(src);
	for (size_t i = 0; i < p->flags.n; i++) {
		const char *a = p->flags.v[i], *d = NULL;
		if (!strcmp(a, "-I") && i + 1 < p->flags.n)
			d = p->flags.v[++i];
		else if (!strncmp(a, "-I", 2) && a[2])
			d = a + 2;
		if (d) {
			char *full = cc_path_at(cwd, d);
			vms_argv_push(&dirs, full);
			free(full);
		}
	}
	char *found = NULL;
	for (size_t i = 0; i < dirs.n && !found; i++) {
		char *h = vms_xasprintf("%s/vmlinux.h", dirs.v[i]);
		found = vms_realpath(h);
		free(h);
	}
	vms_argv_free(&dirs);
	return found;
}

/* The warm context for this program's header and flags, made on first use (one parse of
 * the header here, inherited by every worker forked after it); NULL when there is none. */
static struct vms_slim_ctx *slim_ctx_for(struct server *s, const char *cwd,
					 const struct vms_cc_plan *p)
{
	struct trusted *tr = s->trusted;
	char *hdr = find_vmlinux(cwd, p);
	if (!hdr)
		return NULL;
	struct vms_buf k = { 0 };
	vms_buf_printf(&k, "%s\x1f%s", cwd, hdr);
	for (size_t i = 0; i < p->flags.n; i++)
		vms_buf_printf(&k, "\x1f%s", p->flags.v[i]);
	char *key = vms_buf_steal(&k);
	struct slim_slot *sl = tr->slims;
	while (sl && strcmp(sl->key, key))
		sl = sl->next;
	if (sl && sl->ctx && !vms_slim_ctx_matches(sl->ctx, hdr, (const char *const *)p->flags.v)) {
		vms_slim_ctx_free(sl->ctx); /* the header changed under it */
		sl->ctx = NULL;
		free(sl->key);
		sl->key = vms_xstrdup(""); /* made again below */
		sl = NULL;
	}
	if (!sl) {
		sl = vms_xcalloc(1, sizeof(*sl));
		sl->key = key;
		key = NULL;
		struct vms_diags d = { 0 };
		double t0 = vms_now_ms();
		if (vms_slim_ctx_new(hdr, (const char *const *)p->flags.v, s->cache_dir, &sl->ctx,
				     &d) < 0) {
			sl->ctx = NULL;
			server_log(s, "slim: no warm state for %s (%s): one-shot slim builds", hdr,
				   d.n ? d.v[0].msg : "unknown");
		} else {
			server_log(s, "slim: warm state for %s in %.0f ms", hdr, vms_now_ms() - t0);
		}
		vms_diags_free(&d);
		sl->next = tr->slims;
		tr->slims = sl;
	}
	free(key);
	free(hdr);
	return sl->ctx;
}

/* ---- the cc op ----------------------------------------------------------------------- */

static const char *str_member(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
		return NULL;
	return json_object_get_string(v);
}

/* The request into t; NULL, or what is wrong with it. */
static const char *vet_cc(struct server *s, struct json_object *req, struct tjob *t)
{
	struct json_object *ja, *v;
	if (!json_object_object_get_ex(req, "args", &ja) || !json_object_is_type(ja, json_type_array) ||
	    json_object_array_length(ja) > MAX_ARGS)
		return "\"args\" (an array of strings) is required";
	for (size_t i = 0; i < json_object_array_length(ja); i++) {
		struct json_object *a = json_object_array_get_idx(ja, i);
		if (!json_object_is_type(a, json_type_string) ||
		    (size_t)json_object_get_string_len(a) != strlen(json_object_get_string(a)))
			return "\"args\" must hold strings without NUL bytes";
		vms_argv_push(&t->args, json_object_get_string(a));
	}
	const char *cwd = str_member(req, "cwd"), *clang = str_member(req, "clang");
	const char *cache = str_member(req, "cache_dir");
	if (!cwd || cwd[0] != '/')
		return "\"cwd\" (an absolute path) is required";
	if (!clang || clang[0] != '/')
		return "\"clang\" (an absolute path) is required";
	/* the answers and PCHs of another cache directory are not this daemon's to give */
	if (!cache || strcmp(cache, s->cache_dir))
		return "the request's cache directory is not this daemon's";
	t->cwd = vms_xstrdup(cwd);
	t->clang = vms_xstrdup(clang);
	if (json_object_object_get_ex(req, "slim", &v))
		t->slim = json_object_get_boolean(v);
	t->umask_bits = 022;
	if (json_object_object_get_ex(req, "umask", &v) && json_object_is_type(v, json_type_int))
		t->umask_bits = (unsigned)json_object_get_int(v) & 0777;
	struct json_object *je;
	if (json_object_object_get_ex(req, "env", &je) && json_object_is_type(je, json_type_object))
		for (size_t i = 0; env_names[i]; i++) {
			const char *val = str_member(je, env_names[i]);
			if (val)
				vms_argv_pushf(&t->env, "%s=%s", env_names[i], val);
		}
	return NULL;
}

/* key1: everything but the included files that decides the answer. 0, or -1 when the
 * compile cannot be cached (its source unreadable, its compiler unknown). */
static int cc_key1(struct server *s, struct tjob *t, const struct vms_cc_plan *p)
{
	struct vms_compiler comp;
	struct vms_diags d = { 0 };
	if (vms_compiler_identify(t->clang, s->cache_dir, &comp, &d) < 0) {
		vms_diags_free(&d);
		return -1;
	}
	char *src = cc_path_at(t->cwd, p->source), *text = NULL;
	size_t n = 0;
	int e = vms_read_file(src, &text, &n);
	free(src);
	if (e < 0) {
		vms_compiler_free(&comp);
		return -1;
	}
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, "vmslim-cc-1 " VMSLIM_VERSION);
	backend_identity(s->be, h);
	vms_hasher_update(h, &comp.id, sizeof(comp.id));
	vms_hasher_update_str(h, t->cwd);
	for (size_t i = 0; i < t->args.n; i++)
		vms_hasher_update_str(h, t->args.v[i]);
	vms_hasher_update_str(h, t->slim ? "slim" : "pch");
	for (size_t i = 0; i < t->env.n; i++)
		vms_hasher_update_str(h, t->env.v[i]);
	vms_hasher_update(h, &n, sizeof(n));
	vms_hasher_update(h, text, n);
	t->key1 = vms_hasher_digest(h);
	vms_hasher_free(h);
	vms_compiler_free(&comp);
	free(text);
	return 0;
}

/* 1 when the cache answered (outputs written, reply queued). */
static int cc_from_cache(struct server *s, struct conn *c, struct tjob *t)
{
	void *d;
	size_t n;
	enum vms_cache_hit hit = vms_cache_get(s->cache, t->key1, &d, &n);
	if (hit == VMS_CACHE_MISS)
		return 0;
	struct cc_manifest m;
	int ok = cc_manifest_decode(d, n, &m) == 0;
	free(d);
	if (!ok)
		return 0;
	ok = cc_manifest_holds(&m, t->cwd);
	struct vms_hash128 ak = cc_answer_key(t->key1, &m);
	cc_manifest_free(&m);
	if (!ok)
		return 0;
	hit = vms_cache_get(s->cache, ak, &d, &n);
	if (hit == VMS_CACHE_MISS)
		return 0;
	struct cc_answer a;
	ok = cc_answer_decode(d, n, &a) == 0;
	free(d);
	if (!ok)
		return 0;
	int e = 0;
	if (a.obj && t->output)
		e = cc_write_output(t->cwd, t->output, a.obj, a.obj_len, t->umask_bits);
	if (e == 0 && a.dep && t->dep_path)
		e = cc_write_output(t->cwd, t->dep_path, a.dep, a.dep_len, t->umask_bits);
	if (e < 0) {
		/* the client compiles it itself and says why, if anything is wrong there */
		char *m2 = vms_xasprintf("cannot write the outputs: %s", strerror(-e));
		reply_error(c, t->id, "output", m2);
		free(m2);
	} else {
		reply_cc(c, t->id, &a, hit == VMS_CACHE_MEM ? "memory" : "disk", t->t0);
	}
	cc_answer_free(&a);
	return 1;
}

static void cc_request(struct server *s, struct conn *c, struct json_object *req,
		       struct json_object *id)
{
	struct trusted *tr = s->trusted;
	tr->cc_requests++;
	struct tjob *t = vms_xcalloc(1, sizeof(*t));
	t->s = s;
	t->id = id ? json_object_get(id) : NULL;
	t->conn_id = c->id;
	t->t0 = vms_now_ms();
	t->run.fd = -1;
	const char *bad = vet_cc(s, req, t);
	struct vms_cc_plan plan;
	vms_cc_plan((int)t->args.n, t->args.v, &plan);
	if (!bad && !plan.is_bpf_compile)
		bad = "not a BPF compile (the client runs those itself)";
	if (bad) {
		reply_error(c, id, "bad_request", bad);
		s->n_bad++;
		goto out;
	}
	int mmd = 0;
	t->dep_path = vms_cc_dep_path(&plan, &mmd);
	t->output = vms_xstrdup(plan.output);
	/* -MMD leaves system headers out of the only list of files we would get */
	t->cacheable = !mmd && cc_key1(s, t, &plan) == 0;
	if (t->cacheable && cc_from_cache(s, c, t)) {
		tr->hits++;
		vms_cache_count(s->cache_dir, "cc", "hit");
		goto out;
	}
	tr->misses++;
	vms_cache_count(s->cache_dir, "cc", "miss");
	if (t->slim)
		t->ctx = slim_ctx_for(s, t->cwd, &plan);
	t->seal = s->pch_seal;
	struct limits lim = { .wall_ms = TRUSTED_WALL_MS };
	int e = worker_watch_start(&t->run, s->lp, cc_worker, t, &lim, cc_done);
	if (e < 0) {
		char *m = vms_xasprintf("cannot start a worker: %s", strerror(-e));
		reply_error(c, id, "internal", m);
		free(m);
		goto out;
	}
	tr->running++;
	t->next = tr->jobs;
	tr->jobs = t;
	c->waiting = 1;
	t = NULL;
out:
	vms_cc_plan_free(&plan);
	if (t)
		tjob_free(t);
}

/* ---- the daemon's side ------------------------------------------------------------ */

static double idle_tick(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	struct server *s = data;
	struct trusted *tr = s->trusted;
	if (s->shutting_down)
		return LOOP_TIMER_DONE;
	double now = vms_now_ms(), idle = 1000.0 * s->o->exit_idle_s;
	if (tr->running || s->running || s->queued || s->checking)
		tr->last = now; /* work in flight is use */
	if (now - tr->last >= idle) {
		server_begin_shutdown(s, "idle");
		return LOOP_TIMER_DONE;
	}
	return tr->last + idle - now + 1;
}

int trusted_open(struct server *s)
{
	s->trusted = vms_xcalloc(1, sizeof(*s->trusted));
	s->trusted->last = vms_now_ms();
	if (s->o->user_mode && s->o->exit_idle_s > 0)
		s->trusted->timer = loop_add_timer(s->lp, vms_now_ms() + 1000.0 * s->o->exit_idle_s,
						   idle_tick, s);
	return 0;
}

void trusted_close(struct server *s)
{
	struct trusted *tr = s->trusted;
	if (!tr)
		return;
	if (tr->hits + tr->misses)
		server_log(s, "cc: %llu requests, %llu answered from the cache, %llu compiled "
			      "(%llu not cacheable)", (unsigned long long)tr->cc_requests,
			   (unsigned long long)tr->hits, (unsigned long long)tr->misses,
			   (unsigned long long)tr->uncacheable);
	while (tr->jobs) {
		struct tjob *t = tr->jobs;
		tr->jobs = t->next;
		worker_watch_stop(&t->run);
		tjob_free(t);
	}
	while (tr->slims) {
		struct slim_slot *sl = tr->slims;
		tr->slims = sl->next;
		if (sl->ctx)
			vms_slim_ctx_free(sl->ctx);
		free(sl->key);
		free(sl);
	}
	tcheck_pool_free(tr->checkers);
	if (s->lp)
		loop_del_timer(s->lp, tr->timer);
	free(tr);
	s->trusted = NULL;
}

size_t trusted_running(const struct server *s)
{
	return s->trusted ? s->trusted->running : 0;
}

void trusted_touch(struct server *s)
{
	if (s->trusted)
		s->trusted->last = vms_now_ms();
}

int trusted_request(struct server *s, struct conn *c, struct json_object *req,
		    struct json_object *id, const char *op)
{
	if (op && !strcmp(op, "check_file")) {
		tcheck_request(s, c, req, id, &s->trusted->checkers);
		return 1;
	}
	if (!op || strcmp(op, "cc"))
		return 0;
	if (!s->o->user_mode) {
		reply_error(c, id, "refused",
			    "\"cc\" reads files by path: only a per-user daemon (serve --user) "
			    "serves it");
		return 1;
	}
	if (s->shutting_down) {
		reply_error(c, id, "shutting_down", "the daemon is shutting down");
		return 1;
	}
	cc_request(s, c, req, id);
	return 1;
}

void trusted_stats_json(struct server *s, struct json_object *o)
{
	struct trusted *tr = s->trusted;
	if (!tr || !s->o->user_mode)
		return;
	struct json_object *cc = json_object_new_object();
	json_object_object_add(cc, "requests", json_object_new_uint64(tr->cc_requests));
	json_object_object_add(cc, "hits", json_object_new_uint64(tr->hits));
	json_object_object_add(cc, "misses", json_object_new_uint64(tr->misses));
	json_object_object_add(cc, "stores", json_object_new_uint64(tr->stores));
	json_object_object_add(cc, "not_cacheable", json_object_new_uint64(tr->uncacheable));
	json_object_object_add(cc, "running", json_object_new_uint64(tr->running));
	json_object_object_add(o, "cc", cc);
	json_object_object_add(o, "user_mode", json_object_new_boolean(1));
	json_object_object_add(o, "exit_idle_s", json_object_new_int(s->o->exit_idle_s));
}
