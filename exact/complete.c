/* Completion: clang_codeCompleteAt on the checker's translation unit (its precompiled
 * preamble reused), filtered by the typed prefix here, as clangd filters its own.
 *
 * BPF_CORE_READ(src, a, b) names fields as bare arguments that the macro pastes into
 * src->a->b: clang sees no member access at `BPF_CORE_READ(task, |` and would offer
 * every identifier. So inside the field arguments of that family the text is completed
 * as the access it expands to: the call up to the cursor is rewritten, for this request
 * only, into "(src)->a->b->" and clang completes after the last arrow. */
#include "exact/internal.h"

#include <stdlib.h>
#include <string.h>

static int ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The macros whose arguments after the source one are field names, and that source's
 * index (bpf_core_read.h). */
static const struct { const char *name; int src; } field_macros[] = {
	{ "BPF_CORE_READ", 0 }, { "BPF_CORE_READ_USER", 0 }, { "BPF_PROBE_READ", 0 },
	{ "BPF_PROBE_READ_USER", 0 }, { "BPF_CORE_READ_INTO", 1 },
	{ "BPF_CORE_READ_USER_INTO", 1 }, { "BPF_PROBE_READ_INTO", 1 },
	{ "BPF_PROBE_READ_USER_INTO", 1 }, { "BPF_CORE_READ_STR_INTO", 1 },
	{ "BPF_CORE_READ_USER_STR_INTO", 1 }, { "BPF_PROBE_READ_STR_INTO", 1 },
	{ "BPF_PROBE_READ_USER_STR_INTO", 1 }, { "BPF_CORE_READ_BITFIELD", 0 },
	{ "BPF_CORE_READ_BITFIELD_PROBED", 0 },
};

/* The rewritten text when at (the prefix's start) is a field argument of one of those
 * macros: owned, with *new_at where the prefix now starts; NULL otherwise. */
char *exact_core_read_rewrite(const char *t, size_t len, size_t at, size_t *new_at)
{
	/* the innermost unclosed '(' before at, within the statement */
	int depth = 0;
	size_t open = 0, i = at;
	int found = 0;
	size_t commas[16];
	int nc = 0;
	while (i > 0 && at - i < 4096) {
		char c = t[--i];
		if (c == ')' || c == ']')
			depth++;
		else if ((c == '(' || c == '[') && depth > 0)
			depth--;
		else if (c == '(') {
			open = i;
			found = 1;
			break;
		} else if (c == ';' || c == '{' || c == '}')
			return NULL;
		else if (c == ',' && depth == 0) {
			if (nc == 16)
				return NULL;
			commas[nc++] = i;
		}
	}
	if (!found)
		return NULL;
	size_t ne = open;
	while (ne > 0 && (t[ne - 1] == ' ' || t[ne - 1] == '\t'))
		ne--;
	size_t ns = ne;
	while (ns > 0 && ident(t[ns - 1]))
		ns--;
	int src = -1;
	for (size_t k = 0; k < sizeof(field_macros) / sizeof(*field_macros); k++)
		if (strlen(field_macros[k].name) == ne - ns &&
		    !memcmp(t + ns, field_macros[k].name, ne - ns))
			src = field_macros[k].src;
	if (src < 0 || nc <= src)
		return NULL; /* not one of them, or still in the source argument */
	/* the arguments, in order: (open, commas[nc-1]), (commas[nc-1], commas[nc-2])... */
	struct vms_buf b = { 0 };
	vms_buf_append(&b, t, ns);
	for (int a = 0; a < nc; a++) {
		size_t s = (a == 0 ? open : commas[nc - a]) + 1, e = commas[nc - 1 - a];
		while (s < e && (t[s] == ' ' || t[s] == '\t' || t[s] == '\n'))
			s++;
		while (e > s && (t[e - 1] == ' ' || t[e - 1] == '\t' || t[e - 1] == '\n'))
			e--;
		if (a < src)
			continue;
		if (a == src) {
			vms_buf_puts(&b, "(");
			vms_buf_append(&b, t + s, e - s);
			vms_buf_puts(&b, ")->");
		} else {
			vms_buf_append(&b, t + s, e - s);
			vms_buf_puts(&b, "->");
		}
	}
	*new_at = b.len;
	vms_buf_append(&b, t + at, len - at);
	vms_buf_append(&b, "", 1);
	b.len--;
	return vms_buf_steal(&b);
}

void exact_line_col(const char *t, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;
	for (size_t i = 0; i < off; i++) {
		if (t[i] == '\n')
			l++, c = 1;
		else
			c++;
	}
	*line = l, *col = c;
}

static enum vms_exact_item_kind kind_of(enum CXCursorKind k)
{
	switch (k) {
	case CXCursor_FieldDecl: return VMS_ITEM_FIELD;
	case CXCursor_StructDecl: return VMS_ITEM_STRUCT;
	case CXCursor_UnionDecl: return VMS_ITEM_UNION;
	case CXCursor_EnumDecl: return VMS_ITEM_ENUM;
	case CXCursor_EnumConstantDecl: return VMS_ITEM_ENUM_CONST;
	case CXCursor_FunctionDecl: return VMS_ITEM_FUNCTION;
	case CXCursor_VarDecl: case CXCursor_ParmDecl: return VMS_ITEM_VARIABLE;
	case CXCursor_TypedefDecl: return VMS_ITEM_TYPEDEF;
	case CXCursor_MacroDefinition: return VMS_ITEM_MACRO;
	case CXCursor_NotImplemented: return VMS_ITEM_KEYWORD;
	default: return VMS_ITEM_TEXT;
	}
}

static int by_priority(const void *a, const void *b)
{
	const struct vms_exact_item *x = a, *y = b;
	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->label, y->label);
}

/* Every result of one clang_codeCompleteAt, unfiltered; *contexts what clang saw there. */
static int run(struct vms_exact *x, const char *t, size_t tl, unsigned cl, unsigned cc,
	       unsigned flags, struct vms_exact_items *all, unsigned long long *contexts)
{
	struct CXUnsavedFile uf = { .Filename = x->parse_path, .Contents = t,
				    .Length = (unsigned long)tl };
	CXCodeCompleteResults *res = clang_codeCompleteAt(x->tu, x->parse_path, cl, cc, &uf, 1,
							  flags | CXCodeComplete_IncludeMacros);
	if (!res)
		return -1;
	*contexts = clang_codeCompleteGetContexts(res);
	size_t cap = 0;
	for (unsigned i = 0; i < res->NumResults; i++) {
		CXCompletionString cs = res->Results[i].CompletionString;
		if (clang_getCompletionAvailability(cs) == CXAvailability_NotAvailable)
			continue;
		unsigned nch = clang_getNumCompletionChunks(cs);
		CXString typed = { 0 }, rtype = { 0 };
		int have_typed = 0, have_rtype = 0;
		for (unsigned k = 0; k < nch; k++) {
			enum CXCompletionChunkKind ck = clang_getCompletionChunkKind(cs, k);
			if (ck == CXCompletionChunk_TypedText && !have_typed) {
				typed = clang_getCompletionChunkText(cs, k);
				have_typed = 1;
			} else if (ck == CXCompletionChunk_ResultType && !have_rtype) {
				rtype = clang_getCompletionChunkText(cs, k);
				have_rtype = 1;
			}
		}
		const char *lab = have_typed ? clang_getCString(typed) : NULL;
		if (lab && *lab) {
			if (all->n == cap) {
				cap = cap ? cap * 2 : 64;
				all->v = vms_xrealloc(all->v, cap * sizeof(*all->v));
			}
			const char *rt = have_rtype ? clang_getCString(rtype) : NULL;
			all->v[all->n++] = (struct vms_exact_item){
				.label = vms_xstrdup(lab),
				.detail = rt && *rt ? vms_xstrdup(rt) : NULL,
				.kind = kind_of(res->Results[i].CursorKind),
				.priority = clang_getCompletionPriority(cs),
			};
		}
		if (have_typed)
			clang_disposeString(typed);
		if (have_rtype)
			clang_disposeString(rtype);
	}
	clang_disposeCodeCompleteResults(res);
	return 0;
}

/* What the preamble's declarations depend on: the command line and every directive line
 * of the text (an edit in the body leaves it alone). */
static struct vms_hash128 preamble_key(const struct vms_exact *x, const char *t, size_t len)
{
	struct vms_buf b = { 0 };
	for (size_t i = 0; i < x->args.n; i++)
		vms_buf_printf(&b, "%s\n", x->args.v[i]);
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && t[e] != '\n')
			e++;
		size_t k = i;
		while (k < e && (t[k] == ' ' || t[k] == '\t'))
			k++;
		if (k < e && t[k] == '#')
			vms_buf_append(&b, t + i, e - i + (e < len));
		i = e + 1;
	}
	struct vms_hash128 h = vms_hash128(b.data ? b.data : "", b.len);
	vms_buf_free(&b);
	return h;
}

static void add_matching(struct vms_exact_items *out, const struct vms_exact_items *from,
			 const char *prefix, size_t plen, size_t *cap)
{
	for (size_t i = 0; i < from->n; i++) {
		const struct vms_exact_item *it = &from->v[i];
		if (strncmp(it->label, prefix, plen))
			continue;
		if (out->n == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			out->v = vms_xrealloc(out->v, *cap * sizeof(*out->v));
		}
		out->v[out->n++] = (struct vms_exact_item){
			.label = vms_xstrdup(it->label),
			.detail = it->detail ? vms_xstrdup(it->detail) : NULL,
			.kind = it->kind, .priority = it->priority,
		};
	}
}

int vms_exact_complete(struct vms_exact *x, const char *text, size_t len, unsigned line,
		       unsigned col, size_t max, struct vms_exact_items *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	if (!x->tu && exact_sync(x, text, len, d) < 0)
		return -1;
	size_t at = exact_offset(text, len, line, col), ps = at;
	while (ps > 0 && ident(text[ps - 1]))
		ps--;
	const char *prefix = text + ps;
	size_t plen = at - ps;
	out->start_col = col - (unsigned)plen;
	size_t new_at = ps;
	char *rw = exact_core_read_rewrite(text, len, ps, &new_at);
	const char *t = rw ? rw : text;
	size_t tl = rw ? strlen(rw) : len;
	unsigned cl, cc;
	exact_line_col(t, new_at, &cl, &cc);
	/* First without the preamble's own declarations: members, and the program's names,
	 * in a few ms. Where the preamble's names belong (identifiers, tags), those come
	 * from a list kept per kind of place, made by one full completion per preamble:
	 * a full one walks the ~100k names vmlinux.h declares, ~250 ms each time. */
	struct vms_exact_items local = { 0 };
	unsigned long long ctx = 0;
	if (run(x, t, tl, cl, cc, CXCodeComplete_SkipPreamble, &local, &ctx) < 0) {
		free(rw);
		vms_diag_add(d, VMS_ERROR, x->path, (int)line, (int)col,
			     "libclang could not complete here");
		return -1;
	}
	const unsigned long long members = CXCompletionContext_DotMemberAccess |
					   CXCompletionContext_ArrowMemberAccess;
	const unsigned long long tags = CXCompletionContext_StructTag |
					CXCompletionContext_UnionTag | CXCompletionContext_EnumTag;
	size_t cap = 0;
	add_matching(out, &local, prefix, plen, &cap);
	if (!(ctx & members)) {
		int cls = (ctx & tags) && !(ctx & CXCompletionContext_AnyValue) ? 1 : 0;
		struct exact_global *g = &x->global[cls];
		struct vms_hash128 key = preamble_key(x, text, len);
		if (!g->valid || g->key.hi != key.hi || g->key.lo != key.lo) {
			vms_exact_items_free(&g->items);
			unsigned long long c2;
			g->valid = run(x, t, tl, cl, cc, 0, &g->items, &c2) == 0;
			g->key = key;
		}
		/* the program's own names came first; the full list has them too */
		size_t first = out->n;
		struct vms_exact_items more = { 0 };
		size_t mcap = 0;
		add_matching(&more, &g->items, prefix, plen, &mcap);
		for (size_t i = 0; i < more.n; i++) {
			int dup = 0;
			for (size_t k = 0; k < first && !dup; k++)
				dup = !strcmp(out->v[k].label, more.v[i].label);
			if (dup) {
				free(more.v[i].label), free(more.v[i].detail);
				continue;
			}
			if (out->n == cap) {
				cap = cap ? cap * 2 : 64;
				out->v = vms_xrealloc(out->v, cap * sizeof(*out->v));
			}
			out->v[out->n++] = more.v[i];
		}
		free(more.v);
	}
	vms_exact_items_free(&local);
	free(rw);
	qsort(out->v, out->n, sizeof(*out->v), by_priority);
	if (out->n > max) {
		for (size_t i = max; i < out->n; i++)
			free(out->v[i].label), free(out->v[i].detail);
		out->n = max;
		out->incomplete = 1;
	}
	return 0;
}

void vms_exact_items_free(struct vms_exact_items *it)
{
	for (size_t i = 0; i < it->n; i++)
		free(it->v[i].label), free(it->v[i].detail);
	free(it->v);
	memset(it, 0, sizeof(*it));
}
