/* serve/loop.h: the event loop the daemon and the language server sit on (internal).
 *
 * In the manner of Redis's ae: callers register a file descriptor with a mask of what
 * they wait for, a callback and its data, and timers at absolute times; the nearest
 * timer decides how long the loop sleeps. The loop knows nothing of sockets, requests
 * or workers: it only says "this fd is ready" and "this time has come". There is no
 * limit on the number of descriptors or timers (the tables grow). */
#ifndef VMSLIM_SERVE_LOOP_H
#define VMSLIM_SERVE_LOOP_H

#include <stdint.h>

struct loop;

/* What an fd waits for (registration) and what happened (callback). LOOP_HUP is only
 * ever reported: a hang-up or an error, which the kernel signals even with mask 0. */
enum { LOOP_READ = 1, LOOP_WRITE = 2, LOOP_HUP = 4 };

typedef void loop_fd_fn(struct loop *lp, int fd, int events, void *data);
/* Returns the delay in ms until it fires again, or LOOP_TIMER_DONE to be removed. */
typedef double loop_timer_fn(struct loop *lp, uint64_t id, void *data);
#define LOOP_TIMER_DONE (-1.0)
/* Runs once per pass, before the loop sleeps. */
typedef void loop_hook_fn(struct loop *lp, void *data);

/* NULL when the kernel refuses an epoll instance (errno set). */
struct loop *loop_new(void);
/* Leaves the registered fds open: they belong to their callers. */
void loop_free(struct loop *lp);

/* One registration per fd; adding a registered fd replaces it. 0 or -errno. A regular
 * file (which epoll refuses) is accepted and reported ready on every pass, as poll(2)
 * would. */
int loop_add_fd(struct loop *lp, int fd, int mask, loop_fd_fn *fn, void *data);
/* A new mask for a registered fd (0: nothing but hang-ups). */
void loop_set_mask(struct loop *lp, int fd, int mask);
/* Call before closing fd. Events of this pass not yet delivered to it are dropped, also
 * when fd is registered again meanwhile (a new descriptor with the same number). */
void loop_del_fd(struct loop *lp, int fd);

/* A timer at time at_ms (vms_now_ms() clock); ids are never 0 and never reused. */
uint64_t loop_add_timer(struct loop *lp, double at_ms, loop_timer_fn *fn, void *data);
/* Removing a timer that already fired for good (or id 0) is harmless. */
void loop_del_timer(struct loop *lp, uint64_t id);

void loop_set_before_sleep(struct loop *lp, loop_hook_fn *fn, void *data);
/* One pass: the before-sleep hook (a hook that calls loop_stop ends the pass there), a
 * wait (bounded by the nearest timer, and by max_ms when max_ms >= 0), the ready fds'
 * callbacks, then the timers whose time has come (timers added during the pass wait for
 * the next one). 0 or -errno (EINTR is not an error). */
int loop_run_once(struct loop *lp, int max_ms);
/* Passes until loop_stop(); 0, or -errno when waiting failed. */
int loop_run(struct loop *lp);
void loop_stop(struct loop *lp);

#endif
