#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *vms_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "vmslim: out of memory (%zu bytes)\n", n);
		abort();
	}
	return p;
}

void *vms_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fprintf(stderr, "vmslim: out of memory (%zu x %zu bytes)\n", n, size);
		abort();
	}
	return p;
}

void *vms_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "vmslim: out of memory (%zu bytes)\n", n);
		abort();
	}
	return p;
}

char *vms_xstrdup(const char *s)
{
	return vms_xstrndup(s, strlen(s));
}

char *vms_xstrndup(const char *s, size_t n)
{
	char *p = vms_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *vms_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		fprintf(stderr, "vmslim: out of memory\n");
		abort();
	}
	va_end(ap);
	return s;
}

static void buf_reserve(struct vms_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = vms_xrealloc(b->data, cap);
	b->cap = cap;
}

void vms_buf_append(struct vms_buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
}

void vms_buf_puts(struct vms_buf *b, const char *s)
{
	vms_buf_append(b, s, strlen(s));
}

void vms_buf_printf(struct vms_buf *b, const char *fmt, ...)
{
	va_list ap, ap2;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0) {
		buf_reserve(b, (size_t)n);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
		b->len += (size_t)n;
	}
	va_end(ap2);
}

char *vms_buf_steal(struct vms_buf *b)
{
	char *s = b->data ? b->data : vms_xstrdup("");
	memset(b, 0, sizeof(*b));
	return s;
}

void vms_buf_free(struct vms_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void vms_argv_push(struct vms_argv *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		a->cap = a->cap ? 2 * a->cap : 16;
		a->v = vms_xrealloc(a->v, a->cap * sizeof(*a->v));
	}
	a->v[a->n++] = vms_xstrdup(s);
	a->v[a->n] = NULL;
}

void vms_argv_pushf(struct vms_argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	vms_argv_push(a, s);
	free(s);
}

void vms_argv_free(struct vms_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

int vms_argv_equal(const struct vms_argv *a, const struct vms_argv *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i], b->v[i]))
			return 0;
	return 1;
}
