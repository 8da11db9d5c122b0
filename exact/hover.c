/* Hover and go-to-definition: the cursor under the position (clang_getCursor on the
 * checker's translation unit), what it refers to, and that declaration's type, place and,
 * for a struct member, its offset and size as the header's kernel lays it out. */
#include "exact/internal.h"

#include <stdlib.h>
#include <string.h>

static int ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The record's name as BTF knows it ("task_struct" for `struct task_struct`); NULL for
 * an anonymous one. */
static char *record_name(CXCursor rec)
{
	if (clang_Cursor_isAnonymous(rec))
		return NULL;
	char *n = exact_str(clang_getCursorSpelling(rec));
	if (!*n) {
		free(n);
		return NULL;
	}
	return n;
}

static void where(const struct vms_exact *x, CXCursor c, struct vms_buf *b)
{
	CXFile f;
	unsigned line = 0, col = 0;
	clang_getSpellingLocation(clang_getCursorLocation(c), &f, &line, &col, NULL);
	char *fn = exact_str(clang_getFileName(f));
	const char *shown = exact_shown_name(x, fn);
	if (shown && *shown)
		vms_buf_printf(b, "\n\n*%s:%u*", vms_basename(shown), line);
	free(fn);
}

int vms_exact_hover(struct vms_exact *x, const char *text, size_t len, unsigned line,
		    unsigned col, struct vms_exact_hover *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	if (exact_sync(x, text, len, d) < 0)
		return -1;
	size_t at = exact_offset(text, len, line, col), s = at, e = at;
	while (s > 0 && ident(text[s - 1]))
		s--;
	while (e < len && ident(text[e]))
		e++;
	if (s == e)
		return 0;
	CXCursor c, ref;
	int found = exact_cursor_at(x, line, (unsigned)(col - (at - s)), &c, &ref) == 0;
	/* a field argument of BPF_CORE_READ(): clang may see it only inside the macro's
	 * typeof()s; the access it stands for, parsed once for this request, names it (the
	 * next request or check reparses the real text, the preamble reused) */
	size_t new_at;
	char *rw = (!found || clang_getCursorKind(ref) != CXCursor_FieldDecl)
			   ? exact_core_read_rewrite(text, len, s, &new_at) : NULL;
	if (rw) {
		unsigned rl, rc;
		exact_line_col(rw, new_at, &rl, &rc);
		if (exact_sync(x, rw, strlen(rw), d) == 0 &&
		    exact_cursor_at(x, rl, rc, &c, &ref) == 0)
			found = 1;
		free(rw);
	}
	if (!found)
		return 0;
	enum CXCursorKind k = clang_getCursorKind(ref);
	char *name = exact_str(clang_getCursorSpelling(ref));
	char *type = exact_str(clang_getTypeSpelling(clang_getCursorType(ref)));
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "```c\n");
	switch (k) {
	case CXCursor_StructDecl:
	case CXCursor_UnionDecl:
	case CXCursor_EnumDecl: {
		long long sz = clang_Type_getSizeOf(clang_getCursorType(ref));
		vms_buf_printf(&b, "%s\n```", type);
		if (sz >= 0)
			vms_buf_printf(&b, "\nsize %lld", sz);
		break;
	}
	case CXCursor_FieldDecl: {
		CXCursor rec = clang_getCursorSemanticParent(ref);
		char *rt = exact_str(clang_getTypeSpelling(clang_getCursorType(rec)));
		long long bits = clang_Cursor_getOffsetOfField(ref);
		long long sz = clang_Type_getSizeOf(clang_getCursorType(ref));
		vms_buf_printf(&b, "%s %s", type, name);
		if (clang_Cursor_isBitField(ref))
			vms_buf_printf(&b, " : %d", clang_getFieldDeclBitWidth(ref));
		vms_buf_printf(&b, "\n```\nmember of `%s`", rt);
		if (bits >= 0 && clang_Cursor_isBitField(ref))
			vms_buf_printf(&b, " · offset %lld bits (byte %lld), %d bits", bits,
				       bits / 8, clang_getFieldDeclBitWidth(ref));
		else if (bits >= 0)
			vms_buf_printf(&b, " · offset %lld (0x%llx), size %lld", bits / 8, bits / 8,
				       sz);
		out->record = record_name(rec);
		out->record_is_union = clang_getCursorKind(rec) == CXCursor_UnionDecl;
		if (out->record)
			out->member = vms_xstrdup(name);
		free(rt);
		break;
	}
	case CXCursor_EnumConstantDecl:
		vms_buf_printf(&b, "%s = %lld\n```", name, clang_getEnumConstantDeclValue(ref));
		break;
	case CXCursor_TypedefDecl: {
		char *u = exact_str(clang_getTypeSpelling(clang_getTypedefDeclUnderlyingType(ref)));
		long long sz = clang_Type_getSizeOf(clang_getCursorType(ref));
		vms_buf_printf(&b, "typedef %s %s\n```", u, name);
		if (sz >= 0)
			vms_buf_printf(&b, "\nsize %lld", sz);
		free(u);
		break;
	}
	case CXCursor_FunctionDecl:
	case CXCursor_VarDecl:
	case CXCursor_ParmDecl:
		vms_buf_printf(&b, "%s %s\n```", type, name);
		break;
	default:
		vms_buf_printf(&b, "%s%s%s\n```", type, *type && *name ? " " : "", name);
	}
	where(x, ref, &b);
	out->markdown = vms_buf_steal(&b);
	out->line = line;
	out->col = (unsigned)(col - (at - s));
	out->end_col = (unsigned)(col + (e - at));
	free(name);
	free(type);
	return 1;
}

void vms_exact_hover_free(struct vms_exact_hover *h)
{
	free(h->markdown);
	free(h->record);
	free(h->member);
	memset(h, 0, sizeof(*h));
}

int vms_exact_definition(struct vms_exact *x, const char *text, size_t len, unsigned line,
			 unsigned col, struct vms_exact_loc *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	if (exact_sync(x, text, len, d) < 0)
		return -1;
	CXCursor c, ref;
	if (exact_cursor_at(x, line, col, &c, &ref) < 0)
		return 0;
	CXCursor def = clang_getCursorDefinition(ref);
	if (!clang_Cursor_isNull(def) && !clang_isInvalid(clang_getCursorKind(def)))
		ref = def;
	CXFile f;
	unsigned l = 0, cc = 0;
	clang_getSpellingLocation(clang_getCursorLocation(ref), &f, &l, &cc, NULL);
	if (!f || !l)
		return 0;
	char *fn = exact_str(clang_getFileName(f));
	const char *shown = exact_shown_name(x, fn);
	char *abs = shown ? vms_realpath(shown) : NULL;
	out->file = abs ? abs : vms_xstrdup(shown ? shown : fn);
	out->line = l;
	out->col = cc;
	free(fn);
	return 1;
}
