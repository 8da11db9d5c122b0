/* The daemon's protocol (docs/protocol.md): one JSON request line in, one reply out.
 *
 * check and build go through the same steps, in this order, each of which may answer:
 * validation (the request's shape, its flags, its output path), the key (everything the
 * answer depends on, the include scan refusing what reaches outside the header
 * directories), the cache, and deduplication (joining an identical job in flight) before
 * a new job starts. Whatever answers, the request leaves through one exit that frees
 * what it still owns. */
#include "serve/internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_QUEUE 4096
#define MAX_FLAGS 64

static const char *op_names[] = { "check", "build", "stats", "shutdown", "ping", NULL };
enum { OP_CHECK, OP_BUILD, OP_STATS, OP_SHUTDOWN, OP_PING };

/* ---- replies ---------------------------------------------------------------------- */

struct json_object *reply_head(struct json_object *id, int ok)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	return r;
}

void reply_error(struct conn *c, struct json_object *id, const char *code, const char *msg)
{
	struct json_object *r = reply_head(id, 0);
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	char *m = utf8_clean(msg, strlen(msg));
	json_object_object_add(e, "message", json_object_new_string(m));
	free(m);
	json_object_object_add(r, "error", e);
	conn_send_json(c, r);
	json_object_put(r);
}

static void count_status(struct server *s, enum vms_status st)
{
	if ((unsigned)st < 8)
		s->n_status[st]++;
}

void reply_result(struct server *s, struct conn *c, const struct waiter *w, const char *op,
		  const struct vms_result *r, const char *cached)
{
	struct json_object *o = reply_head(w->id, 1);
	json_object_object_add(o, "op", json_object_new_string(op));
	result_to_json(r, o);
	json_object_object_add(o, "cached", cached ? json_object_new_string(cached)
						   : json_object_new_boolean(0));
	json_object_object_add(o, "total_ms", json_num3(vms_now_ms() - w->t0));
	if (r->obj) {
		json_object_object_add(o, "object_size", json_object_new_int64((int64_t)r->obj_len));
		if (w->output) {
			int e = vms_write_file_atomic(w->output, r->obj, r->obj_len, 0644);
			if (e < 0) {
				char *m = vms_xasprintf("cannot write %s: %s", w->output, strerror(-e));
				json_object_put(o);
				reply_error(c, w->id, "output", m);
				free(m);
				count_status(s, VMS_ST_INTERNAL);
				return;
			}
			json_object_object_add(o, "output", json_object_new_string(w->output));
		}
		if (w->want_object) {
			char *b = base64_encode(r->obj, r->obj_len);
			json_object_object_add(o, "object", json_object_new_string(b));
			free(b);
		}
	}
	count_status(s, r->status);
	conn_send_json(c, o);
	json_object_put(o);
}

static void stats_reply(struct server *s, struct conn *c, struct json_object *id)
{
	struct json_object *o = reply_head(id, 1);
	json_object_object_add(o, "op", json_object_new_string("stats"));
	json_object_object_add(o, "pid", json_object_new_int(getpid()));
	json_object_object_add(o, "uptime_s", json_num3((vms_now_ms() - s->started) / 1e3));
	struct json_object *req = json_object_new_object();
	for (int i = 0; op_names[i]; i++)
		json_object_object_add(req, op_names[i], json_object_new_uint64(s->n_req[i]));
	json_object_object_add(req, "malformed", json_object_new_uint64(s->n_bad));
	json_object_object_add(req, "busy", json_object_new_uint64(s->n_busy));
	json_object_object_add(req, "deduplicated", json_object_new_uint64(s->n_dedup));
	json_object_object_add(o, "requests", req);
	struct json_object *st = json_object_new_object();
	for (int i = 0; i <= VMS_ST_INTERNAL; i++)
		json_object_object_add(st, vms_status_name((enum vms_status)i),
				       json_object_new_uint64(s->n_status[i]));
	json_object_object_add(o, "statuses", st);
	struct vms_cache_stats cs;
	vms_cache_get_stats(s->cache, &cs);
	struct json_object *ca = json_object_new_object();
#define U(k) json_object_object_add(ca, #k, json_object_new_uint64(cs.k))
	U(mem_entries); U(mem_bytes); U(disk_entries); U(disk_bytes); U(hits_mem);
	U(hits_disk); U(misses); U(stores); U(corrupt); U(evicted);
#undef U
	json_object_object_add(o, "cache", ca);
	json_object_object_add(o, "clients", json_object_new_uint64(s->nconns));
	json_object_object_add(o, "workers", json_object_new_uint64(s->running));
	json_object_object_add(o, "queued", json_object_new_uint64(s->queued));
	json_object_object_add(o, "checking", json_object_new_uint64(s->checking));
	json_object_object_add(o, "sandbox", json_object_new_boolean(s->sandbox));
	backend_stats_json(s->be, o);
	conn_send_json(c, o);
	json_object_put(o);
}

/* ---- check and build --------------------------------------------------------------- */

static const char *get_str(struct json_object *o, const char *k, size_t *len)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	if (len)
		*len = (size_t)json_object_get_string_len(v);
	return json_object_get_string(v);
}

static int printable_name(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 255)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* A check or build request as it goes through the steps; what it still owns at the
 * end is freed by compile_request's one exit. */
struct compile {
	int op;
	const char *src, *file;
	size_t len;
	struct vms_argv flags;		/* the allowed ones */
	struct vms_diags refused;	/* flags a request may not pass */
	struct waiter w;
	char *norm;			/* the source as confine_source left it */
	size_t nlen;
	struct vms_hash128 key;
};

/* The request's shape; NULL when it is well-formed, else what is wrong with it. */
static const char *vet(struct server *s, struct json_object *req, struct compile *q)
{
	q->src = get_str(req, "source", &q->len);
	if (!q->src)
		return "\"source\" (a string) is required";
	q->file = get_str(req, "file", NULL);
	if (!q->file)
		q->file = "prog.bpf.c";
	if (!printable_name(q->file))
		return "\"file\" must be 1-255 printable characters";
	struct json_object *jf;
	if (json_object_object_get_ex(req, "flags", &jf) && jf) {
		if (!json_object_is_type(jf, json_type_array) ||
		    json_object_array_length(jf) > MAX_FLAGS)
			return "\"flags\" must be an array of at most 64 strings";
		for (size_t i = 0; i < json_object_array_length(jf); i++) {
			struct json_object *f = json_object_array_get_idx(jf, i);
			if (!json_object_is_type(f, json_type_string) ||
			    json_object_get_string_len(f) > 256)
				return "\"flags\" must hold strings";
			const char *fs = json_object_get_string(f);
			if ((size_t)json_object_get_string_len(f) != strlen(fs) || !confine_flag_ok(fs))
				vms_diag_add(&q->refused, VMS_ERROR, NULL, 0, 0,
					     "refused: flag '%s' is not allowed in a request", fs);
			else
				vms_argv_push(&q->flags, fs);
		}
	}
	const char *out = q->op == OP_BUILD ? get_str(req, "output", NULL) : NULL;
	if (out) {
		if (!s->o->allow_output_paths)
			return "this daemon does not write files for clients (start it with "
			       "--allow-output)";
		if (out[0] != '/' || !printable_name(out))
			return "\"output\" must be an absolute path";
		q->w.output = vms_xstrdup(out);
		q->w.want_object = 0;
	}
	struct json_object *jo;
	if (json_object_object_get_ex(req, "object", &jo))
		q->w.want_object = json_object_get_boolean(jo);
	return NULL;
}

/* The cache key: the operation, everything of the daemon's that decides an answer, the
 * name, the flags, and the normalized source with every header it can reach (fed in by
 * the include scan). -EPERM with the reasons in q->refused when the scan refuses. */
static int make_key(struct server *s, struct compile *q)
{
	if (q->refused.n)
		return -EPERM;
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, q->op == OP_BUILD ? "build" : "check");
	backend_identity(s->be, h);
	vms_hasher_update_str(h, q->file);
	for (size_t i = 0; i < q->flags.n; i++)
		vms_hasher_update_str(h, q->flags.v[i]);
	int e = confine_source(s->conf, q->src, q->len, q->file, h, &q->norm, &q->nlen,
			       &q->refused);
	if (e == 0) {
		vms_hasher_update(h, &q->nlen, sizeof(q->nlen));
		vms_hasher_update(h, q->norm, q->nlen);
		q->key = vms_hasher_digest(h);
	}
	vms_hasher_free(h);
	return e < 0 ? -EPERM : 0;
}

/* 1 when the cache answered. */
static int from_cache(struct server *s, struct conn *c, struct compile *q)
{
	void *data;
	size_t dlen;
	enum vms_cache_hit hit = vms_cache_get(s->cache, q->key, &data, &dlen);
	if (hit == VMS_CACHE_MISS)
		return 0;
	struct vms_result r;
	int ok = result_decode(data, dlen, &r) == 0;
	free(data);
	if (!ok) /* a valid entry we cannot read: an older format; recompute */
		return 0;
	reply_result(s, c, &q->w, op_names[q->op], &r, hit == VMS_CACHE_MEM ? "memory" : "disk");
	vms_result_free(&r);
	return 1;
}

static void compile_request(struct server *s, struct conn *c, struct json_object *req,
			    struct json_object *id, int op)
{
	struct compile q = { .op = op };
	q.w = (struct waiter){ .conn_id = c->id, .id = id ? json_object_get(id) : NULL,
			       .t0 = vms_now_ms(), .want_object = 1 };
	const char *bad = vet(s, req, &q);
	if (bad) {
		reply_error(c, id, "bad_request", bad);
		s->n_bad++;
		goto out;
	}
	if (make_key(s, &q) < 0) {
		struct vms_result r = { .status = VMS_ST_REFUSED, .diags = q.refused,
					.backend = vms_xstrdup("confine") };
		memset(&q.refused, 0, sizeof(q.refused));
		reply_result(s, c, &q.w, op_names[op], &r, NULL);
		vms_result_free(&r);
		goto out;
	}
	if (from_cache(s, c, &q))
		goto out;
	enum job_kind kind = op == OP_BUILD ? JOB_BUILD : JOB_CHECK;
	struct job *j = job_in_flight(s, q.key, kind);
	if (j) {
		s->n_dedup++;
	} else if (s->queued + s->checking >= MAX_QUEUE) {
		reply_error(c, id, "busy", "too many requests are waiting; try again");
		s->n_busy++;
		goto out;
	} else {
		j = job_new(s, kind, q.key, q.norm, q.nlen, vms_xstrdup(q.file), q.flags);
		q.norm = NULL;
		memset(&q.flags, 0, sizeof(q.flags));
	}
	j->w = vms_xrealloc(j->w, (j->nw + 1) * sizeof(*j->w));
	j->w[j->nw++] = q.w;
	memset(&q.w, 0, sizeof(q.w));
	c->waiting = 1;
	if (j->nw == 1)
		job_submit(s, j);
out:
	json_object_put(q.w.id);
	free(q.w.output);
	free(q.norm);
	vms_argv_free(&q.flags);
	vms_diags_free(&q.refused);
}

/* ---- a request line ---------------------------------------------------------------- */

static struct json_object *parse_line(struct server *s, struct conn *c, const char *line,
				      size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *req = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && (line[end] == ' ' || line[end] == '\t'))
		end++;
	if (req && err == json_tokener_success && end == len)
		return req;
	json_object_put(req);
	char *m = vms_xasprintf("malformed JSON: %s", err != json_tokener_success
							      ? json_tokener_error_desc(err)
							      : "trailing characters");
	reply_error(c, NULL, "bad_request", m);
	free(m);
	s->n_bad++;
	return NULL;
}

void protocol_line(struct server *s, struct conn *c, const char *line, size_t len)
{
	struct json_object *req = parse_line(s, c, line, len);
	if (!req)
		return;
	struct json_object *id = NULL;
	json_object_object_get_ex(req, "id", &id);
	const char *op = NULL;
	int k = -1;
	if (!json_object_is_type(req, json_type_object)) {
		reply_error(c, NULL, "bad_request", "a request is a JSON object");
		s->n_bad++;
		goto out;
	}
	op = get_str(req, "op", NULL);
	for (int i = 0; op && op_names[i]; i++)
		if (!strcmp(op, op_names[i]))
			k = i;
	if (k < 0) {
		reply_error(c, id, "unknown_op",
			    op ? "\"op\" must be one of check, build, stats, shutdown, ping"
			       : "\"op\" (a string) is required");
		s->n_bad++;
		goto out;
	}
	s->n_req[k]++;
	if (s->shutting_down && (k == OP_CHECK || k == OP_BUILD)) {
		reply_error(c, id, "shutting_down", "the daemon is shutting down");
	} else if (k == OP_CHECK || k == OP_BUILD) {
		compile_request(s, c, req, id, k);
	} else if (k == OP_STATS) {
		stats_reply(s, c, id);
	} else {
		struct json_object *o = reply_head(id, 1);
		json_object_object_add(o, "op", json_object_new_string(op_names[k]));
		conn_send_json(c, o);
		json_object_put(o);
		if (k == OP_SHUTDOWN)
			server_begin_shutdown(s, "shutdown request");
	}
out:
	json_object_put(req);
}
