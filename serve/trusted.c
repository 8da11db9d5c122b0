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
#include "serve/snap.h"

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

struct slim_slot {
	char *key;			/* cwd, header and flags */
	struct vms_slim_ctx *ctx;	/* NULL: it could not be made (one-shot builds) */
	double tried;			/* when it was last made or failed (0: never): a
					 * failed one is tried again after SLIM_RETRY_MS */
	double used;
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
	int slim, slim_verify, cacheable;
	unsigned umask_bits;
	struct vms_hash128 key1;
	struct vms_slim_ctx *ctx;
	struct vms_pch_seal seal;
	/* the remote tier's part (cc_remote_ask): the lookup in flight, the answer's key and
	 * the manifest as this machine records it, kept locally on a remote hit */
	struct remote_lookup *get;
	struct vms_hash128 akey;
	struct vms_buf man;
	struct tjob *next;
};

struct trusted {
	struct tjob *jobs;
	size_t running;
	struct slim_slot *slims;
	double last;
	uint64_t timer;
	uint64_t hits, misses, uncacheable, stores, cc_requests;
	uint64_t hits_uncounted;	/* hits not yet in the cache's stats file */
	/* local misses the remote tier answered, or was asked and could not (misses counts
	 * the compiles, whichever way they came) */
	uint64_t remote_hits, remote_misses;
	size_t looking;				/* requests waiting for the remote tier */
	struct tcheck_pool *checkers;	/* check_file's (trusted_check.c) */
	struct tfiles_pool *files;	/* extract_file's, build_file's (trusted_files.c) */
	struct snap_pool *snaps;	/* clang snapshots the workers compile through (snap.c) */
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

void trusted_conn_done(struct server *s, struct conn *c)
{
	conn_done(s, c);
}

const struct vms_build_via *trusted_snap_via(struct server *s)
{
	return snap_pool_via(s->trusted->snaps);
}

/* ---- jobs ------------------------------------------------------------------------ */

static void tjob_free(struct tjob *t)
{
	json_object_put(t->id);
	free(t->cwd), free(t->clang), free(t->output), free(t->dep_path);
	vms_argv_free(&t->args);
	vms_argv_free(&t->env);
	vms_buf_free(&t->man);
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
	for (size_t i = 0; vms_cc_env_names[i]; i++)
		unsetenv(vms_cc_env_names[i]);
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
		.slim_verify = t->slim_verify,
		.extra_dep_file = extra, .seal_in = t->seal.valid ? &t->seal : NULL,
		.via = trusted_snap_via(t->s),
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

static void keep_local(struct server *s, struct vms_hash128 key, const void *d, size_t n)
{
	int e = vms_cache_put(s->cache, key, d, n);
	if (e < 0)
		server_log(s, "cache: cannot store an entry: %s", strerror(-e));
}

static void store(struct server *s, struct vms_hash128 key, const void *d, size_t n)
{
	keep_local(s, key, d, n);
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

static void slim_slot_free(struct slim_slot *sl)
{
	if (sl->ctx)
		vms_slim_ctx_free(sl->ctx);
	free(sl->key);
	free(sl);
}

/* Each context holds a libclang parse of a full header (about 100 MB): past this many
 * the least recently used goes. Workers forked from it keep their own copy. */
#define MAX_SLIM_CTXS 4
#define SLIM_RETRY_MS 30000.0

static void slim_slots_bound(struct trusted *tr)
{
	size_t n = 0;
	for (struct slim_slot *sl = tr->slims; sl; sl = sl->next)
		n++;
	while (n-- > MAX_SLIM_CTXS) {
		struct slim_slot **old = &tr->slims;
		for (struct slim_slot **pp = &tr->slims; *pp; pp = &(*pp)->next)
			if ((*pp)->used < (*old)->used)
				old = pp;
		struct slim_slot *gone = *old;
		*old = gone->next;
		slim_slot_free(gone);
	}
}

/* The warm context for a header and the flags it is read with, made on first use (one
 * parse of the header here, inherited by every worker forked after it), and made again
 * when the header changed; NULL when there is none. cc --slim, extract_file and
 * build_file (trusted_files.c) share them. */
struct vms_slim_ctx *trusted_slim_ctx(struct server *s, const char *cwd, const char *hdr,
				      const char *const *flags)
{
	struct trusted *tr = s->trusted;
	struct vms_buf k = { 0 };
	vms_buf_printf(&k, "%s\x1f%s", cwd, hdr);
	for (size_t i = 0; flags && flags[i]; i++)
		vms_buf_printf(&k, "\x1f%s", flags[i]);
	char *key = vms_buf_steal(&k);
	struct slim_slot *sl = tr->slims;
	while (sl && strcmp(sl->key, key))
		sl = sl->next;
	if (sl && sl->ctx && !vms_slim_ctx_matches(sl->ctx, hdr, flags)) {
		vms_slim_ctx_free(sl->ctx); /* the header changed under it: made again below */
		sl->ctx = NULL;
		sl->tried = 0;
	}
	if (!sl) {
		sl = vms_xcalloc(1, sizeof(*sl));
		sl->key = key;
		key = NULL;
		sl->next = tr->slims;
		tr->slims = sl;
	}
	sl->used = vms_now_ms();
	if (!sl->ctx && (!sl->tried || sl->used - sl->tried > SLIM_RETRY_MS)) {
		struct vms_diags d = { 0 };
		double t0 = vms_now_ms();
		sl->tried = t0;
		if (vms_slim_ctx_new(hdr, flags, s->cache_dir, &sl->ctx, &d) < 0) {
			sl->ctx = NULL;
			server_log(s, "slim: no warm state for %s (%s): one-shot slim builds", hdr,
				   d.n ? d.v[0].msg : "unknown");
		} else {
			server_log(s, "slim: warm state for %s in %.0f ms", hdr, vms_now_ms() - t0);
		}
		vms_diags_free(&d);
	}
	free(key);
	struct vms_slim_ctx *c = sl->ctx;
	slim_slots_bound(tr);
	return c;
}

/* The warm context for this program's "vmlinux.h" and flags, or NULL. */
static struct vms_slim_ctx *slim_ctx_for(struct server *s, const char *cwd,
					 const struct vms_cc_plan *p)
{
	char *hdr = find_vmlinux(cwd, p);
	if (!hdr)
		return NULL;
	struct vms_slim_ctx *c = trusted_slim_ctx(s, cwd, hdr, (const char *const *)p->flags.v);
	free(hdr);
	return c;
}

/* ---- the cc op ----------------------------------------------------------------------- */

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
	const char *cwd = treq_str(req, "cwd"), *clang = treq_str(req, "clang");
	const char *cache = treq_str(req, "cache_dir");
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
	if (json_object_object_get_ex(req, "slim_verify", &v))
		t->slim_verify = t->slim && json_object_get_boolean(v);
	t->umask_bits = 022;
	if (json_object_object_get_ex(req, "umask", &v) && json_object_is_type(v, json_type_int))
		t->umask_bits = (unsigned)json_object_get_int(v) & 0777;
	struct json_object *je;
	if (json_object_object_get_ex(req, "env", &je) && json_object_is_type(je, json_type_object))
		for (size_t i = 0; vms_cc_env_names[i]; i++) {
			const char *val = treq_str(je, vms_cc_env_names[i]);
			if (val)
				vms_argv_pushf(&t->env, "%s=%s", vms_cc_env_names[i], val);
		}
	return NULL;
}

/* key1: everything but the included files that decides the answer. 0, or -1 when the
 * compile cannot be cached (its source unreadable, its compiler unknown). */
static int cc_key1(struct server *s, struct tjob *t, const struct vms_cc_plan *p)
{
	struct vms_hash128 comp_id;
	if (cc_compiler_id(t->clang, s->cache_dir, &comp_id) < 0)
		return -1;
	char *src = cc_path_at(t->cwd, p->source), *text = NULL;
	size_t n = 0;
	int e = vms_read_file(src, &text, &n);
	free(src);
	if (e < 0)
		return -1;
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, "vmslim-cc-1 " VMSLIM_VERSION);
	backend_identity(s->be, h);
	vms_hasher_update(h, &comp_id, sizeof(comp_id));
	vms_hasher_update_str(h, t->cwd);
	for (size_t i = 0; i < t->args.n; i++)
		vms_hasher_update_str(h, t->args.v[i]);
	vms_hasher_update_str(h, t->slim ? (t->slim_verify ? "slim-verify" : "slim") : "pch");
	for (size_t i = 0; i < t->env.n; i++)
		vms_hasher_update_str(h, t->env.v[i]);
	vms_hasher_update(h, &n, sizeof(n));
	vms_hasher_update(h, text, n);
	t->key1 = vms_hasher_digest(h);
	vms_hasher_free(h);
	free(text);
	return 0;
}

/* A cached answer (cached: which tier): its outputs written, its reply queued. */
static void cc_serve(struct conn *c, struct tjob *t, const struct cc_answer *a,
		     const char *cached)
{
	int e = 0;
	if (a->obj && t->output)
		e = cc_write_output(t->cwd, t->output, a->obj, a->obj_len, t->umask_bits);
	if (e == 0 && a->dep && t->dep_path)
		e = cc_write_output(t->cwd, t->dep_path, a->dep, a->dep_len, t->umask_bits);
	if (e < 0) {
		/* the client compiles it itself and says why, if anything is wrong there */
		char *m2 = vms_xasprintf("cannot write the outputs: %s", strerror(-e));
		reply_error(c, t->id, "output", m2);
		free(m2);
	} else {
		reply_cc(c, t->id, a, cached, t->t0);
	}
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
	int held = cc_manifest_recheck(&m, t->cwd);
	if (held > 0) {
		/* a file hashed again has settled: the next check of it is a stat alone */
		struct vms_buf b = { 0 };
		cc_manifest_encode(&m, &b);
		vms_cache_put(s->cache, t->key1, b.data, b.len);
		vms_buf_free(&b);
	}
	struct vms_hash128 ak = cc_answer_key(t->key1, &m);
	cc_manifest_free(&m);
	if (held < 0)
		return 0;
	const struct cc_answer *ma = cc_memo_get(ak);
	if (ma) {
		cc_serve(c, t, ma, "memory");
		return 1;
	}
	hit = vms_cache_get(s->cache, ak, &d, &n);
	if (hit == VMS_CACHE_MISS)
		return 0;
	struct cc_answer a;
	ok = cc_answer_decode(d, n, &a) == 0;
	free(d);
	if (!ok)
		return 0;
	cc_serve(c, t, &a, hit == VMS_CACHE_MEM ? "memory" : "disk");
	cc_memo_put(ak, &a);
	return 1;
}

/* A worker compiles it (cc_done answers). 0, or -1 with the error replied (t is then the
 * caller's to free). */
static int cc_compile(struct server *s, struct conn *c, struct tjob *t,
		      const struct vms_cc_plan *plan)
{
	struct trusted *tr = s->trusted;
	tr->misses++;
	vms_cache_count(s->cache_dir, "cc", "miss");
	if (t->slim)
		t->ctx = slim_ctx_for(s, t->cwd, plan);
	t->seal = s->pch_seal;
	struct limits lim = { .wall_ms = TRUSTED_WALL_MS };
	int e = worker_watch_start(&t->run, s->lp, cc_worker, t, &lim, cc_done);
	if (e < 0) {
		char *m = vms_xasprintf("cannot start a worker: %s", strerror(-e));
		reply_error(c, t->id, "internal", m);
		free(m);
		return -1;
	}
	tr->running++;
	t->next = tr->jobs;
	tr->jobs = t;
	c->waiting = 1;
	return 0;
}

/* ---- cc through the remote tier (remote_tier.c) ---------------------------------- *
 * After a local miss the shared store is asked for the manifest under key1, and when the
 * files here hold what it records, for the answer under its key: two operations on the
 * loop, during which this client waits and every other goes on. Anything short of both
 * (a miss, a corrupt value, no answer in time, a store being skipped, files that differ)
 * compiles as if there were no store. A hit is served as a local one is, and both
 * entries are kept locally, the manifest as this machine sees its files (its own inodes
 * and times), so the next hit is local and costs stats rather than hashes.
 *
 * The manifest's paths are the compiling machine's (cwd-relative as the dependency file
 * gives them, absolute for system headers and -I directories outside the tree), and key1
 * holds the cwd: a tree checked out at the same path on another machine hits, one
 * elsewhere misses. */

static void cc_remote_end(struct trusted *tr, struct tjob *t)
{
	tr->looking--;
	unlink_job(tr, t);
}

/* Nothing usable in the store: a worker compiles, unless the client went meanwhile. */
static void cc_remote_miss(struct server *s, struct tjob *t)
{
	struct trusted *tr = s->trusted;
	struct conn *c = conn_by_id(s, t->conn_id);
	cc_remote_end(tr, t);
	tr->remote_misses++;
	if (c && s->shutting_down) {
		reply_error(c, t->id, "shutting_down", "the daemon is shutting down");
	} else if (c) {
		struct vms_cc_plan plan;
		vms_cc_plan((int)t->args.n, t->args.v, &plan);
		int e = cc_compile(s, c, t, &plan);
		vms_cc_plan_free(&plan);
		if (e == 0)
			return;
	}
	if (c)
		conn_done(s, c);
	tjob_free(t);
}

/* 1 when every file the store's manifest names holds the bytes it records here, with
 * *here the manifest as this machine records them; one read of each file. */
static int cc_manifest_here(const struct cc_manifest *m, const char *cwd, struct vms_buf *here)
{
	struct vms_argv paths = { 0 };
	for (size_t i = 0; i < m->n; i++)
		vms_argv_push(&paths, m->v[i].path);
	struct cc_manifest h;
	int made = cc_manifest_make(&paths, cwd, cc_wall_ns(), &h) == 0;
	vms_argv_free(&paths);
	int ok = made && h.n == m->n;
	for (size_t i = 0; ok && i < m->n; i++)
		ok = h.v[i].hash.lo == m->v[i].hash.lo && h.v[i].hash.hi == m->v[i].hash.hi;
	if (made && ok)
		cc_manifest_encode(&h, here);
	if (made)
		cc_manifest_free(&h);
	else if ((ok = cc_manifest_holds(m, cwd)))
		cc_manifest_encode(m, here); /* a file changed just now, or dated ahead */
	return ok;
}

static int cc_remote_answer(void *arg, const void *d, size_t n)
{
	struct tjob *t = arg;
	struct server *s = t->s;
	struct trusted *tr = s->trusted;
	t->get = NULL;
	struct cc_answer a;
	if (!d || cc_answer_decode(d, n, &a) < 0) {
		cc_remote_miss(s, t);
		return 0;
	}
	cc_remote_end(tr, t);
	struct conn *c = conn_by_id(s, t->conn_id);
	if (c) {
		tr->remote_hits++;
		cc_serve(c, t, &a, "remote");
		conn_done(s, c); /* the reply goes out before the local writes */
		vms_cache_count(s->cache_dir, "cc", "remote_hit");
	}
	keep_local(s, t->akey, d, n);
	keep_local(s, t->key1, t->man.data, t->man.len);
	cc_answer_free(&a);
	tjob_free(t);
	return 1;
}

static int cc_remote_manifest(void *arg, const void *d, size_t n)
{
	struct tjob *t = arg;
	struct server *s = t->s;
	t->get = NULL;
	struct cc_manifest m;
	if (!d || cc_manifest_decode(d, n, &m) < 0) {
		cc_remote_miss(s, t);
		return 0;
	}
	vms_buf_free(&t->man);
	if (conn_by_id(s, t->conn_id) && cc_manifest_here(&m, t->cwd, &t->man)) {
		t->akey = cc_answer_key(t->key1, &m);
		t->get = remote_tier_get(s, t->akey, cc_remote_answer, t);
	}
	cc_manifest_free(&m);
	if (!t->get)
		cc_remote_miss(s, t);
	return 1;
}

/* After a local miss: 1 when the store was asked (the client waits; the answer or a
 * worker follows), 0 when it is not to be (no tier, or the store is being skipped). */
static int cc_remote_ask(struct server *s, struct conn *c, struct tjob *t)
{
	struct trusted *tr = s->trusted;
	t->get = remote_tier_get(s, t->key1, cc_remote_manifest, t);
	if (!t->get)
		return 0;
	tr->looking++;
	t->next = tr->jobs;
	tr->jobs = t;
	c->waiting = 1;
	return 1;
}

/* The hits into the cache's stats file (`vmslim cache --stats`). A timer due at once
 * fires after the pass's replies have been sent: rewriting that file costs more than the
 * rest of a hit (ext4 flushes a file truncated to nothing when it is closed), and the
 * client need not wait for it. */
static void flush_hit_counts(struct server *s)
{
	struct trusted *tr = s->trusted;
	for (; tr->hits_uncounted; tr->hits_uncounted--)
		vms_cache_count(s->cache_dir, "cc", "hit");
}

static double count_hits(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	flush_hit_counts(data);
	return LOOP_TIMER_DONE;
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
		/* counted on disk once the reply has gone (count_hits) */
		if (!tr->hits_uncounted++)
			loop_add_timer(s->lp, vms_now_ms(), count_hits, s);
		goto out;
	}
	if (t->cacheable && cc_remote_ask(s, c, t)) {
		t = NULL; /* answered, or compiled, once the store has spoken */
		goto out;
	}
	if (cc_compile(s, c, t, &plan) == 0)
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
	if (tr->running || tr->looking || s->running || s->queued || s->checking)
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
	if (s->o->user_mode)
		s->trusted->snaps = snap_pool_new(s, vms_cc_env_names);
	return 0;
}

void trusted_close(struct server *s)
{
	struct trusted *tr = s->trusted;
	if (!tr)
		return;
	cc_memo_clear();
	flush_hit_counts(s);
	if (tr->hits + tr->misses + tr->remote_hits)
		server_log(s, "cc: %llu requests, %llu answered from the cache, %llu from the "
			      "remote, %llu compiled (%llu not cacheable)",
			   (unsigned long long)tr->cc_requests, (unsigned long long)tr->hits,
			   (unsigned long long)tr->remote_hits, (unsigned long long)tr->misses,
			   (unsigned long long)tr->uncacheable);
	while (tr->jobs) {
		struct tjob *t = tr->jobs;
		tr->jobs = t->next;
		remote_tier_cancel(s, t->get); /* a no-op once the tier has closed */
		worker_watch_stop(&t->run);
		tjob_free(t);
	}
	while (tr->slims) {
		struct slim_slot *sl = tr->slims;
		tr->slims = sl->next;
		slim_slot_free(sl);
	}
	tcheck_pool_free(tr->checkers);
	tfiles_pool_free(tr->files);
	snap_pool_free(tr->snaps);
	if (s->lp)
		loop_del_timer(s->lp, tr->timer);
	free(tr);
	s->trusted = NULL;
}

size_t trusted_running(const struct server *s)
{
	return s->trusted ? s->trusted->running + s->trusted->looking +
				    tfiles_running(s->trusted->files)
			  : 0;
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
	if (!op || (strcmp(op, "cc") && strcmp(op, "extract_file") && strcmp(op, "build_file")))
		return 0;
	if (!s->o->user_mode) {
		char *m = vms_xasprintf("\"%s\" reads files by path: only a per-user daemon "
					"(serve --user) serves it", op);
		reply_error(c, id, "refused", m);
		free(m);
		return 1;
	}
	if (s->shutting_down) {
		reply_error(c, id, "shutting_down", "the daemon is shutting down");
		return 1;
	}
	if (strcmp(op, "cc"))
		tfiles_request(s, c, req, id, op, &s->trusted->files);
	else
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
	/* misses: compiles; remote_*: local misses answered by the remote tier, or compiled
	 * after asking it */
	json_object_object_add(cc, "remote_hits", json_object_new_uint64(tr->remote_hits));
	json_object_object_add(cc, "remote_misses", json_object_new_uint64(tr->remote_misses));
	json_object_object_add(cc, "stores", json_object_new_uint64(tr->stores));
	json_object_object_add(cc, "not_cacheable", json_object_new_uint64(tr->uncacheable));
	json_object_object_add(cc, "running", json_object_new_uint64(tr->running));
	json_object_object_add(o, "cc", cc);
	tfiles_stats_json(tr->files, o);
	snap_pool_stats_json(tr->snaps, o);
	json_object_object_add(o, "user_mode", json_object_new_boolean(1));
	json_object_object_add(o, "exit_idle_s", json_object_new_int(s->o->exit_idle_s));
}
