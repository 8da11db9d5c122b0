/* The daemon's wiring: set-up, signals, shutdown, and the loop everything sits on.
 *
 * Why this shape. One loop (loop.c, epoll) owns every socket, the cache and all
 * bookkeeping, so none of that needs a lock and a slow client can only slow itself:
 * connections and framing are conn.c, the protocol protocol.c, and the work, which
 * leaves the loop for a checker thread or a worker process, jobs.c. Cache writes are
 * whole-file renames, which is all a clean SIGTERM needs to leave no half-written entry:
 * the loop stops taking requests, lets running jobs finish for a short grace, kills the
 * rest, flushes replies and removes its socket. */
#include "serve/internal.h"
#include "serve/loop.h"
#include "serve/trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SHUTDOWN_GRACE_MS 2000
#define FLUSH_GRACE_MS 1000
#define SHUTDOWN_TICK_MS 50

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

void server_log(struct server *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(s->o->log, s->o->log_ctx, fmt, ap);
	va_end(ap);
}

static void close_listener(struct server *s)
{
	if (s->lfd < 0)
		return;
	if (s->lp)
		loop_del_fd(s->lp, s->lfd);
	close(s->lfd);
	s->lfd = -1;
	struct stat st;
	if (lstat(s->o->socket_path, &st) == 0 && st.st_ino == s->sock_ino)
		unlink(s->o->socket_path);
}

/* While shutting down, the loop wakes at least this often to see whether it is done. */
static double shutdown_tick(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id, (void)data;
	return SHUTDOWN_TICK_MS;
}

void server_begin_shutdown(struct server *s, const char *why)
{
	if (s->shutting_down)
		return;
	s->shutting_down = 1;
	s->shutdown_at = vms_now_ms();
	server_log(s, "shutting down (%s)", why);
	close_listener(s);
	loop_add_timer(s->lp, s->shutdown_at + SHUTDOWN_TICK_MS, shutdown_tick, s);
}

/* Running jobs get SHUTDOWN_GRACE_MS to finish, then are killed (queued ones answered);
 * replies get FLUSH_GRACE_MS more to reach their clients. */
static void shutdown_progress(struct server *s)
{
	double t = vms_now_ms() - s->shutdown_at;
	if ((s->running || s->queued || s->checking) && t > SHUTDOWN_GRACE_MS)
		jobs_stop(s);
	int unflushed = 0;
	for (struct conn *c = s->conns; c; c = c->next)
		unflushed |= c->out_off < c->out.len;
	/* remote lookups and writes in flight end within their timeout, well inside the grace */
	if (!s->running && !s->queued && (!s->checking || t > SHUTDOWN_GRACE_MS) &&
	    (!trusted_running(s) || t > SHUTDOWN_GRACE_MS) &&
	    (!remote_tier_pending(s) || t > SHUTDOWN_GRACE_MS) &&
	    (!unflushed || t > SHUTDOWN_GRACE_MS + FLUSH_GRACE_MS))
		loop_stop(s->lp);
}

static void before_sleep(struct loop *lp, void *data)
{
	(void)lp;
	struct server *s = data;
	conn_free_dead(s); /* the last pass's events are all delivered */
	if (s->shutting_down)
		shutdown_progress(s);
}

static void signal_event(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	unsigned char b[16];
	ssize_t k = read(fd, b, sizeof(b));
	if (k > 0)
		server_begin_shutdown(data, b[0] == SIGINT ? "SIGINT"
					    : b[0] == SIGHUP ? "SIGHUP" : "SIGTERM");
}

/* ---- set-up and tear-down ---------------------------------------------------------- */

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

static const int caught[] = { SIGTERM, SIGINT, SIGHUP, SIGPIPE };
static struct sigaction old_sigs[4];
static int have_sigs;

static void take_signals(struct server *s)
{
	sig_pipe_w = s->sig[1];
	struct sigaction sa = { .sa_handler = on_signal }, ign = { .sa_handler = SIG_IGN };
	sigemptyset(&sa.sa_mask);
	for (int i = 0; i < 4; i++)
		sigaction(caught[i], caught[i] == SIGPIPE ? &ign : &sa, &old_sigs[i]);
	have_sigs = 1;
}

static void give_back_signals(void)
{
	for (int i = 0; have_sigs && i < 4; i++)
		sigaction(caught[i], &old_sigs[i], NULL);
	have_sigs = 0;
	sig_pipe_w = -1;
}

/* Which OS confinement untrusted compiles get: what was asked for, as far as this kernel
 * (and this process's privileges) allow; the probe runs in a child, so it is the answer
 * for the workers. */
static int choose_sandbox(struct server *s, struct vms_diags *d)
{
	struct vms_serve_opts *o = &s->opts;
	unsigned have = o->sandbox ? vms_sandbox_probe() : 0;
	unsigned mech = o->sandbox & have;
	char want[96], got[96];
	vms_sandbox_describe(o->sandbox, want, sizeof(want));
	vms_sandbox_describe(mech, got, sizeof(got));
	if (o->sandbox_exact && mech != o->sandbox) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "sandbox: %s was asked for, but %s%s", want,
			     mech ? "only this is available here: " : "none of it is available here",
			     mech ? got : "");
		return -ENOTSUP;
	}
	o->backend.sandbox_mech = mech;
	s->sandbox = mech;
	if (o->sandbox && !mech) {
		o->backend.refuse_unconfined = 1;
		server_log(s, "sandbox: neither Landlock nor a mount namespace is available here: "
			      "build requests (and checks that need clang) are refused; start with "
			      "--no-sandbox to run them without OS confinement");
	} else if (!o->sandbox) {
		server_log(s, "sandbox: off (--no-sandbox): compilers run without OS confinement");
	} else {
		server_log(s, "sandbox: %s around every untrusted compile", got);
	}
	return 0;
}

/* Everything the loop needs, in the order that lets a failure say what failed:
 * the backend, the include confinement, the cache, the sandbox, the socket, the loop,
 * the signals and the checker thread. 0 or -errno (diagnostic in d). */
static int server_open(struct server *s, struct vms_diags *d)
{
	const struct vms_serve_opts *o = s->o;
	int swept = scratch_sweep();
	if (swept > 0)
		server_log(s, "swept %d scratch directories left by stopped daemons", swept);
	int err = choose_sandbox(s, d);
	if (err < 0)
		return err;
	err = backend_new(&o->backend, &s->be, d);
	if (err < 0)
		return err;
	size_t nsys;
	const char *const *sys = backend_sys_dirs(s->be, &nsys);
	s->conf = confine_new(o->backend.inc_dirs, o->backend.n_inc, sys, nsys,
			      backend_vmlinux(s->be));
	struct vms_cache_opts co = { .dir = o->no_disk_cache ? NULL : s->cache_dir,
				     .max_disk_bytes = o->cache_max_bytes,
				     .max_mem_bytes = o->mem_cache_bytes };
	err = vms_cache_open(&co, &s->cache);
	if (err < 0) {
		vms_diag_add(d, VMS_ERROR, s->cache_dir, 0, 0, "cannot open the cache: %s",
			     strerror(-err));
		return err;
	}
	err = listen_on(s, d);
	if (err < 0)
		return err;
	s->lp = loop_new();
	if (!s->lp || pipe2(s->sig, O_CLOEXEC | O_NONBLOCK) < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "epoll: %s", strerror(errno));
		return -errno;
	}
	take_signals(s);
	if ((err = remote_tier_open(s, d)) < 0)
		return err;
	trusted_open(s);
	err = checker_start(s);
	if (err < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot start the checker thread: %s",
			     strerror(-err));
		return err;
	}
	if ((err = loop_add_fd(s->lp, s->lfd, LOOP_READ, conn_listen_event, s)) < 0 ||
	    (err = loop_add_fd(s->lp, s->sig[0], LOOP_READ, signal_event, s)) < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "epoll: %s", strerror(-err));
		return err;
	}
	loop_add_timer(s->lp, vms_now_ms(), conn_sweep, s);
	loop_set_before_sleep(s->lp, before_sleep, s);
	return 0;
}

/* Undoes server_open from wherever it stopped; jobs still running are killed, replies
 * still queued get one last try. */
static void server_close(struct server *s)
{
	remote_tier_close(s); /* first: its lookups' jobs are freed below */
	trusted_close(s);
	if (s->ck.started || s->ck.efd[0] >= 0)
		checker_stop(s);
	jobs_free_all(s);
	if (s->be)
		backend_sweep(s->be);
	while (s->conns) {
		struct conn *c = s->conns;
		if (conn_flush(s, c) == 0)
			conn_close(s, c);
	}
	conn_free_dead(s);
	give_back_signals();
	close_listener(s);
	if (s->sig[0] >= 0) {
		close(s->sig[0]);
		close(s->sig[1]);
	}
	loop_free(s->lp);
	vms_cache_close(s->cache);
	confine_free(s->conf);
	backend_free(s->be);
}

/* The pipe of the client that started this daemon (serve/autostart.c), waiting to hear
 * that it listens: taken out of the environment (no worker or clang inherits it), or -1. */
static int take_ready_fd(void)
{
	const char *e = getenv("VMSLIM_READY_FD");
	int fd = e && *e ? atoi(e) : -1;
	unsetenv("VMSLIM_READY_FD");
	if (fd < 3 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -1;
	return fd;
}

int vms_serve_run(const struct vms_serve_opts *o, struct vms_diags *d)
{
	int ready_fd = take_ready_fd();
	struct server *s = vms_xcalloc(1, sizeof(*s));
	s->lfd = s->sig[0] = s->sig[1] = -1;
	s->ck.efd[0] = s->ck.efd[1] = -1;
	s->started = vms_now_ms();
	s->lim.cpu_s = o->cpu_limit_s > 0 ? o->cpu_limit_s : 10;
	s->lim.mem_bytes = o->mem_limit_bytes ? o->mem_limit_bytes : 2ull << 30;
	s->lim.wall_ms = o->time_limit_ms > 0 ? o->time_limit_ms : 20000;
	/* requests come from strangers; the PCHs go to the cache unless told otherwise */
	s->cache_dir = o->cache_dir ? vms_xstrdup(o->cache_dir) : vms_cache_dir_default();
	s->opts = *o;
	s->opts.backend.untrusted = 1;
	if (!s->opts.backend.cache_dir)
		s->opts.backend.cache_dir = s->cache_dir;
	s->o = &s->opts;

	int err = server_open(s, d);
	if (ready_fd >= 0) {
		/* a byte: it may connect now; none (the pipe closed): it need not wait */
		if (err == 0)
			(void)(write(ready_fd, "1", 1) < 0);
		close(ready_fd);
	}
	if (err == 0) {
		char sb[96];
		vms_sandbox_describe(s->sandbox, sb, sizeof(sb));
		server_log(s, "listening on %s (pid %d, cache %s, sandbox %s)", o->socket_path,
			   (int)getpid(), o->no_disk_cache ? "memory" : s->cache_dir,
			   s->opts.backend.refuse_unconfined ? "unavailable: builds refused" : sb);
		err = loop_run(s->lp);
		if (err < 0)
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "epoll_wait: %s", strerror(-err));
	}
	server_close(s);
	if (err == 0)
		server_log(s, "stopped");
	free(s->cache_dir);
	free(s);
	return err;
}
