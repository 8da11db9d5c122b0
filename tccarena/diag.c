/* From TCC's messages to vmslim diagnostics, and from diagnostics to a verdict.
 *
 * TCC reports through its error callback one string per message:
 *   "In file included from A:1:\n...\nFILE:LINE: error: MSG"
 * The last line carries the location. File names TCC saw for the program's own text
 * (a virtual file, the snapshot's template and body) are mapped back to the name the
 * caller gave; a vmlinux.h that was substituted is named by its real path.
 *
 * The verdict distinguishes errors in the program from things TCC cannot judge. TCC
 * assembles inline asm as x86 (BPF asm cannot be checked), does not parse C23's
 * `enum E : type`, and sizes a few types differently from the BPF target (__int128 is
 * 8 bytes in the prelude), so a failed static assertion that involves a size is not
 * evidence either; nor is any error in a program that asks __has_include, which the
 * prelude can only answer with 0. When the first error falls into one of those cases
 * the result is "unsupported" — ask clang — and never an error charged to the program.
 *
 * Also here: the small pieces every tccarena file shares (captured messages, names).
 */
#include "tccarena/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- shared pieces ---- */

void vms_raw_msgs_add(struct vms_raw_msgs *m, char *text, int in_asm, int cap_hit)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 8;
		m->v = vms_xrealloc(m->v, m->cap * sizeof(*m->v));
	}
	m->v[m->n++] = (struct vms_raw_msg){ .text = text, .in_asm = in_asm, .cap_hit = cap_hit };
}

void vms_raw_msgs_free(struct vms_raw_msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].text);
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

void vms_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

const char *vms_tcc_status_name(enum vms_tcc_status s)
{
	switch (s) {
	case VMS_TCC_OK: return "ok";
	case VMS_TCC_ERRORS: return "errors";
	case VMS_TCC_UNSUPPORTED: return "unsupported";
	case VMS_TCC_CRASHED: return "crashed";
	case VMS_TCC_TIMEOUT: return "timeout";
	case VMS_TCC_MEMORY: return "memory";
	case VMS_TCC_FAILED: return "failed";
	}
	return "?";
}

void vms_tcc_result_free(struct vms_tcc_result *r)
{
	vms_diags_free(&r->diags);
}

/* ---- parsing one message ---- */

struct parsed {
	char *file;	/* owned or NULL */
	int line;
	int is_warning;
	const char *msg; /* points into the text */
};

static int parse_msg(const char *text, struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	const char *last = text, *nl;
	while ((nl = strchr(last, '\n')) && nl[1])
		last = nl + 1;
	const char *e = strstr(last, ": error: ");
	const char *w = strstr(last, ": warning: ");
	const char *sep;
	if (e && (!w || e < w)) {
		sep = e;
		p->msg = e + strlen(": error: ");
	} else if (w) {
		sep = w;
		p->is_warning = 1;
		p->msg = w + strlen(": warning: ");
	} else {
		p->msg = last;
		return 0;
	}
	/* "FILE:LINE" or "FILE" or "tcc" */
	const char *colon = NULL;
	for (const char *q = sep - 1; q >= last; q--) {
		if (*q == ':') {
			colon = q;
			break;
		}
		if (!isdigit((unsigned char)*q))
			break;
	}
	if (colon && colon + 1 < sep) {
		p->line = atoi(colon + 1);
		p->file = vms_xstrndup(last, (size_t)(colon - last));
	} else if (strncmp(last, "tcc", (size_t)(sep - last)) != 0 || sep - last != 3) {
		p->file = vms_xstrndup(last, (size_t)(sep - last));
	}
	return 0;
}

/* A warning that decides the verdict as an error does: TCC's implicit declaration of a
 * function. clang 14 only warns (-Wimplicit-function-declaration), clang 16 and later and
 * the BPF backend reject the program: which one judges is not ours to guess, so the
 * verdict is "unsupported" (vms_tcc_classify), and the check may stop there. */
static int decisive_warning(const char *msg)
{
	return strncmp(msg, "implicit declaration of function", 32) == 0;
}

int vms_tcc_msg_is_error(const char *text)
{
	struct parsed p;
	parse_msg(text, &p);
	int err = !p.is_warning || decisive_warning(p.msg);
	free(p.file);
	return err;
}

/* ---- looking at the offending line ---- */

static char *line_of(const char *src, size_t len, int line)
{
	if (line < 1)
		return NULL;
	const char *p = src, *end = src + len;
	for (int l = 1; l < line && p < end; l++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return vms_xstrndup(p, nl ? (size_t)(nl - p) : (size_t)(end - p));
}

/* A header the error points into, read to look at the line. Only regular files of a
 * sane size: a program may #include "/dev/zero" or a FIFO, which TCC's time limit
 * covers in the child but nothing would cover here, in the caller. */
#define MAX_LOOK_SIZE ((off_t)256 << 20)

static char *line_from_file(const char *path, int line)
{
	char *data;
	size_t len;
	struct stat st;
	if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_LOOK_SIZE ||
	    vms_read_file(path, &data, &len) < 0)
		return NULL;
	char *l = line_of(data, len, line);
	free(data);
	return l;
}

static int is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Whole-word occurrence of w in s. */
static const char *find_word(const char *s, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = strstr(s, w); p; p = strstr(p + 1, w))
		if ((p == s || !is_ident(p[-1])) && !is_ident(p[n]))
			return p;
	return NULL;
}

/* C23 `enum [name] : type` */
static int has_enum_base(const char *s)
{
	for (const char *p = find_word(s, "enum"); p; p = find_word(p + 4, "enum")) {
		const char *q = p + 4;
		while (isspace((unsigned char)*q))
			q++;
		while (is_ident(*q))
			q++;
		while (isspace((unsigned char)*q))
			q++;
		if (*q == ':' && q[1] != ':')
			return 1;
	}
	return 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);
	return n >= t && !strcmp(s + n - t, tail);
}

static int mentions_size(const char *s)
{
	return find_word(s, "sizeof") || find_word(s, "offsetof") ||
	       find_word(s, "__builtin_offsetof") || find_word(s, "_Alignof") ||
	       find_word(s, "__alignof__") || find_word(s, "alignof");
}

/* Constructs of newer C or GNU C that TCC 0.9.27 does not parse. */
static const char *unsupported_word(const char *s)
{
	static const char *const words[] = { "_BitInt", "__auto_type", "typeof_unqual",
					     "__typeof_unqual__", "_Float16", "__bf16", NULL };
	for (size_t i = 0; words[i]; i++)
		if (find_word(s, words[i]))
			return words[i];
	return NULL;
}

/* ---- constructs TCC reads otherwise than clang ---- */

/* A declaration `const ... NAME =` in text (len bytes): a const-qualified variable with
 * an initializer. clang folds such a variable to a constant where C wants one (an array
 * bound, a case label; -Wgnu-folding-constant), TCC does not:
 *
 *	const unsigned n = 32;
 *	char b[n] = {0};	clang: a warning; TCC: variable length array cannot be initialized
 */
static int declares_const(const char *text, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (!text || !n)
		return 0;
	const char *end = text + len;
	for (const char *p = text; p < end && (p = memmem(p, (size_t)(end - p), name, n)); p++) {
		if ((p > text && is_ident(p[-1])) || (p + n < end && is_ident(p[n])))
			continue;
		const char *q = p + n;
		while (q < end && (*q == ' ' || *q == '\t'))
			q++;
		if (q >= end || *q != '=' || (q + 1 < end && q[1] == '='))
			continue;
		const char *b = p;
		while (b > text && !strchr(";{}", b[-1]))
			b--;
		char *decl = vms_xstrndup(b, (size_t)(p - b));
		int c = find_word(decl, "const") != NULL;
		free(decl);
		if (c)
			return 1;
	}
	return 0;
}

/* TCC wanted a constant (or refused to initialize a variable length array) on a line
 * that names a const variable with an initializer: clang would have folded it. */
static int folds_const(const char *msg, const char *line_text, const char *src, size_t len)
{
	if (strcmp(msg, "constant expression expected") && !strstr(msg, "variable length array"))
		return 0;
	for (const char *p = line_text; *p;) {
		if (!is_ident(*p) || isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		const char *e = p;
		while (is_ident(*e))
			e++;
		char *w = vms_xstrndup(p, (size_t)(e - p));
		int c = declares_const(src, len, w) || declares_const(line_text, strlen(line_text), w);
		free(w);
		if (c)
			return 1;
		p = e;
	}
	return 0;
}

/* The token of "';' expected (got \"X\")" (owned), or NULL for another message. */
static char *got_token(const char *msg)
{
	static const char head[] = "';' expected (got \"";
	if (strncmp(msg, head, sizeof(head) - 1))
		return NULL;
	const char *g = msg + sizeof(head) - 1, *end = strrchr(g, '"');
	return end && end > g ? vms_xstrndup(g, (size_t)(end - g)) : NULL;
}

/* An unnamed bit-field of a typedef'd type, `__u32 :32;`, on TCC's line: TCC reads a
 * typedef name before ':' as a label and reports the name as unexpected. The uapi headers
 * that pad this way get a shim (headers/vmslim-tcc-shims/linux/bpf.h); anywhere else it is
 * beyond the fast checker. */
static int typedef_bitfield(const char *msg, const char *tcc_text)
{
	char *got = got_token(msg);
	const char *p = got && tcc_text ? find_word(tcc_text, got) : NULL;
	int yes = 0;
	if (p) {
		p += strlen(got);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == ':' && p[1] != ':') {
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			yes = is_ident(*p) || *p == '(';
		}
	}
	free(got);
	return yes;
}

/* The token a message names: "field not found: X", "'X' undeclared" (owned), or NULL. */
static char *named_token(const char *msg)
{
	if (!strncmp(msg, "field not found: ", 17) && is_ident(msg[17]))
		return vms_xstrdup(msg + 17);
	const char *q;
	if (msg[0] == '\'' && (q = strchr(msg + 1, '\'')) && !strcmp(q, "' undeclared"))
		return vms_xstrndup(msg + 1, (size_t)(q - msg - 1));
	return NULL;
}

/* Byte offset of `line`'s first byte in src, or -1. */
static long line_start(const char *src, size_t len, int line)
{
	size_t off = 0;
	for (int l = 1; l < line; l++) {
		const char *nl = off < len ? memchr(src + off, '\n', len - off) : NULL;
		if (!nl)
			return -1;
		off = (size_t)(nl - src) + 1;
	}
	return (long)off;
}

static int macro_like(const char *name)
{
	static const char *const prefixes[] = { "__sync_", "__atomic_", "__builtin_preserve_",
						"__builtin_btf_type_id", "bpf_core_", "BPF_",
						"bpf_printk", NULL };
	for (size_t i = 0; prefixes[i]; i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return 1;
	int upper = 0;
	for (const char *p = name; *p; p++) {
		if (islower((unsigned char)*p))
			return 0;
		upper |= isupper((unsigned char)*p);
	}
	return upper;
}

/* An error inside the arguments of a macro call that spans lines. TCC charges it to the
 * line where the invocation ends, clang to the token's own line, which we cannot know:
 *
 *	__sync_fetch_and_add(&t->nosuch,	clang: here
 *			     1);		TCC: here
 *
 * The test: TCC's line closes a parenthesis opened on an earlier line, and the name
 * before that parenthesis is a macro's (the prelude's builtins, libbpf's macros, or a
 * name in capitals). Parentheses inside strings and comments are not told apart: at
 * worst a plain call is taken for a macro, and the answer is "unsupported". When the
 * message names a token that is on TCC's line, that line is right and this is no case. */
static int in_spanning_macro(const char *msg, const char *src, size_t len, int line,
			     const char *tcc_text)
{
	char *tok = named_token(msg);
	int on_line = tok && tcc_text && find_word(tcc_text, tok);
	free(tok);
	long start = line_start(src, len, line);
	if (on_line || start < 0 || !tcc_text)
		return 0;
	int open = 0, need = 0;
	for (const char *p = tcc_text; *p; p++) {
		if (*p == '(')
			open++;
		else if (*p == ')' && open)
			open--;
		else if (*p == ')')
			need++;
	}
	if (!need)
		return 0;
	const char *floor = src + (start > 8192 ? start - 8192 : 0), *q = src + start;
	while (need > 0 && q > floor) {
		q--;
		need += *q == ')' ? 1 : *q == '(' ? -1 : 0;
	}
	if (need)
		return 0;
	while (q > floor && isspace((unsigned char)q[-1]))
		q--;
	const char *e = q;
	while (q > floor && is_ident(q[-1]))
		q--;
	char *name = vms_xstrndup(q, (size_t)(e - q));
	int yes = *name && macro_like(name);
	free(name);
	return yes;
}

/* Why the fast checker cannot judge this error, or NULL if it is the program's.
 * line_text is the line clang would name, tcc_text the one TCC named (they differ for a
 * missing ';'); src is the program, own says the error is in it (at TCC's tcc_line). */
static const char *unsupported_reason(const struct vms_raw_msg *m, const char *msg,
				      const char *line_text, const char *tcc_text,
				      const char *src, size_t len, int own, int tcc_line,
				      char *buf, size_t bufsz)
{
	if (m->in_asm)
		return "inline assembly (TCC assembles x86, not BPF)";
	if (decisive_warning(msg))
		return "a call of an undeclared function (clang 14 warns, clang 16 and later reject "
		       "it)";
	if (typedef_bitfield(msg, tcc_text))
		return "an unnamed bit-field of a typedef'd type (TCC reads `T :N` as a label)";
	if (own && in_spanning_macro(msg, src, len, tcc_line, tcc_text))
		return "an error inside a macro call that spans lines (TCC cannot say which line)";
	if (!line_text)
		return NULL;
	if (has_enum_base(line_text))
		return "an enum with a fixed underlying type (C23 `enum E : type`)";
	/* compile-time assertions: _Static_assert, BUILD_BUG_ON, char x[cond ? 1 : -1] */
	int assertion = find_word(line_text, "_Static_assert") || find_word(line_text, "static_assert") ||
			find_word(line_text, "BUILD_BUG_ON") ||
			ends_with(m->text, "invalid array size");
	if (assertion && mentions_size(line_text))
		return "a compile-time assertion on a size (TCC lays out some types differently "
		       "from the BPF target)";
	if (folds_const(msg, line_text, src, len))
		return "a const variable where C wants a constant (clang folds it, TCC cannot)";
	const char *w = unsupported_word(line_text);
	if (w) {
		snprintf(buf, bufsz, "'%s'", w);
		return buf;
	}
	/* GNU C's cast to a union type, `(union u)x`, which TCC does not have */
	if (strstr(m->text, "' to 'union ") && strstr(line_text, "(union "))
		return "a cast to a union type (GNU C)";
	return NULL;
}

/* The last line with anything but blanks on it (1-based; 1 for an empty text). */
static int last_content_line(const char *src, size_t len)
{
	int line = 1, last = 1;
	for (size_t i = 0; i < len; i++) {
		if (src[i] == '\n')
			line++;
		else if (src[i] != ' ' && src[i] != '\t' && src[i] != '\r')
			last = line;
	}
	return last;
}

/* The nearest line before `line` with code on it (blank and comment-only lines skipped). */
static int previous_code_line(const char *src, size_t len, int line)
{
	for (int l = line - 1; l >= 1; l--) {
		char *t = line_of(src, len, l);
		if (!t)
			continue;
		const char *p = t;
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		int code = *p && strncmp(p, "//", 2) && strncmp(p, "/*", 2) && *p != '*';
		free(t);
		if (code)
			return l;
	}
	return line;
}

/* ---- columns ----
 * clang's column is 1-based and counts bytes (a tab is one). We claim one only where the
 * token clang points at can be found on the line; otherwise the column stays 0 (unknown),
 * and the line alone is reported. */

/* Length of the line's code: without a trailing // or block comment and blanks. */
static size_t code_len(const char *t)
{
	size_t n = strlen(t);
	int quotes = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		if (t[i] == '"' && (i == 0 || t[i - 1] != '\\'))
			quotes++;
		if (!(quotes & 1) && t[i] == '/' && t[i + 1] == '/') {
			n = i;
			break;
		}
	}
	for (;;) {
		while (n && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r'))
			n--;
		if (n < 4 || t[n - 1] != '/' || t[n - 2] != '*')
			return n;
		size_t k = n - 2;
		while (k >= 2 && !(t[k - 2] == '/' && t[k - 1] == '*'))
			k--;
		if (k < 2)
			return n;
		n = k - 2;
	}
}

/* Just after the line's last token ("expected ';' after expression"), or 0. */
static int end_col(const char *t)
{
	size_t n = t ? code_len(t) : 0;
	return n ? (int)n + 1 : 0;
}

/* `.X` or `->X` on the line: X's column, or 0. */
static int member_col(const char *t, const char *x)
{
	for (const char *p = find_word(t, x); p; p = find_word(p + 1, x)) {
		const char *b = p;
		while (b > t && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if ((b > t && b[-1] == '.') || (b - t >= 2 && b[-2] == '-' && b[-1] == '>'))
			return (int)(p - t) + 1;
	}
	return 0;
}

static int count_char(const char *t, char c)
{
	int n = 0;
	for (; *t; t++)
		n += *t == c;
	return n;
}

/* Where clang puts "incompatible type" on a line with one plain '=' or a `return`:
 *
 *	int y = v;	at the declared name, y ("initializing 'int' with ...")
 *	x = v;		at the '=' ("assigning to 'int' from ...")
 *	return v;	at the value, v ("returning ...")
 *
 * A declaration is told from an assignment by two names with only blanks or '*' between
 * them before the '=' (`int y`, `struct s *p`); an lvalue never has that. 0 when the line
 * has another '=' (==, +=...) or neither, or a '(' in the value: the culprit may then be
 * a call's argument, which clang names instead. */
static int value_col(const char *t)
{
	const char *eq = NULL, *r0 = find_word(t, "return"), *from = r0 ? r0 : strchr(t, '=');
	const char *paren = from ? strchr(from, '(') : NULL, *semi = from ? strchr(from, ';') : NULL;
	if (paren && (!semi || paren < semi))
		return 0;
	for (const char *p = t; *p; p++) {
		if (*p != '=')
			continue;
		if (eq || p[1] == '=' || (p > t && strchr("=!<>+-*/%&|^", p[-1])))
			return 0;
		eq = p;
	}
	const char *r = find_word(t, "return");
	if (!eq && r && !find_word(r + 6, "return")) {
		const char *v = r + 6;
		while (*v == ' ' || *v == '\t')
			v++;
		return *v && *v != ';' ? (int)(v - t) + 1 : 0;
	}
	if (!eq || r)
		return 0;
	const char *b = eq;
	while (b > t && !strchr(";{}(", b[-1]))
		b--;
	/* the last name before the '=' (past an array's bounds), and what precedes it */
	const char *e = eq;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	if (e > b && e[-1] == ']')
		while (e > b && e[-1] != '[')
			e--;
	if (e > b && e[-1] == '[')
		e--;
	while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	const char *n = e;
	while (n > b && is_ident(n[-1]))
		n--;
	const char *g = n;
	while (g > b && (g[-1] == ' ' || g[-1] == '\t' || g[-1] == '*'))
		g--;
	int decl = n < e && !isdigit((unsigned char)*n) && g < n && g > b && is_ident(g[-1]);
	return decl ? (int)(n - t) + 1 : (int)(eq - t) + 1;
}

/* The column of the token clang puts the error at, on line text t, or 0. */
static int token_col(const char *msg, const char *t)
{
	if (!t)
		return 0;
	char *tok = named_token(msg);
	if (tok) {
		const char *w;
		int col = !strncmp(msg, "field not found: ", 17) ? member_col(t, tok)
			  : (w = find_word(t, tok)) ? (int)(w - t) + 1 : 0;
		free(tok);
		return col;
	}
	/* clang points at the call's ')' */
	if (!strcmp(msg, "too few arguments to function") && count_char(t, ')') == 1)
		return (int)(strchr(t, ')') - t) + 1;
	if (!strncmp(msg, "cannot convert '", 16))
		return value_col(t);
	return 0;
}

/* ---- the line (and column) clang names ---- */

struct place {
	int line, col;
	const char *msg;	/* what to say instead of TCC's message, or NULL */
};

/* An expression followed by a call on the next line (`x += 2` then `f(1);`): TCC reads
 * `2 (...)`, a call of a non-function; clang says a ';' is missing after the expression.
 * Where the line starts with a call and the previous one ends inside an expression
 * (no ';', '{', '}', ',' or ':' last), the previous line it is. */
static int missing_semicolon_before_call(const char *src, size_t len, int line, int *prev)
{
	char *t = line_of(src, len, line);
	const char *p = t;
	while (p && (*p == ' ' || *p == '\t'))
		p++;
	while (p && is_ident(*p))
		p++;
	while (p && (*p == ' ' || *p == '\t'))
		p++;
	int call = p && *p == '(';
	free(t);
	if (!call)
		return 0;
	*prev = previous_code_line(src, len, line);
	char *pt = *prev < line ? line_of(src, len, *prev) : NULL;
	size_t n = pt ? code_len(pt) : 0;
	int open = n && !strchr(";{},:", pt[n - 1]) && pt[0] != '#';
	free(pt);
	return open;
}

/* Where clang would put the error. TCC reports a missing token where it noticed, at the
 * next token; clang reports it just after the previous token ("expected ';' after
 * expression"), which is an earlier line when the next token starts a line. */
static struct place clang_place(const char *msg, int line, const char *src, size_t len)
{
	struct place at = { line, 0, NULL };
	if (!strncmp(msg, "unexpected end of file", 22)) {
		at.line = last_content_line(src, len);
		return at;
	}
	/* TCC charges an error to the previous line while the current one has no token yet
	 * (its guess for a missing ';'), so a stray byte at the start of a line is charged to
	 * the line before (line 0 at the start of a file). An unterminated string or
	 * character constant runs on to the end of the file in TCC; clang names the line it
	 * starts on: the last one, going back, with that quote on it. */
	unsigned byte = 0;
	if (sscanf(msg, "unrecognized character \\x%x", &byte) == 1 && byte && byte < 256) {
		char *here = line_of(src, len, line), *next = line_of(src, len, line + 1);
		int moved = next && strchr(next, (int)byte) && (!here || !strchr(here, (int)byte));
		char *t = moved ? next : here;
		if (moved)
			at.line = line + 1;
		if (t && count_char(t, (char)byte) == 1)
			at.col = (int)(strchr(t, (int)byte) - t) + 1;
		free(here);
		free(next);
		return at;
	}
	if (!strncmp(msg, "missing terminating ", 20) && msg[20]) {
		for (int l = line; l >= 1; l--) {
			char *t = line_of(src, len, l);
			int found = t && strchr(t, msg[20]);
			/* an odd number of them and no escapes: the last one is the open one */
			if (found && !strchr(t, '\\') && count_char(t, msg[20]) % 2)
				at.col = (int)(strrchr(t, msg[20]) - t) + 1;
			free(t);
			if (found) {
				at.line = l;
				return at;
			}
		}
		return at;
	}
	int prev;
	if (!strcmp(msg, "function pointer expected") &&
	    missing_semicolon_before_call(src, len, line, &prev)) {
		char *pt = line_of(src, len, prev);
		at = (struct place){ prev, end_col(pt),
				     "';' expected after the expression (TCC: function pointer expected)" };
		free(pt);
		return at;
	}
	char *text = line_of(src, len, line);
	char *got = got_token(msg);
	if (!got) {
		at.col = token_col(msg, text);
		free(text);
		return at;
	}
	const char *p = text;
	while (p && (*p == ' ' || *p == '\t'))
		p++;
	if (p && !strncmp(p, got, strlen(got))) {
		at.line = previous_code_line(src, len, line);
		char *pt = at.line < line ? line_of(src, len, at.line) : NULL;
		at.col = end_col(pt);
		free(pt);
	} else if (p) {
		/* mid-line: just after the token before the one TCC got, if that one is there once */
		const char *g = is_ident(got[0]) ? find_word(text, got) : strstr(text, got);
		const char *again = !g ? NULL : is_ident(got[0]) ? find_word(g + 1, got)
						    : strstr(g + 1, got);
		if (g && !again) {
			while (g > text && (g[-1] == ' ' || g[-1] == '\t'))
				g--;
			at.col = g > text ? (int)(g - text) + 1 : 0;
		}
	}
	free(got);
	free(text);
	return at;
}

static const char *mapped(const struct vms_name_map *map, const char *file, const char *vmlinux)
{
	if (!file)
		return NULL;
	for (size_t i = 0; i < 3; i++)
		if (map->from[i] && strcmp(map->from[i], file) == 0)
			return map->to;
	if (vmlinux) {
		const char *b = strrchr(file, '/');
		if (strcmp(b ? b + 1 : file, "vmlinux.h") == 0)
			return vmlinux;
	}
	return file;
}

enum vms_tcc_status vms_tcc_classify(const struct vms_raw_msgs *m, const struct vms_name_map *map,
				     const char *src, size_t src_len, const char *vmlinux,
				     int warnings, struct vms_diags *out)
{
	enum vms_tcc_status st = VMS_TCC_OK;
	for (size_t i = 0; i < m->n; i++) {
		struct parsed p;
		parse_msg(m->v[i].text, &p);
		const char *file = mapped(map, p.file, vmlinux);
		int own = file && map->to && strcmp(file, map->to) == 0;
		int tcc_line = p.line, col = 0;
		const char *say = NULL; /* (NULL: TCC's message) */
		if (map->tmpl && p.file && !strcmp(p.file, map->tmpl) && p.line > map->preamble_lines) {
			p.line = tcc_line = last_content_line(src, src_len); /* past the program's end */
		} else if (own) {
			struct place at = clang_place(p.msg, p.line, src, src_len);
			p.line = at.line;
			col = at.col;
			say = at.msg;
		}
		int is_err = !p.is_warning || decisive_warning(p.msg);
		if (!is_err) {
			if (warnings && own)
				vms_diag_add(out, VMS_WARNING, file, p.line, 0, "%s", p.msg);
			free(p.file);
			continue;
		}
		if (st != VMS_TCC_OK) {
			/* After the first error only errors in the same class are kept; an
			 * unsupported construct makes whatever follows it noise. */
			if (st == VMS_TCC_ERRORS && !p.is_warning)
				vms_diag_add(out, VMS_ERROR, file, p.line, col, "%s", say ? say : p.msg);
			free(p.file);
			continue;
		}
		if (m->v[i].cap_hit) {
			st = VMS_TCC_MEMORY;
			vms_diag_add(out, VMS_WARNING, file, p.line, 0,
				     "not checked: the fast checker's memory limit was reached; use "
				     "clang (TCC: %s)", p.msg);
			free(p.file);
			continue;
		}
		char *text = own ? line_of(src, src_len, p.line) : line_from_file(p.file, p.line);
		if (!text && file != p.file && !own)
			text = line_from_file(file, p.line);
		char *tcc_text = own && tcc_line != p.line ? line_of(src, src_len, tcc_line) : NULL;
		char buf[64];
		const char *why = unsupported_reason(&m->v[i], p.msg, text, tcc_text ? tcc_text : text,
						     src, src_len, own, tcc_line, buf, sizeof(buf));
		/* a bit-field's note goes where the bit-field is, not where a ';' would be */
		if (why && tcc_text && typedef_bitfield(p.msg, tcc_text))
			p.line = tcc_line;
		free(text);
		free(tcc_text);
		/* the prelude answers __has_include with 0, whatever exists: any error may
		 * come from the branch clang would not have taken */
		if (!why && src && memmem(src, src_len, "__has_include", 13))
			why = "__has_include (TCC cannot answer it)";
		if (why) {
			st = VMS_TCC_UNSUPPORTED;
			vms_diag_add(out, VMS_NOTE, file, p.line, 0,
				     "not checked: %s is beyond the fast checker; use clang (TCC: %s)",
				     why, p.msg);
		} else {
			st = VMS_TCC_ERRORS;
			vms_diag_add(out, VMS_ERROR, file, p.line, col, "%s", say ? say : p.msg);
		}
		free(p.file);
	}
	return st;
}
