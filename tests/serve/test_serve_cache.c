/* The result cache through its API, on a real directory: survives a reopen, detects
 * truncated, bit-flipped and misplaced entries (and recomputes, never serves them),
 * keeps its size bounds with least-recently-used eviction, before and after a reopen,
 * sweeps the temporaries of a crashed writer, and treats a FIFO, symlink or directory
 * planted at an entry's name as a prompt miss (a FIFO once hung the daemon in open()).
 * usage: test_serve_cache WORK_DIR */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "serve/serve.h"
#include "tests/testutil.h"


static struct vms_hash128 key(int i)
{
	char s[32];
	snprintf(s, sizeof(s), "key-%d", i);
	return vms_hash128(s, strlen(s));
}

static char *value(int i, size_t len)
{
	char *v = vms_xmalloc(len);
	for (size_t k = 0; k < len; k++)
		v[k] = (char)(i * 31 + (int)k * 7);
	return v;
}

static enum vms_cache_hit get_check(struct vms_cache *c, int i, size_t len)
{
	void *d = NULL;
	size_t n = 0;
	enum vms_cache_hit h = vms_cache_get(c, key(i), &d, &n);
	if (h != VMS_CACHE_MISS) {
		char *want = value(i, len);
		CHECK(n == len && !memcmp(d, want, len), "entry %d has the wrong bytes", i);
		free(want);
		free(d);
	}
	return h;
}

static void put(struct vms_cache *c, int i, size_t len)
{
	char *v = value(i, len);
	CHECK(vms_cache_put(c, key(i), v, len) == 0, "put %d", i);
	free(v);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	const char *dir = argv[1];
	vms_remove_tree(dir);
	struct vms_cache *c;
	struct vms_cache_opts o = { .dir = dir };
	struct vms_cache_stats st;

	/* 1. a reopen answers from disk */
	CHECK(vms_cache_open(&o, &c) == 0, "open");
	for (int i = 0; i < 10; i++)
		put(c, i, 1000 + (size_t)i);
	for (int i = 0; i < 10; i++)
		CHECK(get_check(c, i, 1000 + (size_t)i) == VMS_CACHE_MEM, "memory hit %d", i);
	CHECK(get_check(c, 99, 1) == VMS_CACHE_MISS, "a miss");
	vms_cache_close(c);
	CHECK(vms_cache_open(&o, &c) == 0, "reopen");
	vms_cache_get_stats(c, &st);
	CHECK(st.disk_entries == 10, "disk entries after reopen: %llu", (unsigned long long)st.disk_entries);
	for (int i = 0; i < 10; i++)
		CHECK(get_check(c, i, 1000 + (size_t)i) == VMS_CACHE_DISK, "disk hit %d", i);
	CHECK(get_check(c, 3, 1003) == VMS_CACHE_MEM, "promoted to memory");
	vms_cache_close(c);

	/* 2. corruption: truncated, flipped, misplaced, emptied */
	char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL, *p5 = NULL;
	CHECK(vms_cache_open(&o, &c) == 0, "reopen");
	p1 = vms_cache_entry_path(c, key(1));
	p2 = vms_cache_entry_path(c, key(2));
	p3 = vms_cache_entry_path(c, key(3));
	p4 = vms_cache_entry_path(c, key(4));
	p5 = vms_cache_entry_path(c, key(5));
	vms_cache_close(c);
	struct stat sb;
	stat(p1, &sb);
	CHECK(truncate(p1, sb.st_size - 1) == 0, "truncate");
	int fd = open(p2, O_RDWR);
	unsigned char b;
	CHECK(pread(fd, &b, 1, 600) == 1, "read");
	b ^= 1;
	CHECK(pwrite(fd, &b, 1, 600) == 1, "write");
	close(fd);
	char *d4;
	size_t n4;
	vms_read_file(p4, &d4, &n4);
	vms_write_file_atomic(p3, d4, n4, 0600); /* entry 4's bytes under entry 3's name */
	free(d4);
	CHECK(truncate(p5, 0) == 0, "empty");
	CHECK(vms_cache_open(&o, &c) == 0, "reopen");
	CHECK(get_check(c, 1, 1001) == VMS_CACHE_MISS, "truncated entry served");
	CHECK(get_check(c, 2, 1002) == VMS_CACHE_MISS, "flipped entry served");
	CHECK(get_check(c, 3, 1003) == VMS_CACHE_MISS, "misplaced entry served");
	CHECK(get_check(c, 5, 1005) == VMS_CACHE_MISS, "empty entry served");
	CHECK(get_check(c, 4, 1004) == VMS_CACHE_DISK, "the intact entry");
	vms_cache_get_stats(c, &st);
	CHECK(st.corrupt == 4, "corrupt count %llu", (unsigned long long)st.corrupt);
	CHECK(access(p1, F_OK) < 0 && access(p2, F_OK) < 0, "corrupt files not removed");
	put(c, 1, 1001); /* recomputed */
	CHECK(get_check(c, 1, 1001) == VMS_CACHE_MEM, "recomputed entry");
	vms_cache_close(c);
	free(p1), free(p2), free(p3), free(p4), free(p5);

	/* 3. size bounds, least recently used first, across a reopen */
	char *d2 = vms_xasprintf("%s/bounded", dir);
	struct vms_cache_opts ob = { .dir = d2, .max_disk_bytes = 100 * 1024,
				     .max_mem_bytes = 40 * 1024 };
	CHECK(vms_cache_open(&ob, &c) == 0, "open bounded");
	for (int i = 0; i < 8; i++)
		put(c, 100 + i, 10000);
	get_check(c, 100, 10000); /* 100 is now recently used */
	for (int i = 8; i < 20; i++) {
		/* file times tick every few milliseconds: keep the order unambiguous */
		usleep(15000);
		put(c, 100 + i, 10000);
		if (i % 3 == 0)
			get_check(c, 100, 10000);
	}
	vms_cache_get_stats(c, &st);
	CHECK(st.disk_bytes <= 100 * 1024, "disk over its bound: %llu", (unsigned long long)st.disk_bytes);
	CHECK(st.mem_bytes <= 40 * 1024, "memory over its bound: %llu", (unsigned long long)st.mem_bytes);
	CHECK(st.evicted >= 10, "evictions %llu", (unsigned long long)st.evicted);
	CHECK(get_check(c, 100, 10000) != VMS_CACHE_MISS, "the recently used entry was evicted");
	CHECK(get_check(c, 101, 10000) == VMS_CACHE_MISS, "an old entry survived");
	CHECK(get_check(c, 119, 10000) != VMS_CACHE_MISS, "the newest entry was evicted");
	vms_cache_close(c);
	/* reopening with a smaller bound evicts the oldest by use time */
	ob.max_disk_bytes = 40 * 1024;
	CHECK(vms_cache_open(&ob, &c) == 0, "reopen bounded");
	vms_cache_get_stats(c, &st);
	CHECK(st.disk_bytes <= 40 * 1024, "disk over its new bound: %llu", (unsigned long long)st.disk_bytes);
	CHECK(get_check(c, 119, 10000) == VMS_CACHE_DISK, "the newest entry did not survive the reopen");
	vms_cache_close(c);

	/* 4. a crashed writer's temporary is swept (only when old) */
	CHECK(vms_cache_open(&ob, &c) == 0, "reopen");
	char *e = vms_cache_entry_path(c, key(119));
	vms_cache_close(c);
	char *old = vms_xasprintf("%s.tmp.AAAAAA", e), *young = vms_xasprintf("%s.tmp.BBBBBB", e);
	vms_write_file_atomic(old, "x", 1, 0600);
	vms_write_file_atomic(young, "x", 1, 0600);
	struct timespec ts[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
	utimensat(AT_FDCWD, old, ts, 0);
	CHECK(vms_cache_open(&ob, &c) == 0, "reopen");
	vms_cache_close(c);
	CHECK(access(old, F_OK) < 0, "the old temporary was not swept");
	CHECK(access(young, F_OK) == 0, "a young temporary (another writer's) was swept");
	free(old), free(young), free(e), free(d2);

	/* 6. not a regular file at an entry's name: a FIFO (whose blocking open() would
	 * hang the daemon), a symlink to a valid-looking entry outside the cache, a
	 * directory. Each is a prompt miss, counted, removed where unlink can remove it,
	 * and a fresh answer is then stored and served. alarm(): a regression that blocks
	 * kills the test instead of hanging it. */
	char *d3 = vms_xasprintf("%s/planted", dir);
	struct vms_cache_opts op = { .dir = d3 };
	CHECK(vms_cache_open(&op, &c) == 0, "open planted");
	for (int i = 300; i < 303; i++)
		put(c, i, 2000);
	char *pf = vms_cache_entry_path(c, key(300)), *pl = vms_cache_entry_path(c, key(301));
	char *pd = vms_cache_entry_path(c, key(302));
	vms_cache_close(c);
	char *outside = vms_xasprintf("%s/outside-entry", dir), *ob_ = NULL;
	size_t on = 0;
	CHECK(vms_read_file(pl, &ob_, &on) == 0, "read entry 301");
	CHECK(vms_write_file_atomic(outside, ob_, on, 0600) == 0, "copy entry 301 outside");
	CHECK(unlink(pf) == 0 && mkfifo(pf, 0600) == 0, "plant a FIFO");
	CHECK(unlink(pl) == 0 && symlink(outside, pl) == 0, "plant a symlink");
	CHECK(unlink(pd) == 0 && mkdir(pd, 0700) == 0, "plant a directory");
	alarm(20);
	CHECK(vms_cache_open(&op, &c) == 0, "reopen planted");
	vms_cache_get_stats(c, &st);
	CHECK(st.disk_entries == 0, "scan took a non-file for an entry: %llu", (unsigned long long)st.disk_entries);
	CHECK(get_check(c, 300, 2000) == VMS_CACHE_MISS, "a FIFO served");
	CHECK(get_check(c, 301, 2000) == VMS_CACHE_MISS, "an entry served through a symlink");
	CHECK(get_check(c, 302, 2000) == VMS_CACHE_MISS, "a directory served");
	vms_cache_get_stats(c, &st);
	CHECK(st.corrupt == 3, "planted count %llu", (unsigned long long)st.corrupt);
	struct stat ls;
	CHECK(lstat(pf, &ls) < 0 && errno == ENOENT, "the FIFO was not removed");
	CHECK(lstat(pl, &ls) < 0 && errno == ENOENT, "the symlink was not removed");
	char *ob2 = NULL;
	size_t on2 = 0;
	CHECK(vms_read_file(outside, &ob2, &on2) == 0 && on2 == on && !memcmp(ob_, ob2, on),
	      "the symlink's target was touched");
	free(ob_), free(ob2);
	CHECK(rmdir(pd) == 0, "rmdir the planted directory");
	for (int i = 300; i < 303; i++) {
		put(c, i, 2000);
		CHECK(get_check(c, i, 2000) == VMS_CACHE_MEM, "fresh entry %d", i);
	}
	vms_cache_close(c);
	CHECK(vms_cache_open(&op, &c) == 0, "reopen planted");
	for (int i = 300; i < 303; i++)
		CHECK(get_check(c, i, 2000) == VMS_CACHE_DISK, "fresh entry %d from disk", i);
	vms_cache_get_stats(c, &st);
	uint64_t before = st.disk_entries;
	vms_cache_close(c);
	/* a subdirectory that is a symlink is not scanned through */
	char hex[33];
	vms_hash128_hex(key(400), hex);
	char *osub = vms_xasprintf("%s/outside-sub", dir);
	char *lsub = vms_xasprintf("%s/serve/%.2s", d3, hex);
	char *oent = vms_xasprintf("%s/%s", osub, hex + 2);
	CHECK(access(lsub, F_OK) < 0, "pick another key: its subdirectory exists");
	CHECK(mkdir(osub, 0700) == 0 && symlink(osub, lsub) == 0, "plant a symlinked subdirectory");
	CHECK(vms_write_file_atomic(oent, "x", 1, 0600) == 0, "a file under it");
	CHECK(vms_cache_open(&op, &c) == 0, "reopen planted");
	vms_cache_get_stats(c, &st);
	CHECK(st.disk_entries == before, "scanned through a symlinked subdirectory: %llu",
	      (unsigned long long)st.disk_entries);
	vms_cache_close(c);
	alarm(0);
	free(pf), free(pl), free(pd), free(outside), free(d3), free(osub), free(lsub), free(oent);

	/* 7. an entry over the disk bound is not written, and one planted is not read */
	char *d4b = vms_xasprintf("%s/small", dir);
	struct vms_cache_opts os = { .dir = d4b, .max_disk_bytes = 8 * 1024, .max_mem_bytes = 1024 };
	struct vms_cache_opts obig = { .dir = d4b };
	CHECK(vms_cache_open(&os, &c) == 0, "open small");
	put(c, 500, 10000);
	vms_cache_get_stats(c, &st);
	CHECK(st.disk_entries == 0, "an entry over the disk bound was written");
	struct vms_cache *cb;
	CHECK(vms_cache_open(&obig, &cb) == 0, "open big");
	put(cb, 501, 10000);
	vms_cache_close(cb);
	CHECK(get_check(c, 501, 10000) == VMS_CACHE_MISS, "an entry over the read bound served");
	vms_cache_close(c);
	CHECK(vms_cache_open(&obig, &cb) == 0, "open big");
	CHECK(get_check(cb, 501, 10000) == VMS_CACHE_DISK, "the big daemon's entry was removed");
	vms_cache_close(cb);
	free(d4b);

	/* 5. memory only */
	struct vms_cache_opts om = { .dir = NULL, .max_mem_bytes = 1 << 20 };
	CHECK(vms_cache_open(&om, &c) == 0, "memory-only");
	put(c, 7, 500);
	CHECK(get_check(c, 7, 500) == VMS_CACHE_MEM, "memory-only hit");
	CHECK(vms_cache_entry_path(c, key(7)) == NULL, "memory-only has no files");
	vms_cache_close(c);

	if (!failures)
		printf("cache: ok\n");
	return test_exit();
}
