/* The cleanup list: temporary files, directories and children to deal with when a signal
 * stops the process. The list lives in fixed slots of atomic pointers and pids, changed by one
 * compare-and-exchange each, without a lock: the handler may interrupt the owner
 * anywhere, and a worker forked from a threaded daemon must not inherit a held mutex.
 * The handler side uses system calls only (no malloc, stdio or opendir). A process
 * holding more than a slot table's worth loses the signal-time cleanup of the extras,
 * nothing else. */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH_SLOTS 32
#define CHILD_SLOTS 16

static _Atomic(char *) live_paths[PATH_SLOTS];
static atomic_int live_children[CHILD_SLOTS];

static _Thread_local sigset_t held;

void vms_cleanup_hold(void)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &held);
}

void vms_cleanup_release(void)
{
	pthread_sigmask(SIG_SETMASK, &held, NULL);
}

void vms_cleanup_add_path(const char *path)
{
	char *copy = vms_xstrdup(path);
	for (size_t i = 0; i < PATH_SLOTS; i++) {
		char *empty = NULL;
		if (atomic_compare_exchange_strong(&live_paths[i], &empty, copy))
			return;
	}
	free(copy);
}

void vms_cleanup_remove_path(const char *path)
{
	for (size_t i = 0; i < PATH_SLOTS; i++) {
		char *p = atomic_load(&live_paths[i]);
		if (p && !strcmp(p, path) &&
		    atomic_compare_exchange_strong(&live_paths[i], &p, NULL)) {
			free(p);
			return;
		}
	}
}

void vms_cleanup_add_child(pid_t pid)
{
	for (size_t i = 0; i < CHILD_SLOTS; i++) {
		int empty = 0;
		if (atomic_compare_exchange_strong(&live_children[i], &empty, (int)pid))
			return;
	}
}

void vms_cleanup_remove_child(pid_t pid)
{
	for (size_t i = 0; i < CHILD_SLOTS; i++) {
		int p = (int)pid;
		if (atomic_compare_exchange_strong(&live_children[i], &p, 0))
			return;
	}
}

/* vmslim's temporary trees are a few levels deep; the depth bound is a guard. */
static void remove_at(int dirfd, const char *name, int depth)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno != EISDIR || depth > 16)
		return;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		char buf[4096];
		/* removing entries while reading the directory may skip some, and a child
		 * still stopping may add some: a few passes catch them */
		for (int pass = 0; pass < 4; pass++) {
			int seen = 0;
			ssize_t n;
			lseek(fd, 0, SEEK_SET);
			while ((n = getdents64(fd, buf, sizeof(buf))) > 0)
				for (ssize_t off = 0; off < n;) {
					struct dirent64 *e = (struct dirent64 *)(buf + off);
					off += e->d_reclen;
					if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
						continue;
					seen = 1;
					remove_at(fd, e->d_name, depth + 1);
				}
			if (!seen)
				break;
		}
		close(fd);
	}
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

void vms_cleanup_on_signal(void)
{
	int saved = errno;
	int waiting = 0;
	for (size_t i = 0; i < CHILD_SLOTS; i++) {
		int pid = atomic_load(&live_children[i]);
		if (pid > 0 && kill(pid, SIGTERM) == 0)
			waiting = 1;
	}
	/* a daemon writes into our directories until it has stopped */
	for (int tick = 0; waiting && tick < 300; tick++) {
		waiting = 0;
		for (size_t i = 0; i < CHILD_SLOTS; i++) {
			int pid = atomic_load(&live_children[i]);
			if (pid > 0 && waitpid(pid, NULL, WNOHANG) == 0)
				waiting = 1;
		}
		if (waiting)
			nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}
	for (size_t i = 0; i < PATH_SLOTS; i++) {
		const char *p = atomic_load(&live_paths[i]);
		if (p)
			remove_at(AT_FDCWD, p, 0);
	}
	errno = saved;
}
