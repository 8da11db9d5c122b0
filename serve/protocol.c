/* The daemon's protocol (docs/protocol.md): one JSON request line in, one reply out.
 *
 * check and build go through the same steps, in this order, each of which may answer:
 * validation (the request's shape, its flags, its output path: inside --allow-output's
 * directory, see output_place), the key (everything the
 * answer depends on, the include scan refusing what reaches outside the header
 * directories), the cache, and deduplication (joining an identical job in flight) before
 * a new job starts. Whatever answers, the request leaves through one exit that frees
 * what it still owns. */
#include "serve/internal.h"
#include "serve/trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_QUEUE 4096
#define MAX_FLAGS 64

static const char *op_names[] = { "check", "build", "stats", "shutdown", "ping", NULL };
enum { OP_CHECK, OP_BUILD, OP_STATS, OP_SHUTDOWN, OP_PING };

/* ---- outputs the daemon writes (--allow-output DIR) ------------------------------- */

/* A build may name a file for the daemon to write, which it does with its own rights,
 * so the name must not reach anything but DIR: a relative name is taken relative to
 * DIR, an absolute one must lie under it; no component may be "..", the directory the
 * file goes in, symlinks resolved, must be DIR or below it, and the file itself must
 * not be a symlink or anything but a regular file (it is never followed or replaced).
 * The write walks from DIR to that directory again with O_NOFOLLOW, component by
 * component, so a symlink planted after the check is not followed either; the object
 * goes to a temporary file created O_EXCL there and is renamed over the name (a rename
 * replaces a link planted in that last instant instead of writing through it). */
struct out_place {
	char *dir;		/* realpath of the directory the file goes in */
	char *rel;		/* that directory relative to realpath(DIR): "" or "a/b" */
	char *base;		/* the file's name in it */
};

static void out_place_free(struct out_place *p)
{
	free(p->dir), free(p->rel), free(p->base);
	memset(p, 0, sizeof(*p));
}

/* 0, or -1 with *why (static). */
static int output_place(const char *allowed, const char *name, struct out_place *p,
			const char **why)
{
	memset(p, 0, sizeof(*p));
	size_t n = strlen(name);
	if (!n || n >= PATH_MAX || name[n - 1] == '/') {
		*why = "\"output\" must name a file";
		return -1;
	}
	for (const char *c = name; *c;) {
		const char *e = strchrnul(c, '/');
		if (e - c == 2 && !strncmp(c, "..", 2)) {
			*why = "\"output\" may not contain '..'";
			return -1;
		}
		c = *e ? e + 1 : e;
	}
	char *root = realpath(allowed, NULL);
	char *full = name[0] == '/' ? vms_xstrdup(name) : vms_xasprintf("%s/%s", allowed, name);
	char *parent = vms_dirname(full);
	p->base = vms_xstrdup(vms_basename(full));
	p->dir = realpath(parent, NULL);
	size_t rl = root ? strlen(root) : 0;
	int rc = -1;
	if (!root)
		*why = "the daemon's output directory is gone";
	else if (!strcmp(p->base, ".") || !strcmp(p->base, ".."))
		*why = "\"output\" must name a file";
	else if (!p->dir)
		*why = "\"output\": its directory does not exist";
	else if (strncmp(p->dir, root, rl) || (p->dir[rl] && p->dir[rl] != '/' && rl > 1))
		*why = "\"output\" must lie inside the daemon's output directory (--allow-output)";
	else
		rc = 0;
	if (rc == 0)
		p->rel = vms_xstrdup(p->dir[rl] == '/' ? p->dir + rl + 1 : p->dir + rl);
	free(root), free(full), free(parent);
	if (rc < 0)
		out_place_free(p);
	return rc;
}

/* The directory p names, opened by walking from realpath(allowed) without following a
 * symlink; its fd or -errno. */
static int output_dir_fd(const char *allowed, const struct out_place *p)
{
	char *root = realpath(allowed, NULL);
	int fd = root ? open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -ENOENT;
	free(root);
	if (fd < 0)
		return fd == -ENOENT ? fd : -errno;
	char *rel = vms_xstrdup(p->rel), *save = NULL;
	for (char *c = strtok_r(rel, "/", &save); c && fd >= 0; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		fd = next < 0 ? -e : next;
	}
	free(rel);
	return fd;
}

/* Is the name in dfd free to be written: absent, or a regular file? 0 or -errno. */
static int output_target_ok(int dfd, const char *base)
{
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	return S_ISREG(st.st_mode) ? 0 : S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
}

/* Checks name (vet) and, with data, writes it. 0, or -1 with *why (owned); *where: the
 * path written (owned). */
static int output_write(const char *allowed, const char *name, const void *data, size_t len,
			char **where, char **why)
{
	struct out_place p;
	const char *w = NULL;
	*where = NULL;
	if (output_place(allowed, name, &p, &w) < 0) {
		*why = vms_xstrdup(w);
		return -1;
	}
	int dfd = output_dir_fd(allowed, &p), rc = dfd < 0 ? dfd : output_target_ok(dfd, p.base);
	char *tmp = NULL;
	int fd = -1;
	if (rc == 0 && data) {
		static unsigned seq;
		tmp = vms_xasprintf(".%s.vmslim-tmp.%d.%u", p.base, (int)getpid(), seq++);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		rc = fd < 0 ? -errno : 0;
		for (size_t off = 0; rc == 0 && off < len;) {
			ssize_t k = write(fd, (const char *)data + off, len - off);
			if (k < 0 && errno != EINTR)
				rc = -errno;
			off += k > 0 ? (size_t)k : 0;
		}
		if (rc == 0 && fsync(fd) < 0)
			rc = -errno;
		if (rc == 0)
			rc = output_target_ok(dfd, p.base);
		if (rc == 0 && renameat(dfd, tmp, dfd, p.base) < 0)
			rc = -errno;
		if (rc < 0 && fd >= 0)
			unlinkat(dfd, tmp, 0);
	}
	if (rc < 0)
		*why = vms_xasprintf("cannot write %s: %s", name,
				     rc == -ELOOP ? "it is a symbolic link"
				     : rc == -EINVAL ? "it is not a regular file"
						     : strerror(-rc));
	else
		*where = vms_xasprintf("%s/%s", p.dir, p.base);
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	out_place_free(&p);
	return rc < 0 ? -1 : 0;
}

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
			char *where, *why;
			if (output_write(s->o->allow_output_dir, w->output, r->obj, r->obj_len,
					 &where, &why) < 0) {
				json_object_put(o);
				reply_error(c, w->id, "output", why);
				free(why);
				count_status(s, VMS_ST_INTERNAL);
				return;
			}
			json_object_object_add(o, "output", json_object_new_string(where));
			free(where);
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
	json_object_object_add(o, "sandbox", json_object_new_boolean(s->sandbox != 0));
	char sb[96];
	vms_sandbox_describe(s->sandbox, sb, sizeof(sb));
	json_object_object_add(o, "sandbox_mechanism", json_object_new_string(sb));
	backend_stats_json(s->be, o);
	remote_tier_stats_json(s, o);
	trusted_stats_json(s, o);
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
	int asm_suspect;		/* ... and whether it might make inline asm */
	struct vms_hash128 key;
	char *why;			/* an owned message vet returned */
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
		if (!s->o->allow_output_dir)
			return "this daemon does not write files for clients (start it with "
			       "--allow-output DIR)";
		if (!printable_name(out))
			return "\"output\" must be 1-255 printable characters";
		char *where, *why;
		if (output_write(s->o->allow_output_dir, out, NULL, 0, &where, &why) < 0) {
			free(q->why);
			q->why = why;
			return why;
		}
		free(where);
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
			       &q->asm_suspect, &q->refused);
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
		j->asm_suspect = q.asm_suspect;
		q.norm = NULL;
		memset(&q.flags, 0, sizeof(q.flags));
	}
	j->w = vms_xrealloc(j->w, (j->nw + 1) * sizeof(*j->w));
	j->w[j->nw++] = q.w;
	memset(&q.w, 0, sizeof(q.w));
	c->waiting = 1;
	if (j->nw == 1)
		remote_tier_lookup(s, j); /* the job runs if the shared store has nothing */
out:
	json_object_put(q.w.id);
	free(q.w.output);
	free(q.norm);
	free(q.why);
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
	trusted_touch(s);
	if (trusted_request(s, c, req, id, op))
		goto out;
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
