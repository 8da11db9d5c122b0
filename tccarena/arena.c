/* The arena TCC's heap is redirected to.
 *
 * A type check allocates a few tens of megabytes in many small pieces and then throws
 * all of it away at once, so per-object bookkeeping is wasted work: allocation is a
 * pointer bump inside large mmap'ed chunks, free() is a no-op (except that freeing the
 * most recent block gives its bytes back, which turns TCC's many short-lived buffers into
 * a stack), realloc() grows the most recent block in place, and a reset forgets
 * everything by moving the bump pointer back to the start of the first chunk: O(1),
 * with every page already faulted in for the next check. Each block carries a 16-byte
 * header holding its size, which realloc needs.
 *
 * calloc() must return zeroes, but memory is reused after a reset; each chunk remembers
 * the highest address it ever handed out ("high water"), above which the pages are still
 * the zero pages mmap gave, so only the part below needs clearing.
 *
 * A cap turns a runaway allocation into a clean failure: past it, allocations return
 * NULL, TCC reports "memory full" through its error callback and unwinds, and the caller
 * sees the cap-hit flag. Nothing aborts.
 *
 * Under AddressSanitizer, free space and freed blocks are poisoned and every block is
 * followed by a redzone, so the (intercepted) libc calls TCC makes on arena memory —
 * memcpy, strcpy, read... — are checked as they would be on the heap; TCC's own code is
 * not instrumented either way. Chunks come from mmap, which ASan does not track, so no
 * allocator interposition is needed.
 */
#include "tccarena/internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#if defined(__SANITIZE_ADDRESS__)
#define VMS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define VMS_ASAN 1
#endif
#endif
#ifdef VMS_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define REDZONE 32
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define REDZONE 0
#endif

#define ALIGN 16
#define HDR 16
#define CHUNK_SIZE ((size_t)64 << 20)

struct chunk {
	struct chunk *next;
	size_t size;		/* whole mapping, this header included */
	char *hwm;		/* above this, the chunk is untouched zero pages */
	char *data;		/* first usable byte */
};

struct block_hdr {
	size_t size;		/* requested size */
	size_t pad;
};

static struct {
	struct chunk *first, *cur;
	char *ptr, *end;
	size_t in_use;			/* since reset */
	size_t cap, cap_base;		/* cap 0: none */
	size_t cap_peak;		/* most bytes in use past cap_base */
	int cap_hit;
	struct vms_arena_stats st;
} A;

static size_t round_up(size_t n, size_t a)
{
	return (n + a - 1) & ~(a - 1);
}

static struct chunk *chunk_new(size_t min_data)
{
	size_t size = round_up(sizeof(struct chunk), ALIGN) + min_data;
	size = size < CHUNK_SIZE ? CHUNK_SIZE : round_up(size, (size_t)2 << 20);
	void *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	/* Huge pages make fork() copy one page-table entry per 2 MiB of parsed headers
	 * instead of 512 (see vms_arena_prepare_fork). VMSLIM_ARENA_NO_THP=1 turns them
	 * off, to measure what they buy. */
	if (!getenv("VMSLIM_ARENA_NO_THP"))
		madvise(m, size, MADV_HUGEPAGE);
	struct chunk *c = m;
	c->next = NULL;
	c->size = size;
	c->data = (char *)m + round_up(sizeof(struct chunk), ALIGN);
	c->hwm = c->data;
	POISON(c->data, (char *)m + size - c->data);
	A.st.mapped += size;
	return c;
}

static void use_chunk(struct chunk *c)
{
	A.cur = c;
	A.ptr = c->data;
	A.end = (char *)c + c->size;
}

/* Moves to the next chunk able to hold `need` bytes, mapping one if none is. */
static int next_chunk(size_t need)
{
	struct chunk *c = A.cur ? A.cur->next : A.first;
	if (!A.cur && c && (size_t)((char *)c + c->size - c->data) >= need) {
		use_chunk(c);
		return 0;
	}
	/* A later chunk that is too small is skipped for this allocation only; the order of
	 * the list is kept so that a reset walks the same chunks again. */
	while (c && (size_t)((char *)c + c->size - c->data) < need)
		c = c->next;
	if (!c || !A.cur) {
		struct chunk *n = chunk_new(need);
		if (!n)
			return -1;
		if (!A.first) {
			A.first = n;
		} else if (A.cur) {
			n->next = A.cur->next;
			A.cur->next = n;
		} else {
			n->next = A.first;
			A.first = n;
		}
		c = n;
	}
	use_chunk(c);
	return 0;
}

/* No request this large can succeed, and it would overflow block_span(). */
#define MAX_BLOCK (SIZE_MAX / 2)

/* Bumps a block; *fresh is where the chunk's untouched zero pages began before it. */
static void *alloc_block(size_t n, char **fresh)
{
	if (n > MAX_BLOCK) {
		errno = ENOMEM;
		return NULL;
	}
	size_t need = HDR + round_up(n ? n : 1, ALIGN) + REDZONE;
	if (A.cap && A.in_use + need > A.cap_base + A.cap) {
		A.cap_hit = 1;
		A.st.cap_hits++;
		errno = ENOMEM;
		return NULL;
	}
	if (!A.cur || (size_t)(A.end - A.ptr) < need) {
		if (next_chunk(need) < 0) {
			errno = ENOMEM;
			return NULL;
		}
	}
	char *h = A.ptr;
	*fresh = A.cur->hwm;
	A.ptr += need;
	if (A.ptr > A.cur->hwm)
		A.cur->hwm = A.ptr;
	A.in_use += need;
	if (A.in_use > A.st.peak)
		A.st.peak = A.in_use;
	if (A.in_use > A.cap_base && A.in_use - A.cap_base > A.cap_peak)
		A.cap_peak = A.in_use - A.cap_base;
	A.st.allocs++;
	UNPOISON(h, HDR + n);
	((struct block_hdr *)h)->size = n;
	return h + HDR;
}

void *vms_arena_alloc(size_t n)
{
	char *fresh;
	return alloc_block(n, &fresh);
}

static struct block_hdr *hdr_of(void *p)
{
	return (struct block_hdr *)((char *)p - HDR);
}

static size_t block_span(size_t n)
{
	return HDR + round_up(n ? n : 1, ALIGN) + REDZONE;
}

/* The block is the last one handed out in the current chunk. */
static int is_last(void *p)
{
	return A.cur && (char *)hdr_of(p) + block_span(hdr_of(p)->size) == A.ptr &&
	       (char *)p > A.cur->data && (char *)p < A.end;
}

void vms_arena_free(void *p)
{
	if (!p)
		return;
	A.st.frees++;
	size_t n = hdr_of(p)->size;
	if (is_last(p)) {
		size_t span = block_span(n);
		A.ptr -= span;
		A.in_use -= span;
		POISON(A.ptr, span);
	} else {
		POISON(p, n);
	}
}

void *vms_arena_calloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size) {
		errno = ENOMEM;
		return NULL;
	}
	size_t total = n * size;
	char *fresh;
	char *p = alloc_block(total, &fresh);
	if (p && p < fresh)
		memset(p, 0, (size_t)((p + total < fresh ? p + total : fresh) - p));
	return p;
}

void *vms_arena_realloc(void *p, size_t n)
{
	if (!p)
		return vms_arena_alloc(n);
	A.st.reallocs++;
	size_t old = hdr_of(p)->size;
	if (n > MAX_BLOCK) {
		errno = ENOMEM;
		return NULL;
	}
	if (is_last(p)) {
		size_t old_span = block_span(old), new_span = block_span(n);
		char *h = (char *)hdr_of(p);
		if ((size_t)(A.end - h) >= new_span &&
		    (!A.cap || new_span <= old_span ||
		     A.in_use + (new_span - old_span) <= A.cap_base + A.cap)) {
			A.in_use = A.in_use - old_span + new_span;
			if (A.in_use > A.st.peak)
				A.st.peak = A.in_use;
			if (A.in_use > A.cap_base && A.in_use - A.cap_base > A.cap_peak)
				A.cap_peak = A.in_use - A.cap_base;
			A.ptr = h + new_span;
			if (A.ptr > A.cur->hwm)
				A.cur->hwm = A.ptr;
			if (n < old)
				POISON((char *)p + n, old - n);
			UNPOISON(p, n);
			hdr_of(p)->size = n;
			A.st.reallocs_in_place++;
			return p;
		}
	} else if (n <= old) {
		POISON((char *)p + n, old - n);
		hdr_of(p)->size = n;
		A.st.reallocs_in_place++;
		return p;
	}
	void *q = vms_arena_alloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, old < n ? old : n);
	POISON(p, old);
	return q;
}

void vms_arena_reset(void)
{
	A.st.resets++;
	A.in_use = 0;
	A.cap = 0;
	A.cap_base = 0;
	A.cap_peak = 0;
	A.cap_hit = 0;
	if (A.first) {
#ifdef VMS_ASAN
		for (struct chunk *c = A.first; c; c = c->next)
			POISON(c->data, c->hwm - c->data);
#endif
		use_chunk(A.first);
	}
}

void vms_arena_set_cap(size_t cap)
{
	A.cap = cap;
	A.cap_base = A.in_use;
	A.cap_peak = 0;
	A.cap_hit = 0;
}

int vms_arena_cap_hit(void)
{
	return A.cap_hit;
}

size_t vms_arena_used_since_cap(void)
{
	return A.cap_peak;
}

void vms_tcc_arena_stats(struct vms_arena_stats *s)
{
	*s = A.st;
	s->in_use = A.in_use;
}

/* The snapshot helper forks once per request. Its parsed headers sit in huge pages, so
 * the fork is cheap and a child's write into them splits one 2 MiB entry and copies a
 * small page. The rest of the current chunk, where children allocate, is switched to
 * small pages: a child's first allocation must not fault in and clear 2 MiB. */
void vms_arena_prepare_fork(void)
{
	if (!A.cur)
		return;
	uintptr_t from = ((uintptr_t)A.ptr + ((2u << 20) - 1)) & ~(uintptr_t)((2u << 20) - 1);
	uintptr_t to = (uintptr_t)A.cur + A.cur->size;
	if (from < to)
		madvise((void *)from, to - from, MADV_NOHUGEPAGE);
}

int vms_arena_owns(const void *p)
{
	for (struct chunk *c = A.first; c && p; c = c->next)
		if ((const char *)p > c->data && (const char *)p < (const char *)c + c->size)
			return 1;
	return 0;
}

