/* Emitting the slim header.
 *
 * The output is the input with dropped declarations cut out: kept declarations are copied
 * byte for byte in the header's own order (bpftool's order is already a valid topological
 * order for definitions), and the text between declarations that is not blank (the include
 * guard, the preserve_access_index pragma block and its BPF_NO_PRESERVE_ACCESS_INDEX
 * guard, comments) is kept as is. Records needed only by name are declared once, up front,
 * before the first declaration: a `struct X;` at file scope is what keeps a type that
 * first appears in a parameter list from being scoped to that prototype. */
#include <string.h>

#include "extract/internal.h"

static int is_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
			return 0;
	return 1;
}

static int kept(const struct chunk *ch, uint8_t level)
{
	switch (ch->kind) {
	case CHUNK_RECORD:
		return level >= NEED_SOFT;
	case CHUNK_RECORD_FWD:
		return 0;
	default:
		return level >= NEED_NAME;
	}
}

static int opaque(const struct chunk *ch, const struct closure *c, uint32_t i)
{
	if (!ch->name || (ch->kind != CHUNK_RECORD && ch->kind != CHUNK_RECORD_FWD))
		return 0;
	return c->named[i] || (c->level[i] >= NEED_NAME && !kept(ch, c->level[i]));
}

char *emit_header(const struct graph *g, const struct closure *c, const char *banner,
		  size_t *out_len, struct vms_extract_stats *st)
{
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, banner);
	size_t prev_end = 0, n_kept = 0, n_opaque = 0;
	for (uint32_t i = 0; i < g->n; i++) {
		const struct chunk *ch = &g->chunks[i];
		const char *gap = g->text + prev_end;
		size_t gap_len = ch->start > prev_end ? ch->start - prev_end : 0;
		int keep = kept(ch, c->level[i]);
		/* blank runs go with the declaration that follows them */
		if (!is_blank(gap, gap_len) || (keep && (n_kept || i == 0)))
			vms_buf_append(&b, gap, gap_len);
		if (i == 0) {
			for (uint32_t j = 0; j < g->n; j++) {
				if (!opaque(&g->chunks[j], c, j))
					continue;
				vms_buf_printf(&b, "%s %s;\n\n", g->chunks[j].tag, g->chunks[j].name);
				if (!kept(&g->chunks[j], c->level[j]))
					n_opaque++;
			}
		}
		if (keep) {
			vms_buf_append(&b, g->text + ch->start, ch->end - ch->start);
			n_kept++;
		}
		prev_end = ch->end;
	}
	if (prev_end < g->len)
		vms_buf_append(&b, g->text + prev_end, g->len - prev_end);
	if (st) {
		st->types_total = g->n;
		st->types_kept = n_kept;
		st->types_opaque = n_opaque;
		st->bytes_total = g->len;
		st->bytes_kept = b.len;
	}
	*out_len = b.len;
	return vms_buf_steal(&b);
}
