/* The inline-assembly audit of untrusted builds: directives that read files, found in the
 * LLVM IR that the backend is about to assemble.
 *
 * Scanning the C text for `.incbin` cannot be complete (macros paste it together, a
 * string can be built from pieces), but the IR holds the assembly exactly as the
 * integrated assembler will see it, after the preprocessor and after string
 * concatenation, in two places:
 *
 *   module asm ".incbin \22/etc/passwd\22"                 top-level asm(), one per line
 *   %1 = call i32 asm sideeffect ".incbin ...", "=r"(...), !dbg !12, !srcloc !13
 *
 * Strings in IR escape every byte that is not printable, and `"` and `\`, as \XX (two
 * hex digits); nothing else. The assembler (LLVM's AsmParser) matches directive names
 * without regard to case, so `.INCBIN` is one too. Refused are the directives that read
 * files (.incbin, .include) and those that make new directive text out of other text
 * (.macro, .irp, .irpc, .altmacro), so that what is scanned is what is assembled. One
 * more trick is refused: a directive name glued to an operand ("$0", "${0:x}"), e.g. an
 * operand that prints as a symbol named ".inc" followed by "bin".
 *
 * Where: the !srcloc of an asm call lists the clang SourceLocation of each line of the
 * asm string. For text in the main file it is the byte offset + 1 (the main file is the
 * first file clang enters; locations in macro expansions have bit 31 set, locations in
 * other files lie past the main file's end), which gives the exact line; otherwise the
 * call's !dbg DILocation (the statement's line, -g only); for `module asm`, which carries
 * no location, the first source line naming the directive; otherwise line 0. */
#include "pch/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *why;
} forbidden[] = {
	{ ".incbin", "reads files" },
	{ ".include", "reads files" },
	{ ".macro", "makes directives out of text" },
	{ ".irp", "makes directives out of text" },
	{ ".irpc", "makes directives out of text" },
	{ ".altmacro", "makes directives out of text" },
};

static int ident_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '$';
}

/* An operand reference at s: "$N", "${N}", "${N:m}". Its length, or 0. */
static size_t operand_len(const char *s, size_t n)
{
	if (n < 2 || s[0] != '$')
		return 0;
	if (isdigit((unsigned char)s[1])) {
		size_t i = 1;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
		return i;
	}
	if (s[1] == '{') {
		const char *e = memchr(s, '}', n);
		return e ? (size_t)(e - s) + 1 : 0;
	}
	return 0;
}

int pch_asm_scan(const char *text, size_t n, size_t *at, const char **name, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		size_t op = operand_len(text + i, n - i);
		/* an operand opening a statement and glued to letters: "${0}bin" */
		if (op && i + op < n && (isalpha((unsigned char)text[i + op]) || text[i + op] == '_' ||
					 text[i + op] == '.')) {
			size_t k = i;
			while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '\t'))
				k--;
			if (k == 0 || text[k - 1] == '\n' || text[k - 1] == ';' || text[k - 1] == ':') {
				*at = i, *name = "operand", *why = "glued to a name may spell a directive";
				return 1;
			}
		}
		if (text[i] != '.' || (i > 0 && ident_char((unsigned char)text[i - 1])))
			continue;
		size_t j = i + 1;
		while (j < n && (isalnum((unsigned char)text[j]) || text[j] == '_'))
			j++;
		size_t len = j - i;
		int glued = j < n && text[j] == '$';
		for (size_t k = 0; k < sizeof(forbidden) / sizeof(forbidden[0]); k++) {
			const char *f = forbidden[k].name;
			if ((strlen(f) == len || (glued && len <= strlen(f))) &&
			    !strncasecmp(text + i, f, len)) {
				*at = i;
				*name = glued && strlen(f) != len ? "operand" : f;
				*why = glued && strlen(f) != len ? "glued to a name may spell a directive"
								 : forbidden[k].why;
				return 1;
			}
		}
		i = j - 1;
	}
	return 0;
}

/* ---- reading the IR ---- */

/* Decodes the IR string literal at *p (at its opening quote) into out; advances *p past
 * it. 0, or -1 when there is no complete literal. */
static int ir_string(const char **p, const char *end, struct vms_buf *out)
{
	const char *s = *p;
	if (s >= end || *s != '"')
		return -1;
	for (s++; s < end && *s != '"' && *s != '\n'; s++) {
		if (*s == '\\' && s + 2 < end && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char hx[3] = { s[1], s[2], 0 };
			char c = (char)strtol(hx, NULL, 16);
			vms_buf_append(out, &c, 1);
			s += 2;
		} else {
			vms_buf_append(out, s, 1);
		}
	}
	if (s >= end || *s != '"')
		return -1;
	*p = s + 1;
	return 0;
}

/* Skips a string literal (or a quoted name, %"x" / @"x") starting at p. */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end && *p != '"' && *p != '\n'; p++)
		;
	return p < end && *p == '"' ? p + 1 : p;
}

/* The position of the keyword `asm` outside strings in [p, end) (one line), or NULL. */
static const char *find_asm_keyword(const char *p, const char *end)
{
	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			continue;
		}
		if (p + 4 < end && !memcmp(p, "asm ", 4) && p[-1] == ' ')
			return p;
		p++;
	}
	return NULL;
}

/* The number after "!dbg !" / "!srcloc !" outside strings in [p, end), or -1. */
static long metadata_ref(const char *p, const char *end, const char *key)
{
	size_t kl = strlen(key);
	while (p < end) {
		if (*p == '"') {
			p = skip_string(p, end);
			continue;
		}
		if ((size_t)(end - p) > kl && !memcmp(p, key, kl) && isdigit((unsigned char)p[kl]))
			return strtol(p + kl, NULL, 10);
		p++;
	}
	return -1;
}

/* The text of metadata node !id ("!12 = ..." at a line start), or NULL. */
static const char *metadata_node(const char *ir, size_t len, long id)
{
	char pat[32];
	int n = snprintf(pat, sizeof(pat), "\n!%ld = ", id);
	const char *hit = memmem(ir, len, pat, (size_t)n);
	return hit ? hit + n : NULL;
}

static int line_of_offset(const char *src, size_t src_len, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off && i < src_len; i++)
		line += src[i] == '\n';
	return line;
}

/* The source line for an asm call: !srcloc entry nth (the asm string's line holding
 * the directive) when it lies in the main file, else the !dbg line, else 0. */
static int call_line(const char *ir, size_t len, const char *lp, const char *le, size_t nth,
		     const char *src, size_t src_len)
{
	long sl = metadata_ref(lp, le, "!srcloc !");
	const char *node = sl >= 0 ? metadata_node(ir, len, sl) : NULL;
	if (node && !strncmp(node, "!{", 2)) {
		const char *p = node + 2;
		unsigned long long loc = 0;
		for (size_t k = 0; k <= nth; k++) {
			const char *i64 = strstr(p, "i64 ");
			const char *close = strchr(p, '}');
			if (!i64 || (close && i64 > close))
				break;
			loc = strtoull(i64 + 4, NULL, 10);
			p = i64 + 4;
		}
		/* the main file starts at offset 1; macro locations have bit 31 set */
		if (loc >= 1 && loc < (1ull << 31) && loc - 1 < src_len)
			return line_of_offset(src, src_len, (size_t)(loc - 1));
	}
	long dbg = metadata_ref(lp, le, "!dbg !");
	node = dbg >= 0 ? metadata_node(ir, len, dbg) : NULL;
	if (node && !strncmp(node, "distinct ", 9))
		node += 9;
	if (node && !strncmp(node, "!DILocation(", 12)) {
		const char *l = strstr(node, "line: ");
		const char *nl = strchr(node, '\n');
		if (l && (!nl || l < nl))
			return atoi(l + 6);
	}
	return 0;
}

/* The first line of the source naming the directive (any case; with its dot, else
 * without: "#include" must not pass for ".include"), or 0. */
static int line_naming(const char *src, size_t src_len, const char *directive)
{
	for (int dot = 1; dot >= 0; dot--) {
		const char *word = directive[0] == '.' && !dot ? directive + 1 : directive;
		size_t wl = strlen(word);
		for (size_t i = 0; i + wl <= src_len; i++)
			if (!strncasecmp(src + i, word, wl))
				return line_of_offset(src, src_len, i);
	}
	return 0;
}

int pch_ir_audit(const char *ir, size_t len, const char *src, size_t src_len,
		 struct pch_asm_finding *f)
{
	const char *end = ir + len;
	struct vms_buf text = { 0 };
	int found = 0;
	for (const char *lp = ir; lp < end && !found;) {
		const char *le = memchr(lp, '\n', (size_t)(end - lp));
		if (!le)
			le = end;
		const char *str = NULL;
		int module = !strncmp(lp, "module asm ", 11);
		if (module) {
			str = lp + 11;
		} else if (lp[0] == ' ' || lp[0] == '\t') {
			/* an instruction: `asm` [sideeffect] [alignstack] [inteldialect] [unwind] "..." */
			const char *k = find_asm_keyword(lp, le);
			if (k) {
				k += 4;
				while (k < le && *k != '"')
					k++;
				str = k;
			}
		}
		vms_buf_free(&text);
		const char *p = str;
		size_t at;
		const char *name, *why;
		if (str && ir_string(&p, le, &text) == 0 &&
		    pch_asm_scan(text.data ? text.data : "", text.len, &at, &name, &why)) {
			size_t nth = 0;
			for (size_t i = 0; i < at; i++)
				nth += text.data[i] == '\n';
			f->directive = name;
			f->why = why;
			f->line = module ? line_naming(src, src_len, name)
					 : call_line(ir, len, lp, le, nth, src, src_len);
			found = 1;
		}
		lp = le + 1;
	}
	vms_buf_free(&text);
	return found;
}
