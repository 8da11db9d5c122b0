/* The daemon's connections: accepting, reading lines, writing replies, closing idle ones.
 *
 * Nobody can hold the daemon's connections. A client is a peer uid (SO_PEERCRED): the uid,
 * not the process, because a process is free to fork as many others as it likes, each
 * with a pid of its own, while a uid is what the kernel lets one party have. A client
 * may hold --max-per-client connections (32 by default) of the --max-clients in all;
 * beyond either, a connection gets one "busy" line and is closed. A playground back-end
 * that brings all its users through one process (one uid) is one client here: it raises
 * --max-per-client to what it needs and keeps its own users fair among themselves. And a
 * connection that holds a slot without using it goes after --idle-timeout (30 s): with
 * nothing in flight, no complete request line and no reply bytes taken for that long
 * (bytes of a line that never ends do not count: a slow drip of them is not a request).
 *
 * A connection carries one request at a time: a line is handed to the protocol
 * (protocol.c) only while no earlier request of the same connection waits for its job,
 * and replies come back in order. Interest is level-triggered and follows what we would
 * act on: read only while a line could be taken (not after EOF, not while a full request
 * already waits, not while the client has OUT_HIGH bytes of replies unread), write only
 * with output queued. A slow client can therefore only slow itself. */
#include "serve/internal.h"
#include "serve/loop.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IDLE_DEFAULT_S 30
#define PER_CLIENT_DEFAULT 32

static size_t max_req(struct server *s)
{
	return s->o->max_request_bytes ? s->o->max_request_bytes : 1u << 20;
}

static void conn_watch(struct server *s, struct conn *c)
{
	int backlog = c->out.len - c->out_off >= OUT_HIGH;
	int mask = (c->eof || c->closing || c->paused || backlog ? 0 : LOOP_READ) |
		   (c->out_off < c->out.len ? LOOP_WRITE : 0);
	loop_set_mask(s->lp, c->fd, mask);
}

/* The struct stays until the end of the loop's pass (conn_free_dead): callers up the
 * stack still look at c->fd to learn that it is gone. */
void conn_close(struct server *s, struct conn *c)
{
	if (c->fd < 0)
		return;
	loop_del_fd(s->lp, c->fd);
	close(c->fd);
	c->fd = -1;
	if (c->waiting) {
		c->waiting = 0;
		jobs_conn_gone(s, c->id); /* a build nobody waits for is cancelled */
	}
	if (c->client) {
		c->client->nconns--;
		client_release(s, c->client);
		c->client = NULL;
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	vms_buf_free(&c->in);
	vms_buf_free(&c->out);
	c->next = s->dead;
	s->dead = c;
}

void conn_free_dead(struct server *s)
{
	while (s->dead) {
		struct conn *c = s->dead;
		s->dead = c->next;
		free(c);
	}
}

struct client *client_get(struct server *s, uid_t uid)
{
	struct client **pp = &s->clients;
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->uid == uid)
			return *pp;
	/* appended: the round robin goes in the order clients came */
	*pp = vms_xcalloc(1, sizeof(**pp));
	(*pp)->uid = uid;
	return *pp;
}

void client_release(struct server *s, struct client *cl)
{
	if (cl->nconns || cl->queued)
		return;
	struct client **pp = &s->clients, *prev = NULL;
	while (*pp != cl) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	*pp = cl->next;
	/* the round robin goes on after the one before it (NULL: from the first) */
	if (s->last_served == cl)
		s->last_served = prev;
	free(cl);
}

struct conn *conn_by_id(struct server *s, uint64_t id)
{
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

int conn_flush(struct server *s, struct conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t w = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			conn_close(s, c);
			return -1;
		}
		c->out_off += (size_t)w;
		c->last = vms_now_ms();
	}
	if (c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->closing || (c->eof && !c->waiting && c->in_off >= c->in.len)) {
			conn_close(s, c);
			return -1;
		}
	}
	conn_watch(s, c);
	return 0;
}

void conn_send_json(struct conn *c, struct json_object *o)
{
	vms_buf_puts(&c->out, json_text(o));
	vms_buf_append(&c->out, "\n", 1);
}

void conn_pump(struct server *s, struct conn *c)
{
	while (!c->waiting && !c->closing && c->in_off < c->in.len &&
	       c->out.len - c->out_off < OUT_HIGH) {
		char *start = c->in.data + c->in_off;
		size_t avail = c->in.len - c->in_off;
		char *nl = memchr(start, '\n', avail);
		if (!nl && avail > max_req(s) + 1) {
			/* Answered at once; the rest of the line is discarded as it arrives
			 * and the connection stays usable for the requests after it. */
			reply_error(c, NULL, "too_large", "request larger than the daemon's limit");
			s->n_bad++;
			c->in.len = c->in_off = 0;
			c->skipping = !c->eof;
			break;
		}
		if (!nl && !c->eof)
			break;
		size_t len = nl ? (size_t)(nl - start) : avail;
		c->in_off += nl ? len + 1 : len;
		if (len && start[len - 1] == '\r')
			len--;
		c->last = vms_now_ms(); /* a whole request: the connection is in use */
		if (len > max_req(s)) {
			reply_error(c, NULL, "too_large", "request larger than the daemon's limit");
			s->n_bad++;
			continue;
		}
		if (len)
			protocol_line(s, c, start, len);
	}
	if (c->in_off == c->in.len) {
		c->in.len = c->in_off = 0;
	} else if (c->in_off > 65536) {
		memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
	c->paused = c->in.len - c->in_off > max_req(s) + 2;
	conn_flush(s, c);
}

static void conn_readable(struct server *s, struct conn *c)
{
	char buf[65536];
	/* a bounded number of reads per wake-up, so one fast writer cannot hold the loop */
	for (int rounds = 0; rounds < 32; rounds++) {
		/* one request at a time: stop reading while a whole line waits */
		if (c->in.len - c->in_off > max_req(s) + 2) {
			c->paused = 1;
			break;
		}
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n > 0) {
			const char *p = buf;
			if (c->skipping) {
				const char *nl = memchr(buf, '\n', (size_t)n);
				if (!nl)
					continue;
				c->skipping = 0;
				n -= nl + 1 - buf;
				p = nl + 1;
			}
			vms_buf_append(&c->in, p, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		c->eof = 1;
		conn_watch(s, c);
		break;
	}
	conn_pump(s, c);
}

static void conn_event(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)fd;
	struct conn *c = data;
	struct server *s = c->s;
	if (events & LOOP_HUP) {
		/* both directions gone: no reply can reach it */
		conn_close(s, c);
		return;
	}
	if (events & LOOP_WRITE) {
		if (conn_flush(s, c) < 0)
			return;
		/* a reader that caught up may have requests waiting */
		if (!c->waiting && c->in_off < c->in.len) {
			conn_pump(s, c);
			if (c->fd < 0)
				return;
		}
	}
	if (events & LOOP_READ)
		conn_readable(s, c);
}

/* One error line to a connection we will not take, then it is closed. */
static void refuse(struct server *s, int cfd, const char *msg)
{
	char *line = vms_xasprintf("{\"id\":null,\"ok\":false,\"error\":{\"code\":\"busy\","
				   "\"message\":\"%s\"}}\n", msg);
	if (send(cfd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* it will see the connection close */
	}
	free(line);
	close(cfd);
	s->n_busy++;
}

void conn_listen_event(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	struct server *s = data;
	int max = s->o->max_clients > 0 ? s->o->max_clients : 128;
	int per = s->o->max_per_client > 0 ? s->o->max_per_client : PER_CLIENT_DEFAULT;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or out of descriptors: try again on the next wake-up */
		}
		if (s->nconns >= (size_t)max) {
			refuse(s, cfd, "too many clients");
			continue;
		}
		struct ucred cr;
		socklen_t crlen = sizeof(cr);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &crlen) < 0)
			cr.uid = (uid_t)-1; /* not on a Unix socket: all such are one client */
		if (s->o->user_mode && cr.uid != geteuid()) {
			/* the per-user daemon reads and writes files as its user: nobody else's */
			refuse(s, cfd, "this daemon serves only its own user");
			continue;
		}
		struct client *cl = client_get(s, cr.uid);
		if (cl->nconns >= (size_t)per) {
			client_release(s, cl);
			refuse(s, cfd, "too many connections from this client (its uid)");
			continue;
		}
		struct conn *c = vms_xcalloc(1, sizeof(*c));
		c->fd = cfd;
		c->s = s;
		c->id = ++s->next_conn_id;
		c->last = vms_now_ms();
		if (loop_add_fd(s->lp, cfd, LOOP_READ, conn_event, c) < 0) {
			close(cfd);
			free(c);
			client_release(s, cl);
			continue;
		}
		c->client = cl;
		cl->nconns++;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}

/* A connection with nothing in flight closes when `last` is the idle timeout old: no
 * request taken, no answer, no reply bytes read by the client since (a partial line, or
 * a reply the client does not read, keeps nothing open). Connections only ever expire
 * later than planned (use moves `last` on, a new one expires a whole timeout from now),
 * so sleeping until the earliest expiry seen here, at most one timeout, misses none. */
double conn_sweep(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	struct server *s = data;
	double idle = 1000.0 * (s->o->idle_timeout_s > 0 ? s->o->idle_timeout_s : IDLE_DEFAULT_S);
	double now = vms_now_ms(), next = now + idle;
	for (struct conn *c = s->conns, *nx; c; c = nx) {
		nx = c->next;
		if (c->waiting)
			continue;
		double at = c->last + idle;
		if (now > at)
			conn_close(s, c);
		else if (at < next)
			next = at;
	}
	return next - now;
}
