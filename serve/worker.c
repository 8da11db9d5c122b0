/* Workers: every job that runs a compiler runs in a process of its own, forked from the
 * daemon (or the language server), so that per-request limits are plain kernel limits
 * and nothing a request does can reach the parent:
 *  - RLIMIT_CPU and RLIMIT_AS are set in the worker and inherited by the clang it spawns;
 *  - the worker leads a process group, so the wall-time limit kills clang with it;
 *  - where the kernel has Landlock, the worker (and so clang) can read only the header
 *    directories and the system's own trees, and write only its scratch and the PCH
 *    cache: a second wall behind the include scan, against what the scan cannot see
 *    (computed includes inside trusted headers, a compiler bug);
 *  - the result comes back over a pipe, encoded; a worker that dies mid-write leaves a
 *    short message that fails to decode, and its exit status says why. */
#include "serve/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* ---- Landlock ------------------------------------------------------------------- */

static int landlock_abi(void)
{
#ifdef SYS_landlock_create_ruleset
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
#else
	return 0;
#endif
}

int sandbox_available(void)
{
	return landlock_abi() > 0;
}

#define FILE_RIGHTS_RO (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE)
#define DIR_RIGHTS_RO (FILE_RIGHTS_RO | LANDLOCK_ACCESS_FS_READ_DIR)

static int add_rule(int rfd, const char *path, uint64_t rights, uint64_t file_mask)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno; /* a tree this system lacks */
	struct stat st;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rights &= file_mask;
	struct landlock_path_beneath_attr pb = { .allowed_access = rights, .parent_fd = fd };
	int r = (int)syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	int e = errno;
	close(fd);
	return r < 0 ? -e : 0;
}

int sandbox_apply(const char *const *ro, const char *const *rw)
{
	int abi = landlock_abi();
	if (abi <= 0)
		return -ENOSYS;
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
	uint64_t file_mask = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
			     LANDLOCK_ACCESS_FS_READ_FILE;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3) {
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
		file_mask |= LANDLOCK_ACCESS_FS_TRUNCATE;
	}
#endif
	struct landlock_ruleset_attr attr = { .handled_access_fs = all };
	int rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd < 0)
		return -errno;
	int err = 0;
	for (size_t i = 0; ro && ro[i] && !err; i++)
		err = add_rule(rfd, ro[i], DIR_RIGHTS_RO, file_mask);
	for (size_t i = 0; rw && rw[i] && !err; i++)
		err = add_rule(rfd, rw[i], all, file_mask);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		err = -errno;
	if (!err && syscall(SYS_landlock_restrict_self, rfd, 0) < 0)
		err = -errno;
	close(rfd);
	return err;
}

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
		if (l->ro_paths && sandbox_apply(l->ro_paths, l->rw_paths) < 0 &&
		    sandbox_available()) {
			r.status = VMS_ST_INTERNAL;
			vms_diag_add(&r.diags, VMS_ERROR, NULL, 0, 0,
				     "could not confine the worker (Landlock)");
		} else {
			fn(arg, &r);
		}
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
