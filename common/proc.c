#include "common.h"

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

/* Reads stdout and stderr with poll while feeding stdin, so that a child that writes a lot
 * before reading its input (or the reverse) cannot deadlock against us. */
int vms_run(char *const argv[], const void *stdin_data, size_t stdin_len, int timeout_ms,
	    struct vms_proc_result *r)
{
	memset(r, 0, sizeof(*r));
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		int e = errno;
		close_pipe(in), close_pipe(out), close_pipe(err);
		return -e;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err[1], 2);
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
	int rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
	if (rc == 0)
		vms_cleanup_add_child(pid);
	vms_cleanup_release();
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(in[0]), close(out[1]), close(err[1]);
	if (rc != 0) {
		close(in[1]), close(out[0]), close(err[0]);
		return -rc;
	}
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
