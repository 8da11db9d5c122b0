/* JSON-RPC 2.0 over LSP's base protocol: Content-Length framed messages, in and out.
 *
 * A message is a header block ("Name: value" lines, each ended by CRLF, then an empty
 * line) and a body of exactly Content-Length bytes. Only Content-Length matters here
 * (Content-Type is always the UTF-8 JSON default). A header block that never ends or
 * a length that is missing, malformed or huge is broken framing: that message is
 * skipped and reading resumes at the next Content-Length header (resync below). */
#include "serve/internal.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_MESSAGE (64u << 20)
#define MAX_HEADER 8192

void rpc_send(int fd, struct json_object *m)
{
	json_object_object_add(m, "jsonrpc", json_object_new_string("2.0"));
	const char *body = json_text(m);
	size_t n = strlen(body);
	char hdr[64];
	int h = snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n", n);
	struct vms_buf b = { 0 };
	vms_buf_append(&b, hdr, (size_t)h);
	vms_buf_append(&b, body, n);
	vms_write_all(fd, b.data, b.len);
	vms_buf_free(&b);
	json_object_put(m);
}

void rpc_respond(int fd, struct json_object *id, struct json_object *result)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "id", json_object_get(id));
	json_object_object_add(m, "result", result);
	rpc_send(fd, m);
}

void rpc_error(int fd, struct json_object *id, int code, const char *msg)
{
	struct json_object *m = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(m, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(m, "error", e);
	rpc_send(fd, m);
}

void rpc_notify(int fd, const char *method, struct json_object *params)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "method", json_object_new_string(method));
	json_object_object_add(m, "params", params);
	rpc_send(fd, m);
}

/* Resynchronisation after a header that cannot be trusted: the next message is taken to
 * start at the next "Content-Length:" (case as in the header) at or after from, since a
 * message ends where the next one's header begins with no separator. When there is none
 * yet, everything is dropped but a tail that may be the start of one, so memory stays
 * bounded however long the garbage (or a refused oversized body) runs. */
static size_t resync(const char *base, size_t avail, size_t from)
{
	static const char key[] = "Content-Length:";
	const size_t k = sizeof(key) - 1;
	for (size_t i = from; i + k <= avail; i++)
		if (!strncasecmp(base + i, key, k))
			return i;
	size_t i = avail > from + k ? avail - k + 1 : from;
	for (; i < avail; i++)
		if (!strncasecmp(base + i, key, avail - i))
			return i;
	return avail;
}

/* The value of a Content-Length line: digits between optional blanks, at most
 * MAX_MESSAGE; -1 when not a number, -2 when too large. */
static long parse_length(const char *p, const char *eol)
{
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (p == eol || *p < '0' || *p > '9')
		return -1;
	long v = 0;
	for (; p < eol && *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (*p - '0')) > (long)MAX_MESSAGE)
			v = (long)MAX_MESSAGE + 1; /* saturate; the digits still need checking */
	while (p < eol && (*p == ' ' || *p == '\t'))
		p++;
	if (p != eol)
		return -1;
	return v > (long)MAX_MESSAGE ? -2 : v;
}

int rpc_take(struct vms_buf *in, size_t *off, struct json_object **msg, int *bad)
{
	*msg = NULL;
	*bad = 0;
	const char *base = in->data + *off;
	size_t avail = in->len - *off;
	const char *end = NULL;
	for (size_t i = 0; i + 3 < avail && i <= MAX_HEADER; i++)
		if (base[i] == '\r' && base[i + 1] == '\n' && base[i + 2] == '\r' && base[i + 3] == '\n') {
			end = base + i;
			break;
		}
	if (!end) {
		if (avail <= MAX_HEADER + 3)
			return 0;
		*bad = RPC_BAD_HEADER_LONG;
		*off += resync(base, avail, 1);
		return -1;
	}
	long clen = -3;
	for (const char *p = base; p < end;) {
		const char *eol = p;
		while (eol < end && *eol != '\r')
			eol++;
		if (eol - p >= 15 && !strncasecmp(p, "Content-Length:", 15))
			clen = parse_length(p + 15, eol);
		p = eol + 2;
	}
	size_t hdr = (size_t)(end - base) + 4;
	if (clen < 0) {
		*bad = clen == -3 ? RPC_BAD_NO_LENGTH : clen == -2 ? RPC_BAD_TOO_LARGE : RPC_BAD_LENGTH;
		*off += resync(base, avail, hdr);
		return -1;
	}
	if (avail < hdr + (size_t)clen)
		return 0;
	struct json_tokener *tok = json_tokener_new_ex(64);
	*msg = json_tokener_parse_ex(tok, base + hdr, (int)clen);
	size_t used = json_tokener_get_parse_end(tok);
	while (used < (size_t)clen && (base[hdr + used] == ' ' || base[hdr + used] == '\t' ||
				       base[hdr + used] == '\r' || base[hdr + used] == '\n'))
		used++;
	if (json_tokener_get_error(tok) != json_tokener_success || !*msg || used != (size_t)clen) {
		json_object_put(*msg);
		*msg = NULL;
		*bad = RPC_BAD_JSON;
	} else if (!json_object_is_type(*msg, json_type_object)) {
		json_object_put(*msg);
		*msg = NULL;
		*bad = RPC_BAD_NOT_OBJECT;
	}
	json_tokener_free(tok);
	*off += hdr + (size_t)clen;
	return 1;
}
