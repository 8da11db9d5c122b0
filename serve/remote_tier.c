/* serve/remote_tier.c: the daemon's third cache tier — a store shared by machines (remote/).
 *
 * Where it sits. A request's key is looked up in memory, then on disk (protocol.c), and
 * only then here; the job it would start is created first (jobs.c), so that identical
 * requests arriving during the lookup join it, and its connection waits as for any job
 * while every other client goes on: the lookup is an operation on the loop, never a
 * wait. What the store answers becomes the job's answer; what it cannot (a miss, a
 * corrupt value, no answer within the timeout, a store being skipped) sends the job on
 * to the checker or a worker as if there were no store. A computed answer is stored in
 * both tiers (job_done); a remote hit is kept locally too, so the next one is local.
 *
 * Entries. The value under a key is exactly the disk entry (cache.c's header with the
 * key, length and checksum, then the encoded result), so a value is served only when it
 * verifies as the entry of this very key: a truncated, damaged or foreign value (another
 * key's entry, another program's data, another format) is counted as corrupt and
 * recomputed. The checksum guards against accidents, not an adversary who may write to
 * the store: the store must be trusted as the disk cache is (README, "A shared cache").
 *
 * Keys are "vmslim:v<format>:<version>:<32 hex>": the local content key (which already
 * holds the compilers' and the binary's identity), under a namespace that changes with the
 * entry format and with vmslim's version, so two releases never read each other's values
 * even where the binary's identity would allow it.
 *
 * Any daemon started through vms_serve_run gets this tier — `vmslim serve`, and the
 * per-user daemon behind `vmslim cc` — from the options or from $VMSLIM_REMOTE (and
 * $VMSLIM_REMOTE_READ_ONLY: an autostarted daemon has no options but its environment).
 * Lookups are generic (remote_tier_get: a key, a callback): the jobs of check and build
 * requests use them below, and `cc` its manifest and answer entries (trusted.c). */
#include "serve/internal.h"
#include "serve/loop.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote/remote.h"

#ifndef VMSLIM_VERSION
#define VMSLIM_VERSION "unknown"
#endif

#define DEFAULT_MAX_ENTRY (8u << 20)

/* One lookup in flight, for whoever asked (a job, a cc request). */
struct remote_lookup {
	struct remote_tier *t;
	struct vms_hash128 key;
	remote_got_fn *fn;	/* NULL: its asker went (remote_tier_cancel) */
	void *arg;
	struct remote_lookup *prev, *next;
};

struct remote_tier {
	struct server *s;
	struct vms_remote *r;
	struct vms_remote_url url;
	struct vms_remote_loop lp;
	int fd, fd_mask;
	uint64_t timer;
	char prefix[64];
	size_t max_entry;
	int read_only;
	uint64_t hits, corrupt, put_too_large, failures_seen;
	struct remote_lookup *lookups;
};

/* ---- the loop, as remote/ wants it ----------------------------------------------------- */

static void fd_event(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)fd;
	struct remote_tier *t = data;
	vms_remote_ready(t->r, (events & LOOP_READ ? VMS_REMOTE_READ : 0) |
				       (events & LOOP_WRITE ? VMS_REMOTE_WRITE : 0) |
				       (events & LOOP_HUP ? 4 : 0));
}

static int watch(void *ctx, int fd, int mask)
{
	struct remote_tier *t = ctx;
	int m = (mask & VMS_REMOTE_READ ? LOOP_READ : 0) | (mask & VMS_REMOTE_WRITE ? LOOP_WRITE : 0);
	if (!m) {
		if (t->fd == fd)
			loop_del_fd(t->s->lp, fd);
		t->fd = -1;
		return 0;
	}
	if (t->fd == fd) {
		loop_set_mask(t->s->lp, fd, m);
		return 0;
	}
	if (t->fd >= 0)
		loop_del_fd(t->s->lp, t->fd);
	t->fd = -1;
	int e = loop_add_fd(t->s->lp, fd, m, fd_event, t);
	if (e == 0)
		t->fd = fd;
	return e;
}

static void note_failures(struct remote_tier *t)
{
	struct vms_remote_stats st;
	vms_remote_get_stats(t->r, &st);
	if (st.failures != t->failures_seen) {
		t->failures_seen = st.failures;
		server_log(t->s, "remote: %s is unreachable or too slow: skipped for %.0f s, "
				 "then retried (answers are computed meanwhile)",
			   t->url.shown, st.retry_in_ms / 1e3);
	}
}

static double timer_fired(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	struct remote_tier *t = data;
	t->timer = 0;
	vms_remote_timer(t->r); /* may set the next timer */
	note_failures(t);
	return LOOP_TIMER_DONE;
}

static void set_timer(void *ctx, double at_ms)
{
	struct remote_tier *t = ctx;
	loop_del_timer(t->s->lp, t->timer);
	t->timer = at_ms < 0 ? 0 : loop_add_timer(t->s->lp, at_ms, timer_fired, t);
}

/* ---- open and close ---------------------------------------------------------------------- */

int remote_tier_open(struct server *s, struct vms_diags *d)
{
	const struct vms_serve_opts *o = s->o;
	const char *url = o->remote ? o->remote : getenv("VMSLIM_REMOTE");
	if (o->no_remote || !url || !*url)
		return 0;
	struct remote_tier *t = vms_xcalloc(1, sizeof(*t));
	char *why = NULL;
	int e = vms_remote_url_parse(url, &t->url, &why);
	if (e == 0) {
		t->s = s;
		t->fd = -1;
		t->lp = (struct vms_remote_loop){ .ctx = t, .watch = watch, .timer = set_timer };
		t->max_entry = o->remote_max_entry ? (size_t)o->remote_max_entry
						   : DEFAULT_MAX_ENTRY;
		/* the per-user daemon has no options but its environment (autostart.c) */
		const char *ro_env = getenv("VMSLIM_REMOTE_READ_ONLY");
		t->read_only = o->remote_read_only || (ro_env && *ro_env && strcmp(ro_env, "0"));
		snprintf(t->prefix, sizeof(t->prefix), "vmslim:v%d:%s:", VMS_CACHE_ENTRY_VERSION,
			 VMSLIM_VERSION);
		struct vms_remote_opts ro = { .url = &t->url,
					      .connect_timeout_ms = o->remote_connect_ms,
					      .op_timeout_ms = o->remote_timeout_ms,
					      .retry_ms = o->remote_retry_ms,
					      .ttl_s = o->remote_ttl_s,
					      .read_only = t->read_only };
		s->remote = t; /* the loop hooks reach it from here on */
		e = vms_remote_open(&ro, &t->lp, &t->r, &why);
	}
	if (e < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "%s", why ? why : strerror(-e));
		free(why);
		vms_remote_url_free(&t->url);
		free(t);
		s->remote = NULL;
		return e;
	}
	server_log(s, "remote: %s%s (lookups bounded by %d ms, entries up to %zu bytes)",
		   t->url.shown, t->read_only ? ", read-only" : "",
		   o->remote_timeout_ms > 0 ? o->remote_timeout_ms : 500, t->max_entry);
	return 0;
}

void remote_tier_close(struct server *s)
{
	struct remote_tier *t = s->remote;
	if (!t)
		return;
	for (struct remote_lookup *l = t->lookups; l; l = l->next)
		l->fn = NULL; /* the lookups' answers, which close brings, go to nobody */
	struct vms_remote_stats st;
	vms_remote_get_stats(t->r, &st);
	server_log(s, "remote: %s: %llu hits, %llu misses, %llu errors, %llu corrupt, %llu skipped, "
		      "%llu stores; %.1f KiB in, %.1f KiB out; %.1f ms waiting for lookups",
		   t->url.shown, (unsigned long long)t->hits, (unsigned long long)st.misses,
		   (unsigned long long)(st.errors + st.store_errors),
		   (unsigned long long)t->corrupt, (unsigned long long)st.skipped,
		   (unsigned long long)st.stores, st.bytes_in / 1024.0, st.bytes_out / 1024.0,
		   st.get_ms);
	vms_remote_close(t->r);
	vms_remote_url_free(&t->url);
	free(t);
	s->remote = NULL;
}

/* ---- lookups ------------------------------------------------------------------------------ */

static void key_name(const struct remote_tier *t, struct vms_hash128 key, char *out, size_t n)
{
	char hex[33];
	vms_hash128_hex(key, hex);
	snprintf(out, n, "%s%s", t->prefix, hex);
}

static void lookup_unlink(struct remote_tier *t, struct remote_lookup *l)
{
	if (l->prev)
		l->prev->next = l->next;
	else
		t->lookups = l->next;
	if (l->next)
		l->next->prev = l->prev;
}

/* What the store answered, verified as the entry of the key asked for: the asker gets the
 * payload (the header stripped) or NULL, and says whether a payload was of use. */
static void got(void *arg, enum vms_remote_got g, const void *data, size_t len)
{
	struct remote_lookup *l = arg;
	struct remote_tier *t = l->t;
	remote_got_fn *fn = l->fn;
	void *fn_arg = l->arg;
	int ok = g == VMS_REMOTE_HIT && vms_cache_entry_verify(l->key, data, len) == 0;
	lookup_unlink(t, l);
	free(l);
	if (g == VMS_REMOTE_BAD || (g == VMS_REMOTE_HIT && !ok))
		t->corrupt++;
	if (fn) {
		const unsigned char *p = data;
		int used = fn(fn_arg, ok ? p + VMS_CACHE_ENTRY_HDR : NULL,
			      ok ? len - VMS_CACHE_ENTRY_HDR : 0);
		if (ok && used)
			t->hits++;
		else if (ok)
			t->corrupt++; /* intact, yet not what the asker stored there */
	}
	note_failures(t);
}

struct remote_lookup *remote_tier_get(struct server *s, struct vms_hash128 key,
				      remote_got_fn *fn, void *arg)
{
	struct remote_tier *t = s->remote;
	if (!t)
		return NULL;
	char name[128];
	key_name(t, key, name, sizeof(name));
	struct remote_lookup *l = vms_xcalloc(1, sizeof(*l));
	l->t = t;
	l->key = key;
	l->fn = fn;
	l->arg = arg;
	if (!vms_remote_get(t->r, name, t->max_entry + VMS_CACHE_ENTRY_HDR, got, l)) {
		free(l);
		return NULL;
	}
	l->next = t->lookups;
	if (t->lookups)
		t->lookups->prev = l;
	t->lookups = l;
	return l;
}

void remote_tier_cancel(struct server *s, struct remote_lookup *l)
{
	/* after remote_tier_close every lookup is gone already, and s->remote with them */
	if (s->remote && l)
		l->fn = NULL;
}

/* ---- the jobs' lookups (check and build requests) ------------------------------------ */

static int job_got(void *arg, const void *data, size_t len)
{
	struct job *j = arg;
	struct server *s = j->s;
	j->lookup = NULL;
	struct vms_result r = { 0 };
	int ok = data && result_decode(data, len, &r) == 0;
	if (ok) {
		int e = vms_cache_put(s->cache, j->key, data, len);
		if (e < 0)
			server_log(s, "cache: cannot store an entry: %s", strerror(-e));
	}
	if (ok || !j->nw)
		job_reply_all(s, j, &r, "remote"); /* nobody waiting: only frees the job */
	else
		job_submit(s, j);
	vms_result_free(&r);
	return ok;
}

void remote_tier_lookup(struct server *s, struct job *j)
{
	j->lookup = remote_tier_get(s, j->key, job_got, j);
	if (!j->lookup)
		job_submit(s, j);
}

void remote_tier_forget(struct job *j)
{
	remote_tier_cancel(j->s, j->lookup);
	j->lookup = NULL;
}

void remote_tier_store(struct server *s, struct vms_hash128 key, const void *data, size_t len)
{
	struct remote_tier *t = s->remote;
	if (!t)
		return;
	if (len > t->max_entry) {
		t->put_too_large++;
		return;
	}
	char name[128];
	key_name(t, key, name, sizeof(name));
	unsigned char *v = vms_xmalloc(VMS_CACHE_ENTRY_HDR + len);
	vms_cache_entry_header(key, data, len, v);
	memcpy(v + VMS_CACHE_ENTRY_HDR, data, len);
	vms_remote_put(t->r, name, v, VMS_CACHE_ENTRY_HDR + len);
	free(v);
	note_failures(t);
}

size_t remote_tier_pending(struct server *s)
{
	if (!s->remote)
		return 0;
	struct vms_remote_stats st;
	vms_remote_get_stats(s->remote->r, &st);
	return st.pending;
}

void remote_tier_stats_json(struct server *s, struct json_object *o)
{
	struct remote_tier *t = s->remote;
	if (!t)
		return;
	struct vms_remote_stats st;
	vms_remote_get_stats(t->r, &st);
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "url", json_object_new_string(t->url.shown));
	json_object_object_add(r, "state", json_object_new_string(st.state));
	json_object_object_add(r, "read_only", json_object_new_boolean(t->read_only));
#define U(k, v) json_object_object_add(r, k, json_object_new_uint64(v))
	U("hits", t->hits);
	U("misses", st.misses);
	U("errors", st.errors + st.store_errors);
	U("corrupt", t->corrupt);
	U("too_large", st.too_large + t->put_too_large);
	U("skipped", st.skipped);
	U("stores", st.stores);
	U("bytes_in", st.bytes_in);
	U("bytes_out", st.bytes_out);
	U("failures", st.failures);
	U("pending", st.pending);
#undef U
	json_object_object_add(r, "ms", json_num3(st.get_ms));
	json_object_object_add(r, "retry_in_s", json_num3(st.retry_in_ms / 1e3));
	json_object_object_add(o, "remote", r);
}
