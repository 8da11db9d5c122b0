/* The daemon's scratch directory, marked as owned by the live daemon, and the sweep of
 * those whose daemon is gone (killed with SIGKILL, or by the OOM killer).
 *
 * Ownership is an flock. The daemon holds an exclusive lock on <dir>/.owner for as long
 * as it lives (close-on-exec, so no compiler it runs inherits it); the kernel drops the
 * lock when the last descriptor of it closes, however the process ended. A later process
 * tests ownership by trying the same lock without waiting: it gets it only when no live
 * process holds it, and holds it while it removes the directory, so two sweeping daemons
 * never take one for live. There is no window in which a live daemon's .owner can be
 * found unlocked: the file is locked under a temporary name and renamed into place (a
 * rename keeps the lock, which belongs to the open file, not the name). A pid would not
 * do: pids are reused, and /proc/<pid>/stat start times are racy across namespaces.
 *
 * What the sweep removes, and what it never touches:
 *  - only entries named vmslim-serve.* directly in $TMPDIR (or /tmp), opened with
 *    O_NOFOLLOW: a symlink of that name is skipped, its target left alone;
 *  - only directories owned by this uid, with a regular .owner of this uid that nobody
 *    holds; a directory without .owner (an older vmslim, or one just being made) is kept,
 *    since nothing says its owner has gone. */
#include "serve/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define SCRATCH_PREFIX "vmslim-serve"
#define OWNER ".owner"

/* The lock descriptors of this process's scratch directories (one for a daemon). */
static struct owned {
	char *dir;
	int fd;
} owned[8];

char *scratch_create(void)
{
	char *dir = vms_make_tempdir(SCRATCH_PREFIX);
	if (!dir)
		return NULL;
	char *tmp = vms_xasprintf("%s/" OWNER ".tmp", dir);
	char *final = vms_xasprintf("%s/" OWNER, dir);
	int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0 && (flock(fd, LOCK_EX | LOCK_NB) < 0 || rename(tmp, final) < 0))
		e = errno;
	size_t i = 0;
	while (!e && i < sizeof(owned) / sizeof(owned[0]) && owned[i].dir)
		i++;
	if (!e && i == sizeof(owned) / sizeof(owned[0]))
		e = EMFILE;
	free(tmp);
	free(final);
	if (e) {
		if (fd >= 0)
			close(fd);
		vms_remove_tree(dir);
		free(dir);
		errno = e;
		return NULL;
	}
	owned[i].dir = vms_xstrdup(dir);
	owned[i].fd = fd;
	return dir;
}

void scratch_remove(const char *dir)
{
	if (!dir)
		return;
	/* the tree goes first, while the lock still says it is ours */
	vms_remove_tree(dir);
	for (size_t i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (owned[i].dir && !strcmp(owned[i].dir, dir)) {
			close(owned[i].fd);
			free(owned[i].dir);
			owned[i].dir = NULL;
		}
}

/* 1 when the directory open as dfd belongs to uid and its owner is gone; *lock is then
 * the owner lock, held (the caller closes it after removing the directory). */
static int owner_gone(int dfd, uid_t uid, int *lock)
{
	struct stat st;
	if (fstat(dfd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid)
		return 0;
	int fd = openat(dfd, OWNER, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != uid ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd); /* held: a live daemon's */
		return 0;
	}
	*lock = fd;
	return 1;
}

int scratch_sweep(void)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	DIR *d = opendir(base);
	if (!d)
		return 0;
	uid_t uid = geteuid();
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, SCRATCH_PREFIX ".", sizeof(SCRATCH_PREFIX)))
			continue;
		int dfd = openat(dirfd(d), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			continue; /* a symlink, or not a directory */
		int lock = -1;
		if (owner_gone(dfd, uid, &lock)) {
			char *path = vms_xasprintf("%s/%s", base, e->d_name);
			/* the name was checked through dfd; in a sticky $TMPDIR only its owner
			 * (this uid) could have swapped it since */
			struct stat a, b;
			if (fstat(dfd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
			    a.st_ino == b.st_ino && vms_remove_tree(path) == 0)
				n++;
			free(path);
			close(lock);
		}
		close(dfd);
	}
	closedir(d);
	return n;
}
