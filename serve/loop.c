/* The event loop (loop.h): epoll for descriptors, a table of timers, no protocol.
 *
 * Descriptors. The table is indexed by fd and grows to the largest one registered, so
 * a callback is found in O(1) and nothing caps how many are watched (the language
 * server used to poll a fixed array of 65 and never read the 66th worker). epoll is
 * level-triggered here: a callback that leaves data unread is called again on the next
 * pass, which is what lets callers bound the work done per wake-up.
 *
 * Stale events. One epoll_wait returns a batch; a callback may close a descriptor whose
 * event comes later in the same batch, and the kernel may hand the same number to a new
 * connection before the batch is done. Each slot therefore carries a generation,
 * bumped on every removal, and the event's data holds (generation, fd): an event whose
 * generation is no longer the slot's is dropped.
 *
 * Regular files. epoll refuses them (EPERM) while poll(2) calls them always ready; the
 * language server may be started with a file on stdin, so such a descriptor is kept
 * aside, reported ready on every pass, and makes the loop not sleep.
 *
 * Timers. An unsorted array, as in ae: the loop scans it for the nearest time to bound
 * its sleep and for the timers that are due. The daemon and the language server hold
 * one timer per running job and a few of their own, so a scan is cheaper than keeping
 * a heap in order. Due timers fire earliest first; a timer added while timers fire
 * waits for the next pass, and one that asks to fire again at once does not fire twice
 * in one pass, so a pass always ends. */
#include "serve/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/common.h"

struct slot {
	loop_fd_fn *fn;
	void *data;
	int mask;
	uint32_t gen;
	unsigned used : 1;
	unsigned always : 1;	/* a regular file: ready on every pass, not in epoll */
};

struct timer {
	uint64_t id;
	double at;
	uint64_t fired_pass;	/* the pass it last fired in */
	loop_timer_fn *fn;
	void *data;
};

struct loop {
	int ep;
	struct slot *slots;
	size_t nslots;		/* table size: one past the largest fd seen */
	size_t nused, nalways;
	struct epoll_event *evs;
	size_t nevs;
	struct timer *timers;
	size_t ntimers, timers_cap;
	uint64_t last_timer_id, pass;
	loop_hook_fn *before;
	void *before_data;
	int stop;
};

struct loop *loop_new(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return NULL;
	struct loop *lp = vms_xcalloc(1, sizeof(*lp));
	lp->ep = ep;
	lp->nevs = 64;
	lp->evs = vms_xcalloc(lp->nevs, sizeof(*lp->evs));
	return lp;
}

void loop_free(struct loop *lp)
{
	if (!lp)
		return;
	close(lp->ep);
	free(lp->slots);
	free(lp->evs);
	free(lp->timers);
	free(lp);
}

static uint32_t to_epoll(int mask)
{
	return (mask & LOOP_READ ? EPOLLIN : 0) | (mask & LOOP_WRITE ? EPOLLOUT : 0);
}

static int from_epoll(uint32_t ev)
{
	return (ev & EPOLLIN ? LOOP_READ : 0) | (ev & EPOLLOUT ? LOOP_WRITE : 0) |
	       (ev & (EPOLLHUP | EPOLLERR) ? LOOP_HUP : 0);
}

static struct epoll_event event_for(const struct slot *s, int fd)
{
	struct epoll_event ev = { .events = to_epoll(s->mask) };
	ev.data.u64 = (uint64_t)s->gen << 32 | (uint32_t)fd;
	return ev;
}

int loop_add_fd(struct loop *lp, int fd, int mask, loop_fd_fn *fn, void *data)
{
	if (fd < 0)
		return -EBADF;
	if ((size_t)fd >= lp->nslots) {
		size_t n = lp->nslots ? lp->nslots : 64;
		while (n <= (size_t)fd)
			n *= 2;
		lp->slots = vms_xrealloc(lp->slots, n * sizeof(*lp->slots));
		memset(lp->slots + lp->nslots, 0, (n - lp->nslots) * sizeof(*lp->slots));
		lp->nslots = n;
	}
	struct slot *s = &lp->slots[fd];
	if (s->used)
		loop_del_fd(lp, fd);
	s->fn = fn;
	s->data = data;
	s->mask = mask;
	struct epoll_event ev = event_for(s, fd);
	if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		if (errno != EPERM)
			return -errno;
		s->always = 1;
		lp->nalways++;
	}
	s->used = 1;
	lp->nused++;
	if (lp->nevs < lp->nused) {
		lp->nevs = lp->nused * 2;
		lp->evs = vms_xrealloc(lp->evs, lp->nevs * sizeof(*lp->evs));
	}
	return 0;
}

static struct slot *slot_of(struct loop *lp, int fd)
{
	return fd >= 0 && (size_t)fd < lp->nslots && lp->slots[fd].used ? &lp->slots[fd] : NULL;
}

void loop_set_mask(struct loop *lp, int fd, int mask)
{
	struct slot *s = slot_of(lp, fd);
	if (!s || s->mask == mask)
		return;
	s->mask = mask;
	if (!s->always) {
		struct epoll_event ev = event_for(s, fd);
		epoll_ctl(lp->ep, EPOLL_CTL_MOD, fd, &ev);
	}
}

void loop_del_fd(struct loop *lp, int fd)
{
	struct slot *s = slot_of(lp, fd);
	if (!s)
		return;
	if (s->always)
		lp->nalways--;
	else
		epoll_ctl(lp->ep, EPOLL_CTL_DEL, fd, NULL);
	uint32_t gen = s->gen + 1;
	memset(s, 0, sizeof(*s));
	s->gen = gen;
	lp->nused--;
}

uint64_t loop_add_timer(struct loop *lp, double at_ms, loop_timer_fn *fn, void *data)
{
	if (lp->ntimers == lp->timers_cap) {
		lp->timers_cap = lp->timers_cap ? lp->timers_cap * 2 : 16;
		lp->timers = vms_xrealloc(lp->timers, lp->timers_cap * sizeof(*lp->timers));
	}
	uint64_t id = ++lp->last_timer_id;
	lp->timers[lp->ntimers++] = (struct timer){ .id = id, .at = at_ms, .fn = fn, .data = data };
	return id;
}

static struct timer *timer_of(struct loop *lp, uint64_t id)
{
	for (size_t i = 0; id && i < lp->ntimers; i++)
		if (lp->timers[i].id == id)
			return &lp->timers[i];
	return NULL;
}

void loop_del_timer(struct loop *lp, uint64_t id)
{
	struct timer *t = timer_of(lp, id);
	if (t)
		*t = lp->timers[--lp->ntimers];
}

void loop_set_before_sleep(struct loop *lp, loop_hook_fn *fn, void *data)
{
	lp->before = fn;
	lp->before_data = data;
}

void loop_stop(struct loop *lp)
{
	lp->stop = 1;
}

/* How long to sleep: until the nearest timer (rounded up, so that waking finds it due),
 * not at all with a regular file to report, and never past max_ms when that is >= 0. */
static int wait_ms(struct loop *lp, int max_ms)
{
	if (lp->nalways)
		return 0;
	int ms = max_ms;
	double now = vms_now_ms();
	for (size_t i = 0; i < lp->ntimers; i++) {
		double d = lp->timers[i].at - now;
		int t = d <= 0 ? 0 : d >= 1e9 ? 1000000000 : (int)d + 1;
		if (ms < 0 || t < ms)
			ms = t;
	}
	return ms;
}

static void fire_timers(struct loop *lp, uint64_t last_id)
{
	for (;;) {
		double now = vms_now_ms();
		struct timer *due = NULL;
		for (size_t i = 0; i < lp->ntimers; i++) {
			struct timer *t = &lp->timers[i];
			if (t->at <= now && t->id <= last_id && t->fired_pass != lp->pass &&
			    (!due || t->at < due->at))
				due = t;
		}
		if (!due)
			return;
		uint64_t id = due->id;
		due->fired_pass = lp->pass;
		double again = due->fn(lp, id, due->data);
		/* the callback may have added or removed timers: find it again */
		struct timer *t = timer_of(lp, id);
		if (!t)
			continue;
		if (again < 0)
			loop_del_timer(lp, id);
		else
			t->at = vms_now_ms() + again;
	}
}

int loop_run_once(struct loop *lp, int max_ms)
{
	lp->pass++;
	if (lp->before)
		lp->before(lp, lp->before_data);
	if (lp->stop) /* the hook ended the loop: no reason to sleep first */
		return 0;
	uint64_t last_id = lp->last_timer_id;
	int n = epoll_wait(lp->ep, lp->evs, (int)lp->nevs, wait_ms(lp, max_ms));
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		int fd = (int)(uint32_t)lp->evs[i].data.u64;
		uint32_t gen = (uint32_t)(lp->evs[i].data.u64 >> 32);
		struct slot *s = slot_of(lp, fd);
		if (s && s->gen == gen)
			s->fn(lp, fd, from_epoll(lp->evs[i].events), s->data);
	}
	/* regular files: ready for whatever they wait for, every pass */
	for (size_t fd = 0; lp->nalways && fd < lp->nslots; fd++) {
		struct slot *s = &lp->slots[fd];
		if (s->used && s->always && s->mask)
			s->fn(lp, (int)fd, s->mask, s->data);
	}
	fire_timers(lp, last_id);
	return 0;
}

int loop_run(struct loop *lp)
{
	int err = 0;
	while (!lp->stop && err == 0)
		err = loop_run_once(lp, -1);
	lp->stop = 0;
	return err;
}
