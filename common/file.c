#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int vms_open_file(const char *path, struct stat *st)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int e = fstat(fd, st) < 0 ? errno : S_ISDIR(st->st_mode) ? EISDIR : 0;
	if (e) {
		close(fd);
		return -e;
	}
	return fd;
}

static int not_regular(mode_t m)
{
	return S_ISREG(m) ? 0 : S_ISLNK(m) ? -ELOOP : S_ISDIR(m) ? -EISDIR : -EINVAL;
}

/* Reads fd to its end (-EFBIG past max bytes) into a NUL-terminated buffer first sized
 * from st; closes fd. */
static int read_fd(int fd, const struct stat *st, size_t max, char **data, size_t *len);

int vms_read_regular_file(const char *path, size_t max, char **data, size_t *len)
{
	/* lstat first so that a device is never opened at all (an open can have side
	 * effects); the fstat after the open closes the race with a rename in between. */
	struct stat st;
	if (lstat(path, &st) < 0)
		return -errno;
	int e = not_regular(st.st_mode);
	if (e)
		return e;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	e = fstat(fd, &st) < 0 ? -errno : not_regular(st.st_mode);
	if (!e && (uint64_t)st.st_size > max)
		e = -EFBIG;
	if (e) {
		close(fd);
		return e;
	}
	return read_fd(fd, &st, max, data, len);
}

int vms_read_file(const char *path, char **data, size_t *len)
{
	struct stat st;
	int fd = vms_open_file(path, &st);
	if (fd < 0)
		return fd;
	return read_fd(fd, &st, SIZE_MAX, data, len);
}

static int read_fd(int fd, const struct stat *st, size_t max, char **data, size_t *len)
{
	size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 4096, n = 0;
	char *buf = vms_xmalloc(cap);
	for (;;) {
		if (n + 1 >= cap) {
			cap *= 2;
			buf = vms_xrealloc(buf, cap);
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) { /* it grows while we read it */
			free(buf);
			close(fd);
			return -EFBIG;
		}
	}
	close(fd);
	buf[n] = 0;
	*data = buf;
	if (len)
		*len = n;
	return 0;
}

int vms_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int vms_tmp_commit(int fd, const char *tmp, const char *path, int err)
{
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int vms_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	/* Renaming over /dev/null or a FIFO would replace the device node with a regular
	 * file; such targets are not files to be replaced whole, so write to them as they are. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode))
			return -EISDIR;
		int dfd = open(path, O_WRONLY | O_CLOEXEC);
		if (dfd < 0)
			return -errno;
		int werr = vms_write_all(dfd, data, len);
		if (close(dfd) < 0 && !werr)
			werr = -errno;
		return werr;
	}
	char *tmp = vms_xasprintf("%s.tmp.XXXXXX", path);
	vms_cleanup_hold();
	int fd = mkostemp(tmp, O_CLOEXEC);
	int e = errno;
	if (fd >= 0)
		vms_cleanup_add_path(tmp);
	vms_cleanup_release();
	if (fd < 0) {
		free(tmp);
		return -e;
	}
	int err = vms_write_all(fd, data, len);
	if (!err && fchmod(fd, mode) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	err = vms_tmp_commit(fd, tmp, path, err);
	vms_cleanup_remove_path(tmp);
	free(tmp);
	return err;
}

int vms_mkdir_p(const char *path, mode_t mode)
{
	char *p = vms_xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			int e = errno;
			free(p);
			return -e;
		}
		*s = '/';
	}
	int err = 0;
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		err = -errno;
	free(p);
	return err;
}

char *vms_make_tempdir(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	char *path = vms_xasprintf("%s/%s.XXXXXX", base, prefix ? prefix : "vmslim");
	vms_cleanup_hold();
	int ok = mkdtemp(path) != NULL;
	int e = errno;
	if (ok)
		vms_cleanup_add_path(path);
	vms_cleanup_release();
	if (!ok) {
		free(path);
		errno = e;
		return NULL;
	}
	return path;
}

static int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		if (!d)
			return -errno;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *child = vms_xasprintf("%s/%s", path, e->d_name);
			remove_tree(child);
			free(child);
		}
		closedir(d);
		return rmdir(path) < 0 ? -errno : 0;
	}
	return unlink(path) < 0 ? -errno : 0;
}

int vms_remove_tree(const char *path)
{
	int rc = remove_tree(path);
	vms_cleanup_remove_path(path);
	return rc;
}

char *vms_cache_dir_default(void)
{
	const char *x = getenv("XDG_CACHE_HOME");
	if (x && *x == '/')
		return vms_xasprintf("%s/vmslim", x);
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	struct stat st;
	if (home && *home == '/' && stat(home, &st) == 0 && S_ISDIR(st.st_mode))
		return vms_xasprintf("%s/.cache/vmslim", home);
	char *tmp = vms_xasprintf("/tmp/vmslim-cache-%d", (int)getuid());
	mkdir(tmp, 0700);
	if (lstat(tmp, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == getuid() &&
	    !(st.st_mode & 077))
		return tmp;
	/* taken by someone else: a private cache of our own rather than theirs */
	free(tmp);
	tmp = vms_xasprintf("/tmp/vmslim-cache-%d.XXXXXX", (int)getuid());
	if (mkdtemp(tmp))
		return tmp;
	free(tmp);
	return vms_xstrdup("/dev/null/vmslim"); /* every use fails: no cache at all */
}

const char *vms_basename(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

char *vms_dirname(const char *path)
{
	const char *s = strrchr(path, '/');
	if (!s)
		return vms_xstrdup(".");
	if (s == path)
		return vms_xstrdup("/");
	return vms_xstrndup(path, (size_t)(s - path));
}

char *vms_realpath(const char *path)
{
	return realpath(path, NULL);
}
