/* remote: a shared store for answers, reached without ever blocking the caller — today a
 * Redis server through hiredis's asynchronous API, on whatever event loop the caller runs.
 *
 * The store is a cache, never a dependency: every operation has a deadline, a failure
 * (refused, reset, timed out, an error reply to the handshake) opens a breaker that skips
 * the store for a while (doubling on each failed retry), and whatever goes wrong is an
 * answer of "miss" to the caller, who then computes. Values are opaque bytes here; what
 * they mean and whether they are intact is the caller's business (serve/remote_tier.c
 * checks them as the disk cache checks its files).
 *
 * Nothing here prints, reads the environment or knows the daemon: the caller gives the
 * loop as two hooks (struct vms_remote_loop) and forwards readiness and its timer. */
#ifndef VMSLIM_REMOTE_H
#define VMSLIM_REMOTE_H

#include <stddef.h>
#include <stdint.h>

/* ---- where the store is ------------------------------------------------------------ */

/* redis://[USER:PASS@]HOST[:PORT][/DB]  (HOST may be [v6]; PORT 6379; DB 0)
 * unix://[USER:PASS@]/PATH[?db=DB]      (a Unix socket; PATH absolute)
 * USER and PASS are percent-decoded; ":PASS@" alone is a password without a user. */
struct vms_remote_url {
	char *host;		/* NULL for a Unix socket */
	int port;
	char *path;		/* the socket's path, or NULL */
	char *user, *pass;	/* NULL when absent */
	int db;
	char *shown;		/* for logs and stats: the URL without its password */
};
/* 0, or -EINVAL with *why (owned) saying what is wrong at which character. */
int vms_remote_url_parse(const char *s, struct vms_remote_url *u, char **why);
void vms_remote_url_free(struct vms_remote_url *u);

/* ---- the loop it runs on ------------------------------------------------------------- */

enum { VMS_REMOTE_READ = 1, VMS_REMOTE_WRITE = 2 };

/* The client owns at most one descriptor and one timer at a time. The caller calls
 * vms_remote_ready() when the descriptor is ready and vms_remote_timer() when the timer's
 * time has come (vms_now_ms() clock). */
struct vms_remote_loop {
	void *ctx;
	/* Watch fd for mask (0: stop watching it, it is about to be closed). 0 or -errno. */
	int (*watch)(void *ctx, int fd, int mask);
	/* The one timer, replacing any earlier one; at_ms < 0: none. */
	void (*timer)(void *ctx, double at_ms);
};

/* ---- the client ---------------------------------------------------------------------- */

struct vms_remote_opts {
	const struct vms_remote_url *url;	/* copied */
	int connect_timeout_ms;	/* 0: 100 */
	int op_timeout_ms;	/* one operation, from when it is asked; 0: 500 */
	int retry_ms;		/* the breaker's first pause after a failure; 0: 30000; each
				 * failed retry doubles it, up to 16 times the first */
	int ttl_s;		/* 0: entries never expire (Redis's LRU bounds them) */
	int read_only;		/* vms_remote_put does nothing */
};

struct vms_remote_stats {
	uint64_t found, misses, errors, too_large, wrong_type, skipped;
	uint64_t stores, store_errors, bytes_in, bytes_out;
	uint64_t failures;	/* times the breaker opened */
	double get_ms;		/* time lookups spent waiting for the store */
	size_t pending;		/* operations in flight */
	const char *state;	/* "connected", "connecting", "idle" or "skipping" */
	double retry_in_ms;	/* while skipping: until the next try */
};

struct vms_remote;

/* Resolves the host now (the only step that may block: the caller opens the client
 * before it serves anyone) and starts connecting. A store that cannot be reached is not
 * an error here: it is skipped and retried. 0, or -errno with *why (owned). */
int vms_remote_open(const struct vms_remote_opts *o, const struct vms_remote_loop *lp,
		    struct vms_remote **out, char **why);
/* Pending lookups are answered VMS_REMOTE_FAILED before it returns; pending writes are
 * dropped. */
void vms_remote_close(struct vms_remote *r);

void vms_remote_ready(struct vms_remote *r, int events);
void vms_remote_timer(struct vms_remote *r);

enum vms_remote_got {
	VMS_REMOTE_HIT,		/* data/len: the value (valid during the callback only) */
	VMS_REMOTE_MISS,	/* the store has nothing under the key */
	VMS_REMOTE_BAD,		/* something unusable is there: longer than max_len, or not
				 * a string */
	VMS_REMOTE_FAILED,	/* no answer: unreachable, timed out, closed meanwhile */
};
typedef void vms_remote_get_fn(void *arg, enum vms_remote_got got, const void *data,
			       size_t len);

/* Asks for key's value, reading at most max_len + 1 bytes of it (so that a huge value
 * costs no more than the cap to reject). Returns 1 when fn will be called exactly once
 * later (never from inside this call), 0 when the store is being skipped (breaker open):
 * no callback, the caller goes on at once. */
int vms_remote_get(struct vms_remote *r, const char *key, size_t max_len,
		   vms_remote_get_fn *fn, void *arg);
/* Stores a copy of data under key, in the background (nothing comes back; failures are
 * counted and open the breaker like any other). Nothing happens in read-only mode or
 * while skipping. */
void vms_remote_put(struct vms_remote *r, const char *key, const void *data, size_t len);

void vms_remote_get_stats(const struct vms_remote *r, struct vms_remote_stats *st);

#endif
