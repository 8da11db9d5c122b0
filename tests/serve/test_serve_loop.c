/* serve/loop.c on its own: hundreds of descriptors and timers at once, stale events,
 * hang-ups with an empty mask, regular files, and the nearest timer bounding the sleep.
 *
 * usage: test_serve_loop
 *
 * The language server's old loop polled a fixed array of 65 and never read the 66th
 * worker; here 200 pipes are all pending at once, each written before the loop runs,
 * and every one must be read in the first pass. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "serve/loop.h"
#include "tests/testutil.h"


#define NPIPES 200
#define NTIMERS 200

struct pipe_case {
	int r, w;
	int reads;
	char got;
};

static void on_pipe(struct loop *lp, int fd, int events, void *data)
{
	struct pipe_case *p = data;
	CHECK(events & LOOP_READ, "pipe %d: events %d without LOOP_READ", fd, events);
	if (read(fd, &p->got, 1) == 1)
		p->reads++;
	loop_del_fd(lp, fd);
	close(fd);
	p->r = -1;
}

static double last_fired;
static int timers_fired, order_broken;

static double on_timer(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	double *at = data;
	if (*at < last_fired)
		order_broken++;
	last_fired = *at;
	timers_fired++;
	return LOOP_TIMER_DONE;
}

static void many(void)
{
	struct loop *lp = loop_new();
	static struct pipe_case pc[NPIPES];
	for (int i = 0; i < NPIPES; i++) {
		int p[2];
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
			CHECK(0, "pipe %d: %s", i, strerror(errno));
			return;
		}
		pc[i] = (struct pipe_case){ .r = p[0], .w = p[1] };
		CHECK(loop_add_fd(lp, p[0], LOOP_READ, on_pipe, &pc[i]) == 0, "add %d", i);
		char c = (char)('a' + i % 26);
		CHECK(write(p[1], &c, 1) == 1, "write %d", i);
	}
	/* timers in a scrambled order over the next 40 ms; they must fire sorted */
	static double at[NTIMERS];
	double t0 = vms_now_ms();
	for (int i = 0; i < NTIMERS; i++) {
		at[i] = t0 + (i * 37) % 40;
		loop_add_timer(lp, at[i], on_timer, &at[i]);
	}
	CHECK(loop_run_once(lp, 0) == 0, "first pass");
	int read_all = 0;
	for (int i = 0; i < NPIPES; i++)
		read_all += pc[i].reads == 1 && pc[i].got == (char)('a' + i % 26);
	CHECK(read_all == NPIPES, "one pass read %d of %d pending pipes", read_all, NPIPES);
	for (int pass = 0; timers_fired < NTIMERS && pass < 1000; pass++)
		loop_run_once(lp, -1);
	double took = vms_now_ms() - t0;
	CHECK(timers_fired == NTIMERS, "%d of %d timers fired", timers_fired, NTIMERS);
	CHECK(!order_broken, "timers fired out of order %d times", order_broken);
	CHECK(took >= 39, "the last timer fired early (%.1f ms)", took);
	for (int i = 0; i < NPIPES; i++)
		close(pc[i].w);
	loop_free(lp);
}

/* A and B both readable in one batch: whichever runs first closes the other and puts a
 * fresh pipe (likely the same fd number) in its place. The closed one's event must not
 * reach anyone, the fresh pipe's callback included (it has nothing to read). */
struct stale {
	int a[2], b[2], fresh[2];
	int fired_a, fired_b, fired_fresh;
};
static struct stale st;

static void on_fresh(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)fd, (void)events, (void)data;
	st.fired_fresh++;
}

static void on_ab(struct loop *lp, int fd, int events, void *data)
{
	(void)events, (void)data;
	int *other = fd == st.a[0] ? st.b : st.a;
	(*(fd == st.a[0] ? &st.fired_a : &st.fired_b))++;
	if (other[0] < 0)
		return;
	loop_del_fd(lp, other[0]);
	close(other[0]);
	other[0] = -1;
	if (pipe2(st.fresh, O_CLOEXEC | O_NONBLOCK) == 0)
		loop_add_fd(lp, st.fresh[0], LOOP_READ, on_fresh, NULL);
}

static void stale_events(void)
{
	struct loop *lp = loop_new();
	if (pipe2(st.a, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(st.b, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	loop_add_fd(lp, st.a[0], LOOP_READ, on_ab, NULL);
	loop_add_fd(lp, st.b[0], LOOP_READ, on_ab, NULL);
	CHECK(write(st.a[1], "x", 1) == 1 && write(st.b[1], "y", 1) == 1, "write");
	loop_run_once(lp, 0);
	CHECK(st.fired_a + st.fired_b == 1, "a closed descriptor's event was delivered (a %d, b %d)",
	      st.fired_a, st.fired_b);
	CHECK(st.fired_fresh == 0, "a stale event reached the descriptor that reused its number");
	loop_free(lp);
	for (int *p = &st.a[0]; p <= &st.fresh[1]; p++)
		if (*p >= 0)
			close(*p);
}

struct hup {
	int events, calls;
};

static void on_hup(struct loop *lp, int fd, int events, void *data)
{
	struct hup *h = data;
	h->events |= events;
	h->calls++;
	loop_del_fd(lp, fd);
}

/* A pipe whose writer is gone, watched with mask 0: the hang-up is still reported (the
 * daemon closes a paused connection whose peer went away this way). */
static void hangup(void)
{
	struct loop *lp = loop_new();
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return;
	struct hup h = { 0 };
	loop_add_fd(lp, p[0], 0, on_hup, &h);
	close(p[1]);
	loop_run_once(lp, 1000);
	CHECK(h.calls == 1 && (h.events & LOOP_HUP), "hang-up with mask 0: %d calls, events %d",
	      h.calls, h.events);
	close(p[0]);
	loop_free(lp);
}

/* A regular file (stdin redirected from one) is ready at once, as poll(2) has it. */
static void regular_file(void)
{
	struct loop *lp = loop_new();
	char path[] = "/tmp/test_serve_loop.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return;
	unlink(path);
	struct hup h = { 0 };
	CHECK(loop_add_fd(lp, fd, LOOP_READ, on_hup, &h) == 0, "a regular file is refused");
	double t0 = vms_now_ms();
	loop_run_once(lp, 5000);
	CHECK(h.calls == 1 && (h.events & LOOP_READ), "regular file: %d calls", h.calls);
	CHECK(vms_now_ms() - t0 < 1000, "the loop slept with a regular file to report");
	close(fd);
	loop_free(lp);
}

static int again_calls;

static double on_again(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id, (void)data;
	return ++again_calls < 3 ? 0 : LOOP_TIMER_DONE;
}

static double on_stop(struct loop *lp, uint64_t id, void *data)
{
	(void)id;
	*(double *)data = vms_now_ms();
	loop_stop(lp);
	return LOOP_TIMER_DONE;
}

static double on_never(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	(*(int *)data)++;
	return LOOP_TIMER_DONE;
}

/* The nearest timer decides the sleep; a timer that asks to fire again at once fires
 * once per pass; a removed timer never fires; loop_stop ends loop_run. */
static void timers(void)
{
	struct loop *lp = loop_new();
	loop_add_timer(lp, vms_now_ms(), on_again, NULL);
	loop_run_once(lp, 0);
	CHECK(again_calls == 1, "a repeating timer fired %d times in one pass", again_calls);
	loop_run_once(lp, 0);
	loop_run_once(lp, 0);
	loop_run_once(lp, 0);
	CHECK(again_calls == 3, "a timer done after 3 firings fired %d times", again_calls);

	int never = 0;
	double t0 = vms_now_ms(), stopped = 0;
	uint64_t gone = loop_add_timer(lp, t0 + 20, on_never, &never);
	loop_add_timer(lp, t0 + 80, on_stop, &stopped);
	loop_add_timer(lp, t0 + 60000, on_never, &never);
	loop_del_timer(lp, gone);
	loop_del_timer(lp, gone);
	loop_del_timer(lp, 0);
	CHECK(loop_run(lp) == 0, "loop_run failed");
	double took = stopped - t0;
	CHECK(never == 0, "a removed (or far) timer fired");
	CHECK(took >= 80 && took < 2000, "the 80 ms timer stopped the loop after %.1f ms", took);
	loop_free(lp);
}

int main(void)
{
	many();
	stale_events();
	hangup();
	regular_file();
	timers();
	if (!failures)
		printf("loop: ok\n");
	return test_exit();
}
