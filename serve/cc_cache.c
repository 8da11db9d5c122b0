/* The answer cache of `cc` in the per-user daemon, ccache's direct mode (see trusted.h):
 * manifests of the files a compile read, answers, and their byte forms. The decoders
 * treat their input as damaged until proven otherwise: every length is checked against
 * what is left. */
#include "serve/trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAGIC "VCM1"
#define ANSWER_MAGIC "VCA1"
#define SETTLE_NS (2LL * 1000000000LL)

int64_t cc_wall_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

char *cc_path_at(const char *cwd, const char *path)
{
	if (path[0] == '/' || !cwd)
		return vms_xstrdup(path);
	return vms_xasprintf("%s/%s", cwd, path);
}

/* ---- bytes ---------------------------------------------------------------------- */

static void put64(struct vms_buf *b, uint64_t v)
{
	unsigned char p[8];
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	vms_buf_append(b, p, 8);
}

static void putbytes(struct vms_buf *b, const void *d, size_t n, int present)
{
	put64(b, present ? (uint64_t)n : UINT64_MAX);
	if (present && n)
		vms_buf_append(b, d, n);
}

struct rd {
	const unsigned char *p, *end;
	int bad;
};

static uint64_t get64(struct rd *r)
{
	if (r->end - r->p < 8) {
		r->bad = 1;
		return 0;
	}
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)r->p[i] << (8 * i);
	r->p += 8;
	return v;
}

/* An owned copy, NUL-terminated; NULL when absent (or on a bad length, r->bad set). */
static void *getbytes(struct rd *r, size_t *n)
{
	uint64_t len = get64(r);
	*n = 0;
	if (r->bad || len == UINT64_MAX)
		return NULL;
	if (len > (uint64_t)(r->end - r->p)) {
		r->bad = 1;
		return NULL;
	}
	char *d = vms_xmalloc((size_t)len + 1);
	memcpy(d, r->p, (size_t)len);
	d[len] = 0;
	r->p += len;
	*n = (size_t)len;
	return d;
}

/* ---- manifests ------------------------------------------------------------------- */

void cc_manifest_free(struct cc_manifest *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].path);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

void cc_manifest_encode(const struct cc_manifest *m, struct vms_buf *b)
{
	vms_buf_append(b, MANIFEST_MAGIC, 4);
	put64(b, m->n);
	for (size_t i = 0; i < m->n; i++) {
		const struct cc_file *f = &m->v[i];
		putbytes(b, f->path, strlen(f->path), 1);
		put64(b, f->dev), put64(b, f->ino), put64(b, (uint64_t)f->size);
		put64(b, (uint64_t)f->mtime_ns), put64(b, (uint64_t)f->ctime_ns);
		put64(b, (uint64_t)f->hashed_ns);
		put64(b, f->hash.lo), put64(b, f->hash.hi);
	}
}

int cc_manifest_decode(const void *data, size_t len, struct cc_manifest *m)
{
	memset(m, 0, sizeof(*m));
	struct rd r = { (const unsigned char *)data, (const unsigned char *)data + len, 0 };
	if (len < 4 || memcmp(data, MANIFEST_MAGIC, 4))
		return -EINVAL;
	r.p += 4;
	uint64_t n = get64(&r);
	if (r.bad || n > len / 72)
		return -EINVAL;
	m->v = vms_xcalloc(n ? (size_t)n : 1, sizeof(*m->v));
	for (size_t i = 0; i < n && !r.bad; i++) {
		struct cc_file *f = &m->v[i];
		size_t pl;
		f->path = getbytes(&r, &pl);
		if (!f->path || strlen(f->path) != pl) {
			r.bad = 1;
			m->n = i + (f->path != NULL);
			break;
		}
		m->n = i + 1;
		f->dev = get64(&r), f->ino = get64(&r), f->size = (int64_t)get64(&r);
		f->mtime_ns = (int64_t)get64(&r), f->ctime_ns = (int64_t)get64(&r);
		f->hashed_ns = (int64_t)get64(&r);
		f->hash.lo = get64(&r), f->hash.hi = get64(&r);
	}
	if (r.bad || r.p != r.end) {
		cc_manifest_free(m);
		return -EINVAL;
	}
	return 0;
}

static int64_t ns_of(struct timespec t)
{
	return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Hashes an open file's bytes; 0 or -errno. */
static int hash_file(const char *path, struct stat *st, struct vms_hash128 *h)
{
	char *data;
	size_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int e = fstat(fd, st) < 0 ? -errno : 0;
	close(fd);
	if (e == 0 && !S_ISREG(st->st_mode))
		e = -EINVAL;
	if (e == 0)
		e = vms_read_file(path, &data, &n);
	if (e < 0)
		return e;
	*h = vms_hash128(data, n);
	free(data);
	return 0;
}

int cc_manifest_make(const struct vms_argv *paths, const char *cwd, int64_t t_start_ns,
		     struct cc_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->v = vms_xcalloc(paths->n ? paths->n : 1, sizeof(*m->v));
	for (size_t i = 0; i < paths->n; i++) {
		char *full = cc_path_at(cwd, paths->v[i]);
		struct stat st, st2;
		struct vms_hash128 h;
		int64_t at = cc_wall_ns();
		int e = hash_file(full, &st, &h);
		/* the bytes hashed are those the compile read only if nothing moved meanwhile */
		if (e == 0 && (stat(full, &st2) < 0 || st2.st_ino != st.st_ino ||
			       ns_of(st2.st_mtim) != ns_of(st.st_mtim) ||
			       ns_of(st2.st_ctim) != ns_of(st.st_ctim)))
			e = -EAGAIN;
		free(full);
		if (e < 0 || ns_of(st.st_mtim) >= t_start_ns || ns_of(st.st_ctim) >= t_start_ns) {
			cc_manifest_free(m);
			return -1;
		}
		struct cc_file *f = &m->v[m->n++];
		f->path = vms_xstrdup(paths->v[i]);
		f->dev = st.st_dev, f->ino = st.st_ino, f->size = st.st_size;
		f->mtime_ns = ns_of(st.st_mtim), f->ctime_ns = ns_of(st.st_ctim);
		f->hashed_ns = at;
		f->hash = h;
	}
	return 0;
}

int cc_manifest_holds(const struct cc_manifest *m, const char *cwd)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct cc_file *f = &m->v[i];
		char *full = cc_path_at(cwd, f->path);
		struct stat st;
		int ok = stat(full, &st) == 0;
		int64_t mt = ok ? ns_of(st.st_mtim) : 0, ct = ok ? ns_of(st.st_ctim) : 0;
		int same_stat = ok && (uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino &&
				st.st_size == f->size && mt == f->mtime_ns && ct == f->ctime_ns;
		int64_t changed = mt > ct ? mt : ct;
		if (same_stat && f->hashed_ns - changed >= SETTLE_NS) {
			free(full);
			continue; /* ctime cannot be set from user space: same bytes */
		}
		struct vms_hash128 h;
		ok = ok && hash_file(full, &st, &h) == 0 && h.lo == f->hash.lo && h.hi == f->hash.hi;
		free(full);
		if (!ok)
			return 0;
	}
	return 1;
}

struct vms_hash128 cc_answer_key(struct vms_hash128 key1, const struct cc_manifest *m)
{
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update_str(h, "cc-answer-1");
	vms_hasher_update(h, &key1, sizeof(key1));
	for (size_t i = 0; i < m->n; i++) {
		vms_hasher_update_str(h, m->v[i].path);
		vms_hasher_update(h, &m->v[i].hash, sizeof(m->v[i].hash));
	}
	struct vms_hash128 k = vms_hasher_digest(h);
	vms_hasher_free(h);
	return k;
}

/* ---- answers --------------------------------------------------------------------- */

void cc_answer_free(struct cc_answer *a)
{
	free(a->out), free(a->err), free(a->mode), free(a->obj), free(a->dep);
	memset(a, 0, sizeof(*a));
}

void cc_answer_encode(const struct cc_answer *a, struct vms_buf *b)
{
	vms_buf_append(b, ANSWER_MAGIC, 4);
	put64(b, (uint64_t)(int64_t)a->exit_code);
	putbytes(b, a->out, a->out_len, a->out != NULL);
	putbytes(b, a->err, a->err_len, a->err != NULL);
	putbytes(b, a->mode, a->mode ? strlen(a->mode) : 0, a->mode != NULL);
	putbytes(b, a->obj, a->obj_len, a->obj != NULL);
	putbytes(b, a->dep, a->dep_len, a->dep != NULL);
}

int cc_answer_decode(const void *data, size_t len, struct cc_answer *a)
{
	memset(a, 0, sizeof(*a));
	struct rd r = { (const unsigned char *)data, (const unsigned char *)data + len, 0 };
	if (len < 4 || memcmp(data, ANSWER_MAGIC, 4))
		return -EINVAL;
	r.p += 4;
	a->exit_code = (int)(int64_t)get64(&r);
	size_t ml;
	a->out = getbytes(&r, &a->out_len);
	a->err = getbytes(&r, &a->err_len);
	a->mode = getbytes(&r, &ml);
	a->obj = getbytes(&r, &a->obj_len);
	a->dep = getbytes(&r, &a->dep_len);
	if (r.bad || r.p != r.end || !a->out || !a->err) {
		cc_answer_free(a);
		return -EINVAL;
	}
	return 0;
}

int cc_write_output(const char *cwd, const char *path, const void *data, size_t len,
		    unsigned umask_bits)
{
	char *full = cc_path_at(cwd, path);
	struct stat st;
	if (stat(full, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* /dev/null and FIFOs are written to as they are, as clang does */
		int fd = open(full, O_WRONLY | O_CLOEXEC);
		int e = fd < 0 ? -errno : vms_write_all(fd, data, len);
		if (fd >= 0)
			close(fd);
		free(full);
		return e;
	}
	/* no fsync: clang does not sync its outputs either, and a hit must stay cheap */
	char *tmp = vms_xasprintf("%s.vmslim-tmp.%d", full, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	int e = fd < 0 ? -errno : vms_write_all(fd, data, len);
	if (e == 0 && fchmod(fd, 0666 & ~(mode_t)umask_bits) < 0)
		e = -errno;
	if (fd >= 0 && close(fd) < 0 && e == 0)
		e = -errno;
	if (e == 0 && rename(tmp, full) < 0)
		e = -errno;
	if (e < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(full);
	return e;
}
