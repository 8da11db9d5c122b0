/* Shared by the editor features: positions in the text, and the cursor under one. */
#include "exact/internal.h"

#include <stdlib.h>
#include <string.h>

size_t exact_offset(const char *text, size_t len, unsigned line, unsigned col)
{
	size_t i = 0;
	for (unsigned l = 1; l < line && i < len; i++)
		if (text[i] == '\n')
			l++;
	for (unsigned c = 1; c < col && i < len && text[i] != '\n'; c++)
		i++;
	return i;
}

char *exact_str(CXString s)
{
	const char *c = clang_getCString(s);
	char *r = vms_xstrdup(c ? c : "");
	clang_disposeString(s);
	return r;
}

struct find {
	CXFile file;
	unsigned line, col;
	CXCursor best;
	int found;
};

/* A reference whose name is spelled at the position: the deepest one wins. */
static enum CXChildVisitResult visit(CXCursor c, CXCursor parent, CXClientData data)
{
	(void)parent;
	struct find *f = data;
	enum CXCursorKind k = clang_getCursorKind(c);
	if (k == CXCursor_MemberRefExpr || k == CXCursor_DeclRefExpr || k == CXCursor_TypeRef ||
	    k == CXCursor_MemberRef || k == CXCursor_VarDecl || k == CXCursor_FieldDecl ||
	    k == CXCursor_ParmDecl) {
		CXFile file;
		unsigned l = 0, col = 0;
		clang_getSpellingLocation(clang_getCursorLocation(c), &file, &l, &col, NULL);
		if (l == f->line && col <= f->col && file && clang_File_isEqual(file, f->file)) {
			CXString sp = clang_getCursorSpelling(c);
			const char *n = clang_getCString(sp);
			/* a TypeRef spells "struct task_struct": its name is the last word */
			const char *w = n ? strrchr(n, ' ') : NULL;
			size_t len = n ? strlen(w ? w + 1 : n) : 0;
			if (k == CXCursor_TypeRef && w)
				col += (unsigned)(w + 1 - n);
			if (len && f->col >= col && f->col < col + len) {
				f->best = c;
				f->found = 1;
			}
			clang_disposeString(sp);
		}
	}
	return CXChildVisit_Recurse;
}

int exact_cursor_at(struct vms_exact *x, unsigned line, unsigned col, CXCursor *at,
		    CXCursor *ref)
{
	CXFile f = clang_getFile(x->tu, x->parse_path);
	if (!f && x->parse_abs)
		f = clang_getFile(x->tu, x->parse_abs);
	if (!f)
		return -1;
	CXCursor c = clang_getCursor(x->tu, clang_getLocation(x->tu, f, line, col));
	if (clang_Cursor_isNull(c) || clang_isInvalid(clang_getCursorKind(c))) {
		/* clang_getCursor finds nothing in a function whose head a macro wrote
		 * (BPF_KPROBE(name, ...) { body }): the program's own declarations are walked
		 * instead (the preamble's are not visited), for the name spelled here */
		struct find fd = { .file = f, .line = line, .col = col };
		clang_visitChildren(clang_getTranslationUnitCursor(x->tu), visit, &fd);
		if (!fd.found)
			return -1;
		c = fd.best;
	}
	*at = c;
	enum CXCursorKind k = clang_getCursorKind(c);
	if (clang_isDeclaration(k)) {
		*ref = c;
		return 0;
	}
	CXCursor r = clang_getCursorReferenced(c);
	if (clang_Cursor_isNull(r) || clang_isInvalid(clang_getCursorKind(r)))
		return -1;
	*ref = r;
	return 0;
}
