/* The daemon: one event loop, a checker thread, and a worker process per compile.
 *
 * Why this shape. The loop (epoll, as in Redis's ae) owns every socket, the cache and all
 * bookkeeping, so none of that needs a lock and a slow client can only slow itself. Work
 * leaves the loop in one of two ways:
 *  - checks go to one thread that owns the TCC snapshot checker. The checker is not
 *    thread-safe, but it already isolates each request in a process it forks from the
 *    snapshot (crash, hang and memory limits included) and answers in about a
 *    millisecond, so one thread feeding it is both safe and fast enough;
 *  - builds, and the clang checks that stand in where TCC answers "unsupported", run in
 *    a forked worker each (worker.c): kernel limits per request, a process group to
 *    kill at the wall-time limit, Landlock where available. At most `jobs` run at once;
 *    the rest wait in a queue, whose length is bounded ("busy" beyond it).
 * Identical requests in flight are answered by one job (every waiter gets the reply),
 * and every answer that does not depend on luck (not a timeout, limit or crash) goes to
 * the cache, whose writes are whole-file renames — which is all a clean SIGTERM needs
 * to leave no half-written entry: the loop stops taking requests, lets running jobs
 * finish for a short grace, kills the rest, flushes replies and removes its socket.
 * A connection carries one request at a time; replies come back in order. */
#include "serve/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_QUEUE 4096
#define IDLE_MS (10 * 60 * 1000)
#define PARTIAL_MS (60 * 1000)
#define SHUTDOWN_GRACE_MS 2000
#define FLUSH_GRACE_MS 1000
#define MAX_FLAGS 64
#define OUT_HIGH (16u << 20) /* replies a client has not read yet: stop taking requests */

enum tag { T_LISTEN = 1, T_SIGNAL, T_CHECKER, T_CONN, T_WORKER };

struct waiter {
	uint64_t conn_id;
	struct json_object *id;
	char *output;		/* build: path the daemon writes the object to */
	int want_object;
	double t0;
};

enum job_kind { JOB_CHECK, JOB_CLANG_CHECK, JOB_BUILD };

struct job {
	int tag; /* T_WORKER */
	enum job_kind kind;
	struct vms_hash128 key;
	char *source;
	size_t len;
	char *file;
	struct vms_argv flags;
	struct waiter *w;
	size_t nw;
	/* a worker's */
	pid_t pid;
	int fd;
	struct vms_buf data;
	double deadline;
	int timed_out;
	int stopped;		/* killed because the daemon is shutting down */
	/* the checker's */
	struct vms_result res;
	struct vms_result fast; /* the checker's "unsupported" that sent it to clang */
	struct job *next;	/* queue, checker lists */
	struct job *anext, *aprev; /* all jobs alive */
};

struct conn {
	int tag; /* T_CONN */
	int fd;
	uint64_t id;
	struct vms_buf in;
	size_t in_off;
	struct vms_buf out;
	size_t out_off;
	int waiting, eof, closing, paused;
	int skipping;		/* discarding the rest of a too-large request line */
	uint32_t mask;		/* events registered with epoll */
	double last;
	struct conn *next, *prev;
};

struct server;

struct checker_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail, *done;
	int stop, started;
	int efd[2];
	struct server *s;
};

struct server {
	const struct vms_serve_opts *o;
	struct backend *be;
	struct confine *conf;
	struct vms_cache *cache;
	int ep, lfd;
	ino_t sock_ino;
	int sig[2];
	struct conn *conns;
	struct conn *dead;	/* closed during this pass of the loop; freed after it */
	size_t nconns;
	uint64_t next_conn_id;
	struct job *jobs;	/* all alive */
	struct job *queue, *queue_tail;
	size_t queued, running, checking;
	struct checker_thread ck;
	int shutting_down;
	double shutdown_at;
	double started;
	struct limits lim;
	struct vms_argv ro, rw;
	int sandbox;
	uint64_t n_req[8], n_status[8], n_bad, n_busy, n_dedup;
	int tag_listen, tag_signal, tag_checker;
};

static int sig_pipe_w = -1;

static void on_signal(int sig)
{
	int e = errno;
	unsigned char b = (unsigned char)sig;
	if (sig_pipe_w >= 0 && write(sig_pipe_w, &b, 1) < 0) {
		/* the loop is already awake with a full pipe */
	}
	errno = e;
}

static void logf_(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct server *s, const char *fmt, ...)
{
	if (!s->o->log)
		return;
	va_list ap;
	char *line;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line) {
		s->o->log(s->o->log_ctx, line);
		free(line);
	}
}

/* ---- connections -------------------------------------------------------------- */

/* Level-triggered: read interest only while we would act on what arrives (not after
 * EOF, not while a full request already waits), write interest only with output queued. */
static void ep_mod(struct server *s, struct conn *c)
{
	int backlog = c->out.len - c->out_off >= OUT_HIGH;
	uint32_t mask = (c->eof || c->closing || c->paused || backlog ? 0 : EPOLLIN) |
			(c->out_off < c->out.len ? EPOLLOUT : 0);
	if (mask == c->mask)
		return;
	struct epoll_event ev = { .events = mask, .data.ptr = c };
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
	c->mask = mask;
}

static void conn_close(struct server *s, struct conn *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	vms_buf_free(&c->in);
	vms_buf_free(&c->out);
	c->next = s->dead;
	s->dead = c;
}

static void free_dead(struct server *s)
{
	while (s->dead) {
		struct conn *c = s->dead;
		s->dead = c->next;
		free(c);
	}
}

static struct conn *conn_by_id(struct server *s, uint64_t id)
{
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* Writes what it can; 0, or -1 when the connection died (and was closed). */
static int conn_flush(struct server *s, struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(s, c);
			return -1;
		}
		c->out_off += (size_t)w;
		c->last = vms_now_ms();
	}
	if (c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->closing || (c->eof && !c->waiting && c->in_off >= c->in.len)) {
			conn_close(s, c);
			return -1;
		}
	}
	ep_mod(s, c);
	return 0;
}

static void send_json(struct conn *c, struct json_object *o)
{
	vms_buf_puts(&c->out, json_text(o));
	vms_buf_append(&c->out, "\n", 1);
}

static struct json_object *reply_head(struct json_object *id, int ok)
{
	struct json_object *r = json_object_new_object();
	json_object_object_add(r, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	return r;
}

static void reply_error(struct conn *c, struct json_object *id, const char *code,
			const char *msg)
{
	struct json_object *r = reply_head(id, 0);
	struct json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	char *m = utf8_clean(msg, strlen(msg));
	json_object_object_add(e, "message", json_object_new_string(m));
	free(m);
	json_object_object_add(r, "error", e);
	send_json(c, r);
	json_object_put(r);
}

static const char *op_names[] = { "check", "build", "stats", "shutdown", "ping", NULL };
enum { OP_CHECK, OP_BUILD, OP_STATS, OP_SHUTDOWN, OP_PING };

static void count_status(struct server *s, enum vms_status st)
{
	if ((unsigned)st < 8)
		s->n_status[st]++;
}

static void reply_result(struct server *s, struct conn *c, const struct waiter *w,
			 const char *op, const struct vms_result *r, const char *cached)
{
	struct json_object *o = reply_head(w->id, 1);
	json_object_object_add(o, "op", json_object_new_string(op));
	result_to_json(r, o);
	json_object_object_add(o, "cached", cached ? json_object_new_string(cached)
						   : json_object_new_boolean(0));
	json_object_object_add(o, "total_ms",
			       json_num3(vms_now_ms() - w->t0));
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
	send_json(c, o);
	json_object_put(o);
}

/* ---- jobs ----------------------------------------------------------------------- */

/* Out of the list of jobs in flight: a request arriving from now on starts its own. */
static void job_unlink(struct server *s, struct job *j)
{
	if (j->anext)
		j->anext->aprev = j->aprev;
	if (j->aprev)
		j->aprev->anext = j->anext;
	else if (s->jobs == j)
		s->jobs = j->anext;
	j->anext = j->aprev = NULL;
}

static void job_free(struct server *s, struct job *j)
{
	job_unlink(s, j);
	for (size_t i = 0; i < j->nw; i++) {
		json_object_put(j->w[i].id);
		free(j->w[i].output);
	}
	free(j->w);
	free(j->source);
	free(j->file);
	vms_argv_free(&j->flags);
	vms_buf_free(&j->data);
	vms_result_free(&j->res);
	vms_result_free(&j->fast);
	free(j);
}

static struct job *job_in_flight(struct server *s, struct vms_hash128 key, enum job_kind kind)
{
	for (struct job *j = s->jobs; j; j = j->anext)
		if (j->key.hi == key.hi && j->key.lo == key.lo &&
		    (j->kind == JOB_BUILD) == (kind == JOB_BUILD))
			return j;
	return NULL;
}

static void conn_pump(struct server *s, struct conn *c);

static int cacheable(enum vms_status st)
{
	return st == VMS_ST_OK || st == VMS_ST_ERRORS || st == VMS_ST_UNSUPPORTED;
}

/* Every waiter gets the answer; the job is gone afterwards. */
static void job_done(struct server *s, struct job *j, struct vms_result *r)
{
	if (cacheable(r->status)) {
		struct vms_buf b = { 0 };
		result_encode(r, &b);
		int e = vms_cache_put(s->cache, j->key, b.data, b.len);
		if (e < 0)
			logf_(s, "cache: cannot store an entry: %s", strerror(-e));
		vms_buf_free(&b);
	}
	const char *op = j->kind == JOB_BUILD ? "build" : "check";
	/* replying lets connections read on, and their next request must not join this job */
	job_unlink(s, j);
	for (size_t i = 0; i < j->nw; i++) {
		struct conn *c = conn_by_id(s, j->w[i].conn_id);
		if (!c)
			continue;
		reply_result(s, c, &j->w[i], op, r, NULL);
		c->waiting = 0;
		if (conn_flush(s, c) == 0)
			conn_pump(s, c);
	}
	job_free(s, j);
}

static void job_fail_all(struct server *s, struct job *j, const char *code, const char *msg)
{
	job_unlink(s, j);
	for (size_t i = 0; i < j->nw; i++) {
		struct conn *c = conn_by_id(s, j->w[i].conn_id);
		if (!c)
			continue;
		reply_error(c, j->w[i].id, code, msg);
		c->waiting = 0;
		conn_flush(s, c);
	}
	job_free(s, j);
}

static void fill_req(struct server *s, struct job *j, struct backend_req *q)
{
	*q = (struct backend_req){
		.source = j->source,
		.len = j->len,
		.file = j->file,
		.flags = (const char *const *)j->flags.v,
		.nflags = j->flags.n,
		.time_limit_ms = s->lim.wall_ms,
		.mem_limit = s->o->mem_limit_bytes,
	};
	/* One thread serves every check: a check that hangs must not hold the others for
	 * a build's allowance. */
	if (j->kind == JOB_CHECK && q->time_limit_ms > 5000)
		q->time_limit_ms = 5000;
}

struct worker_arg {
	struct server *s;
	struct job *j;
};

static void worker_main(void *arg, struct vms_result *r)
{
	struct worker_arg *a = arg;
	struct backend_req q;
	fill_req(a->s, a->j, &q);
	/* clang's own temporaries land where the sandbox lets it write */
	setenv("TMPDIR", backend_scratch(a->s->be), 1);
	if (a->j->kind == JOB_BUILD)
		backend_build(a->s->be, &q, r);
	else
		backend_check_clang(a->s->be, &q, r);
}

static void start_workers(struct server *s)
{
	int max = s->o->jobs > 0 ? s->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (max < 1)
		max = 1;
	while (s->queue && s->running < (size_t)max) {
		struct job *j = s->queue;
		s->queue = j->next;
		if (!s->queue)
			s->queue_tail = NULL;
		s->queued--;
		struct worker_arg a = { s, j };
		int e = worker_spawn(worker_main, &a, &s->lim, &j->pid, &j->fd);
		if (e < 0) {
			char *m = vms_xasprintf("cannot start a worker: %s", strerror(-e));
			logf_(s, "%s", m);
			job_fail_all(s, j, "internal", m);
			free(m);
			continue;
		}
		j->deadline = vms_now_ms() + s->lim.wall_ms;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = j };
		epoll_ctl(s->ep, EPOLL_CTL_ADD, j->fd, &ev);
		s->running++;
	}
}

static void enqueue_worker(struct server *s, struct job *j)
{
	j->tag = T_WORKER;
	j->fd = -1;
	j->next = NULL;
	if (s->queue_tail)
		s->queue_tail->next = j;
	else
		s->queue = j;
	s->queue_tail = j;
	s->queued++;
	start_workers(s);
}

static void worker_readable(struct server *s, struct job *j)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(j->fd, buf, sizeof(buf));
		if (n > 0) {
			vms_buf_append(&j->data, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* EOF or error: the worker is gone */
	}
	epoll_ctl(s->ep, EPOLL_CTL_DEL, j->fd, NULL);
	close(j->fd);
	j->fd = -1;
	s->running--;
	struct vms_result r;
	worker_collect(j->pid, j->data.data, j->data.len, j->timed_out, &r);
	if (j->timed_out)
		backend_sweep(s->be);
	if (j->stopped)
		job_fail_all(s, j, "shutting_down", "the daemon is shutting down");
	else
		job_done(s, j, &r);
	vms_result_free(&r);
	start_workers(s);
}

/* ---- the checker thread ---------------------------------------------------------- */

static void *checker_main(void *arg)
{
	struct checker_thread *t = arg;
	pthread_mutex_lock(&t->mu);
	for (;;) {
		while (!t->head && !t->stop)
			pthread_cond_wait(&t->cv, &t->mu);
		if (t->stop)
			break;
		struct job *j = t->head;
		t->head = j->next;
		if (!t->head)
			t->tail = NULL;
		pthread_mutex_unlock(&t->mu);
		struct backend_req q;
		fill_req(t->s, j, &q);
		backend_check_fast(t->s->be, &q, &j->res);
		pthread_mutex_lock(&t->mu);
		j->next = t->done;
		t->done = j;
		unsigned char b = 1;
		if (write(t->efd[1], &b, 1) < 0) {
			/* pipe full: the loop has wake-ups pending anyway */
		}
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static void checker_submit(struct server *s, struct job *j)
{
	j->tag = T_WORKER;
	j->fd = -1;
	pthread_mutex_lock(&s->ck.mu);
	j->next = NULL;
	if (s->ck.tail)
		s->ck.tail->next = j;
	else
		s->ck.head = j;
	s->ck.tail = j;
	pthread_cond_signal(&s->ck.cv);
	pthread_mutex_unlock(&s->ck.mu);
	s->checking++;
}

static void checker_readable(struct server *s)
{
	unsigned char buf[256];
	while (read(s->ck.efd[0], buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&s->ck.mu);
	struct job *done = s->ck.done;
	s->ck.done = NULL;
	pthread_mutex_unlock(&s->ck.mu);
	/* oldest first */
	struct job *rev = NULL;
	while (done) {
		struct job *n = done->next;
		done->next = rev;
		rev = done;
		done = n;
	}
	while (rev) {
		struct job *j = rev;
		rev = rev->next;
		s->checking--;
		if ((j->res.status == VMS_ST_UNSUPPORTED || j->res.status == VMS_ST_INTERNAL) &&
		    !s->shutting_down) {
			/* TCC cannot judge it (or could not run): clang can, in a worker */
			j->fast = j->res;
			memset(&j->res, 0, sizeof(j->res));
			j->kind = JOB_CLANG_CHECK;
			enqueue_worker(s, j);
			continue;
		}
		struct vms_result r = j->res;
		memset(&j->res, 0, sizeof(j->res));
		job_done(s, j, &r);
		vms_result_free(&r);
	}
}

static int checker_start(struct server *s)
{
	s->ck.s = s;
	pthread_mutex_init(&s->ck.mu, NULL);
	pthread_cond_init(&s->ck.cv, NULL);
	if (pipe2(s->ck.efd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	int e = pthread_create(&s->ck.th, NULL, checker_main, &s->ck);
	if (e)
		return -e;
	s->ck.started = 1;
	return 0;
}

static void checker_stop(struct server *s)
{
	if (s->ck.started) {
		pthread_mutex_lock(&s->ck.mu);
		s->ck.stop = 1;
		pthread_cond_signal(&s->ck.cv);
		pthread_mutex_unlock(&s->ck.mu);
		pthread_join(s->ck.th, NULL);
		s->ck.started = 0;
	}
	struct job *lists[2] = { s->ck.head, s->ck.done };
	s->ck.head = s->ck.tail = s->ck.done = NULL;
	for (int i = 0; i < 2; i++)
		for (struct job *j = lists[i], *n; j; j = n) {
			n = j->next;
			job_fail_all(s, j, "shutting_down", "the daemon is shutting down");
		}
	if (s->ck.efd[0] > 0) {
		close(s->ck.efd[0]);
		close(s->ck.efd[1]);
	}
	pthread_mutex_destroy(&s->ck.mu);
	pthread_cond_destroy(&s->ck.cv);
}

/* ---- requests ------------------------------------------------------------------ */

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
	send_json(c, o);
	json_object_put(o);
}

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

/* check/build: vet, look up, or start (or join) a job. */
static void compile_request(struct server *s, struct conn *c, struct json_object *req,
			    struct json_object *id, int op)
{
	size_t len;
	const char *src = get_str(req, "source", &len);
	if (!src) {
		reply_error(c, id, "bad_request", "\"source\" (a string) is required");
		s->n_bad++;
		return;
	}
	const char *file = get_str(req, "file", NULL);
	if (!file)
		file = "prog.bpf.c";
	if (!printable_name(file)) {
		reply_error(c, id, "bad_request", "\"file\" must be 1-255 printable characters");
		s->n_bad++;
		return;
	}
	struct json_object *jf;
	struct vms_argv flags = { 0 };
	struct vms_diags d = { 0 };
	if (json_object_object_get_ex(req, "flags", &jf) && jf) {
		if (!json_object_is_type(jf, json_type_array) ||
		    json_object_array_length(jf) > MAX_FLAGS) {
			reply_error(c, id, "bad_request", "\"flags\" must be an array of at most 64 strings");
			s->n_bad++;
			return;
		}
		for (size_t i = 0; i < json_object_array_length(jf); i++) {
			struct json_object *f = json_object_array_get_idx(jf, i);
			if (!json_object_is_type(f, json_type_string) ||
			    json_object_get_string_len(f) > 256) {
				reply_error(c, id, "bad_request", "\"flags\" must hold strings");
				s->n_bad++;
				vms_argv_free(&flags);
				return;
			}
			const char *fs = json_object_get_string(f);
			if ((size_t)json_object_get_string_len(f) != strlen(fs) || !confine_flag_ok(fs))
				vms_diag_add(&d, VMS_ERROR, NULL, 0, 0,
					     "refused: flag '%s' is not allowed in a request", fs);
			else
				vms_argv_push(&flags, fs);
		}
	}
	struct waiter w = { .conn_id = c->id, .id = id ? json_object_get(id) : NULL,
			    .t0 = vms_now_ms(), .want_object = 1 };
	const char *out = op == OP_BUILD ? get_str(req, "output", NULL) : NULL;
	if (out) {
		if (!s->o->allow_output_paths || out[0] != '/' || !printable_name(out)) {
			reply_error(c, id, "bad_request",
				    s->o->allow_output_paths ? "\"output\" must be an absolute path"
							     : "this daemon does not write files for "
							       "clients (start it with --allow-output)");
			s->n_bad++;
			json_object_put(w.id);
			vms_argv_free(&flags);
			return;
		}
		w.output = vms_xstrdup(out);
		w.want_object = 0;
	}
	struct json_object *jo;
	if (json_object_object_get_ex(req, "object", &jo))
		w.want_object = json_object_get_boolean(jo);

	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, op == OP_BUILD ? "build" : "check");
	backend_identity(s->be, h);
	vms_hasher_update_str(h, file);
	for (size_t i = 0; i < flags.n; i++)
		vms_hasher_update_str(h, flags.v[i]);
	char *norm = NULL;
	size_t nlen = 0;
	int refused = d.n > 0;
	if (!refused && confine_source(s->conf, src, len, file, h, &norm, &nlen, &d) < 0)
		refused = 1;
	if (refused) {
		struct vms_result r = { .status = VMS_ST_REFUSED, .diags = d,
					.backend = vms_xstrdup("confine") };
		reply_result(s, c, &w, op_names[op], &r, NULL);
		vms_result_free(&r);
		vms_hasher_free(h);
		json_object_put(w.id);
		free(w.output);
		vms_argv_free(&flags);
		return;
	}
	vms_hasher_update(h, &nlen, sizeof(nlen));
	vms_hasher_update(h, norm, nlen);
	struct vms_hash128 key = vms_hasher_digest(h);
	vms_hasher_free(h);

	void *data;
	size_t dlen;
	enum vms_cache_hit hit = vms_cache_get(s->cache, key, &data, &dlen);
	if (hit != VMS_CACHE_MISS) {
		struct vms_result r;
		if (result_decode(data, dlen, &r) == 0) {
			reply_result(s, c, &w, op_names[op], &r,
				     hit == VMS_CACHE_MEM ? "memory" : "disk");
			vms_result_free(&r);
			free(data);
			free(norm);
			json_object_put(w.id);
			free(w.output);
			vms_argv_free(&flags);
			return;
		}
		free(data); /* a valid entry we cannot read: an older format; recompute */
	}
	enum job_kind kind = op == OP_BUILD ? JOB_BUILD : JOB_CHECK;
	struct job *j = job_in_flight(s, key, kind);
	if (j) {
		s->n_dedup++;
		free(norm);
		vms_argv_free(&flags);
	} else {
		if (s->queued + s->checking >= MAX_QUEUE) {
			reply_error(c, id, "busy", "too many requests are waiting; try again");
			s->n_busy++;
			free(norm);
			json_object_put(w.id);
			free(w.output);
			vms_argv_free(&flags);
			return;
		}
		j = vms_xcalloc(1, sizeof(*j));
		j->kind = kind;
		j->key = key;
		j->source = norm;
		j->len = nlen;
		j->file = vms_xstrdup(file);
		j->flags = flags;
		j->anext = s->jobs;
		if (s->jobs)
			s->jobs->aprev = j;
		s->jobs = j;
	}
	j->w = vms_xrealloc(j->w, (j->nw + 1) * sizeof(*j->w));
	j->w[j->nw++] = w;
	c->waiting = 1;
	if (j->nw == 1) {
		if (kind == JOB_BUILD)
			enqueue_worker(s, j);
		else
			checker_submit(s, j);
	}
}

static void begin_shutdown(struct server *s, const char *why)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	s->shutdown_at = vms_now_ms();
	logf_(s, "shutting down (%s)", why);
	if (s->lfd >= 0) {
		epoll_ctl(s->ep, EPOLL_CTL_DEL, s->lfd, NULL);
		close(s->lfd);
		s->lfd = -1;
		struct stat st;
		if (lstat(s->o->socket_path, &st) == 0 && st.st_ino == s->sock_ino)
			unlink(s->o->socket_path);
	}
}

static void handle_line(struct server *s, struct conn *c, const char *line, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	struct json_object *req = json_tokener_parse_ex(tok, line, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && (line[end] == ' ' || line[end] == '\t'))
		end++;
	if (!req || err != json_tokener_success || end != len) {
		json_object_put(req);
		char *m = vms_xasprintf("malformed JSON: %s",
					err != json_tokener_success ? json_tokener_error_desc(err)
								    : "trailing characters");
		reply_error(c, NULL, "bad_request", m);
		free(m);
		s->n_bad++;
		return;
	}
	struct json_object *id = NULL;
	json_object_object_get_ex(req, "id", &id);
	if (!json_object_is_type(req, json_type_object)) {
		reply_error(c, NULL, "bad_request", "a request is a JSON object");
		s->n_bad++;
		json_object_put(req);
		return;
	}
	const char *op = get_str(req, "op", NULL);
	int k = -1;
	for (int i = 0; op && op_names[i]; i++)
		if (!strcmp(op, op_names[i]))
			k = i;
	if (k < 0) {
		reply_error(c, id, "unknown_op",
			    op ? "\"op\" must be one of check, build, stats, shutdown, ping"
			       : "\"op\" (a string) is required");
		s->n_bad++;
		json_object_put(req);
		return;
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
		send_json(c, o);
		json_object_put(o);
		if (k == OP_SHUTDOWN)
			begin_shutdown(s, "shutdown request");
	}
	json_object_put(req);
}

static size_t max_req(struct server *s)
{
	return s->o->max_request_bytes ? s->o->max_request_bytes : 1u << 20;
}

static void conn_pump(struct server *s, struct conn *c)
{
	while (!c->waiting && !c->closing && c->in_off < c->in.len &&
	       c->out.len - c->out_off < OUT_HIGH) {
		char *start = c->in.data + c->in_off;
		size_t avail = c->in.len - c->in_off;
		char *nl = memchr(start, '\n', avail);
		if (!nl && avail > max_req(s) + 1) {
			/* Answered at once; the rest of the line is discarded as it arrives
			 * and the connection stays usable for the requests after it. */
			reply_error(c, NULL, "too_large", "request larger than the daemon's limit");
			s->n_bad++;
			c->in.len = c->in_off = 0;
			c->skipping = !c->eof;
			break;
		}
		if (!nl && !c->eof)
			break;
		size_t len = nl ? (size_t)(nl - start) : avail;
		c->in_off += nl ? len + 1 : len;
		if (len && start[len - 1] == '\r')
			len--;
		if (len > max_req(s)) {
			reply_error(c, NULL, "too_large", "request larger than the daemon's limit");
			s->n_bad++;
			continue;
		}
		if (len)
			handle_line(s, c, start, len);
	}
	if (c->in_off == c->in.len) {
		c->in.len = c->in_off = 0;
	} else if (c->in_off > 65536) {
		memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
	c->paused = c->in.len - c->in_off > max_req(s) + 2;
	conn_flush(s, c);
}

static void conn_readable(struct server *s, struct conn *c)
{
	char buf[65536];
	/* a bounded number of reads per wake-up, so one fast writer cannot hold the loop */
	for (int rounds = 0; rounds < 32; rounds++) {
		/* one request at a time: stop reading while a whole line waits */
		if (c->in.len - c->in_off > max_req(s) + 2) {
			c->paused = 1;
			break;
		}
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			c->last = vms_now_ms();
			const char *p = buf;
			if (c->skipping) {
				const char *nl = memchr(buf, '\n', (size_t)n);
				if (!nl)
					continue;
				c->skipping = 0;
				n -= nl + 1 - buf;
				p = nl + 1;
			}
			vms_buf_append(&c->in, p, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		c->eof = 1;
		ep_mod(s, c);
		break;
	}
	conn_pump(s, c);
}

static void accept_all(struct server *s)
{
	int max = s->o->max_clients > 0 ? s->o->max_clients : 128;
	for (;;) {
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or out of descriptors: try again on the next wake-up */
		}
		if (s->nconns >= (size_t)max) {
			static const char busy[] =
				"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"busy\","
				"\"message\":\"too many clients\"}}\n";
			if (send(fd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* it will see the connection close */
			}
			close(fd);
			s->n_busy++;
			continue;
		}
		struct conn *c = vms_xcalloc(1, sizeof(*c));
		c->tag = T_CONN;
		c->fd = fd;
		c->id = ++s->next_conn_id;
		c->last = vms_now_ms();
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev);
		c->mask = EPOLLIN;
	}
}

/* ---- setup and the loop ----------------------------------------------------------- */

static int listen_on(struct server *s, struct vms_diags *d)
{
	const char *path = s->o->socket_path;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path)) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "socket path too long (max %zu bytes)",
			     sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			vms_diag_add(d, VMS_ERROR, path, 0, 0, "exists and is not a socket");
			return -EEXIST;
		}
		int t = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int live = t >= 0 && connect(t, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (t >= 0)
			close(t);
		if (live) {
			vms_diag_add(d, VMS_ERROR, path, 0, 0, "another daemon is listening here");
			return -EADDRINUSE;
		}
		unlink(path); /* stale: its daemon is gone */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	mode_t old = umask(0177); /* the socket is born 0600: no window where others connect */
	int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (r < 0 || chmod(path, 0600) < 0 || listen(fd, 256) < 0) {
		e = r < 0 ? e : errno;
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "cannot listen: %s", strerror(e));
		close(fd);
		return -e;
	}
	if (lstat(path, &st) == 0)
		s->sock_ino = st.st_ino;
	s->lfd = fd;
	return 0;
}

static void build_sandbox(struct server *s)
{
	static const char *const sys_ro[] = { "/usr", "/lib", "/lib64", "/lib32", "/bin",
					       "/sbin", "/etc/ld.so.cache", "/etc/alternatives",
					       "/dev/urandom", "/dev/random", NULL };
	for (int i = 0; sys_ro[i]; i++)
		vms_argv_push(&s->ro, sys_ro[i]);
	const struct vms_backend_opts *b = &s->o->backend;
	for (size_t i = 0; i < b->n_inc; i++)
		vms_argv_push(&s->ro, b->inc_dirs[i]);
	if (b->headers_dir)
		vms_argv_push(&s->ro, b->headers_dir);
	if (backend_vmlinux(s->be))
		vms_argv_push(&s->ro, backend_vmlinux(s->be));
	vms_argv_push(&s->rw, "/dev/null");
	vms_argv_push(&s->rw, backend_scratch(s->be)); /* the staged source, the object */
	if (b->cache_dir)
		vms_argv_push(&s->rw, b->cache_dir); /* PCHs and their locks */
	s->lim.ro_paths = (const char *const *)s->ro.v;
	s->lim.rw_paths = (const char *const *)s->rw.v;
}

int vms_serve_run(const struct vms_serve_opts *o, struct vms_diags *d)
{
	struct server *s = vms_xcalloc(1, sizeof(*s));
	int err = 0;
	s->o = o;
	s->ep = s->lfd = s->sig[0] = s->sig[1] = -1;
	s->ck.efd[0] = s->ck.efd[1] = -1;
	s->started = vms_now_ms();
	s->lim.cpu_s = o->cpu_limit_s > 0 ? o->cpu_limit_s : 10;
	s->lim.mem_bytes = o->mem_limit_bytes ? o->mem_limit_bytes : 2ull << 30;
	s->lim.wall_ms = o->time_limit_ms > 0 ? o->time_limit_ms : 20000;
	struct sigaction old_term, old_int, old_pipe, old_hup;
	int have_sigs = 0;

	char *cache_dir = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
	struct vms_backend_opts bo = o->backend;
	bo.untrusted = 1;
	if (!bo.cache_dir)
		bo.cache_dir = cache_dir;
	struct vms_serve_opts o2 = *o;
	o2.backend = bo;
	s->o = &o2;
	err = backend_new(&bo, &s->be, d);
	if (err < 0)
		goto out;
	size_t nsys;
	const char *const *sys = backend_sys_dirs(s->be, &nsys);
	s->conf = confine_new(bo.inc_dirs, bo.n_inc, sys, nsys, backend_vmlinux(s->be));
	struct vms_cache_opts co = { .dir = o->no_disk_cache ? NULL : cache_dir,
				     .max_disk_bytes = o->cache_max_bytes,
				     .max_mem_bytes = o->mem_cache_bytes };
	err = vms_cache_open(&co, &s->cache);
	if (err < 0) {
		vms_diag_add(d, VMS_ERROR, cache_dir, 0, 0, "cannot open the cache: %s",
			     strerror(-err));
		goto out;
	}
	if (o->sandbox) {
		if (sandbox_available()) {
			build_sandbox(s);
			s->sandbox = 1;
		} else {
			logf_(s, "Landlock is not available: workers run without a sandbox");
		}
	}
	err = listen_on(s, d);
	if (err < 0)
		goto out;
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0 || pipe2(s->sig, O_CLOEXEC | O_NONBLOCK) < 0) {
		err = -errno;
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "epoll: %s", strerror(errno));
		goto out;
	}
	sig_pipe_w = s->sig[1];
	struct sigaction sa = { .sa_handler = on_signal }, ign = { .sa_handler = SIG_IGN };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGHUP, &sa, &old_hup);
	sigaction(SIGPIPE, &ign, &old_pipe);
	have_sigs = 1;
	err = checker_start(s);
	if (err < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot start the checker thread: %s",
			     strerror(-err));
		goto out;
	}
	s->tag_listen = T_LISTEN;
	s->tag_signal = T_SIGNAL;
	s->tag_checker = T_CHECKER;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->tag_listen };
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev);
	ev.data.ptr = &s->tag_signal;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->sig[0], &ev);
	ev.data.ptr = &s->tag_checker;
	epoll_ctl(s->ep, EPOLL_CTL_ADD, s->ck.efd[0], &ev);
	logf_(s, "listening on %s (pid %d, cache %s, sandbox %s)", o->socket_path, (int)getpid(),
	      o->no_disk_cache ? "memory" : cache_dir, s->sandbox ? "landlock" : "off");

	for (;;) {
		double now = vms_now_ms();
		if (s->shutting_down) {
			int busy = s->running || s->queued || s->checking;
			if (busy && now - s->shutdown_at > SHUTDOWN_GRACE_MS) {
				for (struct job *j = s->jobs; j; j = j->anext)
					if (j->fd >= 0 && !j->stopped)
						worker_kill(j->pid), j->timed_out = j->stopped = 1;
				while (s->queue) {
					struct job *j = s->queue;
					s->queue = j->next;
					s->queued--;
					job_fail_all(s, j, "shutting_down", "the daemon is shutting down");
				}
				s->queue_tail = NULL;
			}
			int unflushed = 0;
			for (struct conn *c = s->conns; c; c = c->next)
				unflushed |= c->out_off < c->out.len;
			if (!s->running && !s->queued &&
			    (!s->checking || now - s->shutdown_at > SHUTDOWN_GRACE_MS) &&
			    (!unflushed || now - s->shutdown_at > SHUTDOWN_GRACE_MS + FLUSH_GRACE_MS))
				break;
		}
		/* the nearest deadline decides how long to sleep */
		double next = now + (s->shutting_down ? 50 : 60000);
		for (struct job *j = s->jobs; j; j = j->anext)
			if (j->fd >= 0 && !j->timed_out && j->deadline < next)
				next = j->deadline;
		int timeout = next > now ? (int)(next - now) + 1 : 0;
		struct epoll_event evs[64];
		int n = epoll_wait(s->ep, evs, 64, timeout);
		if (n < 0 && errno != EINTR) {
			err = -errno;
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int *tag = evs[i].data.ptr;
			if (*tag == T_LISTEN) {
				if (s->lfd >= 0)
					accept_all(s);
			} else if (*tag == T_SIGNAL) {
				unsigned char b[16];
				ssize_t k = read(s->sig[0], b, sizeof(b));
				if (k > 0)
					begin_shutdown(s, b[0] == SIGINT ? "SIGINT" : b[0] == SIGHUP ? "SIGHUP" : "SIGTERM");
			} else if (*tag == T_CHECKER) {
				checker_readable(s);
			} else if (*tag == T_WORKER) {
				worker_readable(s, (struct job *)tag);
			} else if (*tag == T_CONN) {
				struct conn *c = (struct conn *)tag;
				if (c->fd < 0) /* closed by an earlier event of this pass */
					continue;
				if (evs[i].events & (EPOLLHUP | EPOLLERR)) {
					/* both directions gone: no reply can reach it */
					conn_close(s, c);
					continue;
				}
				if (evs[i].events & EPOLLOUT) {
					if (conn_flush(s, c) < 0)
						continue;
					/* a reader that caught up may have requests waiting */
					if (!c->waiting && c->in_off < c->in.len) {
						conn_pump(s, c);
						if (c->fd < 0)
							continue;
					}
				}
				if (evs[i].events & EPOLLIN)
					conn_readable(s, c);
			}
		}
		now = vms_now_ms();
		for (struct job *j = s->jobs; j; j = j->anext)
			if (j->fd >= 0 && !j->timed_out && now >= j->deadline) {
				worker_kill(j->pid);
				j->timed_out = 1;
			}
		for (struct conn *c = s->conns, *nx; c; c = nx) {
			nx = c->next;
			int partial = c->in.len > c->in_off;
			if (!c->waiting && c->out_off == c->out.len &&
			    now - c->last > (partial ? PARTIAL_MS : IDLE_MS))
				conn_close(s, c);
		}
		free_dead(s);
	}

out:
	if (s->ck.started || s->ck.efd[0] >= 0)
		checker_stop(s);
	for (struct job *j = s->jobs, *n; j; j = n) {
		n = j->anext;
		if (j->fd >= 0) {
			worker_kill(j->pid);
			struct vms_result r;
			worker_collect(j->pid, NULL, 0, 1, &r);
			vms_result_free(&r);
			close(j->fd);
		}
		job_free(s, j);
	}
	if (s->be)
		backend_sweep(s->be);
	while (s->conns) {
		struct conn *c = s->conns;
		if (conn_flush(s, c) == 0)
			conn_close(s, c);
	}
	free_dead(s);
	if (have_sigs) {
		sigaction(SIGTERM, &old_term, NULL);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGHUP, &old_hup, NULL);
		sigaction(SIGPIPE, &old_pipe, NULL);
	}
	sig_pipe_w = -1;
	if (s->lfd >= 0) {
		close(s->lfd);
		struct stat st;
		if (lstat(o->socket_path, &st) == 0 && st.st_ino == s->sock_ino)
			unlink(o->socket_path);
	}
	if (s->sig[0] >= 0) {
		close(s->sig[0]);
		close(s->sig[1]);
	}
	if (s->ep >= 0)
		close(s->ep);
	if (err == 0)
		logf_(s, "stopped");
	vms_cache_close(s->cache);
	confine_free(s->conf);
	backend_free(s->be);
	vms_argv_free(&s->ro);
	vms_argv_free(&s->rw);
	free(cache_dir);
	free(s);
	return err;
}
