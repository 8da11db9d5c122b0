/* The daemon's connections: accepting, reading lines, writing replies, closing idle ones.
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

#define IDLE_MS (10 * 60 * 1000)
#define PARTIAL_MS (60 * 1000)
#define SWEEP_MAX_MS 60000

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
			c->last = vms_now_ms();
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

void conn_listen_event(struct loop *lp, int fd, int events, void *data)
{
	(void)lp, (void)events;
	struct server *s = data;
	int max = s->o->max_clients > 0 ? s->o->max_clients : 128;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			return; /* EAGAIN, or out of descriptors: try again on the next wake-up */
		}
		if (s->nconns >= (size_t)max) {
			static const char busy[] =
				"{\"id\":null,\"ok\":false,\"error\":{\"code\":\"busy\","
				"\"message\":\"too many clients\"}}\n";
			if (send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* it will see the connection close */
			}
			close(cfd);
			s->n_busy++;
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
			continue;
		}
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
	}
}

/* A connection with nothing in flight closes after IDLE_MS without traffic, or after
 * PARTIAL_MS in the middle of a line. Connections only ever expire later than planned
 * (traffic moves `last` on, a new one expires IDLE_MS from now), so sleeping until the
 * earliest expiry seen here, at most a minute, misses none. */
double conn_sweep(struct loop *lp, uint64_t id, void *data)
{
	(void)lp, (void)id;
	struct server *s = data;
	double now = vms_now_ms(), next = now + SWEEP_MAX_MS;
	for (struct conn *c = s->conns, *nx; c; c = nx) {
		nx = c->next;
		if (c->waiting || c->out_off != c->out.len)
			continue;
		double at = c->last + (c->in.len > c->in_off ? PARTIAL_MS : IDLE_MS);
		if (now > at)
			conn_close(s, c);
		else if (at < next)
			next = at;
	}
	return next - now;
}
