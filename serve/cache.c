/* The result cache: a content-addressed store in two tiers, the way ccache keeps objects.
 *
 * A key is the xxh3-128 of everything an answer depends on, so an entry never needs
 * invalidation: a changed input is a different key. What needs care is the disk tier,
 * which other processes (a second daemon on the same directory, a daemon restarted after
 * a crash or a power loss) share with us:
 *  - a file is written to a temporary name in its final directory and renamed, so a
 *    reader sees either nothing or a whole file, never a half-written one;
 *  - every file carries its key, its length and an xxh3-128 of header + payload; a read
 *    verifies all three, and a mismatch deletes the file and answers "miss" — a torn or
 *    bit-flipped entry is recomputed, never served. That checksum is also why writes are
 *    not fsync'd: after a power loss a lost entry is only a recomputation;
 *  - the size bound is kept with least-recently-used eviction; "use" is the file's mtime
 *    (touched on hits, as ccache does), so the order survives restarts: the index is
 *    rebuilt from a directory scan at open;
 *  - whatever sits at an entry's name is untrusted: only a regular file is read, never
 *    through a symlink, never by an open that could block (a FIFO planted there would
 *    otherwise hang the daemon's one thread and so every client), and never past the
 *    size bound; anything else is a miss, counted as corrupt and unlinked (unlink
 *    removes the name, never a symlink's target).
 * The memory tier is a plain LRU over copies of recently used entries, bounded in bytes.
 * One hash table holds both tiers' bookkeeping; each node sits on up to two LRU lists. */
#include "serve/serve.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ENTRY_MAGIC "vmsC0001"
#define HDR_LEN VMS_CACHE_ENTRY_HDR
#define TOUCH_EVERY_S 60

struct node {
	struct vms_hash128 key;
	struct node *hnext;
	/* memory tier */
	void *data;
	size_t len;
	struct node *mprev, *mnext;
	/* disk tier */
	uint64_t disk_size;	/* 0: not known on disk */
	time_t touched;
	struct node *dprev, *dnext;
};

struct lru {
	struct node *head, *tail; /* head: most recent */
};

struct vms_cache {
	char *dir;		/* <dir>/serve, NULL for memory only */
	uint64_t max_disk, max_mem;
	struct node **buckets;
	size_t nbuckets, nnodes;
	struct lru mem, disk;
	struct vms_cache_stats st;
};

/* ---- hash table --------------------------------------------------------------- */

static size_t bucket_of(const struct vms_cache *c, struct vms_hash128 k)
{
	return (size_t)(k.lo ^ (k.hi >> 7)) & (c->nbuckets - 1);
}

static int key_eq(struct vms_hash128 a, struct vms_hash128 b)
{
	return a.hi == b.hi && a.lo == b.lo;
}

static struct node *find(struct vms_cache *c, struct vms_hash128 k)
{
	for (struct node *n = c->buckets[bucket_of(c, k)]; n; n = n->hnext)
		if (key_eq(n->key, k))
			return n;
	return NULL;
}

static void grow(struct vms_cache *c)
{
	size_t nb = c->nbuckets * 2;
	struct node **b = vms_xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct node *n = c->buckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			size_t j = (size_t)(n->key.lo ^ (n->key.hi >> 7)) & (nb - 1);
			n->hnext = b[j];
			b[j] = n;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = nb;
}

static struct node *find_or_add(struct vms_cache *c, struct vms_hash128 k)
{
	struct node *n = find(c, k);
	if (n)
		return n;
	if (c->nnodes + 1 > c->nbuckets)
		grow(c);
	n = vms_xcalloc(1, sizeof(*n));
	n->key = k;
	size_t b = bucket_of(c, k);
	n->hnext = c->buckets[b];
	c->buckets[b] = n;
	c->nnodes++;
	return n;
}

/* Frees the node once neither tier holds it. */
static void maybe_drop(struct vms_cache *c, struct node *n)
{
	if (n->data || n->disk_size)
		return;
	struct node **p = &c->buckets[bucket_of(c, n->key)];
	while (*p != n)
		p = &(*p)->hnext;
	*p = n->hnext;
	c->nnodes--;
	free(n);
}

/* ---- LRU lists (one pair of link fields per tier) ----------------------------- */

#define LRU_FNS(name, prev, next)                                                         \
	static void name##_unlink(struct lru *l, struct node *n)                          \
	{                                                                                  \
		if (n->prev)                                                               \
			n->prev->next = n->next;                                           \
		else                                                                       \
			l->head = n->next;                                                 \
		if (n->next)                                                               \
			n->next->prev = n->prev;                                           \
		else                                                                       \
			l->tail = n->prev;                                                 \
		n->prev = n->next = NULL;                                                  \
	}                                                                                  \
	static void name##_push_front(struct lru *l, struct node *n)                      \
	{                                                                                  \
		n->prev = NULL;                                                            \
		n->next = l->head;                                                         \
		if (l->head)                                                               \
			l->head->prev = n;                                                 \
		l->head = n;                                                               \
		if (!l->tail)                                                              \
			l->tail = n;                                                       \
	}
LRU_FNS(mlru, mprev, mnext)
LRU_FNS(dlru, dprev, dnext)

/* ---- memory tier -------------------------------------------------------------- */

static void mem_drop(struct vms_cache *c, struct node *n)
{
	if (!n->data)
		return;
	mlru_unlink(&c->mem, n);
	c->st.mem_entries--;
	c->st.mem_bytes -= n->len;
	free(n->data);
	n->data = NULL;
	n->len = 0;
}

static void mem_store(struct vms_cache *c, struct node *n, const void *data, size_t len)
{
	mem_drop(c, n);
	/* An entry that would take more than a quarter of the memory tier would evict most of
	 * it; those are served from disk instead. */
	if (len > c->max_mem / 4)
		return;
	n->data = vms_xmalloc(len ? len : 1);
	memcpy(n->data, data, len);
	n->len = len;
	mlru_push_front(&c->mem, n);
	c->st.mem_entries++;
	c->st.mem_bytes += len;
	while (c->st.mem_bytes > c->max_mem && c->mem.tail && c->mem.tail != n) {
		struct node *v = c->mem.tail;
		mem_drop(c, v);
		maybe_drop(c, v);
	}
}

/* ---- disk tier ---------------------------------------------------------------- */

char *vms_cache_entry_path(const struct vms_cache *c, struct vms_hash128 key)
{
	if (!c->dir)
		return NULL;
	char hex[33];
	vms_hash128_hex(key, hex);
	return vms_xasprintf("%s/%.2s/%s", c->dir, hex, hex + 2);
}

static void put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static struct vms_hash128 entry_sum(const unsigned char *hdr, const void *data, size_t len)
{
	struct vms_hasher *h = vms_hasher_new();
	vms_hasher_update(h, hdr, 32);
	vms_hasher_update(h, data, len);
	struct vms_hash128 s = vms_hasher_digest(h);
	vms_hasher_free(h);
	return s;
}

/* The entry format, as pure functions: the disk tier and the remote tier
 * (serve/remote_tier.c) write and check the same bytes. */
void vms_cache_entry_header(struct vms_hash128 key, const void *data, size_t len,
			    unsigned char hdr[HDR_LEN])
{
	memcpy(hdr, ENTRY_MAGIC, 8);
	put_u64(hdr + 8, key.hi);
	put_u64(hdr + 16, key.lo);
	put_u64(hdr + 24, len);
	struct vms_hash128 s = entry_sum(hdr, data, len);
	put_u64(hdr + 32, s.hi);
	put_u64(hdr + 40, s.lo);
}

int vms_cache_entry_verify(struct vms_hash128 key, const void *buf, size_t n)
{
	const unsigned char *u = buf;
	if (n < HDR_LEN || memcmp(u, ENTRY_MAGIC, 8) || get_u64(u + 8) != key.hi ||
	    get_u64(u + 16) != key.lo || get_u64(u + 24) != n - HDR_LEN)
		return -1;
	struct vms_hash128 s = entry_sum(u, u + HDR_LEN, n - HDR_LEN);
	return get_u64(u + 32) == s.hi && get_u64(u + 40) == s.lo ? 0 : -1;
}

static void disk_forget(struct vms_cache *c, struct node *n)
{
	if (!n->disk_size)
		return;
	dlru_unlink(&c->disk, n);
	c->st.disk_entries--;
	c->st.disk_bytes -= n->disk_size;
	n->disk_size = 0;
}

static void disk_note(struct vms_cache *c, struct node *n, uint64_t size, time_t t)
{
	disk_forget(c, n);
	n->disk_size = size ? size : 1;
	n->touched = t;
	dlru_push_front(&c->disk, n);
	c->st.disk_entries++;
	c->st.disk_bytes += n->disk_size;
}

static void disk_evict(struct vms_cache *c, struct node *keep)
{
	while (c->st.disk_bytes > c->max_disk && c->disk.tail && c->disk.tail != keep) {
		struct node *v = c->disk.tail;
		char *p = vms_cache_entry_path(c, v->key);
		unlink(p);
		free(p);
		disk_forget(c, v);
		c->st.evicted++;
		maybe_drop(c, v);
	}
}

/* Whole file or nothing, without fsync (see the top of the file for why). */
static int write_entry(const char *path, const unsigned char *hdr, const void *data, size_t len)
{
	char *tmp = vms_xasprintf("%s.tmp.XXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		char *d = vms_dirname(path);
		vms_mkdir_p(d, 0700);
		free(d);
		strcpy(tmp + strlen(tmp) - 6, "XXXXXX"); /* a failed mkostemp spent the X's */
		fd = mkostemp(tmp, O_CLOEXEC);
	}
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return -e;
	}
	int err = 0;
	const void *parts[2] = { hdr, data };
	size_t lens[2] = { HDR_LEN, len };
	for (int i = 0; i < 2 && !err; i++)
		err = vms_write_all(fd, parts[i], lens[i]);
	err = vms_tmp_commit(fd, tmp, path, err);
	free(tmp);
	return err;
}

/* 1 valid (data/len filled), 0 absent, -1 corrupt or not a regular file, -2 unreadable
 * or over max bytes (left alone: a daemon with a larger bound may share the directory) */
static int read_entry(const char *path, struct vms_hash128 key, uint64_t max, void **data,
		      size_t *len)
{
	char *buf;
	size_t n;
	int r = vms_read_regular_file(path, max > SIZE_MAX ? SIZE_MAX : (size_t)max, &buf, &n);
	if (r == -ELOOP || r == -EISDIR || r == -EINVAL)
		return -1; /* a symlink, FIFO, device, directory: never an entry of ours */
	if (r < 0)
		return r == -ENOENT ? 0 : -2; /* unreadable: not ours to judge */
	if (vms_cache_entry_verify(key, buf, n) < 0) {
		free(buf);
		return -1;
	}
	memmove(buf, buf + HDR_LEN, n - HDR_LEN);
	*data = buf;
	*len = n - HDR_LEN;
	return 1;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static int parse_key(const char *sub, const char *name, struct vms_hash128 *k)
{
	char hex[33];
	if (strlen(sub) != 2 || strlen(name) != 30)
		return -1;
	memcpy(hex, sub, 2);
	memcpy(hex + 2, name, 31);
	uint64_t v[2] = { 0, 0 };
	for (int i = 0; i < 32; i++) {
		int d = hexval(hex[i]);
		if (d < 0)
			return -1;
		v[i / 16] = v[i / 16] << 4 | (uint64_t)d;
	}
	k->hi = v[0];
	k->lo = v[1];
	return 0;
}

struct scanned {
	struct vms_hash128 key;
	uint64_t size;
	struct timespec mtime;
};

static int by_mtime(const void *a, const void *b)
{
	const struct scanned *x = a, *y = b;
	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return (x->mtime.tv_nsec > y->mtime.tv_nsec) - (x->mtime.tv_nsec < y->mtime.tv_nsec);
}

/* Learns what is on disk; removes temporaries older than an hour (a crashed writer's:
 * a younger one may be another daemon's write in progress). */
static void scan(struct vms_cache *c)
{
	DIR *top = opendir(c->dir);
	if (!top)
		return;
	struct scanned *v = NULL;
	size_t nv = 0, cap = 0;
	time_t now = time(NULL);
	struct dirent *e;
	while ((e = readdir(top))) {
		if (strlen(e->d_name) != 2 || hexval(e->d_name[0]) < 0 || hexval(e->d_name[1]) < 0)
			continue;
		/* not through a symlink planted as a subdirectory */
		int sfd = openat(dirfd(top), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		DIR *d = sfd < 0 ? NULL : fdopendir(sfd);
		if (sfd >= 0 && !d)
			close(sfd);
		struct dirent *f;
		while (d && (f = readdir(d))) {
			if (f->d_name[0] == '.')
				continue;
			struct stat st;
			if (fstatat(dirfd(d), f->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
			    !S_ISREG(st.st_mode))
				continue;
			struct vms_hash128 k;
			if (parse_key(e->d_name, f->d_name, &k) < 0) {
				if (strstr(f->d_name, ".tmp.") && now - st.st_mtime > 3600)
					unlinkat(dirfd(d), f->d_name, 0);
				continue;
			}
			if (nv == cap) {
				cap = cap ? 2 * cap : 256;
				v = vms_xrealloc(v, cap * sizeof(*v));
			}
			v[nv++] = (struct scanned){ k, (uint64_t)st.st_size, st.st_mtim };
		}
		if (d)
			closedir(d);
	}
	closedir(top);
	if (nv)
		qsort(v, nv, sizeof(*v), by_mtime);
	for (size_t i = 0; i < nv; i++)
		disk_note(c, find_or_add(c, v[i].key), v[i].size, v[i].mtime.tv_sec);
	free(v);
	disk_evict(c, NULL);
}

/* ---- API ---------------------------------------------------------------------- */

int vms_cache_open(const struct vms_cache_opts *o, struct vms_cache **out)
{
	struct vms_cache *c = vms_xcalloc(1, sizeof(*c));
	c->max_disk = o->max_disk_bytes ? o->max_disk_bytes : 512ull << 20;
	c->max_mem = o->max_mem_bytes ? o->max_mem_bytes : 64ull << 20;
	c->nbuckets = 1024;
	c->buckets = vms_xcalloc(c->nbuckets, sizeof(*c->buckets));
	if (o->dir) {
		c->dir = vms_xasprintf("%s/serve", o->dir);
		int r = vms_mkdir_p(c->dir, 0700);
		if (r < 0) {
			vms_cache_close(c);
			return r;
		}
		if (access(c->dir, W_OK | X_OK) < 0) {
			int e = errno;
			vms_cache_close(c);
			return -e;
		}
		scan(c);
	}
	*out = c;
	return 0;
}

void vms_cache_close(struct vms_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct node *n = c->buckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			free(n->data);
			free(n);
		}
	}
	free(c->buckets);
	free(c->dir);
	free(c);
}

static void touch(struct vms_cache *c, struct node *n, int force)
{
	time_t now = time(NULL);
	if (!force && now - n->touched < TOUCH_EVERY_S)
		return;
	char *p = vms_cache_entry_path(c, n->key);
	utimensat(AT_FDCWD, p, NULL, AT_SYMLINK_NOFOLLOW);
	free(p);
	n->touched = now;
}

enum vms_cache_hit vms_cache_get(struct vms_cache *c, struct vms_hash128 key, void **data,
				 size_t *len)
{
	struct node *n = find(c, key);
	if (n && n->data) {
		mlru_unlink(&c->mem, n);
		mlru_push_front(&c->mem, n);
		if (n->disk_size) {
			dlru_unlink(&c->disk, n);
			dlru_push_front(&c->disk, n);
			touch(c, n, 0);
		}
		*data = vms_xmalloc(n->len ? n->len : 1);
		memcpy(*data, n->data, n->len);
		*len = n->len;
		c->st.hits_mem++;
		return VMS_CACHE_MEM;
	}
	if (!c->dir) {
		c->st.misses++;
		return VMS_CACHE_MISS;
	}
	/* Ask the disk even when the index does not know the key: another daemon sharing
	 * the directory may have written it. */
	char *path = vms_cache_entry_path(c, key);
	void *buf = NULL;
	size_t blen = 0;
	int r = read_entry(path, key, c->max_disk + HDR_LEN, &buf, &blen);
	if (r < 0 && r != -1) /* unreadable for another reason: treat as absent */
		r = 0;
	if (r == -1) {
		unlink(path);
		c->st.corrupt++;
	}
	free(path);
	if (r <= 0) {
		if (n) {
			disk_forget(c, n);
			maybe_drop(c, n);
		}
		c->st.misses++;
		return VMS_CACHE_MISS;
	}
	n = find_or_add(c, key);
	disk_note(c, n, blen + HDR_LEN, n->touched);
	touch(c, n, 1);
	mem_store(c, n, buf, blen);
	*data = buf;
	*len = blen;
	c->st.hits_disk++;
	return VMS_CACHE_DISK;
}

int vms_cache_put(struct vms_cache *c, struct vms_hash128 key, const void *data, size_t len)
{
	struct node *n = find_or_add(c, key);
	mem_store(c, n, data, len);
	c->st.stores++;
	int err = 0;
	/* An entry over the whole disk bound would evict everything else and still not fit;
	 * read_entry refuses such files, so they are not written either. */
	if (c->dir && len <= c->max_disk) {
		unsigned char hdr[HDR_LEN];
		vms_cache_entry_header(key, data, len, hdr);
		char *path = vms_cache_entry_path(c, key);
		err = write_entry(path, hdr, data, len);
		free(path);
		if (!err) {
			disk_note(c, n, len + HDR_LEN, time(NULL));
			disk_evict(c, n);
		}
	}
	maybe_drop(c, n);
	return err;
}

void vms_cache_get_stats(const struct vms_cache *c, struct vms_cache_stats *s)
{
	*s = c->st;
}
