/* The per-user daemon's clang snapshots: a pool the daemon owns, used by its workers.
 *
 * A snapshot (clangsnap/) is a clang that has read the header and forks per build; it
 * must outlive every build it serves, and its process dies with the thread that started
 * it (PR_SET_PDEATHSIG), so it belongs to the daemon, never to a worker. The pieces:
 *
 *   - a worker (a process forked per request, which closed every descriptor it did not
 *     own) reaches this file through vms_build's compile hook (snap_via_compile) with the
 *     compile's exact clang, flags, header and dependency kind. Its copy of the pool (the
 *     entries as they were when it was forked) says whether a snapshot for that key runs:
 *     then the build goes through it (clangsnap connects by its socket path). Otherwise
 *     it sends a datagram "want KEY" to the pool's socket and clang runs as without
 *     snapshots: the next build of that key finds one.
 *   - the daemon's loop receives wants, and hands starts to one long-lived thread (a start
 *     takes 0.1-0.5 s, the loop must not wait; and the thread lives as long as the pool,
 *     so the snapshots it started do too). The thread sends each outcome back through a
 *     pipe; only the loop's thread touches the entries, and it is the thread that forks
 *     workers, so a worker never sees an entry half made.
 *   - a snapshot serves one program (so that the object is the plain build's, DWARF and
 *     all), so one is started when a program is built a second time with the same
 *     flags: an edit-compile loop gets it from its third build on, and a tree built once
 *     starts none.
 *   - a snapshot that no longer holds (its process died, the header or clang changed on
 *     disk) is stopped when a want for its key comes, and started again; a refusal
 *     (flags or a header the trick cannot serve) is remembered, with the files' identity,
 *     so it is tried again only when they change.
 *
 * The object, messages and dependency file are clang's either way (clangsnap's promise);
 * the reply's mode says which way it went. At most VMSLIM_CLANGSNAP_MAX (default 2)
 * snapshots run (a full vmlinux.h's takes ~300 MB); the least recently used goes. */
#include "serve/snap.h"
#include "serve/internal.h"
#include "serve/loop.h"
#include "clangsnap/clangsnap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SNAP_MAX_DEFAULT 2
#define WANT_MAX (64 * 1024)

/* What a snapshot is for: the build directory, clang, the header, the program (a snapshot
 * serves one: then the object is the plain build's byte for byte, see clangsnap.h), the
 * dependency kind and the flags, as one NUL-separated string (also the want datagram's
 * body). */
struct snap_key {
	char *cwd, *clang, *header, *source;
	int deps;
	struct vms_argv flags;
	struct vms_buf bytes;
};

struct snap_entry {
	struct snap_key k;
	struct vms_clangsnap *s;	/* running, or NULL */
	char *dir;			/* its template directory (removed with it) */
	int seen;			/* wanted once: the next want starts it */
	int starting;
	char *why;			/* a refusal (s NULL, not starting) */
	char *ids;			/* clang's and the header's identity when it was refused */
	double last_used;
	struct snap_entry *next;
};

/* A start, from the loop to the thread and back. */
struct snap_start {
	struct snap_key k;
	char *dir;
	struct vms_clangsnap *s;
	int rc;
	char *why;
	double ms;
	struct snap_start *next;
};

struct snap_pool {
	struct server *srv;
	const char *const *env_names;
	char *dir, *want_path;		/* <the daemon's scratch directory>/snap: swept with
					 * it when a killed daemon could not remove it */
	int want_fd;
	unsigned serial;		/* names the template directories */
	int done[2];			/* thread -> loop: struct snap_start pointers */
	pthread_t th;
	int th_running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct snap_start *queue;	/* under mu */
	int stopping;			/* under mu */
	struct snap_entry *entries;	/* the loop's thread only */
	int max;
	struct vms_build_via via;
	uint64_t wants, served, starts, refusals, restarts, evictions;
};

/* ---- keys ------------------------------------------------------------------------- */

static void key_pack(struct snap_key *k)
{
	struct vms_buf *b = &k->bytes;
	b->len = 0;
	char d = (char)('0' + k->deps);
	vms_buf_append(b, k->cwd, strlen(k->cwd) + 1);
	vms_buf_append(b, k->clang, strlen(k->clang) + 1);
	vms_buf_append(b, k->header, strlen(k->header) + 1);
	vms_buf_append(b, k->source, strlen(k->source) + 1);
	vms_buf_append(b, &d, 1);
	vms_buf_append(b, "", 1);
	for (size_t i = 0; i < k->flags.n; i++)
		vms_buf_append(b, k->flags.v[i], strlen(k->flags.v[i]) + 1);
}

/* The datagram's body back into a key; -1 when it is not one. */
static int key_unpack(const char *p, size_t n, struct snap_key *k)
{
	memset(k, 0, sizeof(*k));
	if (!n || p[n - 1])
		return -1;
	const char *end = p + n;
	const char *f[5];
	for (int i = 0; i < 5; i++) {
		if (p >= end)
			return -1;
		f[i] = p;
		p += strlen(p) + 1;
	}
	if (strlen(f[4]) != 1 || f[4][0] < '0' || f[4][0] > '2' || f[0][0] != '/' ||
	    f[1][0] != '/' || f[2][0] != '/' || !f[3][0])
		return -1;
	k->cwd = vms_xstrdup(f[0]);
	k->clang = vms_xstrdup(f[1]);
	k->header = vms_xstrdup(f[2]);
	k->source = vms_xstrdup(f[3]);
	k->deps = f[4][0] - '0';
	for (; p < end; p += strlen(p) + 1)
		vms_argv_push(&k->flags, p);
	key_pack(k);
	return 0;
}

static void key_free(struct snap_key *k)
{
	free(k->cwd), free(k->clang), free(k->header), free(k->source);
	vms_argv_free(&k->flags);
	vms_buf_free(&k->bytes);
	memset(k, 0, sizeof(*k));
}

static int key_same(const struct snap_key *a, const struct snap_key *b)
{
	return a->bytes.len == b->bytes.len && !memcmp(a->bytes.data, b->bytes.data, a->bytes.len);
}

static void key_copy(struct snap_key *to, const struct snap_key *from)
{
	memset(to, 0, sizeof(*to));
	to->cwd = vms_xstrdup(from->cwd);
	to->clang = vms_xstrdup(from->clang);
	to->header = vms_xstrdup(from->header);
	to->source = vms_xstrdup(from->source);
	to->deps = from->deps;
	for (size_t i = 0; i < from->flags.n; i++)
		vms_argv_push(&to->flags, from->flags.v[i]);
	key_pack(to);
}

/* What makes a refusal worth trying again: clang's and the header's identity. */
static char *key_ids(const struct snap_key *k)
{
	struct stat a, b;
	if (stat(k->clang, &a) < 0 || stat(k->header, &b) < 0)
		return vms_xstrdup("");
	return vms_xasprintf("%lu:%lu:%lld:%lld.%ld:%lld.%ld/%lu:%lu:%lld:%lld.%ld:%lld.%ld",
			     (unsigned long)a.st_dev, (unsigned long)a.st_ino, (long long)a.st_size,
			     (long long)a.st_mtim.tv_sec, a.st_mtim.tv_nsec,
			     (long long)a.st_ctim.tv_sec, a.st_ctim.tv_nsec,
			     (unsigned long)b.st_dev, (unsigned long)b.st_ino, (long long)b.st_size,
			     (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec,
			     (long long)b.st_ctim.tv_sec, b.st_ctim.tv_nsec);
}

/* ---- the thread that starts snapshots --------------------------------------------- */

/* A snapshot's template directory goes with it (clangsnap removes only its own files
 * from a directory it was given). */
static void snapshot_stop(struct vms_clangsnap *s, const char *dir)
{
	vms_clangsnap_stop(s);
	if (dir)
		vms_remove_tree(dir);
}

static void start_free(struct snap_start *st)
{
	snapshot_stop(st->s, st->dir);
	key_free(&st->k);
	free(st->why), free(st->dir);
	free(st);
}

static void *starter(void *arg)
{
	struct snap_pool *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->queue && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		struct snap_start *st = p->stopping ? NULL : p->queue;
		if (st)
			p->queue = st->next;
		pthread_mutex_unlock(&p->mu);
		if (!st)
			break;
		struct vms_clangsnap_opts o = {
			.clang = st->k.clang, .flags = (const char *const *)st->k.flags.v,
			.header = st->k.header, .cwd = st->k.cwd, .deps = st->k.deps,
			.source = st->k.source, .work_dir = st->dir,
		};
		struct vms_diags d = { 0 };
		double t0 = vms_now_ms();
		st->rc = vms_clangsnap_start(&o, &st->s, &d);
		st->ms = vms_now_ms() - t0;
		if (st->rc)
			st->why = vms_xstrdup(d.n ? d.v[0].msg : strerror(-st->rc));
		vms_diags_free(&d);
		/* one pointer: a pipe write of 8 bytes is atomic */
		if (vms_write_all(p->done[1], &st, sizeof(st)) < 0)
			start_free(st);
	}
	return NULL;
}

/* ---- entries (the loop's thread) -------------------------------------------------- */

static void entry_free(struct snap_entry *e)
{
	snapshot_stop(e->s, e->dir);
	key_free(&e->k);
	free(e->why), free(e->ids), free(e->dir);
	free(e);
}

static struct snap_entry *entry_find(struct snap_pool *p, const struct snap_key *k)
{
	for (struct snap_entry *e = p->entries; e; e = e->next)
		if (key_same(&e->k, k))
			return e;
	return NULL;
}

static void entry_remove(struct snap_pool *p, struct snap_entry *e)
{
	for (struct snap_entry **pp = &p->entries; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	entry_free(e);
}

/* Does a running snapshot still serve its key? */
static int entry_holds(struct snap_entry *e, const char **why)
{
	if (!vms_clangsnap_alive(e->s)) {
		*why = "its process ended";
		return 0;
	}
	return vms_clangsnap_matches(e->s, e->k.clang, (const char *const *)e->k.flags.v,
				     e->k.header, NULL, e->k.cwd, why);
}

/* Keeps at most p->max running: the least recently used goes. */
static void evict(struct snap_pool *p)
{
	for (;;) {
		int n = 0;
		struct snap_entry *old = NULL;
		for (struct snap_entry *e = p->entries; e; e = e->next)
			if (e->s || e->starting) {
				n++;
				if (e->s && (!old || e->last_used < old->last_used))
					old = e;
			}
		if (n <= p->max || !old)
			return;
		server_log(p->srv, "clangsnap: stopping the least recently used snapshot (%s)",
			   old->k.header);
		p->evictions++;
		entry_remove(p, old);
	}
}

/* A full pool whose least recently used snapshot served a build in the last
 * SNAP_BUSY_MS: starting another would only evict one in use (a tree of programs, each
 * built again, would churn through starts). */
#define SNAP_BUSY_MS (30 * 1000.0)
static int pool_busy(const struct snap_pool *p)
{
	int n = 0;
	double oldest = -1;
	for (const struct snap_entry *e = p->entries; e; e = e->next)
		if (e->s || e->starting) {
			n++;
			if (oldest < 0 || e->last_used < oldest)
				oldest = e->last_used;
		}
	return n >= p->max && vms_now_ms() - oldest < SNAP_BUSY_MS;
}

static void queue_start(struct snap_pool *p, const struct snap_key *k)
{
	struct snap_entry *e = vms_xcalloc(1, sizeof(*e));
	key_copy(&e->k, k);
	e->starting = 1;
	e->last_used = vms_now_ms();
	e->next = p->entries;
	p->entries = e;
	struct snap_start *st = vms_xcalloc(1, sizeof(*st));
	key_copy(&st->k, k);
	st->dir = vms_xasprintf("%s/%u", p->dir, ++p->serial);
	if (mkdir(st->dir, 0700) < 0) {
		free(st->dir);
		st->dir = NULL; /* a temporary directory of clangsnap's own */
	}
	pthread_mutex_lock(&p->mu);
	struct snap_start **tail = &p->queue;
	while (*tail)
		tail = &(*tail)->next;
	*tail = st;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
	p->starts++;
	evict(p);
}

#define SEEN_MAX 256

/* Remembers a first want; the oldest memory goes past SEEN_MAX. */
static void remember(struct snap_pool *p, const struct snap_key *k)
{
	struct snap_entry *e = vms_xcalloc(1, sizeof(*e));
	key_copy(&e->k, k);
	e->seen = 1;
	e->next = p->entries;
	p->entries = e;
	int n = 0;
	struct snap_entry *last = NULL;
	for (struct snap_entry *x = p->entries; x; x = x->next)
		if (x->seen)
			n++, last = x;
	if (n > SEEN_MAX)
		entry_remove(p, last);
}

static void on_want(struct snap_pool *p, const struct snap_key *k)
{
	p->wants++;
	struct snap_entry *e = entry_find(p, k);
	if (!e) {
		remember(p, k);
		return;
	}
	if (e->seen) {
		if (pool_busy(p))
			return; /* still remembered: a later want may find room */
		entry_remove(p, e);
		e = NULL;
	}
	if (e && e->starting)
		return;
	const char *why = NULL;
	if (e && e->s && entry_holds(e, &why))
		return; /* the worker was forked before it ran */
	if (e && e->s) {
		server_log(p->srv, "clangsnap: restarting the snapshot for %s: %s", k->header, why);
		p->restarts++;
		entry_remove(p, e);
		e = NULL;
	}
	if (e) {
		/* refused: again only when clang or the header changed */
		char *ids = key_ids(k);
		int same = !strcmp(ids, e->ids);
		free(ids);
		if (same)
			return;
		entry_remove(p, e);
	}
	for (size_t i = 0; p->env_names[i]; i++)
		if (getenv(p->env_names[i]))
			return; /* the daemon's own environment would reach the snapshot's clang */
	queue_start(p, k);
}

static void on_used(struct snap_pool *p, const struct snap_key *k)
{
	struct snap_entry *e = entry_find(p, k);
	p->served++; /* the worker's "used": a build it answered */
	if (e)
		e->last_used = vms_now_ms();
}

static void want_readable(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	struct snap_pool *p = data;
	char *buf = vms_xmalloc(WANT_MAX);
	for (;;) {
		ssize_t n = recv(fd, buf, WANT_MAX, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 1)
			break;
		struct snap_key k;
		if (key_unpack(buf + 1, (size_t)n - 1, &k) < 0)
			continue;
		if (buf[0] == 'W')
			on_want(p, &k);
		else if (buf[0] == 'U')
			on_used(p, &k);
		key_free(&k);
	}
	free(buf);
}

static void done_readable(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	struct snap_pool *p = data;
	struct snap_start *st;
	while (read(fd, &st, sizeof(st)) == (ssize_t)sizeof(st)) {
		struct snap_entry *e = entry_find(p, &st->k);
		if (!e || !e->starting) { /* evicted while it started */
			start_free(st);
			continue;
		}
		if (st->rc == 0) {
			e->starting = 0;
			e->s = st->s;
			e->dir = st->dir;
			st->s = NULL;
			st->dir = NULL;
			server_log(p->srv, "clangsnap: a snapshot for %s in %.0f ms (pid %d)",
				   st->k.header, st->ms, vms_clangsnap_pid(e->s));
		} else {
			e->starting = 0;
			e->why = st->why ? st->why : vms_xstrdup("it could not start");
			st->why = NULL;
			e->ids = key_ids(&st->k);
			p->refusals++;
			server_log(p->srv, "clangsnap: no snapshot for %s: %s", st->k.header, e->why);
		}
		start_free(st);
	}
}

/* ---- the workers' side ------------------------------------------------------------ */

static void notify(const struct snap_pool *p, char kind, const struct snap_key *k)
{
	if (k->bytes.len + 1 > WANT_MAX)
		return;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->want_path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	struct iovec iov[2] = { { &kind, 1 }, { k->bytes.data, k->bytes.len } };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = iov,
			     .msg_iovlen = 2 };
	sendmsg(fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

static int not_served(struct vms_build_result *r, const char *fmt, const char *arg)
{
	free(r->mode);
	r->mode = vms_xasprintf(fmt, arg);
	return 2;
}

static int snap_via_compile(void *ctx, const struct vms_build_via_req *q,
			    struct vms_build_result *r, struct vms_diags *d)
{
	struct snap_pool *p = ctx;
	for (size_t i = 0; p->env_names[i]; i++)
		if (getenv(p->env_names[i]))
			return not_served(r, "clang snapshot: not with %s set", p->env_names[i]);
	char *cwd = getcwd(NULL, 0);
	if (!cwd)
		return not_served(r, "clang snapshot: %s", "no current directory");
	struct snap_key k = { .cwd = cwd, .clang = vms_xstrdup(q->clang),
			      .header = vms_xstrdup(q->header), .source = vms_xstrdup(q->source),
			      .deps = !q->deps || q->deps->system ? VMS_CLANGSNAP_DEPS_MD
								  : VMS_CLANGSNAP_DEPS_MMD };
	for (size_t i = 0; q->flags && q->flags[i]; i++)
		vms_argv_push(&k.flags, q->flags[i]);
	key_pack(&k);
	int rc = 2;
	const char *why = NULL;
	struct snap_entry *e = entry_find(p, &k);
	if (!e || e->seen) {
		notify(p, 'W', &k);
		not_served(r, "clang snapshot: %s", e ? "none for this program yet (starting one)"
						    : "none for this program yet");
	} else if (e->starting) {
		not_served(r, "clang snapshot: %s", "still starting");
	} else if (!e->s) {
		notify(p, 'W', &k); /* tried again only if clang or the header changed */
		not_served(r, "clang snapshot does not apply: %s", e->why);
	} else if (!vms_clangsnap_matches(e->s, k.clang, (const char *const *)k.flags.v, k.header,
					  NULL, k.cwd, &why)) {
		notify(p, 'W', &k);
		not_served(r, "clang snapshot: %s (starting another)", why);
	} else {
		rc = vms_clangsnap_build(e->s, q->source, q->output, q->deps, r, d);
		if (rc == 0 || rc == 1)
			notify(p, 'U', &k);
		else if (rc == 2 && vms_clangsnap_pid(e->s) > 0 && r->mode &&
			 strstr(r->mode, "snapshot process is gone"))
			notify(p, 'W', &k);
	}
	key_free(&k);
	return rc;
}

/* ---- the pool ---------------------------------------------------------------------- */

struct snap_pool *snap_pool_new(struct server *s, const char *const *env_names)
{
	if (getenv("VMSLIM_NO_CLANGSNAP"))
		return NULL;
	struct snap_pool *p = vms_xcalloc(1, sizeof(*p));
	p->srv = s;
	p->env_names = env_names;
	p->want_fd = p->done[0] = p->done[1] = -1;
	const char *m = getenv("VMSLIM_CLANGSNAP_MAX");
	p->max = m && atoi(m) > 0 ? atoi(m) : SNAP_MAX_DEFAULT;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->via = (struct vms_build_via){ .compile = snap_via_compile, .ctx = p };
	p->dir = vms_xasprintf("%s/snap", backend_scratch(s->be));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *fail = NULL;
	if (mkdir(p->dir, 0700) < 0 && errno != EEXIST) {
		fail = "no private directory";
	} else {
		p->want_path = vms_xasprintf("%s/want.sock", p->dir);
		if (strlen(p->want_path) >= sizeof(sa.sun_path))
			fail = "the socket path is too long";
	}
	if (!fail) {
		memcpy(sa.sun_path, p->want_path, strlen(p->want_path) + 1);
		p->want_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (p->want_fd < 0 || bind(p->want_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			fail = "cannot bind its socket";
	}
	if (!fail && pipe2(p->done, O_CLOEXEC) < 0)
		fail = "no pipe";
	if (!fail) {
		fcntl(p->done[0], F_SETFL, O_NONBLOCK);
		if (loop_add_fd(s->lp, p->want_fd, LOOP_READ, want_readable, p) < 0 ||
		    loop_add_fd(s->lp, p->done[0], LOOP_READ, done_readable, p) < 0)
			fail = "cannot watch its sockets";
	}
	if (!fail) {
		/* the thread takes no signals: the daemon's handlers run on its own thread */
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_BLOCK, &all, &old);
		p->th_running = pthread_create(&p->th, NULL, starter, p) == 0;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (!p->th_running)
			fail = "no thread";
	}
	if (fail) {
		server_log(s, "clangsnap: off: %s", fail);
		snap_pool_free(p);
		return NULL;
	}
	return p;
}

void snap_pool_free(struct snap_pool *p)
{
	if (!p)
		return;
	/* the snapshots first: a snapshot dies with the thread that started it */
	while (p->entries) {
		struct snap_entry *e = p->entries;
		p->entries = e->next;
		entry_free(e);
	}
	if (p->th_running) {
		pthread_mutex_lock(&p->mu);
		p->stopping = 1;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	if (p->done[0] >= 0) {
		/* starts that finished after the loop's last look */
		struct snap_start *st;
		fcntl(p->done[0], F_SETFL, O_NONBLOCK);
		while (read(p->done[0], &st, sizeof(st)) == (ssize_t)sizeof(st))
			start_free(st);
		loop_del_fd(p->srv->lp, p->done[0]);
		close(p->done[0]);
		close(p->done[1]);
	}
	while (p->queue) {
		struct snap_start *st = p->queue;
		p->queue = st->next;
		start_free(st);
	}
	if (p->want_fd >= 0) {
		loop_del_fd(p->srv->lp, p->want_fd);
		close(p->want_fd);
	}
	if (p->dir)
		vms_remove_tree(p->dir);
	free(p->dir), free(p->want_path);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p);
}

const struct vms_build_via *snap_pool_via(struct snap_pool *p)
{
	return p ? &p->via : NULL;
}

void snap_pool_stats_json(struct snap_pool *p, struct json_object *o)
{
	if (!p)
		return;
	struct json_object *j = json_object_new_object();
	int running = 0;
	for (struct snap_entry *e = p->entries; e; e = e->next)
		running += e->s && vms_clangsnap_pid(e->s) > 0;
	json_object_object_add(j, "running", json_object_new_int(running));
	json_object_object_add(j, "served", json_object_new_uint64(p->served));
	json_object_object_add(j, "wants", json_object_new_uint64(p->wants));
	json_object_object_add(j, "starts", json_object_new_uint64(p->starts));
	json_object_object_add(j, "refusals", json_object_new_uint64(p->refusals));
	json_object_object_add(j, "restarts", json_object_new_uint64(p->restarts));
	json_object_object_add(j, "evictions", json_object_new_uint64(p->evictions));
	json_object_object_add(o, "clangsnap", j);
}
