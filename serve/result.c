/* Results as bytes and as JSON. The byte form is what cache entries and worker pipes
 * carry; its decoder treats its input as hostile (a worker may die mid-write), checking
 * every length against what is left. */
#include "serve/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static const char *const status_names[] = {
	[VMS_ST_OK] = "ok",
	[VMS_ST_ERRORS] = "errors",
	[VMS_ST_UNSUPPORTED] = "unsupported",
	[VMS_ST_REFUSED] = "refused",
	[VMS_ST_CRASHED] = "crashed",
	[VMS_ST_TIMEOUT] = "timeout",
	[VMS_ST_LIMIT] = "limit",
	[VMS_ST_INTERNAL] = "internal",
};

const char *vms_status_name(enum vms_status s)
{
	if ((unsigned)s < sizeof(status_names) / sizeof(status_names[0]))
		return status_names[s];
	return "internal";
}

void vms_result_free(struct vms_result *r)
{
	vms_diags_free(&r->diags);
	free(r->obj);
	free(r->backend);
	memset(r, 0, sizeof(*r));
}

/* ---- bytes ---------------------------------------------------------------------- */

/* VRS2 added the PCH seal; entries of older formats decode as invalid and are
 * recomputed. */
#define RESULT_MAGIC "VRS2"

static void put32(struct vms_buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)v, (unsigned char)(v >> 8),
			       (unsigned char)(v >> 16), (unsigned char)(v >> 24) };
	vms_buf_append(b, p, 4);
}

static void put64(struct vms_buf *b, uint64_t v)
{
	put32(b, (uint32_t)v);
	put32(b, (uint32_t)(v >> 32));
}

static void putstr(struct vms_buf *b, const char *s)
{
	if (!s) {
		put32(b, UINT32_MAX);
		return;
	}
	size_t n = strlen(s);
	put32(b, (uint32_t)n);
	vms_buf_append(b, s, n);
}

void result_encode(const struct vms_result *r, struct vms_buf *out)
{
	vms_buf_append(out, RESULT_MAGIC, 4);
	put32(out, (uint32_t)r->status);
	put32(out, (uint32_t)r->diags.n);
	for (size_t i = 0; i < r->diags.n; i++) {
		const struct vms_diag *g = &r->diags.v[i];
		put32(out, (uint32_t)g->sev);
		put32(out, (uint32_t)g->line);
		put32(out, (uint32_t)g->col);
		putstr(out, g->file);
		putstr(out, g->msg);
	}
	putstr(out, r->backend);
	uint64_t ms;
	memcpy(&ms, &r->ms, 8);
	put64(out, ms);
	const struct vms_pch_seal *k = &r->pch_seal;
	put64(out, k->dev);
	put64(out, k->ino);
	put64(out, (uint64_t)k->size);
	put64(out, (uint64_t)k->mtime_ns);
	put64(out, (uint64_t)k->ctime_ns);
	put64(out, k->hash.hi);
	put64(out, k->hash.lo);
	put32(out, k->valid ? 1 : 0);
	put64(out, r->obj_len);
	vms_buf_append(out, r->obj, r->obj_len);
}

struct rd {
	const unsigned char *p;
	size_t left;
	int bad;
};

static uint32_t get32(struct rd *d)
{
	if (d->left < 4) {
		d->bad = 1;
		return 0;
	}
	uint32_t v = (uint32_t)d->p[0] | (uint32_t)d->p[1] << 8 | (uint32_t)d->p[2] << 16 |
		     (uint32_t)d->p[3] << 24;
	d->p += 4;
	d->left -= 4;
	return v;
}

static uint64_t get64(struct rd *d)
{
	uint64_t lo = get32(d);
	return lo | (uint64_t)get32(d) << 32;
}

static char *getstr(struct rd *d)
{
	uint32_t n = get32(d);
	if (d->bad || n == UINT32_MAX)
		return NULL;
	if (n > d->left) {
		d->bad = 1;
		return NULL;
	}
	char *s = vms_xstrndup((const char *)d->p, n);
	d->p += n;
	d->left -= n;
	return s;
}

int result_decode(const void *data, size_t len, struct vms_result *r)
{
	memset(r, 0, sizeof(*r));
	struct rd d = { data, len, 0 };
	if (len < 4 || memcmp(data, RESULT_MAGIC, 4))
		return -EINVAL;
	d.p += 4, d.left -= 4;
	uint32_t st = get32(&d);
	uint32_t n = get32(&d);
	if (d.bad || st > VMS_ST_INTERNAL || n > d.left / 20)
		return -EINVAL;
	r->status = (enum vms_status)st;
	for (uint32_t i = 0; i < n && !d.bad; i++) {
		uint32_t sev = get32(&d);
		int line = (int)get32(&d), col = (int)get32(&d);
		char *file = getstr(&d);
		char *msg = getstr(&d);
		if (!d.bad && sev <= VMS_ERROR)
			vms_diag_add(&r->diags, (enum vms_severity)sev, file, line, col, "%s",
				     msg ? msg : "");
		free(file);
		free(msg);
	}
	r->backend = getstr(&d);
	uint64_t ms = get64(&d);
	memcpy(&r->ms, &ms, 8);
	struct vms_pch_seal *k = &r->pch_seal;
	k->dev = get64(&d);
	k->ino = get64(&d);
	k->size = (int64_t)get64(&d);
	k->mtime_ns = (int64_t)get64(&d);
	k->ctime_ns = (int64_t)get64(&d);
	k->hash.hi = get64(&d);
	k->hash.lo = get64(&d);
	k->valid = get32(&d) == 1;
	uint64_t olen = get64(&d);
	if (d.bad || olen != d.left) {
		vms_result_free(r);
		return -EINVAL;
	}
	if (olen) {
		r->obj = vms_xmalloc(olen);
		memcpy(r->obj, d.p, olen);
		r->obj_len = olen;
	}
	return 0;
}

/* ---- JSON --------------------------------------------------------------------- */

char *utf8_clean(const char *s, size_t len)
{
	struct vms_buf b = { 0 };
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
				(c & 0xf8) == 0xf0 ? 4 : 0;
		int ok = n > 0 && i + n <= len && !(c == 0);
		for (size_t k = 1; ok && k < n; k++)
			ok = (u[i + k] & 0xc0) == 0x80;
		if (ok && n == 2)
			ok = c >= 0xc2;
		if (ok && n == 3) {
			uint32_t cp = (uint32_t)(c & 0x0f) << 12 | (uint32_t)(u[i + 1] & 0x3f) << 6 |
				      (u[i + 2] & 0x3f);
			ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
		}
		if (ok && n == 4) {
			uint32_t cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(u[i + 1] & 0x3f) << 12 |
				      (uint32_t)(u[i + 2] & 0x3f) << 6 | (u[i + 3] & 0x3f);
			ok = cp >= 0x10000 && cp <= 0x10ffff;
		}
		if (ok) {
			vms_buf_append(&b, u + i, n);
			i += n;
		} else {
			vms_buf_append(&b, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	return vms_buf_steal(&b);
}

static struct json_object *jstr(const char *s)
{
	char *c = utf8_clean(s, strlen(s));
	struct json_object *o = json_object_new_string(c);
	free(c);
	return o;
}

static const char *sev_name(enum vms_severity s)
{
	return s == VMS_NOTE ? "note" : s == VMS_WARNING ? "warning" : "error";
}

void result_to_json(const struct vms_result *r, struct json_object *obj)
{
	json_object_object_add(obj, "status", json_object_new_string(vms_status_name(r->status)));
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < r->diags.n; i++) {
		const struct vms_diag *g = &r->diags.v[i];
		struct json_object *d = json_object_new_object();
		if (g->file)
			json_object_object_add(d, "file", jstr(g->file));
		json_object_object_add(d, "line", json_object_new_int(g->line));
		json_object_object_add(d, "col", json_object_new_int(g->col));
		json_object_object_add(d, "severity", json_object_new_string(sev_name(g->sev)));
		json_object_object_add(d, "message", jstr(g->msg ? g->msg : ""));
		json_object_array_add(arr, d);
	}
	json_object_object_add(obj, "diagnostics", arr);
	if (r->backend)
		json_object_object_add(obj, "backend", jstr(r->backend));
	json_object_object_add(obj, "ms", json_num3(r->ms));
}

void vms_diags_from_json(struct json_object *arr, struct vms_diags *d)
{
	if (!json_object_is_type(arr, json_type_array))
		return;
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n; i++) {
		struct json_object *g = json_object_array_get_idx(arr, i), *v;
		const char *file = NULL, *msg = "", *sev = "error";
		int line = 0, col = 0;
		if (json_object_object_get_ex(g, "file", &v))
			file = json_object_get_string(v);
		if (json_object_object_get_ex(g, "message", &v))
			msg = json_object_get_string(v);
		if (json_object_object_get_ex(g, "severity", &v))
			sev = json_object_get_string(v);
		if (json_object_object_get_ex(g, "line", &v))
			line = json_object_get_int(v);
		if (json_object_object_get_ex(g, "col", &v))
			col = json_object_get_int(v);
		enum vms_severity s = !sev ? VMS_ERROR : !strcmp(sev, "note") ? VMS_NOTE :
				      !strcmp(sev, "warning") ? VMS_WARNING : VMS_ERROR;
		vms_diag_add(d, s, file, line, col, "%s", msg ? msg : "");
	}
}

struct json_object *json_num3(double v)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

const char *json_text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- base64 ------------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const void *data, size_t len)
{
	const unsigned char *u = data;
	char *out = vms_xmalloc((len + 2) / 3 * 4 + 1), *o = out;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)u[i] << 16;
		if (i + 1 < len)
			v |= (uint32_t)u[i + 1] << 8;
		if (i + 2 < len)
			v |= u[i + 2];
		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

int vms_base64_decode(const char *s, size_t len, void **out, size_t *out_len)
{
	if (len % 4)
		return -EINVAL;
	unsigned char *buf = vms_xmalloc(len / 4 * 3 + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			char c = s[i + k];
			const char *p = c ? strchr(b64, c) : NULL;
			int d;
			if (c == '=' && i + 4 == len && k >= 2) {
				d = 0;
				pad++;
			} else if (p && !pad) {
				d = (int)(p - b64);
			} else {
				free(buf);
				return -EINVAL;
			}
			v = v << 6 | (uint32_t)d;
		}
		buf[n++] = (unsigned char)(v >> 16);
		if (pad < 2)
			buf[n++] = (unsigned char)(v >> 8);
		if (pad < 1)
			buf[n++] = (unsigned char)v;
	}
	*out = buf;
	*out_len = n;
	return 0;
}

/* ---- helpers -------------------------------------------------------------------- */

void log_vprintf(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt,
		 va_list ap)
{
	char *line;
	if (log && vasprintf(&line, fmt, ap) >= 0) {
		log(ctx, line);
		free(line);
	}
}

char *safe_file_name(const char *display)
{
	const char *base = display ? vms_basename(display) : "";
	struct vms_buf b = { 0 };
	for (const char *p = base; *p && b.len < 100; p++) {
		char c = *p;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '_' || c == '-';
		vms_buf_append(&b, ok ? &c : "_", 1);
	}
	if (!b.len || b.data[0] == '.' || b.data[0] == '-') {
		vms_buf_free(&b);
		return vms_xstrdup("prog.bpf.c");
	}
	/* clang picks the language from the suffix */
	if (b.len < 2 || strcmp(b.data + b.len - 2, ".c"))
		vms_buf_puts(&b, ".c");
	return vms_buf_steal(&b);
}

void diags_rename(struct vms_diags *d, const char *from, const char *to)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].file && !strcmp(d->v[i].file, from)) {
			free(d->v[i].file);
			d->v[i].file = to ? vms_xstrdup(to) : NULL;
		}
}

/* TCC joins a #line file name to the source's directory: that directory is the daemon's
 * scratch, which is nobody's business. */
void diags_strip_dir(struct vms_diags *d, const char *dir)
{
	size_t n = strlen(dir);
	for (size_t i = 0; i < d->n; i++) {
		char *f = d->v[i].file;
		if (f && !strncmp(f, dir, n) && f[n] == '/' && f[n + 1]) {
			char *rest = vms_xstrdup(f + n + 1);
			free(f);
			d->v[i].file = rest;
		}
	}
}

void diags_append(struct vms_diags *dst, const struct vms_diags *src)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct vms_diag *g = &src->v[i];
		vms_diag_add(dst, g->sev, g->file, g->line, g->col, "%s", g->msg ? g->msg : "");
	}
}
