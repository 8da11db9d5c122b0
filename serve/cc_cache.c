/* The answer cache of `cc` in the per-user daemon, ccache's direct mode (see trusted.h):
 * manifests of the files a compile read, answers, and their byte forms. The decoders
 * treat their input as damaged until proven otherwise: every length is checked against
 * what is left. */
#include "serve/trusted.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
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

/* hash_file, and the stat fields agree before and after: the bytes hashed are those *st
 * describes (-EAGAIN when the file moved meanwhile). */
static int hash_stable(const char *full, struct stat *st, struct vms_hash128 *h)
{
	struct stat st2;
	int e = hash_file(full, st, h);
	if (e == 0 && (stat(full, &st2) < 0 || st2.st_ino != st->st_ino ||
		       ns_of(st2.st_mtim) != ns_of(st->st_mtim) ||
		       ns_of(st2.st_ctim) != ns_of(st->st_ctim)))
		e = -EAGAIN;
	return e;
}

static int64_t changed_ns(const struct stat *st)
{
	int64_t mt = ns_of(st->st_mtim), ct = ns_of(st->st_ctim);
	return mt > ct ? mt : ct;
}

/* f as a hash of the bytes *st describes, taken at `at`, records it. */
static void record(struct cc_file *f, const struct stat *st, int64_t at, struct vms_hash128 h)
{
	f->dev = st->st_dev, f->ino = st->st_ino, f->size = st->st_size;
	f->mtime_ns = ns_of(st->st_mtim), f->ctime_ns = ns_of(st->st_ctim);
	f->hashed_ns = at;
	f->hash = h;
}

int cc_manifest_make(const struct vms_argv *paths, const char *cwd, int64_t t_start_ns,
		     struct cc_manifest *m)
{
	memset(m, 0, sizeof(*m));
	m->v = vms_xcalloc(paths->n ? paths->n : 1, sizeof(*m->v));
	for (size_t i = 0; i < paths->n; i++) {
		char *full = cc_path_at(cwd, paths->v[i]);
		struct stat st;
		struct vms_hash128 h;
		int64_t at = cc_wall_ns();
		/* the bytes hashed are those the compile read only if nothing moved meanwhile */
		int e = hash_stable(full, &st, &h);
		free(full);
		if (e < 0 || ns_of(st.st_mtim) >= t_start_ns || ns_of(st.st_ctim) >= t_start_ns) {
			cc_manifest_free(m);
			return -1;
		}
		struct cc_file *f = &m->v[m->n++];
		f->path = vms_xstrdup(paths->v[i]);
		record(f, &st, at, h);
	}
	return 0;
}

/* Whether f still holds the bytes recorded (the theory above cc_manifest_recheck): 0 no,
 * 1 yes, 2 yes and *upd (when given) now records a hash taken just now of a file that has
 * settled, so that the next check of it is a stat alone. */
static int file_holds(const struct cc_file *f, const char *cwd, struct cc_file *upd)
{
	char *full = cc_path_at(cwd, f->path);
	struct stat st;
	int ok = stat(full, &st) == 0;
	int same_stat = ok && (uint64_t)st.st_dev == f->dev && (uint64_t)st.st_ino == f->ino &&
			st.st_size == f->size && ns_of(st.st_mtim) == f->mtime_ns &&
			ns_of(st.st_ctim) == f->ctime_ns;
	if (same_stat && f->hashed_ns - changed_ns(&st) >= SETTLE_NS) {
		free(full);
		return 1; /* ctime cannot be set from user space: same bytes */
	}
	struct vms_hash128 h;
	int64_t at = cc_wall_ns();
	ok = ok && hash_stable(full, &st, &h) == 0 && h.lo == f->hash.lo && h.hi == f->hash.hi;
	free(full);
	if (!ok)
		return 0;
	if (upd && at - changed_ns(&st) >= SETTLE_NS) {
		record(upd, &st, at, h);
		return 2;
	}
	return 1;
}

int cc_manifest_holds(const struct cc_manifest *m, const char *cwd)
{
	for (size_t i = 0; i < m->n; i++)
		if (!file_holds(&m->v[i], cwd, NULL))
			return 0;
	return 1;
}

/* A file is trusted on its stat fields alone when they are those recorded and the hash
 * was taken SETTLE_NS or more after the file last changed (ccache's "too new" rule): any
 * write after the hash then moves its ctime, which user space cannot set back, even on a
 * file system whose clock ticks coarsely. A file that was too new when the manifest was
 * made (a header written just before the build) or that was touched since (same bytes,
 * new times) is hashed again on every check, as ccache does; here, once such a file has
 * settled and its bytes still match, the manifest records the new hash and stat (exactly
 * what a fresh cc_manifest_make would have recorded now), so the caller can store it
 * and later checks are a stat again. The bytes, hence the answer's key, are unchanged. */
int cc_manifest_recheck(struct cc_manifest *m, const char *cwd)
{
	int refreshed = 0;
	for (size_t i = 0; i < m->n; i++) {
		int r = file_holds(&m->v[i], cwd, &m->v[i]);
		if (!r)
			return -1;
		refreshed |= r == 2;
	}
	return refreshed;
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

/* Puts tmp in place of path, as atomically as rename(2) does, but without ext4's flush:
 * ext4 (auto_da_alloc, its default) starts writing a file's data out at once when a
 * rename replaces another file, which costs a hit ~1 ms, more than all the rest of it.
 * Exchanging the two names (RENAME_EXCHANGE) replaces path just as atomically and is no
 * such replace to ext4; the old bytes, now under tmp's name, are unlinked. No file there
 * yet, or a file system without exchange: a plain rename. 0 or -errno. */
static int put_in_place(const char *tmp, const char *path)
{
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) == 0) {
		unlink(tmp);
		return 0;
	}
	return rename(tmp, path) < 0 ? -errno : 0;
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
	if (e == 0)
		e = put_in_place(tmp, full);
	if (e < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(full);
	return e;
}

/* ---- what the daemon keeps between requests --------------------------------------- */

/* Compiler identities by (the path asked for, the file it resolves to, that file's stat):
 * vms_compiler_identify reads its disk cache and hashes on every call; a hit needs only
 * the realpath and stat that tell whether the binary is still the one identified. */
#define COMP_SLOTS 8

static struct comp_memo {
	char *path, *real;
	uint64_t dev, ino;
	int64_t size, mtime_ns, ctime_ns;
	struct vms_hash128 id;
} comps[COMP_SLOTS];
static unsigned comp_next;

int cc_compiler_id(const char *clang, const char *cache_dir, struct vms_hash128 *id)
{
	char *real = vms_realpath(clang);
	struct stat st;
	if (!real || stat(real, &st) < 0) {
		free(real);
		return -1;
	}
	for (unsigned i = 0; i < COMP_SLOTS; i++) {
		const struct comp_memo *c = &comps[i];
		if (c->path && !strcmp(c->path, clang) && !strcmp(c->real, real) &&
		    c->dev == (uint64_t)st.st_dev && c->ino == (uint64_t)st.st_ino &&
		    c->size == st.st_size && c->mtime_ns == ns_of(st.st_mtim) &&
		    c->ctime_ns == ns_of(st.st_ctim)) {
			*id = c->id;
			free(real);
			return 0;
		}
	}
	struct vms_compiler comp;
	struct vms_diags d = { 0 };
	int e = vms_compiler_identify(clang, cache_dir, &comp, &d);
	vms_diags_free(&d);
	if (e < 0) {
		free(real);
		return -1;
	}
	*id = comp.id;
	/* the stat taken before identifying: if the binary moved meanwhile, the next call
	 * sees other fields and identifies it again */
	struct comp_memo *c = &comps[comp_next++ % COMP_SLOTS];
	free(c->path), free(c->real);
	*c = (struct comp_memo){ vms_xstrdup(clang), real, st.st_dev, st.st_ino, st.st_size,
				 ns_of(st.st_mtim), ns_of(st.st_ctim), comp.id };
	vms_compiler_free(&comp);
	return 0;
}

/* Recent answers, decoded, by answer key: a hit of the memory tier would otherwise copy
 * the entry (the object is most of it, ~0.6 MB for a vmlinux.h program) and decode it
 * into a second copy before writing it out. An answer key names its bytes for good (key1
 * and the hash of every file read), so an entry never goes stale; the least recently
 * used go first, under a count and a byte bound. */
#define MEMO_SLOTS 64
#define MEMO_BYTES (64u << 20)

static struct answer_memo {
	struct vms_hash128 key;
	struct cc_answer a;
	size_t bytes;
	uint64_t used;			/* 0: empty */
} memo[MEMO_SLOTS];
static size_t memo_bytes;
static uint64_t memo_clock;

static size_t answer_bytes(const struct cc_answer *a)
{
	return a->out_len + a->err_len + a->obj_len + a->dep_len + 64;
}

const struct cc_answer *cc_memo_get(struct vms_hash128 key)
{
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		if (memo[i].used && memo[i].key.lo == key.lo && memo[i].key.hi == key.hi) {
			memo[i].used = ++memo_clock;
			return &memo[i].a;
		}
	return NULL;
}

static void memo_drop(struct answer_memo *m)
{
	cc_answer_free(&m->a);
	memo_bytes -= m->bytes;
	m->bytes = 0;
	m->used = 0;
}

void cc_memo_put(struct vms_hash128 key, struct cc_answer *a)
{
	size_t bytes = answer_bytes(a);
	if (bytes > MEMO_BYTES / 4 || cc_memo_get(key)) {
		cc_answer_free(a);
		return;
	}
	for (;;) {
		struct answer_memo *lru = NULL, *empty = NULL;
		for (size_t i = 0; i < MEMO_SLOTS; i++) {
			if (!memo[i].used)
				empty = empty ? empty : &memo[i];
			else if (!lru || memo[i].used < lru->used)
				lru = &memo[i];
		}
		if (empty && memo_bytes + bytes <= MEMO_BYTES) {
			empty->key = key;
			empty->a = *a;
			empty->bytes = bytes;
			empty->used = ++memo_clock;
			memo_bytes += bytes;
			memset(a, 0, sizeof(*a));
			return;
		}
		memo_drop(lru);
	}
}

void cc_memo_clear(void)
{
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		if (memo[i].used)
			memo_drop(&memo[i]);
	for (unsigned i = 0; i < COMP_SLOTS; i++) {
		free(comps[i].path), free(comps[i].real);
		memset(&comps[i], 0, sizeof(comps[i]));
	}
}
