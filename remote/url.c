/* remote/url.c: the store's address, redis://... or unix://..., parsed once at start.
 *
 * A pure function over the string: the client (client.c) never looks at the text again.
 * The grammar is the one redis-cli's -u takes, less TLS (rediss:// is refused with a
 * reason rather than silently spoken in clear):
 *     redis://[USER:PASS@]HOST[:PORT][/DB]      unix://[USER:PASS@]/PATH[?db=DB]
 * The credentials are everything before the last '@' of the authority, so a password
 * may hold '@' and ':' when percent-encoded, and may hold them unencoded too except
 * for a ':' in USER. */
#include "remote/remote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* s[0..n) percent-decoded (owned), or NULL on a broken %XX. */
static char *pct_decode(const char *s, size_t n)
{
	char *o = vms_xmalloc(n + 1), *w = o;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*w++ = s[i];
			continue;
		}
		int a = i + 2 < n ? hexval(s[i + 1]) : -1;
		int b = i + 2 < n ? hexval(s[i + 2]) : -1;
		if (a < 0 || b < 0 || (a == 0 && b == 0)) { /* no NUL: it would cut the AUTH */
			free(o);
			return NULL;
		}
		*w++ = (char)(a << 4 | b);
		i += 2;
	}
	*w = 0;
	return o;
}

/* A decimal in [min, max] spanning all of s[0..n): 0 and *v, or -1. */
static int number(const char *s, size_t n, long min, long max, long *v)
{
	if (!n || n > 9)
		return -1;
	long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		x = x * 10 + (s[i] - '0');
	}
	if (x < min || x > max)
		return -1;
	*v = x;
	return 0;
}

static int fail(char **why, const char *url, const char *at, const char *what)
{
	*why = vms_xasprintf("--remote %s: at character %d: %s", url, (int)(at - url) + 1, what);
	return -EINVAL;
}

/* [USER:PASS@] at the start of the authority a..e; moves *a past it. */
static int credentials(const char *url, const char **a, const char *e, struct vms_remote_url *u,
		       char **why)
{
	const char *at = NULL;
	for (const char *p = *a; p < e; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return 0;
	const char *colon = memchr(*a, ':', (size_t)(at - *a));
	const char *uend = colon ? colon : at;
	if (uend > *a && !(u->user = pct_decode(*a, (size_t)(uend - *a))))
		return fail(why, url, *a, "a broken %XX escape in the user name");
	if (colon && !(u->pass = pct_decode(colon + 1, (size_t)(at - colon - 1))))
		return fail(why, url, colon + 1, "a broken %XX escape in the password");
	if (!u->pass && u->user) {
		/* "redis://secret@host": redis-cli takes a lone name as the password */
		u->pass = u->user;
		u->user = NULL;
	}
	*a = at + 1;
	return 0;
}

int vms_remote_url_parse(const char *s, struct vms_remote_url *u, char **why)
{
	memset(u, 0, sizeof(*u));
	*why = NULL;
	int unix_sock = !strncmp(s, "unix://", 7), e = 0;
	if (!strncmp(s, "rediss://", 9)) {
		e = fail(why, s, s, "TLS (rediss://) is not supported yet; reach Redis over a "
				    "trusted network, a tunnel or a Unix socket");
		goto out;
	}
	if (!unix_sock && strncmp(s, "redis://", 8)) {
		e = fail(why, s, s, "expected redis://[USER:PASS@]HOST[:PORT][/DB] or "
				    "unix:///PATH");
		goto out;
	}
	const char *a = s + (unix_sock ? 7 : 8);
	long v;
	if (unix_sock) {
		const char *q = strchr(a, '?'), *end = q ? q : a + strlen(a);
		const char *slash = memchr(a, '/', (size_t)(end - a));
		if (!slash) {
			e = fail(why, s, a, "expected an absolute socket path");
			goto out;
		}
		if ((e = credentials(s, &a, slash, u, why)) < 0)
			goto out;
		if (a != slash) {
			e = fail(why, s, a, "a Unix socket's URL has no host (unix:///path)");
			goto out;
		}
		if (end - slash < 2) {
			e = fail(why, s, slash, "expected an absolute socket path");
			goto out;
		}
		u->path = vms_xstrndup(slash, (size_t)(end - slash));
		if (q && (strncmp(q, "?db=", 4) || number(q + 4, strlen(q + 4), 0, 1 << 20, &v) < 0)) {
			e = fail(why, s, q, "expected ?db=N after the path");
			goto out;
		}
		u->db = q ? (int)v : 0;
	} else {
		const char *end = a + strcspn(a, "/");
		if ((e = credentials(s, &a, end, u, why)) < 0)
			goto out;
		const char *hs = a, *he, *port = NULL;
		if (*a == '[') {
			he = memchr(a, ']', (size_t)(end - a));
			if (!he) {
				e = fail(why, s, a, "an IPv6 address must end with ']'");
				goto out;
			}
			hs = a + 1;
			port = he + 1 < end && he[1] == ':' ? he + 2 : NULL;
			if (he + 1 < end && !port) {
				e = fail(why, s, he + 1, "expected ':PORT' after ']'");
				goto out;
			}
		} else {
			he = memchr(a, ':', (size_t)(end - a));
			port = he ? he + 1 : NULL;
			he = he ? he : end;
		}
		if (he == hs) {
			e = fail(why, s, hs, "expected a host name");
			goto out;
		}
		u->host = vms_xstrndup(hs, (size_t)(he - hs));
		u->port = 6379;
		if (port) {
			if (number(port, (size_t)(end - port), 1, 65535, &v) < 0) {
				e = fail(why, s, port, "expected a port from 1 to 65535");
				goto out;
			}
			u->port = (int)v;
		}
		if (*end == '/' && end[1]) {
			if (number(end + 1, strlen(end + 1), 0, 1 << 20, &v) < 0) {
				e = fail(why, s, end + 1, "expected a database number after '/'");
				goto out;
			}
			u->db = (int)v;
		}
	}
	/* shown: the same address, the password never */
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, unix_sock ? "unix://" : "redis://");
	if (u->user || u->pass)
		vms_buf_printf(&b, "%s%s@", u->user ? u->user : "", u->pass ? ":***" : "");
	if (u->path)
		vms_buf_puts(&b, u->path);
	else
		vms_buf_printf(&b, strchr(u->host, ':') ? "[%s]:%d" : "%s:%d", u->host, u->port);
	if (u->db)
		vms_buf_printf(&b, u->path ? "?db=%d" : "/%d", u->db);
	u->shown = vms_buf_steal(&b);
out:
	if (e < 0)
		vms_remote_url_free(u);
	return e;
}

void vms_remote_url_free(struct vms_remote_url *u)
{
	free(u->host), free(u->path), free(u->user), free(u->pass), free(u->shown);
	memset(u, 0, sizeof(*u));
}
