#include "common.h"
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

double vms_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void close_pipe(int p[2])
{
	if (p[0] >= 0)
		close(p[0]);
	if (p[1] >= 0)
		close(p[1]);
}

struct pipes {
	int in[2], out[2], err[2];
};

static int open_pipes(struct pipes *p)
{
	*p = (struct pipes){ { -1, -1 }, { -1, -1 }, { -1, -1 } };
	if (pipe2(p->in, O_CLOEXEC) < 0 || pipe2(p->out, O_CLOEXEC) < 0 ||
	    pipe2(p->err, O_CLOEXEC) < 0) {
		int e = errno;
		close_pipe(p->in), close_pipe(p->out), close_pipe(p->err);
		return -e;
	}
	return 0;
}

/* After the start: the parent's ends stay open, the child's are closed. */
static void close_child_ends(struct pipes *p)
{
	close(p->in[0]), close(p->out[1]), close(p->err[1]);
}

/* Reads stdout and stderr with poll while feeding stdin, so that a child that writes a lot
 * before reading its input (or the reverse) cannot deadlock against us; kills the child at
 * the deadline, reaps it and fills r. Closes the parent's ends. */
static int collect(pid_t pid, struct pipes *pp, const void *stdin_data, size_t stdin_len,
		   int timeout_ms, struct vms_proc_result *r)
{
	int *in = pp->in, *out = pp->out, *err = pp->err;
	if (!stdin_data || !stdin_len) {
		close(in[1]);
		in[1] = -1;
	} else {
		fcntl(in[1], F_SETFL, O_NONBLOCK);
	}
	struct vms_buf ob = { 0 }, eb = { 0 };
	size_t fed = 0;
	double deadline = timeout_ms > 0 ? vms_now_ms() + timeout_ms : 0;
	int open_out = 1, open_err = 1;
	char chunk[65536];
	void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
	while (open_out || open_err) {
		struct pollfd p[3];
		int np = 0, io = -1, ie = -1, ii = -1;
		if (open_out)
			io = np, p[np++] = (struct pollfd){ .fd = out[0], .events = POLLIN };
		if (open_err)
			ie = np, p[np++] = (struct pollfd){ .fd = err[0], .events = POLLIN };
		if (in[1] >= 0)
			ii = np, p[np++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		int wait = -1;
		if (deadline) {
			double left = deadline - vms_now_ms();
			if (left <= 0) {
				kill(pid, SIGKILL);
				r->timed_out = 1;
				break;
			}
			wait = (int)left + 1;
		}
		int n = poll(p, (nfds_t)np, wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (io >= 0 && p[io].revents) {
			ssize_t k = read(out[0], chunk, sizeof(chunk));
			if (k > 0)
				vms_buf_append(&ob, chunk, (size_t)k);
			else if (k == 0 || errno != EINTR)
				open_out = 0;
		}
		if (ie >= 0 && p[ie].revents) {
			ssize_t k = read(err[0], chunk, sizeof(chunk));
			if (k > 0)
				vms_buf_append(&eb, chunk, (size_t)k);
			else if (k == 0 || errno != EINTR)
				open_err = 0;
		}
		if (ii >= 0 && p[ii].revents) {
			ssize_t k = write(in[1], (const char *)stdin_data + fed, stdin_len - fed);
			if (k > 0)
				fed += (size_t)k;
			if ((k < 0 && errno != EAGAIN && errno != EINTR) || fed == stdin_len) {
				close(in[1]);
				in[1] = -1;
			}
		}
	}
	signal(SIGPIPE, old_pipe);
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]), close(err[0]);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	vms_cleanup_remove_child(pid);
	if (WIFSIGNALED(status)) {
		r->signaled = WTERMSIG(status);
		r->exit_code = 128 + r->signaled;
	} else {
		r->exit_code = WEXITSTATUS(status);
	}
	r->out_len = ob.len;
	r->err_len = eb.len;
	r->out = vms_buf_steal(&ob);
	r->err = vms_buf_steal(&eb);
	return 0;
}

int vms_run(char *const argv[], const void *stdin_data, size_t stdin_len, int timeout_ms,
	    struct vms_proc_result *r)
{
	memset(r, 0, sizeof(*r));
	struct pipes pp;
	int rc = open_pipes(&pp);
	if (rc < 0)
		return rc;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pp.in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pp.out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pp.err[1], 2);
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	sigset_t dfl;
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	vms_cleanup_hold();
	rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	if (rc == 0)
		vms_cleanup_add_child(pid);
	vms_cleanup_release();
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close_child_ends(&pp);
	if (rc != 0) {
		close(pp.in[1]), close(pp.out[0]), close(pp.err[0]);
		return -rc;
	}
	return collect(pid, &pp, stdin_data, stdin_len, timeout_ms, r);
}

/* A message from the child, which has no stdio of its own: "vmslim: what: detail: error". */
static void child_say(const char *what, const char *detail, int e)
{
	struct vms_buf m = { 0 };
	vms_buf_printf(&m, "vmslim: %s: %s%s%s\n", what, detail, e ? ": " : "",
		       e ? strerror(e) : "");
	if (write(2, m.data, m.len) < 0)
		_exit(127);
}

static void child_fd(int from, int to)
{
	if (from == to)
		fcntl(to, F_SETFD, 0);
	else
		dup2(from, to);
}

/* The child of vms_run_sandboxed, from fork to execve: single-threaded whatever the
 * parent was (malloc is still fine: glibc resets its locks in the child). Signals stay
 * blocked (vms_cleanup_hold) until every handler the parent had is back to default, so
 * that none of the parent's handlers runs in here. */
static void __attribute__((noreturn))
sandboxed_child(char *const argv[], const struct vms_sandbox *sb, struct pipes *pp)
{
	child_fd(pp->in[0], 0);
	child_fd(pp->out[1], 1);
	child_fd(pp->err[1], 2);
	/* nothing the parent holds (a daemon's sockets, cache files) reaches the program */
	close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	char *const *envp = environ;
	if (sb) {
		const char *why = NULL;
		int rc = vms_sandbox_enter(sb, &why);
		if (rc < 0) {
			child_say("sandbox", why ? why : "cannot enter", -rc);
			_exit(126);
		}
		if (sb->env)
			envp = sb->env;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(argv[0], argv, envp);
	int e = errno;
	child_say(argv[0], "cannot run", e);
	_exit(127);
}

int vms_run_sandboxed(char *const argv[], const struct vms_sandbox *sb, int timeout_ms,
		      struct vms_proc_result *r)
{
	memset(r, 0, sizeof(*r));
	struct pipes pp;
	int rc = open_pipes(&pp);
	if (rc < 0)
		return rc;
	vms_cleanup_hold();
	pid_t pid = fork();
	if (pid == 0)
		sandboxed_child(argv, sb, &pp);
	int e = errno;
	if (pid > 0)
		vms_cleanup_add_child(pid);
	vms_cleanup_release();
	close_child_ends(&pp);
	if (pid < 0) {
		close(pp.in[1]), close(pp.out[0]), close(pp.err[0]);
		return -e;
	}
	return collect(pid, &pp, NULL, 0, timeout_ms, r);
}

void vms_proc_result_free(struct vms_proc_result *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

const char *vms_bpf_host_arch_define(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return "-D__TARGET_ARCH_x86";
#elif defined(__aarch64__)
	return "-D__TARGET_ARCH_arm64";
#elif defined(__arm__)
	return "-D__TARGET_ARCH_arm";
#elif defined(__s390x__)
	return "-D__TARGET_ARCH_s390";
#elif defined(__powerpc64__)
	return "-D__TARGET_ARCH_powerpc";
#elif defined(__riscv)
	return "-D__TARGET_ARCH_riscv";
#elif defined(__loongarch__)
	return "-D__TARGET_ARCH_loongarch";
#elif defined(__mips__)
	return "-D__TARGET_ARCH_mips";
#else
	return NULL;
#endif
}

/* The program as execvp would find it: a name with a '/' as it is, else the first
 * executable in $PATH. Owned, or NULL. */
char *vms_which(const char *program)
{
	if (strchr(program, '/'))
		return access(program, X_OK) == 0 ? vms_xstrdup(program) : NULL;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *cand = n ? vms_xasprintf("%.*s/%s", (int)n, p, program)
			       : vms_xasprintf("./%s", program);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!end)
			return NULL;
		p = end + 1;
	}
}

char *vms_find_beside_exe(const char *name, int mode)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return NULL;
	exe[n] = 0;
	char *dir = vms_dirname(exe);
	/* beside it (the build tree), then where an install under any prefix puts it
	 * (PREFIX/bin/vmslim, PREFIX/libexec/vmslim/): packages move the prefix */
	const char *const rel[] = { "", "/../libexec/vmslim" };
	char *found = NULL;
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]) && !found; i++) {
		char *p = vms_xasprintf("%s%s/%s", dir, rel[i], name);
		if (access(p, mode) == 0)
			found = p;
		else
			free(p);
	}
	free(dir);
	return found;
}
