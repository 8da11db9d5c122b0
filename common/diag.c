#include "common.h"

#include <stdlib.h>
#include <string.h>

void vms_diag_vadd(struct vms_diags *d, enum vms_severity sev, const char *file, int line,
		   int col, const char *fmt, va_list ap)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->v = vms_xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	struct vms_diag *g = &d->v[d->n++];
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = vms_xstrdup("(out of memory formatting a diagnostic)");
	g->file = file ? vms_xstrdup(file) : NULL;
	g->line = line;
	g->col = col;
	g->sev = sev;
	g->msg = msg;
}

void vms_diag_add(struct vms_diags *d, enum vms_severity sev, const char *file, int line,
		  int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vms_diag_vadd(d, sev, file, line, col, fmt, ap);
	va_end(ap);
}

size_t vms_diags_count(const struct vms_diags *d, enum vms_severity sev)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].sev == sev;
	return n;
}

static const char *severity_name(enum vms_severity sev)
{
	switch (sev) {
	case VMS_NOTE: return "note";
	case VMS_WARNING: return "warning";
	default: return "error";
	}
}

void vms_diags_print(FILE *out, const struct vms_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct vms_diag *g = &d->v[i];
		if (g->file) {
			fprintf(out, "%s:", g->file);
			if (g->line > 0) {
				fprintf(out, "%d:", g->line);
				if (g->col > 0)
					fprintf(out, "%d:", g->col);
			}
			fputc(' ', out);
		}
		fprintf(out, "%s: %s\n", severity_name(g->sev), g->msg);
	}
}

void vms_diags_to_text(const struct vms_diags *d, char **text, size_t *len)
{
	FILE *f = open_memstream(text, len);
	if (!f) {
		*text = vms_xstrdup("");
		*len = 0;
		return;
	}
	vms_diags_print(f, d);
	fclose(f);
}

void vms_diags_free(struct vms_diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}
