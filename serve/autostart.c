/* The client side of the per-user daemon, the way sccache's client finds its server:
 * a socket in a private directory of the user's; when nothing answers there, the daemon
 * is started detached (setsid and a double fork, so it is nobody's child and never a
 * zombie of the build that started it) under a lock file, so that the N compiles of a
 * `make -jN` on a cold machine start one daemon between them, and waited for briefly.
 * Any failure is the caller's cue to do the work itself. */
#include "serve/cc.h"
#include "serve/serve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX (1 << 20)

char *vms_user_dir(char **why)
{
	const char *x = getenv("XDG_RUNTIME_DIR");
	char *dir = x && x[0] == '/' ? vms_xasprintf("%s/vmslim", x)
				     : vms_xasprintf("/tmp/vmslim-%u", (unsigned)geteuid());
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		*why = vms_xasprintf("%s: cannot create: %s", dir, strerror(errno));
		free(dir);
		return NULL;
	}
	struct stat st;
	/* lstat: a symlink planted in /tmp by someone else is not our directory */
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		*why = vms_xasprintf("%s: not a directory", dir);
	} else if (st.st_uid != geteuid()) {
		*why = vms_xasprintf("%s: owned by uid %u, not by this user", dir,
				     (unsigned)st.st_uid);
	} else if (st.st_mode & 077) {
		*why = vms_xasprintf("%s: others may enter it (mode %04o); it must be 0700", dir,
				     (unsigned)(st.st_mode & 07777));
	} else {
		return dir;
	}
	free(dir);
	return NULL;
}

/* Which vmslim binary this is: its path, inode, size and mtime. A daemon answers only the
 * binary that started it (another build or version has its own socket, as sccache's
 * client refuses a server of another version): an old daemon never serves a new client
 * answers computed by old code, and it stops by itself after its idle time. */
static void exe_id(char out[17])
{
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct stat st;
	memset(&st, 0, sizeof(st));
	if (n < 0)
		n = 0;
	self[n] = 0;
	stat("/proc/self/exe", &st);
	struct vms_buf b = { 0 };
	vms_buf_printf(&b, "%s\n%llu %llu %lld %lld.%09ld", self, (unsigned long long)st.st_dev,
		       (unsigned long long)st.st_ino, (long long)st.st_size,
		       (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	char hex[33];
	vms_hash128_hex(vms_hash128(b.data, b.len), hex);
	vms_buf_free(&b);
	memcpy(out, hex, 16);
	out[16] = 0;
}

char *vms_user_socket(char **why)
{
	char *dir = vms_user_dir(why);
	if (!dir)
		return NULL;
	char id[17];
	exe_id(id);
	char *s = vms_xasprintf("%s/daemon-%s.sock", dir, id);
	free(dir);
	return s;
}

static int alive(const char *sock)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof(sa.sun_path))
		return 0;
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000L };
	nanosleep(&ts, NULL);
}

/* Backoff of a wait for another process: short first (a daemon that is nearly up answers
 * within a fraction of a millisecond), then at most every 5 ms. */
static long next_wait_us(long us)
{
	return us < 5000 ? us * 2 : 5000;
}

static int idle_timeout(const struct vms_user_call *c)
{
	if (c->idle_timeout_s > 0)
		return c->idle_timeout_s;
	const char *e = getenv("VMSLIM_IDLE_TIMEOUT");
	long v = e && *e ? strtol(e, NULL, 10) : 0;
	return v > 0 && v < 7 * 24 * 3600 ? (int)v : VMS_IDLE_TIMEOUT_DEFAULT;
}

/* `vmslim serve --user` on sock, detached: its own session, not our child, stdio on the
 * log file in the daemon's directory, working directory "/". ready_w (or -1): the write
 * end of a pipe the daemon gets as fd 3, named in $VMSLIM_READY_FD; it writes a byte
 * there once it listens (serve/server.c), and the pipe ends without one if it fails.
 * 0 or -errno. */
static int spawn(const char *exe, const char *dir, const char *sock, int idle, int ready_w)
{
	char self[PATH_MAX];
	if (!exe) {
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return -errno;
		self[n] = 0;
		exe = self;
	}
	char idle_s[24];
	snprintf(idle_s, sizeof(idle_s), "%d", idle);
	char *log = vms_xasprintf("%s/daemon.log", dir);
	struct stat st;
	if (stat(log, &st) == 0 && st.st_size > LOG_MAX)
		truncate(log, 0);
	/* its environment, made here: between fork and exec only async-signal-safe calls */
	extern char **environ;
	size_t ne = 0;
	while (environ[ne])
		ne++;
	char **env = vms_xcalloc(ne + 2, sizeof(*env)), **ep = env;
	for (size_t i = 0; i < ne; i++)
		if (strncmp(environ[i], "VMSLIM_READY_FD=", 16))
			*ep++ = environ[i];
	char **ready_slot = ep;
	*ep = "VMSLIM_READY_FD=3";
	pid_t pid = fork();
	if (pid < 0) {
		free(log);
		free(env);
		return -errno;
	}
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		int lf = open(log, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW, 0600);
		if (null >= 0)
			dup2(null, 0);
		dup2(lf >= 0 ? lf : null, 1);
		dup2(lf >= 0 ? lf : null, 2);
		/* fd 3, without close-on-exec, is the only other descriptor it keeps */
		if (ready_w < 0 || (ready_w == 3 ? fcntl(3, F_SETFD, 0) : dup2(ready_w, 3)) < 0)
			*ready_slot = NULL;
		syscall(SYS_close_range, ready_w >= 0 ? 4U : 3U, ~0U, 0U);
		if (chdir("/") < 0)
			_exit(126);
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		for (int sig = 1; sig < 32; sig++)
			sigaction(sig, &dfl, NULL);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char *const argv[] = { "vmslim", "serve", "--user", "--socket", (char *)sock,
				       "--idle-timeout", idle_s, NULL };
		execve(exe, argv, env);
		_exit(127);
	}
	free(log);
	free(env);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return 0;
}

/* Starts the daemon (the lock held) and waits until it listens: its readiness byte on the
 * pipe, or, without a pipe, connects tried with a backoff. 0 or -errno. */
static int start_and_wait(struct vms_user_call *c, const char *dir, const char *sock,
			  double deadline)
{
	int p[2] = { -1, -1 };
	if (pipe2(p, O_CLOEXEC) == 0 && (p[0] < 3 || p[1] < 3)) {
		/* our stdio was closed: the child's dup2s onto 0-2 would take the pipe */
		close(p[0]);
		close(p[1]);
		p[0] = p[1] = -1;
	}
	int rc = spawn(c->exe, dir, sock, idle_timeout(c), p[1]);
	if (p[1] >= 0)
		close(p[1]); /* ours: the daemon holds the only other write end */
	if (rc < 0) {
		if (p[0] >= 0)
			close(p[0]);
		return rc;
	}
	c->started = 1;
	rc = -ETIMEDOUT;
	if (p[0] >= 0) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		for (;;) {
			int left = (int)(deadline - vms_now_ms());
			int n = left > 0 ? poll(&pf, 1, left) : 0;
			if (n < 0 && errno == EINTR)
				continue;
			char b;
			if (n > 0)
				/* a byte: it listens; end of file: it stopped before listening */
				rc = read(p[0], &b, 1) == 1 ? 0 : -ECONNREFUSED;
			break;
		}
		close(p[0]);
		return rc;
	}
	for (long us = 200; vms_now_ms() < deadline; us = next_wait_us(us)) {
		if (alive(sock))
			return 0;
		sleep_us(us);
	}
	return rc;
}

/* Makes sure a daemon listens on sock: under the lock, the first caller starts one and
 * waits for it; the others, once they hold the lock, find it. 0 or -errno. */
static int ensure_daemon(struct vms_user_call *c, const char *sock)
{
	char *dir = vms_dirname(sock);
	char *lock = vms_xasprintf("%s/start.lock", dir);
	int wait = c->start_wait_ms > 0 ? c->start_wait_ms : 2000;
	double deadline = vms_now_ms() + wait;
	int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = fd < 0 ? -errno : -ETIMEDOUT, locked = 0;
	for (long us = 200; fd >= 0 && vms_now_ms() < deadline; us = next_wait_us(us)) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			locked = 1;
			break;
		}
		/* another caller is starting it: done as soon as it listens */
		if (alive(sock)) {
			rc = 0;
			break;
		}
		sleep_us(us);
	}
	if (locked && alive(sock))
		rc = 0;
	else if (locked)
		rc = start_and_wait(c, dir, sock, deadline);
	if (fd >= 0)
		close(fd); /* the lock goes with it */
	free(lock);
	free(dir);
	return rc;
}

int vms_user_daemon_call(struct vms_user_call *c, const char *request, char **reply)
{
	char *why = NULL;
	char *sock = vms_user_socket(&why);
	*reply = NULL;
	c->started = 0;
	if (!sock) {
		free(why);
		return -EACCES;
	}
	int timeout = c->timeout_ms > 0 ? c->timeout_ms : 600000;
	int e = vms_client_call(sock, request, reply, timeout);
	if (e == -ENOENT || e == -ECONNREFUSED) {
		e = ensure_daemon(c, sock);
		if (e == 0)
			e = vms_client_call(sock, request, reply, timeout);
	}
	free(sock);
	return e;
}
