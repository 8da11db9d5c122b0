/* Workers: every job that runs a compiler runs in a process of its own, forked from the
 * daemon (or the language server), so that per-request limits are plain kernel limits
 * and nothing a request does can reach the parent:
 *  - RLIMIT_CPU and RLIMIT_AS are set in the worker and inherited by the clang it spawns;
 *  - the worker leads a process group, so the wall-time limit kills clang with it;
 *  - the compilers it runs on a request's source are confined by the operating system
 *    (sandbox.c, common/sandbox.h); the worker itself runs only vmslim's code;
 *  - the result comes back over a pipe, encoded; a worker that dies mid-write leaves a
 *    short message that fails to decode, and its exit status says why. */
#include "serve/internal.h"
#include "serve/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* ---- workers -------------------------------------------------------------------- */

static void child_setup(const struct limits *l)
{
	setpgid(0, 0);
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	int sigs[] = { SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP, SIGXCPU };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &dfl, NULL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1); /* the language server's stdout is its protocol channel */
		if (null > 2)
			close(null);
	}
	struct rlimit core = { 0, 0 };
	setrlimit(RLIMIT_CORE, &core);
	if (l->cpu_s > 0) {
		struct rlimit cpu = { (rlim_t)l->cpu_s, (rlim_t)l->cpu_s + 1 };
		setrlimit(RLIMIT_CPU, &cpu);
	}
#ifndef UNDER_ASAN
	if (l->mem_bytes) {
		struct rlimit as = { (rlim_t)l->mem_bytes, (rlim_t)l->mem_bytes };
		setrlimit(RLIMIT_AS, &as);
	}
#endif
	struct rlimit fsize = { 512ull << 20, 512ull << 20 };
	setrlimit(RLIMIT_FSIZE, &fsize);
}

int worker_spawn(void (*fn)(void *arg, struct vms_result *r), void *arg,
		 const struct limits *l, pid_t *pid_out, int *fd_out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return -e;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		close(p[0]);
		if (p[1] != 3) {
			dup3(p[1], 3, O_CLOEXEC);
			close(p[1]);
		}
		/* nothing of the parent's (sockets, the checker's pipes) stays open here */
		syscall(SYS_close_range, 4U, ~0U, 0U);
		child_setup(l);
		struct vms_result r = { 0 };
		fn(arg, &r);
		struct vms_buf b = { 0 };
		result_encode(&r, &b);
		vms_write_all(3, b.data, b.len);
		_exit(0);
	}
	close(p[1]);
	/* best effort from this side too: the group exists before anyone could signal it */
	setpgid(pid, pid);
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	*pid_out = pid;
	*fd_out = p[0];
	return 0;
}

void worker_kill(pid_t pid)
{
	if (pid > 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
	}
}

void worker_collect(pid_t pid, const void *data, size_t len, int timed_out,
		    struct vms_result *r)
{
	/* clang may outlive a worker killed between its fork and its wait: kill the group
	 * while the worker's zombie still pins the group id, then reap it. */
	siginfo_t info;
	while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0 && errno == EINTR)
		;
	kill(-pid, SIGKILL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	memset(r, 0, sizeof(*r));
	if (!timed_out && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    result_decode(data, len, r) == 0)
		return;
	if (timed_out) {
		r->status = VMS_ST_TIMEOUT;
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0,
			     "the request took longer than its time limit and was stopped");
	} else if (WIFSIGNALED(st) && (WTERMSIG(st) == SIGXCPU || WTERMSIG(st) == SIGKILL)) {
		r->status = VMS_ST_LIMIT;
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0,
			     "the request went over its CPU or memory limit");
	} else if (WIFSIGNALED(st)) {
		r->status = VMS_ST_CRASHED;
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0, "the worker died (signal %d)",
			     WTERMSIG(st));
	} else {
		r->status = VMS_ST_INTERNAL;
		vms_diag_add(&r->diags, VMS_ERROR, NULL, 0, 0,
			     "the worker failed (exit status %d)", WEXITSTATUS(st));
	}
}

/* ---- workers on a loop ------------------------------------------------------------ */

static void watch_unregister(struct worker_watch *w)
{
	loop_del_timer(w->lp, w->deadline);
	w->deadline = 0;
	loop_del_fd(w->lp, w->fd);
	close(w->fd);
	w->fd = -1;
}

static void watch_readable(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	struct worker_watch *w = data;
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			vms_buf_append(&w->data, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		break; /* EOF or error: the worker is gone */
	}
	watch_unregister(w);
	struct vms_result r;
	worker_collect(w->pid, w->data.data, w->data.len, w->timed_out, &r);
	vms_buf_free(&w->data);
	w->done(w, &r); /* last: it may free w */
	vms_result_free(&r);
}

/* The wall-time limit: the group is killed, and the pipe then reports EOF. */
static double watch_deadline(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	struct worker_watch *w = data;
	w->deadline = 0;
	worker_watch_kill(w);
	return LOOP_TIMER_DONE;
}

static void reap_unwanted(pid_t pid)
{
	worker_kill(pid);
	struct vms_result r;
	worker_collect(pid, NULL, 0, 1, &r);
	vms_result_free(&r);
}

int worker_watch_start(struct worker_watch *w, struct loop *lp,
		       void (*fn)(void *arg, struct vms_result *r), void *arg,
		       const struct limits *l,
		       void (*done)(struct worker_watch *w, struct vms_result *r))
{
	int e = worker_spawn(fn, arg, l, &w->pid, &w->fd);
	if (e == 0 && (e = loop_add_fd(lp, w->fd, LOOP_READ, watch_readable, w)) < 0) {
		reap_unwanted(w->pid);
		close(w->fd);
	}
	if (e < 0) {
		w->fd = -1;
		return e;
	}
	w->lp = lp;
	w->done = done;
	w->timed_out = 0;
	w->data.len = 0;
	w->deadline = loop_add_timer(lp, vms_now_ms() + l->wall_ms, watch_deadline, w);
	return 0;
}

void worker_watch_kill(struct worker_watch *w)
{
	if (w->fd >= 0 && !w->timed_out) {
		worker_kill(w->pid);
		w->timed_out = 1;
	}
}

void worker_watch_stop(struct worker_watch *w)
{
	if (w->fd >= 0) {
		reap_unwanted(w->pid);
		watch_unregister(w);
	}
	vms_buf_free(&w->data);
}
