/* The daemon's jobs: the table of jobs in flight, the worker queue, and the checker thread.
 *
 * Work leaves the loop in one of two ways:
 *  - checks go to one thread that owns the TCC snapshot checker. The checker is not
 *    thread-safe, but it already isolates each request in a process it forks from the
 *    snapshot (crash, hang and memory limits included) and answers in about a
 *    millisecond, so one thread feeding it is both safe and fast enough. It hands
 *    finished jobs back through a list and a pipe the loop watches;
 *  - builds, and the clang checks that stand in where TCC answers "unsupported", run in
 *    a forked worker each (worker.c): kernel limits per request, a process group to
 *    kill at the wall-time limit (a loop timer per worker), Landlock where available.
 *    At most `jobs` run at once; the rest wait in a queue, whose length the protocol
 *    bounds ("busy" beyond it). The daemon makes each worker's job directory before the
 *    fork and removes it when the worker is collected, so a worker killed at its limit
 *    (or on purpose) leaves nothing of the user's behind.
 * Identical requests in flight are answered by one job (every waiter gets the reply),
 * and every answer that does not depend on luck goes to the cache: a compiler's crash on
 * a source is as much an answer as its errors, while a timeout, a limit or a worker that
 * died is not.
 *
 * The queue is fair between clients (peer uids, see conn.c): each client has a queue of
 * its own, and a free slot goes to the next client after the one served last that has a
 * job waiting, round robin. Six builds from one client and one from another: the
 * other's waits for at most one slot to free, not for the six. A job whose every waiter
 * has disconnected is dropped from its queue, or its worker's process group is killed;
 * such an answer is never cached (it is a timeout). */
#include "serve/internal.h"
#include "serve/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the table of jobs in flight ----------------------------------------------------- */

struct job *job_new(struct server *s, enum job_kind kind, struct vms_hash128 key, char *source,
		    size_t len, char *file, struct vms_argv flags)
{
	struct job *j = vms_xcalloc(1, sizeof(*j));
	j->s = s;
	j->kind = kind;
	j->key = key;
	j->source = source;
	j->len = len;
	j->file = file;
	j->flags = flags;
	j->run.fd = -1;
	j->anext = s->jobs;
	if (s->jobs)
		s->jobs->aprev = j;
	s->jobs = j;
	return j;
}

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

/* ---- the clients' queues ------------------------------------------------------------ */

static void queue_push(struct server *s, struct client *cl, struct job *j)
{
	j->next = NULL;
	j->client = cl;
	if (cl->tail)
		cl->tail->next = j;
	else
		cl->head = j;
	cl->tail = j;
	cl->queued++;
	s->queued++;
}

/* Out of its client's queue (which may free the client). */
static void queue_remove(struct server *s, struct job *j)
{
	struct client *cl = j->client;
	if (!cl)
		return;
	struct job **pp = &cl->head, *prev = NULL;
	while (*pp && *pp != j) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp) {
		*pp = j->next;
		if (cl->tail == j)
			cl->tail = prev;
		cl->queued--;
		s->queued--;
	}
	j->next = NULL;
	j->client = NULL;
	client_release(s, cl);
}

/* The next job to run: the head of the first client's queue after the one served last
 * (in the order clients came), wrapping around; NULL when nothing waits. */
static struct job *queue_pick(struct server *s)
{
	if (!s->queued)
		return NULL;
	struct client *start = s->last_served && s->last_served->next ? s->last_served->next
								       : s->clients;
	for (struct client *cl = start;;) {
		if (cl->head) {
			struct job *j = cl->head;
			s->last_served = cl;
			queue_remove(s, j); /* may free cl: last_served is then moved back */
			return j;
		}
		cl = cl->next ? cl->next : s->clients;
		if (cl == start)
			return NULL; /* s->queued disagrees with the queues: not reached */
	}
}

/* ---- jobs ------------------------------------------------------------------------- */

static void job_dir_remove(struct job *j)
{
	if (j->dir) {
		vms_remove_tree(j->dir);
		free(j->dir);
		j->dir = NULL;
	}
}

static void job_free(struct server *s, struct job *j)
{
	job_unlink(s, j);
	queue_remove(s, j);
	remote_tier_forget(j);
	worker_watch_stop(&j->run);
	job_dir_remove(j);
	for (size_t i = 0; i < j->nw; i++) {
		json_object_put(j->w[i].id);
		free(j->w[i].output);
	}
	free(j->w);
	free(j->source);
	free(j->file);
	vms_argv_free(&j->flags);
	vms_result_free(&j->res);
	vms_result_free(&j->fast);
	free(j);
}

struct job *job_in_flight(struct server *s, struct vms_hash128 key, enum job_kind kind)
{
	/* not one nobody waits for: cancelled, or with the checker after its waiters left
	 * (joining that would submit it a second time) */
	for (struct job *j = s->jobs; j; j = j->anext)
		if (!j->cancelled && j->nw && j->key.hi == key.hi && j->key.lo == key.lo &&
		    (j->kind == JOB_BUILD) == (kind == JOB_BUILD))
			return j;
	return NULL;
}

/* A backend's answer about the source: clean, errors, unsupported, or the checker or
 * compiler crashing on it (deterministic: the same source crashes it again). Results
 * without a backend are the worker's own death (worker_collect), not an answer. */
static int cacheable(const struct vms_result *r)
{
	return r->status == VMS_ST_OK || r->status == VMS_ST_ERRORS ||
	       r->status == VMS_ST_UNSUPPORTED || (r->status == VMS_ST_CRASHED && r->backend);
}

/* Every waiter gets the answer; the job is gone afterwards. */
static void job_done(struct server *s, struct job *j, struct vms_result *r)
{
	if (cacheable(r)) {
		struct vms_buf b = { 0 };
		result_encode(r, &b);
		int e = vms_cache_put(s->cache, j->key, b.data, b.len);
		if (e < 0)
			server_log(s, "cache: cannot store an entry: %s", strerror(-e));
		/* queued before the replies go out, never waited for (remote_tier.c) */
		remote_tier_store(s, j->key, b.data, b.len);
		vms_buf_free(&b);
	}
	job_reply_all(s, j, r, NULL);
}

void job_reply_all(struct server *s, struct job *j, const struct vms_result *r,
		   const char *cached)
{
	const char *op = j->kind == JOB_BUILD ? "build" : "check";
	/* replying lets connections read on, and their next request must not join this job */
	job_unlink(s, j);
	for (size_t i = 0; i < j->nw; i++) {
		struct conn *c = conn_by_id(s, j->w[i].conn_id);
		if (!c)
			continue;
		reply_result(s, c, &j->w[i], op, r, cached);
		c->waiting = 0;
		c->last = vms_now_ms();
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
		c->last = vms_now_ms();
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
		.job_dir = j->dir,
		.asm_suspect = j->asm_suspect,
		/* the PCH's bytes were hashed by an earlier worker: a seal that still holds
		 * saves the next build re-hashing them (pch.h) */
		.pch_seal = s->pch_seal.valid ? &s->pch_seal : NULL,
	};
	/* One thread serves every check: a check that hangs must not hold the others for
	 * a build's allowance. */
	if (j->kind == JOB_CHECK && q->time_limit_ms > 5000)
		q->time_limit_ms = 5000;
}

/* ---- workers --------------------------------------------------------------------- */

struct worker_arg {
	struct server *s;
	struct job *j;
};

static void worker_main(void *arg, struct vms_result *r)
{
	struct worker_arg *a = arg;
	struct backend_req q;
	fill_req(a->s, a->j, &q);
	/* clang's own temporaries (a crash's reproducer too) land in the job directory:
	 * the one place the sandbox lets it write, and removed with the job */
	setenv("TMPDIR", a->j->dir, 1);
	if (a->j->kind == JOB_BUILD)
		backend_build(a->s->be, &q, r);
	else
		backend_check_clang(a->s->be, &q, r);
}

static void start_workers(struct server *s);

static void worker_done(struct worker_watch *w, struct vms_result *r)
{
	struct job *j = (struct job *)((char *)w - offsetof(struct job, run));
	struct server *s = j->s;
	s->running--;
	job_dir_remove(j); /* whatever happened: the worker and its compiler are gone */
	if (r->pch_seal.valid)
		s->pch_seal = r->pch_seal;
	memset(&r->pch_seal, 0, sizeof(r->pch_seal)); /* not part of the answer */
	if (w->timed_out)
		backend_sweep(s->be);
	if (j->cancelled)
		job_free(s, j); /* nobody to answer, and a killed job's answer is no answer */
	else if (j->stopped)
		job_fail_all(s, j, "shutting_down", "the daemon is shutting down");
	else
		job_done(s, j, r);
	start_workers(s);
}

/* A private directory for the job under the scratch's jobs/, made here rather than in the
 * worker so that this process can remove it whatever becomes of the worker. */
static int job_dir_make(struct server *s, struct job *j)
{
	char *t = vms_xasprintf("%s/jobs/j.XXXXXX", backend_scratch(s->be));
	if (!mkdtemp(t)) {
		int e = errno;
		free(t);
		return -e;
	}
	j->dir = t;
	return 0;
}

static void start_workers(struct server *s)
{
	int max = s->o->jobs > 0 ? s->o->jobs : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (max < 1)
		max = 1;
	struct job *j;
	while (s->running < (size_t)max && (j = queue_pick(s))) {
		struct worker_arg a = { s, j };
		int e = job_dir_make(s, j);
		if (e == 0)
			e = worker_watch_start(&j->run, s->lp, worker_main, &a, &s->lim,
					       worker_done);
		if (e < 0) {
			char *m = vms_xasprintf("cannot start a worker: %s", strerror(-e));
			server_log(s, "%s", m);
			job_fail_all(s, j, "internal", m);
			free(m);
			continue;
		}
		s->running++;
	}
}

/* Into the queue of the client of its first waiter still connected. */
static void enqueue_worker(struct server *s, struct job *j)
{
	struct client *cl = NULL;
	for (size_t i = 0; i < j->nw && !cl; i++) {
		struct conn *c = conn_by_id(s, j->w[i].conn_id);
		cl = c ? c->client : NULL;
	}
	if (!cl) {
		/* every waiter has gone already (while the checker ran it) */
		job_free(s, j);
		return;
	}
	queue_push(s, cl, j);
	start_workers(s);
}

void jobs_stop(struct server *s)
{
	for (struct job *j = s->jobs; j; j = j->anext)
		if (j->run.fd >= 0 && !j->stopped) {
			worker_watch_kill(&j->run);
			j->stopped = 1;
		}
	struct job *j;
	while ((j = queue_pick(s)))
		job_fail_all(s, j, "shutting_down", "the daemon is shutting down");
}

void jobs_conn_gone(struct server *s, uint64_t conn_id)
{
	for (struct job *j = s->jobs, *n; j; j = n) {
		n = j->anext;
		size_t k = 0;
		for (size_t i = 0; i < j->nw; i++) {
			if (j->w[i].conn_id == conn_id) {
				json_object_put(j->w[i].id);
				free(j->w[i].output);
			} else {
				j->w[k++] = j->w[i];
			}
		}
		if (k == j->nw || (j->nw = k) > 0 || j->cancelled)
			continue;
		if (j->client) {
			job_free(s, j); /* queued: it never runs */
		} else if (j->run.fd >= 0) {
			/* running: its process group goes now, worker_done frees it */
			j->cancelled = 1;
			worker_watch_kill(&j->run);
		}
		/* else with the checker thread, back within its 5 s: answered to nobody, and
		 * cached when it is an answer */
	}
}

void jobs_free_all(struct server *s)
{
	for (struct job *j = s->jobs, *n; j; j = n) {
		n = j->anext;
		job_free(s, j); /* a worker still running is killed */
	}
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

void job_submit(struct server *s, struct job *j)
{
	if (j->kind == JOB_BUILD)
		enqueue_worker(s, j);
	else
		checker_submit(s, j);
}

static void checker_readable(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	struct server *s = data;
	unsigned char buf[256];
	while (read(fd, buf, sizeof(buf)) > 0)
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

int checker_start(struct server *s)
{
	s->ck.s = s;
	pthread_mutex_init(&s->ck.mu, NULL);
	pthread_cond_init(&s->ck.cv, NULL);
	if (pipe2(s->ck.efd, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	int e = loop_add_fd(s->lp, s->ck.efd[0], LOOP_READ, checker_readable, s);
	if (e < 0)
		return e;
	e = pthread_create(&s->ck.th, NULL, checker_main, &s->ck);
	if (e)
		return -e;
	s->ck.started = 1;
	return 0;
}

void checker_stop(struct server *s)
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
		if (s->lp)
			loop_del_fd(s->lp, s->ck.efd[0]);
		close(s->ck.efd[0]);
		close(s->ck.efd[1]);
	}
	pthread_mutex_destroy(&s->ck.mu);
	pthread_cond_destroy(&s->ck.cv);
}
