/* The language server's exact checker on a thread of its own (internal.h: xworker).
 *
 * libclang's first parse of a program with the full vmlinux.h takes about a second (the
 * precompiled preamble is built then); later ones a few milliseconds. Run on the event
 * loop, that second would hold up the fast checker's answer to every edit typed
 * meanwhile. So the loop hands texts to one worker thread and goes on; the thread owns
 * every document's checker (libclang's state is not shared with the loop at all), runs
 * one check at a time, and reports through a pipe that the loop watches. A document
 * has at most one text waiting: a newer one replaces it, so a burst of edits costs one
 * parse. Whether an answer is still current is the loop's to judge (version and text
 * hash travel with it).
 *
 * Editor requests (completion, hover, definition, signature help) are jobs on the same
 * queue, so they share each document's translation unit with its checks without a lock:
 * one reparses the TU to the request's text when it is stale (the next check of that
 * text then reuses it), and is answered in the queue's order, behind at most the check
 * under way. A request never replaces a queued job, nor is it replaced. */
#include "serve/internal.h"
#include "serve/lsp_feat.h"
#include "core/core.h"
#include "exact/exact.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the parser recurses deeply on vmlinux.h's nested declarations; under ASan
 * (LIBCLANG_NOTHREADS) it runs on this thread rather than on a big-stacked one of its own */
#define XWORKER_STACK (64u << 20)

struct xjob {
	uint64_t doc_id;
	int forget;			/* drop the document's checker */
	int kind;			/* XREQ_*: an editor request; 0: a check */
	uint64_t seq;
	int line0, ch16;
	int features;
	struct vms_argv inc, flags;
	char *header, *src_dir, *path;
	char *text;
	size_t len;
	int version;
	struct vms_hash128 hash;
	struct xjob *next;
};

struct xchecker {
	uint64_t doc_id;
	struct vms_exact *x;
	struct xchecker *next;
};

struct xworker {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct xjob *queue;		/* FIFO */
	struct xresult *done;		/* LIFO; reversed when taken */
	int stop;
	int pipe_r, pipe_w;
	struct xchecker *checkers;	/* the thread's alone */
	struct xreply *replies;		/* LIFO; reversed when taken */
	struct vms_argv target_paths;	/* set before the first request */
	struct vms_core_btfs *targets;	/* the thread's alone, made on first use */
};

static void job_free(struct xjob *j)
{
	vms_argv_free(&j->inc);
	vms_argv_free(&j->flags);
	free(j->header), free(j->src_dir), free(j->path), free(j->text);
	free(j);
}

void xresult_free(struct xresult *r)
{
	while (r) {
		struct xresult *n = r->next;
		vms_diags_free(&r->diags);
		free(r);
		r = n;
	}
}

static struct xchecker **find_checker(struct xworker *w, uint64_t id)
{
	struct xchecker **p = &w->checkers;
	while (*p && (*p)->doc_id != id)
		p = &(*p)->next;
	return p;
}

/* The document's checker, made from the job's options: NULL (d says why) when none can be. */
static struct xchecker **make_checker(struct xworker *w, const struct xjob *j,
				      struct vms_diags *d)
{
	struct vms_exact_opts o = {
		.include_dirs = (const char *const *)j->inc.v, .n_inc = j->inc.n,
		.flags = (const char *const *)j->flags.v, .n_flags = j->flags.n,
		.vmlinux_header = j->header, .src_dir = j->src_dir, .features = j->features,
	};
	struct vms_exact *x;
	if (vms_exact_new(&o, j->path, &x, d) < 0)
		return NULL;
	struct xchecker *c = vms_xcalloc(1, sizeof(*c));
	c->doc_id = j->doc_id;
	c->x = x;
	c->next = w->checkers;
	w->checkers = c;
	return &w->checkers;
}

/* An editor request: its reply (null when there is nothing to say or no libclang). */
static void answer(struct xworker *w, const struct xjob *j)
{
	struct xreply *r = vms_xcalloc(1, sizeof(*r));
	r->seq = j->seq;
	struct xchecker **slot = find_checker(w, j->doc_id);
	struct vms_diags d = { 0 };
	if (!*slot)
		slot = make_checker(w, j, &d);
	vms_diags_free(&d);
	if (slot) {
		if (!w->targets && w->target_paths.n)
			w->targets = vms_core_btfs_new((const char *const *)w->target_paths.v,
						       w->target_paths.n);
		r->result = lsp_feature((*slot)->x, w->targets, j->kind, j->text, j->len, j->line0,
					j->ch16);
	}
	pthread_mutex_lock(&w->mu);
	r->next = w->replies;
	w->replies = r;
	pthread_mutex_unlock(&w->mu);
}

static struct xresult *run_job(struct xworker *w, struct xjob *j)
{
	struct xchecker **slot = find_checker(w, j->doc_id);
	if (j->forget) {
		if (*slot) {
			struct xchecker *c = *slot;
			*slot = c->next;
			vms_exact_free(c->x);
			free(c);
		}
		return NULL;
	}
	if (j->kind) {
		answer(w, j);
		return NULL;
	}
	struct xresult *r = vms_xcalloc(1, sizeof(*r));
	r->doc_id = j->doc_id;
	r->version = j->version;
	r->hash = j->hash;
	if (!*slot && !(slot = make_checker(w, j, &r->diags))) {
		r->no_libclang = 1;
		return r;
	}
	double t0 = vms_now_ms();
	r->ok = vms_exact_check((*slot)->x, j->text, j->len, &r->diags) == 0;
	r->ms = vms_now_ms() - t0;
	return r;
}

static void *thread_main(void *arg)
{
	struct xworker *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->queue && !w->stop)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->stop)
			break;
		struct xjob *j = w->queue;
		w->queue = j->next;
		pthread_mutex_unlock(&w->mu);
		int kind = j->kind;
		struct xresult *r = run_job(w, j);
		job_free(j);
		pthread_mutex_lock(&w->mu);
		if (r || kind) {
			if (r) {
				r->next = w->done;
				w->done = r;
			}
			char one = 1;
			/* the pipe is non-blocking: a full one already says "results" */
			(void)(write(w->pipe_w, &one, 1) < 0);
		}
	}
	pthread_mutex_unlock(&w->mu);
	while (w->checkers) {
		struct xchecker *c = w->checkers;
		w->checkers = c->next;
		vms_exact_free(c->x);
		free(c);
	}
	vms_core_btfs_free(w->targets);
	return NULL;
}

struct xworker *xworker_new(void)
{
	struct xworker *w = vms_xcalloc(1, sizeof(*w));
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(w);
		return NULL;
	}
	w->pipe_r = p[0], w->pipe_w = p[1];
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, XWORKER_STACK);
	int e = pthread_create(&w->thread, &at, thread_main, w);
	pthread_attr_destroy(&at);
	if (e) {
		close(p[0]), close(p[1]);
		pthread_mutex_destroy(&w->mu);
		pthread_cond_destroy(&w->cv);
		free(w);
		return NULL;
	}
	return w;
}

int xworker_fd(const struct xworker *w)
{
	return w->pipe_r;
}

/* Queues j; a queued text of the same document (not a forget) is replaced. */
static void enqueue(struct xworker *w, struct xjob *j)
{
	pthread_mutex_lock(&w->mu);
	struct xjob **p = &w->queue;
	while (*p) {
		if ((*p)->doc_id == j->doc_id && !(*p)->forget && !j->forget && !(*p)->kind &&
		    !j->kind) {
			struct xjob *old = *p;
			j->next = old->next;
			*p = j;
			job_free(old);
			goto out;
		}
		p = &(*p)->next;
	}
	*p = j;
out:
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

static struct xjob *new_job(uint64_t doc_id, const struct vms_exact_opts *o, const char *path,
			    const char *text, size_t len)
{
	struct xjob *j = vms_xcalloc(1, sizeof(*j));
	j->doc_id = doc_id;
	for (size_t i = 0; i < o->n_inc; i++)
		vms_argv_push(&j->inc, o->include_dirs[i]);
	for (size_t i = 0; i < o->n_flags; i++)
		vms_argv_push(&j->flags, o->flags[i]);
	j->header = o->vmlinux_header ? vms_xstrdup(o->vmlinux_header) : NULL;
	j->src_dir = o->src_dir ? vms_xstrdup(o->src_dir) : NULL;
	j->path = vms_xstrdup(path);
	j->text = vms_xstrndup(text ? text : "", len);
	j->len = len;
	j->features = o->features;
	return j;
}

void xworker_submit(struct xworker *w, uint64_t doc_id, const struct vms_exact_opts *o,
		    const char *path, const char *text, size_t len, int version,
		    struct vms_hash128 hash)
{
	struct xjob *j = new_job(doc_id, o, path, text, len);
	j->version = version;
	j->hash = hash;
	enqueue(w, j);
}

void xworker_request(struct xworker *w, uint64_t doc_id, const struct vms_exact_opts *o,
		     const char *path, const char *text, size_t len, int kind, uint64_t seq,
		     int line0, int ch16)
{
	struct xjob *j = new_job(doc_id, o, path, text, len);
	j->kind = kind;
	j->seq = seq;
	j->line0 = line0;
	j->ch16 = ch16;
	enqueue(w, j);
}

void xworker_set_targets(struct xworker *w, const char *const *paths, size_t n)
{
	pthread_mutex_lock(&w->mu);
	vms_argv_free(&w->target_paths);
	for (size_t i = 0; i < n; i++)
		vms_argv_push(&w->target_paths, paths[i]);
	pthread_mutex_unlock(&w->mu);
}

struct xreply *xworker_take_replies(struct xworker *w)
{
	pthread_mutex_lock(&w->mu);
	struct xreply *r = w->replies, *rev = NULL;
	w->replies = NULL;
	pthread_mutex_unlock(&w->mu);
	while (r) {
		struct xreply *n = r->next;
		r->next = rev;
		rev = r;
		r = n;
	}
	return rev;
}

void xreply_free(struct xreply *r)
{
	while (r) {
		struct xreply *n = r->next;
		json_object_put(r->result);
		free(r);
		r = n;
	}
}

void xworker_forget(struct xworker *w, uint64_t doc_id)
{
	struct xjob *j = vms_xcalloc(1, sizeof(*j));
	j->doc_id = doc_id;
	j->forget = 1;
	/* a text still queued for the document is dropped first */
	pthread_mutex_lock(&w->mu);
	for (struct xjob **p = &w->queue; *p;) {
		if ((*p)->doc_id == doc_id && !(*p)->kind) { /* requests still get their answer */
			struct xjob *old = *p;
			*p = old->next;
			job_free(old);
		} else {
			p = &(*p)->next;
		}
	}
	pthread_mutex_unlock(&w->mu);
	enqueue(w, j);
}

struct xresult *xworker_take(struct xworker *w)
{
	char buf[256];
	while (read(w->pipe_r, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&w->mu);
	struct xresult *r = w->done, *rev = NULL;
	w->done = NULL;
	pthread_mutex_unlock(&w->mu);
	while (r) { /* oldest first */
		struct xresult *n = r->next;
		r->next = rev;
		rev = r;
		r = n;
	}
	return rev;
}

void xworker_free(struct xworker *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	/* a parse under way finishes first: libclang cannot be interrupted */
	pthread_join(w->thread, NULL);
	while (w->queue) {
		struct xjob *j = w->queue;
		w->queue = j->next;
		job_free(j);
	}
	xresult_free(w->done);
	xreply_free(w->replies);
	vms_argv_free(&w->target_paths);
	close(w->pipe_r), close(w->pipe_w);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	free(w);
}
