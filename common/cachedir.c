/* The cache directory as a whole (cachedir.h).
 *
 * Eviction is ccache's: an entry's last use is its mtime (a PCH's lock file is touched on
 * every use, since the PCH's own mtime is part of its seal; the daemon touches its answer
 * files on hits), and trimming removes the oldest entries until the total fits. A PCH
 * someone holds (its lock taken, shared by every compile reading it) is never removed:
 * the trimmer takes the lock exclusively without waiting and skips the entry if it
 * cannot. A compile racing with a removal at worst finds no manifest and rebuilds.
 *
 * Counters live in one small text file updated under flock, read-modify-write: a few
 * microseconds per count, and no count is lost between processes. */
#include "common/cachedir.h"
#include "common/common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kind_dirs[VMS_KIND_N] = { "pch", "serve", "slim", NULL };

const char *vms_cache_kind_name(enum vms_cache_kind k)
{
	static const char *const names[VMS_KIND_N] = { "pch", "answers", "slim headers", "other" };
	return k < VMS_KIND_N ? names[k] : "?";
}

int64_t vms_parse_size(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v < 0)
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	}
	if (*end == 'i' && mul > 1)
		end++;
	if ((*end == 'B' || *end == 'b') && end[1] == 0)
		end++;
	if (*end || v * (double)mul > 9e18)
		return -1;
	return (int64_t)(v * (double)mul);
}

uint64_t vms_cache_max_size(const char *dir)
{
	char *path = vms_xasprintf("%s/vmslim.conf", dir), *text = NULL;
	size_t len;
	uint64_t max = VMS_CACHE_DEFAULT_MAX;
	if (vms_read_regular_file(path, 1 << 16, &text, &len) == 0) {
		for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
			char val[64];
			if (sscanf(l, " max_size = %63s", val) == 1 && vms_parse_size(val) >= 0)
				max = (uint64_t)vms_parse_size(val);
		}
	}
	free(text), free(path);
	return max;
}

int vms_cache_set_max_size(const char *dir, uint64_t bytes)
{
	int rc = vms_mkdir_p(dir, 0755);
	if (rc < 0)
		return rc;
	char *path = vms_xasprintf("%s/vmslim.conf", dir);
	char *text = vms_xasprintf("# vmslim cache settings (vmslim cache --max-size)\nmax_size = %llu\n",
				   (unsigned long long)bytes);
	rc = vms_write_file_atomic(path, text, strlen(text), 0644);
	free(path), free(text);
	return rc;
}

/* ---- entries ---- */

struct entry {
	char *path;		/* a PCH's directory, or an answer's file */
	enum vms_cache_kind kind;
	uint64_t bytes;
	int64_t used_ns;	/* newest mtime in it */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static void add_entry(struct entries *es, char *path, enum vms_cache_kind k, uint64_t bytes,
		      int64_t used)
{
	if (es->n == es->cap) {
		es->cap = es->cap ? es->cap * 2 : 64;
		es->v = vms_xrealloc(es->v, es->cap * sizeof(*es->v));
	}
	es->v[es->n++] = (struct entry){ path, k, bytes, used };
}

/* Size and newest mtime of the regular files right in dir (a PCH entry is flat). */
static void dir_size(const char *dir, uint64_t *bytes, int64_t *used)
{
	*bytes = 0, *used = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		*bytes += (uint64_t)st.st_blocks * 512;
		if (mtime_ns(&st) > *used)
			*used = mtime_ns(&st);
	}
	if (d)
		closedir(d);
}

/* Every entry of one kind: pch/<key>/ directories, serve/<xx>/<file> answers, slim/<key>.h. */
static void scan_kind(const char *top, enum vms_cache_kind k, struct entries *es)
{
	DIR *d = opendir(top);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *p = vms_xasprintf("%s/%s", top, e->d_name);
		struct stat st;
		if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
			if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
				add_entry(es, p, k, (uint64_t)st.st_blocks * 512, mtime_ns(&st));
			else
				free(p);
			continue;
		}
		if (k == VMS_KIND_PCH) {
			uint64_t b;
			int64_t u;
			dir_size(p, &b, &u);
			add_entry(es, p, k, b, u);
			continue;
		}
		DIR *sub = opendir(p);
		struct dirent *f;
		while (sub && (f = readdir(sub))) {
			char *fp = vms_xasprintf("%s/%s", p, f->d_name);
			if (f->d_name[0] != '.' && lstat(fp, &st) == 0 && S_ISREG(st.st_mode))
				add_entry(es, fp, k, (uint64_t)st.st_blocks * 512, mtime_ns(&st));
			else
				free(fp);
		}
		if (sub)
			closedir(sub);
		free(p);
	}
	if (d)
		closedir(d);
}

/* Everything else: the size of whatever is not one of kind_dirs (never evicted). */
static uint64_t other_bytes(const char *dir, uint64_t *entries)
{
	uint64_t total = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		int kind_dir = 0;
		for (int k = 0; k < VMS_KIND_N; k++)
			kind_dir |= kind_dirs[k] && !strcmp(e->d_name, kind_dirs[k]);
		if (e->d_name[0] == '.' || kind_dir)
			continue;
		char *p = vms_xasprintf("%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			struct entries es = { 0 };
			scan_kind(p, VMS_KIND_OTHER, &es);
			for (size_t i = 0; i < es.n; i++) {
				total += es.v[i].bytes;
				free(es.v[i].path);
			}
			*entries += es.n;
			free(es.v);
		} else if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			total += (uint64_t)st.st_blocks * 512;
		}
		free(p);
	}
	if (d)
		closedir(d);
	return total;
}

static void scan(const char *dir, struct entries *es)
{
	for (int k = 0; k < VMS_KIND_N; k++) {
		if (!kind_dirs[k])
			continue;
		char *top = vms_xasprintf("%s/%s", dir, kind_dirs[k]);
		scan_kind(top, (enum vms_cache_kind)k, es);
		free(top);
	}
}

static void entries_free(struct entries *es)
{
	for (size_t i = 0; i < es->n; i++)
		free(es->v[i].path);
	free(es->v);
	memset(es, 0, sizeof(*es));
}

void vms_cache_usage(const char *dir, struct vms_cache_usage *u)
{
	memset(u, 0, sizeof(*u));
	struct entries es = { 0 };
	scan(dir, &es);
	for (size_t i = 0; i < es.n; i++) {
		u->entries[es.v[i].kind]++;
		u->bytes[es.v[i].kind] += es.v[i].bytes;
	}
	entries_free(&es);
	u->bytes[VMS_KIND_OTHER] = other_bytes(dir, &u->entries[VMS_KIND_OTHER]);
	for (int k = 0; k < VMS_KIND_N; k++)
		u->total_bytes += u->bytes[k];
	u->max_bytes = vms_cache_max_size(dir);
}

/* Removes one entry unless in use; 1 removed, 0 left. A PCH's lock is taken exclusively
 * without waiting and held while its files go. */
static int remove_entry(const struct entry *e)
{
	if (e->kind != VMS_KIND_PCH)
		return unlink(e->path) == 0;
	DIR *d = opendir(e->path);
	if (!d)
		return 0;
	int held = -1, busy = 0;
	struct dirent *f;
	while ((f = readdir(d)) && !busy) {
		size_t n = strlen(f->d_name);
		if (n > 5 && !strcmp(f->d_name + n - 5, ".lock")) {
			int fd = openat(dirfd(d), f->d_name, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
			if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
				busy = 1;
			if (busy || held >= 0)
				close(fd);
			else
				held = fd;
		}
	}
	closedir(d);
	int removed = !busy && vms_remove_tree(e->path) == 0;
	if (held >= 0)
		close(held);
	return removed;
}

static int by_age(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return x->used_ns < y->used_ns ? -1 : x->used_ns > y->used_ns;
}

int vms_cache_trim(const char *dir, uint64_t max_bytes)
{
	if (!max_bytes)
		max_bytes = vms_cache_max_size(dir);
	struct entries es = { 0 };
	scan(dir, &es);
	uint64_t ignored = 0, total = other_bytes(dir, &ignored);
	for (size_t i = 0; i < es.n; i++)
		total += es.v[i].bytes;
	if (es.n) /* qsort's base must not be NULL, even for no entries */
		qsort(es.v, es.n, sizeof(*es.v), by_age);
	int removed = 0;
	for (size_t i = 0; i < es.n && total > max_bytes; i++)
		if (remove_entry(&es.v[i])) {
			total -= es.v[i].bytes;
			removed++;
		}
	entries_free(&es);
	if (removed)
		vms_cache_count(dir, "cache", "evicted");
	return removed;
}

int vms_cache_clear(const char *dir)
{
	struct entries es = { 0 };
	scan(dir, &es);
	int removed = 0;
	for (size_t i = 0; i < es.n; i++)
		removed += remove_entry(&es.v[i]);
	entries_free(&es);
	vms_cache_reset_counters(dir);
	return removed;
}

/* ---- counters ---- */

/* Opens $dir/stats locked exclusively: fd or -1. */
static int open_stats(const char *dir, int create)
{
	char *path = vms_xasprintf("%s/stats", dir);
	if (create)
		vms_mkdir_p(dir, 0755);
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT : 0), 0644);
	free(path);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (1 << 16)) {
		close(fd);
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

static char *read_fd(int fd)
{
	struct vms_buf b = { 0 };
	char chunk[4096];
	ssize_t n;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len < (1 << 16))
		vms_buf_append(&b, chunk, (size_t)n);
	return vms_buf_steal(&b);
}

void vms_cache_count(const char *dir, const char *kind, const char *event)
{
	int fd = open_stats(dir, 1);
	if (fd < 0)
		return; /* counting is never worth failing a build for */
	char *text = read_fd(fd);
	struct vms_buf out = { 0 };
	int found = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char k[32], e[32];
		unsigned long long v;
		if (sscanf(l, "%31s %31s %llu", k, e, &v) != 3)
			continue;
		if (!strcmp(k, kind) && !strcmp(e, event)) {
			v++;
			found = 1;
		}
		vms_buf_printf(&out, "%s %s %llu\n", k, e, v);
	}
	if (!found)
		vms_buf_printf(&out, "%s %s 1\n", kind, event);
	/* written over in place, then cut to length: a truncation to 0 first makes ext4
	 * flush the file on close (its replace-by-truncate heuristic), 0.2-0.4 ms a count */
	if (pwrite(fd, out.data, out.len, 0) == (ssize_t)out.len)
		(void)(ftruncate(fd, (off_t)out.len) < 0);
	vms_buf_free(&out);
	free(text);
	close(fd);
}

uint64_t vms_cache_counter(const char *dir, const char *kind, const char *event)
{
	int fd = open_stats(dir, 0);
	if (fd < 0)
		return 0;
	char *text = read_fd(fd);
	close(fd);
	uint64_t r = 0;
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char k[32], e[32];
		unsigned long long v;
		if (sscanf(l, "%31s %31s %llu", k, e, &v) == 3 && !strcmp(k, kind) && !strcmp(e, event))
			r = v;
	}
	free(text);
	return r;
}

void vms_cache_reset_counters(const char *dir)
{
	int fd = open_stats(dir, 0);
	if (fd < 0)
		return;
	(void)(ftruncate(fd, 0) < 0);
	close(fd);
}
