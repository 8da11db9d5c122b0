/* The header as a graph of top-level declarations ("chunks").
 *
 * Each chunk is a byte range of the header's text, so that what we emit is exactly what the
 * header said (no pretty-printer can drift). An edge says how much of another declaration
 * the chunk needs, in the manner of libbpf's btf_dump.c strong and weak links:
 *   - a by-value member, an array element or an enum type needs the FULL definition;
 *   - a member's pointer target needs only a NAME: a record is then emitted as an opaque
 *     `struct X;`;
 *   - a prototype's parameters and results, and an array's elements, are SOFT, pointer
 *     targets included: clang's BTF emits them complete (the rule is in typewalk.c);
 *   - a typedef is needed as strongly as its users need it (NEED_FOLLOW): `typedef struct x
 *     x_t;` needs struct x in full only if someone holds an x_t by value.
 * Types are read from clang's type objects rather than from TypeRef cursors, because only
 * the type says whether a name sits behind a pointer. */
#include <stdlib.h>
#include <string.h>

#include "extract/internal.h"
#include "extract/typewalk.h"

void edges_add(struct edges *e, uint32_t to, uint8_t need)
{
	for (uint32_t i = e->n; i > 0 && i + 8 > e->n; i--)
		if (e->v[i - 1].to == to && e->v[i - 1].need == need)
			return; /* cheap de-duplication of the common repeat */
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 4;
		e->v = vms_xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	e->v[e->n++] = (struct edge){ .to = to, .need = need };
}

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void names_insert(struct graph *g, char *key, uint32_t chunk, int prefer)
{
	uint32_t mask = g->names_cap - 1;
	for (uint32_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		struct name_slot *s = &g->names[i];
		if (!s->key) {
			s->key = key;
			s->chunk = chunk;
			return;
		}
		if (!strcmp(s->key, key)) {
			/* a definition wins over a forward declaration of the same record */
			if (prefer)
				s->chunk = chunk;
			free(key);
			return;
		}
	}
}

int64_t graph_lookup(const struct graph *g, const char *key)
{
	if (!g->names_cap)
		return -1;
	uint32_t mask = g->names_cap - 1;
	for (uint32_t i = hash_str(key) & mask;; i = (i + 1) & mask) {
		const struct name_slot *s = &g->names[i];
		if (!s->key)
			return -1;
		if (!strcmp(s->key, key))
			return s->chunk;
	}
}

int64_t graph_chunk_at(const struct graph *g, uint32_t offset)
{
	uint32_t lo = 0, hi = g->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (g->chunks[mid].end <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < g->n && g->chunks[lo].start <= offset && offset < g->chunks[lo].end)
		return lo;
	return -1;
}

int64_t graph_chunk_of_decl(const struct graph *g, CXFile header, CXCursor decl)
{
	if (clang_Cursor_isNull(decl) || clang_isInvalid(clang_getCursorKind(decl)))
		return -1;
	CXFile f = NULL;
	unsigned off = 0;
	clang_getSpellingLocation(clang_getCursorLocation(decl), &f, NULL, NULL, &off);
	if (!f || !clang_File_isEqual(f, header))
		return -1;
	int64_t i = graph_chunk_at(g, off);
	/* A named record resolves by name: to its definition when the header has one, and
	 * also when clang saw it first inside a prototype (a header without the forward
	 * declaration bpftool would emit), where its cursor lies in another chunk. */
	enum CXCursorKind k = clang_getCursorKind(decl);
	if (i >= 0 && (k == CXCursor_StructDecl || k == CXCursor_UnionDecl)) {
		CXString sp = clang_getCursorSpelling(decl);
		const char *name = clang_getCString(sp);
		if (name && *name && !strchr(name, ' ') && !clang_Cursor_isAnonymous(decl)) {
			char key[512];
			snprintf(key, sizeof(key), "%s %s", k == CXCursor_StructDecl ? "struct" : "union",
				 name);
			int64_t named = graph_lookup(g, key);
			if (named >= 0)
				i = named;
		}
		clang_disposeString(sp);
	}
	return i;
}

/* ---- chunk ranges ------------------------------------------------------------------ */

struct span {
	uint32_t start, end, line;
	CXCursor cursor;
};

struct span_list {
	struct span *v;
	size_t n, cap;
	CXFile header;
};

static enum CXChildVisitResult collect_spans(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	struct span_list *l = data;
	CXSourceRange r = clang_getCursorExtent(c);
	CXFile f1 = NULL, f2 = NULL;
	unsigned s = 0, e = 0, line = 0;
	clang_getSpellingLocation(clang_getRangeStart(r), &f1, &line, NULL, &s);
	clang_getSpellingLocation(clang_getRangeEnd(r), &f2, NULL, NULL, &e);
	if (!f1 || !clang_File_isEqual(f1, l->header) || !f2 || !clang_File_isEqual(f2, l->header))
		return CXChildVisit_Continue;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = vms_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (struct span){ .start = s, .end = e, .line = line, .cursor = c };
	return CXChildVisit_Continue;
}

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end;
}

/* A declaration's extent stops before attributes after the closing brace and before the
 * ';', so the chunk runs on to the ';' at nesting depth zero. */
static uint32_t extend_to_semicolon(const char *text, size_t len, uint32_t end)
{
	int depth = 0;
	for (size_t i = end; i < len; i++) {
		char ch = text[i];
		if (ch == '(' || ch == '{' || ch == '[')
			depth++;
		else if (ch == ')' || ch == '}' || ch == ']')
			depth--;
		else if (ch == ';' && depth <= 0)
			return (uint32_t)i + 1;
		else if (ch == '#' && (i == 0 || text[i - 1] == '\n'))
			break;
	}
	return end;
}

static char *cursor_name(CXCursor c)
{
	if (clang_Cursor_isAnonymous(c))
		return NULL;
	CXString s = clang_getCursorSpelling(c);
	const char *cs = clang_getCString(s);
	char *name = NULL;
	/* newer libclang spells anonymous records "struct (unnamed at ...)" */
	if (cs && *cs && !strchr(cs, ' ') && !strchr(cs, '('))
		name = vms_xstrdup(cs);
	clang_disposeString(s);
	return name;
}

static void classify(struct chunk *ch, const struct span *spans, size_t n)
{
	ch->kind = CHUNK_OTHER;
	for (size_t i = 0; i < n; i++) {
		CXCursor c = spans[i].cursor;
		enum CXCursorKind k = clang_getCursorKind(c);
		if (k == CXCursor_TypedefDecl) {
			free(ch->name);
			ch->kind = CHUNK_TYPEDEF;
			ch->tag = NULL;
			ch->name = cursor_name(c);
			return; /* a typedef names the chunk even if it defines a record inline */
		}
		if (ch->kind != CHUNK_OTHER)
			continue;
		if (k == CXCursor_StructDecl || k == CXCursor_UnionDecl) {
			ch->tag = k == CXCursor_StructDecl ? "struct" : "union";
			ch->kind = clang_isCursorDefinition(c) ? CHUNK_RECORD : CHUNK_RECORD_FWD;
			ch->name = cursor_name(c);
		} else if (k == CXCursor_EnumDecl) {
			ch->tag = "enum";
			ch->kind = CHUNK_ENUM;
			ch->name = cursor_name(c);
		} else {
			ch->name = cursor_name(c);
		}
	}
}

/* ---- edges ------------------------------------------------------------------------- */

struct edge_ctx {
	struct typewalk tw;
	struct chunk *ch;
	const struct graph *g;
	CXFile header;
	uint32_t self;
};

static void add_to_full(struct typewalk *tw, int64_t to, uint8_t need)
{
	struct edge_ctx *x = (struct edge_ctx *)tw;
	if (to >= 0 && (uint32_t)to != x->self)
		edges_add(&x->ch->when_full, (uint32_t)to, need);
}

static void add_to_both(struct typewalk *tw, int64_t to, uint8_t need)
{
	struct edge_ctx *x = (struct edge_ctx *)tw;
	if (to >= 0 && (uint32_t)to != x->self) {
		edges_add(&x->ch->when_full, (uint32_t)to, need);
		edges_add(&x->ch->when_name, (uint32_t)to, need);
	}
}

static void add_to_name(struct typewalk *tw, int64_t to, uint8_t need)
{
	struct edge_ctx *x = (struct edge_ctx *)tw;
	if (to >= 0 && (uint32_t)to != x->self)
		edges_add(&x->ch->when_name, (uint32_t)to, need);
}

static enum CXChildVisitResult edge_visitor(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	struct edge_ctx *x = data;
	enum CXCursorKind k = clang_getCursorKind(c);
	/* what a definition's members need does not depend on how the chunk is needed,
	 * except for records, which emit nothing of their body when only named */
	x->tw.add = x->ch->kind == CHUNK_RECORD ? add_to_full : add_to_both;
	if (k == CXCursor_FieldDecl) {
		typewalk_type(&x->tw, clang_getCursorType(c), NEED_FULL);
	} else if (k == CXCursor_DeclRefExpr) {
		CXCursor ref = clang_getCursorReferenced(c);
		if (clang_getCursorKind(ref) == CXCursor_EnumConstantDecl)
			x->tw.add(&x->tw, graph_chunk_of_decl(x->g, x->header, ref), NEED_FULL);
	}
	return CXChildVisit_Recurse;
}

static void chunk_edges(struct graph *g, CXFile header, uint32_t idx, const struct span *spans,
			size_t n)
{
	struct edge_ctx x = {
		.tw = { .g = g, .header = header, .ptr_need = NEED_NAME, .btf_need = NEED_SOFT },
		.ch = &g->chunks[idx], .g = g, .header = header, .self = idx,
	};
	for (size_t i = 0; i < n; i++) {
		CXCursor c = spans[i].cursor;
		enum CXCursorKind k = clang_getCursorKind(c);
		if (k == CXCursor_TypedefDecl) {
			CXType u = clang_getTypedefDeclUnderlyingType(c);
			x.tw.add = add_to_name;
			typewalk_type(&x.tw, u, NEED_NAME);
			x.tw.add = add_to_full;
			typewalk_type(&x.tw, u, NEED_FOLLOW);
		} else if (k == CXCursor_VarDecl || k == CXCursor_FunctionDecl) {
			x.tw.add = add_to_both;
			typewalk_type(&x.tw, clang_getCursorType(c), NEED_NAME);
		}
		clang_visitChildren(c, edge_visitor, &x);
	}
}

int graph_build(struct graph *g, const struct parsed *p, const char *text, size_t len,
		struct vms_diags *d)
{
	memset(g, 0, sizeof(*g));
	g->text = text;
	g->len = len;
	struct span_list l = { .header = p->header };
	clang_visitChildren(clang_getTranslationUnitCursor(p->tu), collect_spans, &l);
	qsort(l.v, l.n, sizeof(*l.v), span_cmp);

	/* merge overlapping cursors into chunks; remember each chunk's first span */
	size_t *first = vms_xcalloc(l.n + 1, sizeof(*first));
	g->chunks = vms_xcalloc(l.n ? l.n : 1, sizeof(*g->chunks));
	for (size_t i = 0; i < l.n; i++) {
		struct span *s = &l.v[i];
		if (g->n && s->start < g->chunks[g->n - 1].end) {
			struct chunk *ch = &g->chunks[g->n - 1];
			if (s->end > ch->end)
				ch->end = extend_to_semicolon(text, len, s->end);
			continue;
		}
		if (s->end > len) {
			vms_diag_add(d, VMS_ERROR, p->shown_path, (int)s->line, 0,
				     "declaration runs past the end of the header");
			free(first), free(l.v);
			return -1;
		}
		first[g->n] = i;
		g->chunks[g->n++] = (struct chunk){
			.start = s->start,
			.end = extend_to_semicolon(text, len, s->end),
			.line = s->line,
		};
	}
	first[g->n] = l.n;

	g->names_cap = 1024;
	while (g->names_cap < 2 * (g->n + 1))
		g->names_cap *= 2;
	g->names = vms_xcalloc(g->names_cap, sizeof(*g->names));
	for (uint32_t i = 0; i < g->n; i++) {
		struct chunk *ch = &g->chunks[i];
		classify(ch, &l.v[first[i]], first[i + 1] - first[i]);
		if (!ch->name)
			continue;
		if (ch->kind == CHUNK_TYPEDEF || ch->kind == CHUNK_OTHER)
			names_insert(g, vms_xstrdup(ch->name), i, 0);
		else
			names_insert(g, vms_xasprintf("%s %s", ch->tag, ch->name), i,
				     ch->kind != CHUNK_RECORD_FWD);
	}
	for (uint32_t i = 0; i < g->n; i++)
		chunk_edges(g, p->header, i, &l.v[first[i]], first[i + 1] - first[i]);
	free(first);
	free(l.v);
	return 0;
}

void graph_free(struct graph *g)
{
	for (uint32_t i = 0; i < g->n; i++) {
		free(g->chunks[i].name);
		free(g->chunks[i].when_name.v);
		free(g->chunks[i].when_full.v);
	}
	free(g->chunks);
	for (uint32_t i = 0; i < g->names_cap; i++)
		free(g->names[i].key);
	free(g->names);
	memset(g, 0, sizeof(*g));
}
