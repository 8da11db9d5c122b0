/* Signature help: the call around the cursor found in the text (the innermost unclosed
 * '(' and the name before it; the active parameter is the count of top-level commas
 * since), the name resolved by clang to its declaration, and that declaration shown as
 * written in its header. BPF helpers are function pointers,
 *   static long (*bpf_probe_read_kernel)(void *dst, __u32 size, const void *unsafe_ptr) = (void *) 113;
 * so the parameters are the parenthesised list that follows the declarator's name. */
#include "exact/internal.h"

#include <stdlib.h>
#include <string.h>

static int ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* The declaration's text, blanks collapsed, up to its initializer or body. */
static char *decl_text(CXCursor ref)
{
	CXSourceRange r = clang_getCursorExtent(ref);
	CXFile f1, f2;
	unsigned o1 = 0, o2 = 0;
	clang_getSpellingLocation(clang_getRangeStart(r), &f1, NULL, NULL, &o1);
	clang_getSpellingLocation(clang_getRangeEnd(r), &f2, NULL, NULL, &o2);
	if (!f1 || o2 <= o1 || o2 - o1 > 4096)
		return NULL;
	char *fn = exact_str(clang_getFileName(f1));
	char *data = NULL;
	size_t len = 0;
	int e = vms_read_file(fn, &data, &len);
	free(fn);
	if (e < 0 || o2 > len) {
		free(data);
		return NULL;
	}
	struct vms_buf b = { 0 };
	int depth = 0, blank = 0;
	for (size_t i = o1; i < o2; i++) {
		char c = data[i];
		if (c == '(')
			depth++;
		else if (c == ')')
			depth--;
		else if (depth == 0 && (c == '=' || c == '{'))
			break;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			blank = b.len > 0;
			continue;
		}
		if (blank && !(c == ')' || c == ',' || (b.len && b.data[b.len - 1] == '(')))
			vms_buf_puts(&b, " ");
		blank = 0;
		vms_buf_append(&b, &c, 1);
	}
	free(data);
	while (b.len && b.data[b.len - 1] == ' ')
		b.len--;
	vms_buf_append(&b, "", 1);
	b.len--;
	return vms_buf_steal(&b);
}

/* The parameters' ranges in label: the list after name (past the ')' closing a
 * function pointer's declarator). */
static int split_params(const char *label, const char *name, struct vms_exact_signature *s)
{
	const char *p = label;
	size_t nl = strlen(name);
	const char *at = NULL;
	while ((p = strstr(p, name))) {
		if ((p == label || !ident(p[-1])) && !ident(p[nl])) {
			at = p;
			break;
		}
		p += nl;
	}
	if (!at)
		return -1;
	p = at + nl;
	while (*p == ' ' || *p == ')')
		p++;
	if (*p != '(')
		return -1;
	const char *start = ++p;
	int depth = 0;
	size_t cap = 0;
	for (;; p++) {
		if (!*p)
			return -1;
		if (*p == '(')
			depth++;
		else if (*p == ')' && depth > 0)
			depth--;
		else if ((*p == ',' && depth == 0) || (*p == ')' && depth == 0)) {
			const char *a = start, *e = p;
			while (a < e && *a == ' ')
				a++;
			while (e > a && e[-1] == ' ')
				e--;
			if (e > a && !(e - a == 4 && !memcmp(a, "void", 4))) {
				if (s->n_params == cap) {
					cap = cap ? cap * 2 : 8;
					s->params = vms_xrealloc(s->params, cap * sizeof(*s->params));
				}
				s->params[s->n_params][0] = (size_t)(a - label);
				s->params[s->n_params][1] = (size_t)(e - label);
				s->n_params++;
			}
			if (*p == ')')
				return 0;
			start = p + 1;
		}
	}
}

int vms_exact_signature(struct vms_exact *x, const char *text, size_t len, unsigned line,
			unsigned col, struct vms_exact_signature *out, struct vms_diags *d)
{
	memset(out, 0, sizeof(*out));
	size_t at = exact_offset(text, len, line, col), i = at, open = 0;
	int depth = 0, commas = 0, found = 0;
	while (i > 0 && at - i < 8192) {
		char c = text[--i];
		if (c == ')' || c == ']' || c == '}')
			depth++;
		else if ((c == '(' || c == '[' || c == '{') && depth > 0)
			depth--;
		else if (c == '(') {
			open = i;
			found = 1;
			break;
		} else if (c == ';' || c == '{')
			return 0;
		else if (c == ',' && depth == 0)
			commas++;
	}
	if (!found)
		return 0;
	size_t ne = open;
	while (ne > 0 && (text[ne - 1] == ' ' || text[ne - 1] == '\t'))
		ne--;
	size_t ns = ne;
	while (ns > 0 && ident(text[ns - 1]))
		ns--;
	if (ns == ne)
		return 0;
	if (exact_sync(x, text, len, d) < 0)
		return -1;
	unsigned nline = 1, ncol = 1;
	for (size_t k = 0; k < ns; k++) {
		if (text[k] == '\n')
			nline++, ncol = 1;
		else
			ncol++;
	}
	CXCursor c, ref;
	if (exact_cursor_at(x, nline, ncol, &c, &ref) < 0)
		return 0;
	enum CXCursorKind k = clang_getCursorKind(ref);
	if (k != CXCursor_FunctionDecl && k != CXCursor_VarDecl && k != CXCursor_FieldDecl &&
	    k != CXCursor_ParmDecl)
		return 0;
	char *name = exact_str(clang_getCursorSpelling(ref));
	char *label = decl_text(ref);
	if (!label || split_params(label, name, out) < 0) {
		free(label);
		free(name);
		free(out->params);
		memset(out, 0, sizeof(*out));
		return 0;
	}
	free(name);
	/* "static" says nothing about how to call it */
	if (!strncmp(label, "static ", 7)) {
		memmove(label, label + 7, strlen(label + 7) + 1);
		for (size_t p = 0; p < out->n_params; p++)
			out->params[p][0] -= 7, out->params[p][1] -= 7;
	}
	out->label = label;
	out->active = commas;
	return 1;
}

void vms_exact_signature_free(struct vms_exact_signature *s)
{
	free(s->label);
	free(s->params);
	memset(s, 0, sizeof(*s));
}
