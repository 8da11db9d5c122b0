/* remote/client.c: the Redis client — one pipelined connection, deadlines, a breaker.
 *
 * One connection, not a pool. The caller is one thread on one loop, and Redis serves a
 * connection's commands in order and answers them in order: hiredis pipelines every
 * command onto the one socket and matches replies to callbacks first in, first out, so
 * a hundred lookups in flight cost one socket and no waiting on each other's round trip.
 * A pool would add sockets, connects to time out and reconnects to pace, for no
 * parallelism Redis's single thread could give. What one connection costs is head-of-line
 * blocking behind a large value; values are bounded by the caller (max_len, --remote-
 * max-entry), which bounds that too.
 *
 * Deadlines. Because replies come in order, the oldest operation in flight is the one
 * due first: one loop timer at min(connect deadline, head's deadline) covers them all.
 * When it fires, the connection is dropped whole (redisAsyncFree answers every callback
 * with no reply): on one pipelined socket, a reply that is late makes every later one
 * late too. The connect has its own shorter deadline, counted from when it began.
 *
 * The breaker. Any failure — refused, reset mid-operation, a deadline, an error reply
 * to the handshake — closes the connection and skips the store for retry_ms; the next
 * operation after that reconnects (the probe), and a failed probe doubles the pause, up
 * to 16 times the first, while any reply resets it. So a dead or hung Redis costs the
 * operations in flight at that moment one timeout, and then nothing but a clock read per
 * operation until the probe. A connection the server closes while nothing is in flight
 * (Redis's `timeout` for idle clients) is no failure: the next operation reconnects.
 *
 * Lookups read with GETRANGE key 0 max_len rather than GET: a value larger than the
 * caller can use costs at most max_len + 1 bytes on the wire to be rejected, and hiredis
 * never buffers the rest. GETRANGE answers "" for a missing key; an empty value is never
 * an entry, so both are a miss.
 *
 * Host names are resolved once, in vms_remote_open (getaddrinfo blocks; the loop must
 * not); reconnects use the numeric address. */
#include "remote/remote.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "common/common.h"
#include "remote/adapter.h"

enum op_kind { OP_HELLO, OP_GET, OP_PUT };

struct op {
	struct vms_remote *r;
	enum op_kind kind;
	vms_remote_get_fn *fn;
	void *arg;
	size_t max_len, bytes;
	double t0, deadline;
	struct op *prev, *next;
};

struct vms_remote {
	struct vms_remote_opts o;
	struct vms_remote_loop lp;
	char *addr, *path, *user, *pass;	/* addr: numeric */
	int port, db;
	redisAsyncContext *ac;			/* NULL: not connected */
	int connected;
	double connect_deadline;
	int kill_soon;				/* drop the connection at the next timer */
	int closing;
	double skip_until, pause_ms;
	double timer_at;
	struct op *head, *tail;			/* in flight, oldest first */
	struct vms_remote_stats st;
};

/* ---- the timer ----------------------------------------------------------------------- */

static void arm(struct vms_remote *r)
{
	double at = -1;
	if (r->kill_soon)
		at = vms_now_ms();
	else {
		if (r->ac && !r->connected)
			at = r->connect_deadline;
		if (r->head && (at < 0 || r->head->deadline < at))
			at = r->head->deadline;
	}
	if (at != r->timer_at) {
		r->timer_at = at;
		r->lp.timer(r->lp.ctx, at);
	}
}

/* ---- the breaker --------------------------------------------------------------------- */

static void breaker_open(struct vms_remote *r)
{
	if (vms_now_ms() < r->skip_until)
		return; /* one failure, seen by several operations */
	r->st.failures++;
	r->skip_until = vms_now_ms() + r->pause_ms;
	r->pause_ms *= 2;
	if (r->pause_ms > 16.0 * r->o.retry_ms)
		r->pause_ms = 16.0 * r->o.retry_ms;
}

static void breaker_reset(struct vms_remote *r)
{
	r->pause_ms = r->o.retry_ms;
}

/* Drops the connection now (not from inside a hiredis callback: see kill_soon). Every
 * operation in flight is answered with no reply. */
static void drop(struct vms_remote *r)
{
	redisAsyncContext *ac = r->ac;
	r->ac = NULL;
	r->connected = 0;
	r->kill_soon = 0;
	if (ac)
		redisAsyncFree(ac);
}

/* ---- replies --------------------------------------------------------------------------- */

static void unlink_op(struct vms_remote *r, struct op *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		r->head = op->next;
	if (op->next)
		op->next->prev = op->prev;
	else
		r->tail = op->prev;
	r->st.pending--;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *priv)
{
	struct op *op = priv;
	struct vms_remote *r = op->r;
	redisReply *rep = reply;
	unlink_op(r, op);
	enum vms_remote_got got = VMS_REMOTE_FAILED;
	const void *data = NULL;
	size_t len = 0;
	if (!rep) {
		/* the connection went with this operation in flight */
		r->st.errors += op->kind != OP_PUT;
		r->st.store_errors += op->kind == OP_PUT;
		if (r->ac == ac) {
			r->ac = NULL; /* being freed by hiredis: never reuse it */
			r->connected = 0;
		}
		if (!r->closing)
			breaker_open(r);
	} else if (op->kind == OP_HELLO) {
		if (rep->type == REDIS_REPLY_ERROR) {
			/* AUTH or SELECT refused: a misconfigured client, not a slow server; the
			 * breaker paces the retries all the same */
			r->st.errors++;
			breaker_open(r);
			r->kill_soon = 1;
		} else {
			breaker_reset(r);
		}
	} else if (op->kind == OP_PUT) {
		if (rep->type == REDIS_REPLY_ERROR) {
			r->st.store_errors++; /* OOM without eviction, a read-only replica... */
		} else {
			r->st.stores++;
			r->st.bytes_out += op->bytes;
			breaker_reset(r);
		}
	} else {
		breaker_reset(r);
		if (rep->type == REDIS_REPLY_STRING && rep->len > op->max_len) {
			got = VMS_REMOTE_BAD;
			r->st.too_large++;
		} else if (rep->type == REDIS_REPLY_STRING && rep->len > 0) {
			got = VMS_REMOTE_HIT;
			data = rep->str;
			len = rep->len;
			r->st.found++;
			r->st.bytes_in += len;
		} else if (rep->type == REDIS_REPLY_STRING || rep->type == REDIS_REPLY_NIL) {
			got = VMS_REMOTE_MISS;
			r->st.misses++;
		} else if (rep->type == REDIS_REPLY_ERROR && !strncmp(rep->str, "WRONGTYPE", 9)) {
			got = VMS_REMOTE_BAD; /* a list or a hash under our key: not ours */
			r->st.wrong_type++;
		} else {
			r->st.errors++; /* LOADING, NOAUTH, ...: the server cannot answer now */
		}
	}
	if (op->kind == OP_GET) {
		r->st.get_ms += vms_now_ms() - op->t0;
		op->fn(op->arg, got, data, len);
	}
	free(op);
	if (!r->closing)
		arm(r);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
	struct vms_remote *r = ac->data;
	if (r->ac != ac)
		return;
	if (status == REDIS_OK) {
		r->connected = 1;
	} else {
		r->ac = NULL; /* hiredis frees it after this call */
		r->connected = 0;
		r->st.errors++;
		breaker_open(r);
	}
	arm(r);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
	(void)status;
	struct vms_remote *r = ac->data;
	if (r->ac == ac) {
		/* closed by the server with nothing in flight (operations in flight already
		 * saw their failure): reconnect when next needed */
		r->ac = NULL;
		r->connected = 0;
	}
	if (!r->closing)
		arm(r);
}

/* ---- commands -------------------------------------------------------------------------- */

static struct op *op_new(struct vms_remote *r, enum op_kind kind)
{
	struct op *op = vms_xcalloc(1, sizeof(*op));
	op->r = r;
	op->kind = kind;
	op->t0 = vms_now_ms();
	op->deadline = op->t0 + r->o.op_timeout_ms;
	return op;
}

/* Queues op's command; 0, or -1 (op freed) when hiredis refuses it. */
static int send_op(struct vms_remote *r, struct op *op, int argc, const char **argv,
		   const size_t *lens)
{
	if (redisAsyncCommandArgv(r->ac, on_reply, op, argc, argv, lens) != REDIS_OK) {
		free(op);
		return -1;
	}
	op->prev = r->tail;
	if (r->tail)
		r->tail->next = op;
	else
		r->head = op;
	r->tail = op;
	r->st.pending++;
	return 0;
}

/* AUTH, SELECT and a PING (hiredis 0.14 starts the non-blocking connect only once a
 * command is queued; the PING also proves the peer speaks Redis). */
static void hello(struct vms_remote *r)
{
	char db[16];
	snprintf(db, sizeof(db), "%d", r->db);
	const char *auth[3] = { "AUTH", r->user ? r->user : r->pass, r->pass };
	const char *sel[2] = { "SELECT", db }, *ping[1] = { "PING" };
	if (r->pass)
		send_op(r, op_new(r, OP_HELLO), r->user ? 3 : 2, auth, NULL);
	if (r->db)
		send_op(r, op_new(r, OP_HELLO), 2, sel, NULL);
	send_op(r, op_new(r, OP_HELLO), 1, ping, NULL);
}

/* 0 when a connection is there (or being made) to send to. */
static int usable(struct vms_remote *r)
{
	if (r->closing || r->kill_soon)
		return -1;
	if (r->ac)
		return 0;
	if (vms_now_ms() < r->skip_until)
		return -1;
	redisAsyncContext *ac = r->path ? redisAsyncConnectUnix(r->path)
					: redisAsyncConnect(r->addr, r->port);
	if (!ac || ac->err || remote_adapter_attach(ac, &r->lp) < 0) {
		if (ac)
			redisAsyncFree(ac);
		r->st.errors++;
		breaker_open(r);
		return -1;
	}
	ac->data = r;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	r->ac = ac;
	r->connected = 0;
	r->connect_deadline = vms_now_ms() + r->o.connect_timeout_ms;
	hello(r);
	arm(r);
	return 0;
}

int vms_remote_get(struct vms_remote *r, const char *key, size_t max_len,
		   vms_remote_get_fn *fn, void *arg)
{
	if (usable(r) < 0) {
		r->st.skipped++;
		return 0;
	}
	struct op *op = op_new(r, OP_GET);
	op->fn = fn;
	op->arg = arg;
	op->max_len = max_len;
	char end[24];
	snprintf(end, sizeof(end), "%zu", max_len);
	const char *argv[4] = { "GETRANGE", key, "0", end };
	if (send_op(r, op, 4, argv, NULL) < 0) {
		r->st.errors++;
		return 0;
	}
	arm(r);
	return 1;
}

void vms_remote_put(struct vms_remote *r, const char *key, const void *data, size_t len)
{
	if (r->o.read_only)
		return;
	if (usable(r) < 0) {
		r->st.skipped++;
		return;
	}
	struct op *op = op_new(r, OP_PUT);
	op->bytes = len;
	char ttl[16];
	snprintf(ttl, sizeof(ttl), "%d", r->o.ttl_s);
	const char *argv[5] = { "SET", key, (const char *)data, "EX", ttl };
	size_t lens[5] = { 3, strlen(key), len, 2, strlen(ttl) };
	if (send_op(r, op, r->o.ttl_s > 0 ? 5 : 3, argv, lens) < 0)
		r->st.store_errors++;
	arm(r);
}

/* ---- the loop's calls -------------------------------------------------------------------- */

void vms_remote_ready(struct vms_remote *r, int events)
{
	if (r->ac)
		remote_adapter_ready(r->ac, events);
}

void vms_remote_timer(struct vms_remote *r)
{
	r->timer_at = -1;
	double now = vms_now_ms();
	int late = (r->ac && !r->connected && now >= r->connect_deadline) ||
		   (r->head && now >= r->head->deadline);
	if (late && !r->kill_soon) {
		breaker_open(r);
		r->st.errors += !r->head; /* a connect that never completed, nothing asked */
	}
	if (late || r->kill_soon)
		drop(r);
	arm(r);
}

/* ---- open, close, stats -------------------------------------------------------------------- */

/* The numeric address of host (first of getaddrinfo's), owned; NULL with *why. */
static char *resolve(const char *host, char **why)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
	int e = getaddrinfo(host, NULL, &hints, &res);
	if (e) {
		*why = vms_xasprintf("cannot resolve %s: %s", host, gai_strerror(e));
		return NULL;
	}
	char buf[INET6_ADDRSTRLEN] = "";
	const void *a = res->ai_family == AF_INET6
				? (const void *)&((struct sockaddr_in6 *)res->ai_addr)->sin6_addr
				: (const void *)&((struct sockaddr_in *)res->ai_addr)->sin_addr;
	inet_ntop(res->ai_family, a, buf, sizeof(buf));
	freeaddrinfo(res);
	return vms_xstrdup(buf);
}

int vms_remote_open(const struct vms_remote_opts *o, const struct vms_remote_loop *lp,
		    struct vms_remote **out, char **why)
{
	*why = NULL;
	const struct vms_remote_url *u = o->url;
	char *addr = NULL;
	if (!u->path && !(addr = resolve(u->host, why)))
		return -EHOSTUNREACH;
	struct vms_remote *r = vms_xcalloc(1, sizeof(*r));
	r->o = *o;
	r->o.url = NULL;
	if (r->o.connect_timeout_ms <= 0)
		r->o.connect_timeout_ms = 100;
	if (r->o.op_timeout_ms <= 0)
		r->o.op_timeout_ms = 500;
	if (r->o.retry_ms <= 0)
		r->o.retry_ms = 30000;
	r->pause_ms = r->o.retry_ms;
	r->lp = *lp;
	r->addr = addr;
	r->path = u->path ? vms_xstrdup(u->path) : NULL;
	r->user = u->user ? vms_xstrdup(u->user) : NULL;
	r->pass = u->pass ? vms_xstrdup(u->pass) : NULL;
	r->port = u->port;
	r->db = u->db;
	r->timer_at = -1;
	usable(r); /* connect now: the first lookup should not pay for it */
	*out = r;
	return 0;
}

void vms_remote_close(struct vms_remote *r)
{
	if (!r)
		return;
	r->closing = 1;
	drop(r);
	r->lp.timer(r->lp.ctx, -1);
	free(r->addr), free(r->path), free(r->user), free(r->pass);
	free(r);
}

void vms_remote_get_stats(const struct vms_remote *r, struct vms_remote_stats *st)
{
	*st = r->st;
	double now = vms_now_ms();
	st->state = r->connected ? "connected" : r->ac ? "connecting"
			 : now < r->skip_until ? "skipping" : "idle";
	st->retry_in_ms = now < r->skip_until && !r->ac ? r->skip_until - now : 0;
}
