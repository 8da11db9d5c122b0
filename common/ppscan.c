/* The preprocessor-line scanner: which lines of a C source are directives, read exactly as
 * clang's lexer reads them in C (gnu) modes, for confinement and the two preambles. */
#include <stdlib.h>
#include <string.h>

#include "common/ppscan.h"

/* ---- phases 1-2: the logical text and its map back --------------------------------- */

static void add_seg(struct vms_pp_src *s, size_t log, size_t phys, size_t *cap)
{
	if (s->nseg == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		s->seg_log = vms_xrealloc(s->seg_log, *cap * sizeof(size_t));
		s->seg_phys = vms_xrealloc(s->seg_phys, *cap * sizeof(size_t));
	}
	s->seg_log[s->nseg] = log;
	s->seg_phys[s->nseg++] = phys;
}

static int is_hspace(char c)
{
	return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/* The code point of the 2- or 3-byte UTF-8 sequence at p (of left bytes), or 0. */
static unsigned utf8_cp(const char *p, size_t left, size_t *len)
{
	const unsigned char *u = (const unsigned char *)p;
	if (left >= 2 && (u[0] & 0xe0) == 0xc0 && (u[1] & 0xc0) == 0x80) {
		*len = 2;
		return (u[0] & 0x1fu) << 6 | (u[1] & 0x3fu);
	}
	if (left >= 3 && (u[0] & 0xf0) == 0xe0 && (u[1] & 0xc0) == 0x80 && (u[2] & 0xc0) == 0x80) {
		*len = 3;
		return (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3fu);
	}
	return 0;
}

size_t vms_pp_unicode_blank(const char *p, size_t left)
{
	size_t len = 0;
	unsigned cp = utf8_cp(p, left, &len);
	return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || cp == 0x180e ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 || cp == 0x2029 || cp == 0x202f ||
	       cp == 0x205f || cp == 0x3000 ? len : 0;
}

/* What no clang reads as a blank but an editor shows as nothing: a BOM after the start,
 * zero-width spaces and joiners, the word joiner (VMS_PP_WIDE_BLANKS). */
static size_t wide_blank(const char *p, size_t left)
{
	size_t len = 0;
	unsigned cp = utf8_cp(p, left, &len);
	return cp == 0xfeff || (cp >= 0x200b && cp <= 0x200d) || cp == 0x2060 ? len : 0;
}

/* Physical lines end at LF, CRLF or a lone CR, as clang's SourceManager counts them. */
static void index_lines(struct vms_pp_src *s)
{
	size_t cap = 64;
	s->line_start = vms_xmalloc(cap * sizeof(size_t));
	s->line_start[0] = 0;
	s->nlines = 1;
	for (size_t i = 0; i < s->phys_len; i++) {
		char c = s->phys[i];
		if (c == '\r' && i + 1 < s->phys_len && s->phys[i + 1] == '\n')
			continue;
		if (c != '\n' && c != '\r')
			continue;
		if (s->nlines == cap) {
			cap *= 2;
			s->line_start = vms_xrealloc(s->line_start, cap * sizeof(size_t));
		}
		s->line_start[s->nlines++] = i + 1;
	}
}

/* Where the physical line of offset p starts: the physical line number is its index+1. */
static size_t line_index(const struct vms_pp_src *s, size_t p)
{
	size_t lo = 0, hi = s->nlines;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->line_start[mid] <= p)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int refuse(struct vms_pp_src *s, size_t p, const char *file, struct vms_diags *d,
		  const char *msg)
{
	vms_diag_add(d, VMS_ERROR, file, (int)line_index(s, p) + 1, 0, "refused: %s", msg);
	return -1;
}

/* A splice is a backslash, blanks (clang allows them, with a warning), then a newline;
 * returns the length of the splice at i, or 0. *blanks says whether blanks were in it. */
static size_t splice_len(const char *p, size_t len, size_t i, int *blanks)
{
	if (p[i] != '\\')
		return 0;
	size_t j = i + 1;
	while (j < len && is_hspace(p[j]))
		j++;
	*blanks = j != i + 1;
	if (j >= len || (p[j] != '\n' && p[j] != '\r'))
		return 0;
	/* clang's escaped newline is CRLF or LFCR as well (though LFCR is two lines for
	 * its line numbers) */
	if (j + 1 < len && (p[j + 1] == '\n' || p[j + 1] == '\r') && p[j + 1] != p[j])
		return j + 2 - i;
	return j + 1 - i;
}

int vms_pp_open(struct vms_pp_src *s, const char *src, size_t len, unsigned flags,
		const char *file, struct vms_diags *d)
{
	memset(s, 0, sizeof(*s));
	s->phys = src;
	s->phys_len = len;
	s->t = vms_xmalloc(len + 1);
	index_lines(s);
	size_t cap = 0, i = 0;
	if (len >= 3 && !memcmp(src, "\xef\xbb\xbf", 3))
		i = 3; /* clang skips a BOM at the start of a buffer, nowhere else */
	add_seg(s, 0, i, &cap);
	int strict = flags & VMS_PP_STRICT;
	while (i < len) {
		char c = src[i];
		int blanks = 0;
		size_t sp = splice_len(src, len, i, &blanks);
		if (sp) {
			if (strict && blanks)
				return refuse(s, i, file, d,
					      "backslash and newline separated by blanks (compilers "
					      "disagree on whether that continues the line)");
			if (strict && (src[i + sp - 1] == '\r' ||
				       (sp > 2 && src[i + sp - 2] == '\n')))
				return refuse(s, i, file, d, "a carriage return without a line feed");
			i += sp;
			add_seg(s, s->n, i, &cap);
			continue;
		}
		if (c == 0 && strict)
			return refuse(s, i, file, d, "the source contains a NUL byte");
		if (c == '\r') {
			if (i + 1 < len && src[i + 1] == '\n') {
				/* CRLF reads as LF: the LF stands for both */
				i++;
				add_seg(s, s->n, i, &cap);
				continue;
			}
			if (strict)
				return refuse(s, i, file, d, "a carriage return without a line feed");
			c = '\n';
		}
		s->t[s->n++] = c;
		i++;
	}
	s->t[s->n] = 0;
	return 0;
}

void vms_pp_close(struct vms_pp_src *s)
{
	free(s->t);
	free(s->seg_log);
	free(s->seg_phys);
	free(s->line_start);
	memset(s, 0, sizeof(*s));
}

size_t vms_pp_phys(const struct vms_pp_src *s, size_t off)
{
	size_t lo = 0, hi = s->nseg;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->seg_log[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	/* several segments may start at one logical offset (splices in a row): the last
	 * one is where the byte really is */
	return s->nseg ? s->seg_phys[lo] + (off - s->seg_log[lo]) : off;
}

void vms_pp_locate(const struct vms_pp_src *s, size_t off, int *line, int *col)
{
	size_t p = vms_pp_phys(s, off);
	size_t li = line_index(s, p);
	if (line)
		*line = (int)li + 1;
	if (col)
		*col = (int)(p - s->line_start[li]) + 1;
}

/* ---- phase 3: comments, literals, header names, lines ------------------------------- *
 *
 * clang's rule for a directive: a '#' (or the digraph "%:") that is the first token of a
 * line. Whitespace is blank, tab, form feed, vertical tab, the Unicode blanks of clang's
 * isUnicodeWhitespace (U+0085, U+00A0, U+1680, U+180E, U+2000-U+200A, U+2028, U+2029,
 * U+202F, U+205F, U+3000, in UTF-8; horizontal, none ends a line) and comments. clang
 * compiling reads a Unicode blank as a blank (with -Wunicode-whitespace) anywhere: before
 * the '#', between '#' and the name, before the header name; only `clang -E` keeps it as
 * text (its lexer has "preprocessed output" set), which is why a directive behind U+00A0
 * is missing from -E output and yet is compiled.
 * A newline inside a block comment does not start a line:
 *
 *	int a; /<star>
 *	<star>/ #define X	is not a directive,	/<star>
 *				<star>/ #define X	is one (the '#' is still first).
 *
 * A directive runs to the first newline outside a block comment. Literals run to their
 * closing quote or the end of the line (an unterminated one swallows a "/<star>" after
 * it). Raw strings exist only with VMS_PP_RAW_STRINGS (see ppscan.h): then R"x( runs to
 * )x" across lines, read in the text as written (a raw string undoes splices), and a bad
 * delimiter skips to the next '"' as clang's recovery does; without, R"x( is an
 * identifier and a string. After #include (and
 * #include_next, #import, #embed, and __has_include( in #if/#elif), a <header-name> is read
 * literally up to '>' on the same line, "//" and "/<star>" included; without a '>' the '<'
 * is an ordinary token.
 *
 * Inside #if 0 clang lexes the skipped lines too, but does not read header-names there:
 * a `#include <a/<star>b>` in a skipped block opens a comment for clang and not for this
 * scanner. Nothing here evaluates conditions, so that one case cannot be exact. */

struct scan {
	const struct vms_pp_src *s;
	const char *t;
	size_t n;		/* the end: s->n, or a comment's interior */
	unsigned flags;
	const struct vms_pp_ops *ops;
	struct vms_buf text;	/* normalized text of the current line */
	size_t *off;
	size_t off_cap;
	int rc;			/* a callback's stop, from inside a line */
	int *open_at_end;	/* set when a block comment runs into the end (or NULL) */
};

static int comment_lines(const struct scan *x, size_t b, size_t e);

static int is_ident(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

/* The length of the blank at i: blank, tab, form feed, vertical tab (and a NUL, which
 * VMS_PP_STRICT refuses anyway), or a UTF-8 Unicode blank (vms_pp_unicode_blank), or 0. */
static size_t blank_at(const struct scan *x, size_t i)
{
	if (is_hspace(x->t[i]) || x->t[i] == 0)
		return 1;
	if ((unsigned char)x->t[i] < 0x80)
		return 0;
	size_t k = vms_pp_unicode_blank(x->t + i, x->n - i);
	if (!k && (x->flags & VMS_PP_WIDE_BLANKS))
		k = wide_blank(x->t + i, x->n - i);
	return k;
}

static size_t comment_end(const struct scan *x, size_t i)
{
	for (i += 2; i + 1 < x->n; i++)
		if (x->t[i] == '*' && x->t[i + 1] == '/')
			return i + 2;
	if (x->open_at_end)
		*x->open_at_end = 1;
	return x->n;
}

static void reserve(struct scan *x, size_t len)
{
	if (x->text.len + len + 1 > x->off_cap) {
		x->off_cap = (x->text.len + len + 1) * 2;
		x->off = vms_xrealloc(x->off, x->off_cap * sizeof(size_t));
	}
}

static void emit_space(struct scan *x, size_t at)
{
	reserve(x, 1);
	x->off[x->text.len] = at;
	vms_buf_append(&x->text, " ", 1);
}

static void emit(struct scan *x, size_t from, size_t len)
{
	reserve(x, len);
	for (size_t k = 0; k < len; k++)
		x->off[x->text.len + k] = from + k;
	vms_buf_append(&x->text, x->t + from, len);
}

/* A raw string's prefix: R, LR, uR, UR or u8R, the whole identifier [b, e). */
static int raw_prefix(const char *t, size_t b, size_t e)
{
	size_t n = e - b;
	return t[e - 1] == 'R' && (n == 1 || (n == 2 && strchr("LuU", t[b])) ||
				   (n == 3 && t[b] == 'u' && t[b + 1] == '8'));
}

/* The logical offset of physical offset p (a byte that was kept). */
static size_t logical_of(const struct vms_pp_src *s, size_t p)
{
	size_t lo = 0, hi = s->nseg;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->seg_phys[mid] <= p)
			lo = mid;
		else
			hi = mid;
	}
	return s->nseg ? s->seg_log[lo] + (p - s->seg_phys[lo]) : p;
}

static int raw_delim_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '\\';
}

/* The end (logical) of the raw string whose '"' is at logical offset i. clang reads the
 * delimiter and looks for the end in the text as written, splices undone, so this does. */
static size_t raw_end(const struct scan *x, size_t i)
{
	const char *t = x->s->phys;
	size_t n = x->s->phys_len, q = vms_pp_phys(x->s, i) + 1, d = q, e = n;
	while (d < n && d - q < 16 && raw_delim_char((unsigned char)t[d]))
		d++;
	if (d < n && t[d] == '(') {
		size_t dl = d - q;
		for (size_t k = d + 1; k + 1 + dl < n; k++)
			if (t[k] == ')' && !memcmp(t + k + 1, t + q, dl) && t[k + 1 + dl] == '"') {
				e = k + dl + 2;
				break;
			}
	} else { /* a bad delimiter: clang goes on after the next '"' */
		const char *quote = memchr(t + q, '"', n - q);
		e = quote ? (size_t)(quote - t) + 1 : n;
	}
	size_t le = e >= n ? x->s->n : logical_of(x->s, e - 1) + 1;
	return le < x->n ? le : x->n;
}

/* Ends a literal or header name opened at i with close; returns the offset past it. */
static size_t literal_end(const struct scan *x, size_t i, char close, int escapes)
{
	for (i++; i < x->n && x->t[i] != '\n'; i++) {
		if (x->t[i] == close)
			return i + 1;
		if (escapes && x->t[i] == '\\' && i + 1 < x->n && x->t[i + 1] != '\n')
			i++;
	}
	return i;
}

static int ends_with_has_include(const struct vms_buf *b)
{
	/* "...__has_include (" with the blank optional */
	size_t n = b->len;
	if (n && b->data[n - 1] == ' ')
		n--;
	if (!n || b->data[n - 1] != '(')
		return 0;
	n--;
	if (n && b->data[n - 1] == ' ')
		n--;
	static const char *const names[] = { "__has_include", "__has_include_next",
					     "__has_embed", NULL };
	for (int k = 0; names[k]; k++) {
		size_t l = strlen(names[k]);
		if (n >= l && !memcmp(b->data + n - l, names[k], l) &&
		    (n == l || !is_ident((unsigned char)b->data[n - l - 1])))
			return 1;
	}
	return 0;
}

enum { HDR_NONE, HDR_FIRST, HDR_HAS_INCLUDE };

/* Lexes from i to the end of the line into x->text; returns the offset past the newline. */
static size_t lex_rest(struct scan *x, size_t i, int hdr)
{
	int space = 0, first = 1, bol = 0; /* bol: VMS_PP_COMMENT_BOL saw a newline */
	x->text.len = 0;
	if (x->text.data)
		x->text.data[0] = 0;
	while (i < x->n && x->t[i] != '\n') {
		char c = x->t[i];
		size_t blank = blank_at(x, i);
		if (blank) {
			space = 1, i += blank;
			continue;
		}
		if (c == '/' && i + 1 < x->n && x->t[i + 1] == '*') {
			size_t e = comment_end(x, i);
			if ((x->flags & VMS_PP_COMMENT_LINES) && !x->rc)
				x->rc = comment_lines(x, i, e);
			if ((x->flags & VMS_PP_COMMENT_BOL) && memchr(x->t + i, '\n', e - i))
				bol = 1;
			space = 1, i = e;
			continue;
		}
		if (bol && (c == '#' || (c == '%' && i + 1 < x->n && x->t[i + 1] == ':')))
			return i; /* the line ends here: the caller reads a directive next */
		bol = 0;
		if (c == '/' && i + 1 < x->n && x->t[i + 1] == '/') {
			while (i < x->n && x->t[i] != '\n')
				i++;
			break;
		}
		if (space && x->text.len)
			emit_space(x, i - 1);
		space = 0;
		size_t e = i + 1;
		int want_hdr = (hdr == HDR_FIRST && first) ||
			       (hdr == HDR_HAS_INCLUDE && ends_with_has_include(&x->text));
		if (c == '"' || c == '\'') {
			e = literal_end(x, i, c, 1);
		} else if (c == '<' && want_hdr) {
			size_t h = literal_end(x, i, '>', 0);
			if (h > i + 1 && x->t[h - 1] == '>')
				e = h;
		} else if (is_ident((unsigned char)c)) {
			while (e < x->n && is_ident((unsigned char)x->t[e]) && !blank_at(x, e))
				e++;
			if ((x->flags & VMS_PP_RAW_STRINGS) && e < x->n && x->t[e] == '"' &&
			    raw_prefix(x->t, i, e))
				e = raw_end(x, e);
		}
		emit(x, i, e - i);
		first = 0;
		i = e;
	}
	return i < x->n ? i + 1 : i;
}

/* Reports the directive whose '#' is at hash; *end gets the offset past its line. */
static int report_dir(struct scan *x, size_t start, size_t hash, int in_comment, size_t *end)
{
	const char *t = x->t;
	size_t i = hash + (t[hash] == '#' ? 1 : 2);
	while (i < x->n && (blank_at(x, i) || (t[i] == '/' && i + 1 < x->n && t[i + 1] == '*'))) {
		size_t e = blank_at(x, i) ? i + blank_at(x, i) : comment_end(x, i);
		if (e > i + 1 && (x->flags & VMS_PP_COMMENT_LINES) && !x->rc)
			x->rc = comment_lines(x, i, e);
		i = e;
	}
	size_t name = i;
	while (i < x->n && is_ident((unsigned char)t[i]) && !blank_at(x, i))
		i++;
	/* `#R"x(` is a raw string where a name would be: no name, and the string is text */
	if ((x->flags & VMS_PP_RAW_STRINGS) && i > name && i < x->n && t[i] == '"' &&
	    raw_prefix(t, name, i))
		i = name;
	struct vms_pp_dir d = { .name = t + name, .name_len = i - name, .raw = t + i,
				.start = start, .hash = hash, .in_comment = in_comment };
	int hdr = HDR_NONE;
#define IS(w) (d.name_len == strlen(w) && !strncmp(d.name, w, d.name_len))
	if (IS("include") || IS("include_next") || IS("import") || IS("embed"))
		hdr = HDR_FIRST;
	else if (IS("if") || IS("elif"))
		hdr = HDR_HAS_INCLUDE;
#undef IS
	if (!d.name_len)
		d.name = "";
	d.end = *end = lex_rest(x, i, hdr);
	if (x->rc)
		return x->rc;
	d.raw_len = (d.end > i && t[d.end - 1] == '\n' ? d.end - 1 : d.end) - i;
	d.text = x->text.data ? x->text.data : "";
	d.text_off = x->off;
	d.text_len = x->text.len;
	vms_pp_locate(x->s, hash, &d.line, &d.col);
	return x->ops->directive ? x->ops->directive(x->ops->ctx, x->s, &d) : 0;
}

static int is_hash(const struct scan *x, size_t i)
{
	return x->t[i] == '#' || (x->t[i] == '%' && i + 1 < x->n && x->t[i + 1] == ':');
}

/* Directive-looking lines inside the block comment [b, e), each read as if the text ended
 * where its line does: if a compiler ended the comment elsewhere, they would be real. (A
 * "/<star>" on one such line must not hide the lines after it.) */
static int comment_lines(const struct scan *outer, size_t b, size_t e)
{
	struct scan x = { .s = outer->s, .t = outer->t, .ops = outer->ops,
			  .flags = outer->flags & (VMS_PP_RAW_STRINGS | VMS_PP_WIDE_BLANKS) };
	x.n = e >= b + 4 && outer->t[e - 1] == '/' && outer->t[e - 2] == '*' ? e - 2 : e;
	int rc = 0;
	for (size_t k = b + 2; k < x.n && !rc;) {
		if (x.t[k++] != '\n')
			continue;
		size_t ls = k;
		while (k < x.n && blank_at(&x, k))
			k += blank_at(&x, k);
		if (k < x.n && is_hash(&x, k)) {
			size_t inside = x.n, end;
			const char *nl = memchr(x.t + k, '\n', inside - k);
			x.n = nl ? (size_t)(nl - x.t) : inside;
			rc = report_dir(&x, ls, k, 1, &end);
			k = x.n; /* onto its newline */
			x.n = inside;
		}
	}
	free(x.off);
	vms_buf_free(&x.text);
	return rc;
}

static int scan_text(const struct vms_pp_src *s, unsigned flags, const struct vms_pp_ops *ops,
		     int *open_at_end)
{
	struct scan x = { .s = s, .t = s->t, .n = s->n, .flags = flags, .ops = ops,
			  .open_at_end = open_at_end };
	size_t i = 0, line_begin = 0;
	int rc = 0;
	/* Each pass starts where a line's first token may be: blanks and comments are
	 * skipped, then a '#' makes a directive and anything else a code line; either is
	 * lexed to its newline. */
	while (i < x.n && !rc) {
		char c = x.t[i];
		if (c == '\n') {
			line_begin = ++i;
			continue;
		}
		if (blank_at(&x, i)) {
			i += blank_at(&x, i);
			continue;
		}
		if (c == '/' && i + 1 < x.n && x.t[i + 1] == '*') {
			size_t e = comment_end(&x, i);
			if (flags & VMS_PP_COMMENT_LINES)
				rc = comment_lines(&x, i, e);
			i = e;
			continue;
		}
		if (c == '/' && i + 1 < x.n && x.t[i + 1] == '/') {
			while (i < x.n && x.t[i] != '\n')
				i++;
			continue;
		}
		if (is_hash(&x, i)) {
			rc = report_dir(&x, line_begin, i, 0, &i);
		} else {
			struct vms_pp_code cl = { .start = line_begin };
			vms_pp_locate(s, i, &cl.line, NULL);
			cl.end = i = lex_rest(&x, i, HDR_NONE);
			cl.text = x.text.data ? x.text.data : "";
			cl.text_off = x.off;
			cl.text_len = x.text.len;
			rc = x.rc;
			if (!rc && ops->code)
				rc = ops->code(ops->ctx, s, &cl);
		}
		line_begin = i;
	}
	free(x.off);
	vms_buf_free(&x.text);
	return rc;
}

int vms_pp_scan(const struct vms_pp_src *s, unsigned flags, const struct vms_pp_ops *ops)
{
	return scan_text(s, flags, ops, NULL);
}

int vms_pp_ends_in_comment(const struct vms_pp_src *s, unsigned flags)
{
	int open = 0;
	const struct vms_pp_ops none = { 0 };
	scan_text(s, flags & ~(unsigned)VMS_PP_COMMENT_LINES, &none, &open);
	return open;
}
