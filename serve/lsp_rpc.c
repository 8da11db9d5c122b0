/* JSON-RPC 2.0 over LSP's base protocol: Content-Length framed messages, in and out.
 *
 * A message is a header block ("Name: value" lines, each ended by CRLF, then an empty
 * line) and a body of exactly Content-Length bytes. Only Content-Length matters here
 * (Content-Type is always the UTF-8 JSON default); a header block that never ends or
 * a length that is missing or huge is broken framing, after which nothing can be
 * trusted to start at a message boundary. */
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

int rpc_take(struct vms_buf *in, size_t *off, struct json_object **msg, int *bad)
{
	*msg = NULL;
	*bad = 0;
	const char *base = in->data + *off;
	size_t avail = in->len - *off;
	const char *end = NULL;
	for (size_t i = 0; i + 3 < avail; i++)
		if (base[i] == '\r' && base[i + 1] == '\n' && base[i + 2] == '\r' && base[i + 3] == '\n') {
			end = base + i;
			break;
		}
	if (!end)
		return avail > MAX_HEADER ? -1 : 0;
	long clen = -1;
	for (const char *p = base; p < end;) {
		const char *eol = p;
		while (eol < end && *eol != '\r')
			eol++;
		if (eol - p > 15 && !strncasecmp(p, "Content-Length:", 15))
			clen = strtol(p + 15, NULL, 10);
		p = eol + 2;
	}
	if (clen < 0 || (unsigned long)clen > MAX_MESSAGE)
		return -1;
	size_t hdr = (size_t)(end - base) + 4;
	if (avail < hdr + (size_t)clen)
		return 0;
	struct json_tokener *tok = json_tokener_new_ex(64);
	*msg = json_tokener_parse_ex(tok, base + hdr, (int)clen);
	if (json_tokener_get_error(tok) != json_tokener_success || !*msg ||
	    !json_object_is_type(*msg, json_type_object)) {
		json_object_put(*msg);
		*msg = NULL;
		*bad = 1;
	}
	json_tokener_free(tok);
	*off += hdr + (size_t)clen;
	return 1;
}
