/* The result cache through its API, on a real directory: survives a reopen, detects
 * truncated, bit-flipped and misplaced entries (and recomputes, never serves them),
 * keeps its size bounds with least-recently-used eviction, before and after a reopen,
 * and sweeps the temporaries of a crashed writer.
 * usage: test_serve_cache WORK_DIR */
#include <fcntl.h>
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
