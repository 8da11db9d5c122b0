/* Include confinement, second half: what an untrusted source could make through macros —
 * assembler directives that read files, __has_include/_Pragma queries, token pasting. */
#include "serve/confine_made.h"

#include <stdlib.h>
#include <string.h>

/* ---- theory ------------------------------------------------------------------------ *
 *
 * The scan does not expand macros, so it refuses every spelling through which a macro
 * could produce one of these names or texts, and checks the literal forms it can read:
 *
 *  - Assembler directives. LLVM's assembler reads files on `.incbin` and `.include`
 *    (directive names compared lowercased), and `.macro`, `.irp`, `.irpc`, `.altmacro`
 *    can spell a directive from parts (`.inc\()bin`). Inline asm text is a string
 *    literal, made of adjacent literals (`".inc" "bin"`), escapes (`"\x2eincbin"`), or
 *    stringized tokens (`#x` of `.incbin "f"`). So every string literal of the source is
 *    decoded and lowercased, all of them are joined in order with nothing between (a macro
 *    between two literals may vanish), and `.incbin`, `.include`, `.macro`, `.irp`,
 *    `.altmacro` anywhere in that text are refused, as is a `.` and the start of one
 *    followed by an operand reference (`".inc%c0"`, where the operand prints a name). The
 *    tokens outside literals are checked too (`.incbin` in code is what `#x` would turn
 *    into a string). A legitimate program may at worst see two unrelated literals that
 *    happen to spell a directive when joined: it is told which line starts it.
 *  - Query forms. `__has_include`, `__has_include_next`, `__has_embed` must be followed
 *    by `(` and a literal "file" or <file> (then checked like an #include), and `_Pragma`
 *    by `(` and a literal string, or `( #param )` in a macro body (the DO_PRAGMA idiom),
 *    which is allowed only while no identifier of the source names a pragma that reads
 *    files (`dependency`, `include_alias`, `clang module`). Any other use — the name as a
 *    macro body, `__has_include(MACRO)`, `_Pragma(STR)` — is refused, whether or not any
 *    file exists.
 *  - Token pasting. `a ## b ## c` makes one token from its operands, and a macro parameter
 *    there stands for a token of an argument, not expanded first: one written in the
 *    source, or made by an earlier paste. A chain is refused when it could spell asm,
 *    __asm, __asm__, _Pragma, a query name or a directive word: its literal parts must
 *    sit at their places in the name, each parameter covering what is between them with
 *    a run (maybe empty) of the source's identifiers (word break, over the identifiers
 *    that are pieces of such names). `prefix_##name` passes; `__as##m`, `a##b` in a
 *    source that also has identifiers `as` and `m` do not. GNU's `, ## __VA_ARGS__`
 *    pastes nothing.
 * Pastes in the trusted headers' macros (libbpf's ___bpf_concat) fed with the source's
 * pieces are not seen here: the worker's OS confinement and the daemon's IR check of
 * asm-suspect sources (confine_source's asm_suspect) are the layers for that. */

static const char *const made_names[] = { "__has_include", "__has_include_next", "__has_embed",
					  "_Pragma", "asm", "__asm", "__asm__", NULL };
static const char *const asm_words[] = { "incbin", "include", "macro", "irp", "irpc",
					 "altmacro", NULL };

enum { T_ID, T_STR, T_CHR, T_NUM, T_PUNCT };

struct tok {
	size_t b, e; /* in the text */
	int kind;
};


static void refuse_n(struct made *m, int line, const char *fmt, const char *p, size_t n)
{
	char *arg = vms_xstrndup(p, n);
	m->refuse(m->ctx, line, fmt, arg);
	free(arg);
}

static int id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '$' || c >= 0x80;
}

static char *lower_dup(const char *p, size_t n)
{
	char *r = vms_xstrndup(p, n);
	for (char *q = r; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			*q = (char)(*q - 'A' + 'a');
	return r;
}

static int in_list(const char *const *v, const char *p, size_t n)
{
	for (int k = 0; v[k]; k++)
		if (strlen(v[k]) == n && !memcmp(v[k], p, n))
			return 1;
	return 0;
}

/* Whether [p, p+n) occurs inside one of v (as a piece of it). */
static int piece_of(const char *const *v, const char *p, size_t n)
{
	for (int k = 0; v[k]; k++)
		for (const char *w = v[k]; strlen(w) >= n; w++)
			if (!memcmp(w, p, n))
				return 1;
	return 0;
}

static void add_str_byte(struct made *m, char c, int line)
{
	if (m->str.len + 1 >= m->str_cap) {
		m->str_cap = m->str_cap ? 2 * m->str_cap : 256;
		m->str_line = vms_xrealloc(m->str_line, m->str_cap * sizeof(int));
	}
	m->str_line[m->str.len] = line;
	if (c >= 'A' && c <= 'Z')
		c = (char)(c - 'A' + 'a');
	vms_buf_append(&m->str, &c, 1);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A string literal's contents [b, e) (between the quotes), escapes decoded. A universal
 * character name cannot name a basic character in C, so it decodes to a non-ASCII byte. */
static void decode_str(struct made *m, const char *t, size_t b, size_t e, int line)
{
	for (size_t i = b; i < e; i++) {
		if (t[i] != '\\' || i + 1 >= e) {
			add_str_byte(m, t[i], line);
			continue;
		}
		char c = t[++i];
		unsigned v = 0;
		if (c == 'x') {
			while (i + 1 < e && hexval(t[i + 1]) >= 0)
				v = v * 16 + (unsigned)hexval(t[++i]);
			add_str_byte(m, (char)(v & 0xff), line);
		} else if (c >= '0' && c <= '7') {
			v = (unsigned)(c - '0');
			for (int k = 0; k < 2 && i + 1 < e && t[i + 1] >= '0' && t[i + 1] <= '7'; k++)
				v = v * 8 + (unsigned)(t[++i] - '0');
			add_str_byte(m, (char)(v & 0xff), line);
		} else if (c == 'u' || c == 'U' || c == 'N') {
			add_str_byte(m, (char)0x80, line);
		} else {
			static const char from[] = "abfnrtve", to[] = "\a\b\f\n\r\t\v\033";
			const char *f = strchr(from, c);
			add_str_byte(m, f && c ? to[f - from] : c, line);
		}
	}
}

static const char *directive_msg(const char *word)
{
	return strstr(word, "inc") ? "assembler directive %s reads files"
				   : "assembler directive %s can spell one that reads files";
}

static size_t lex(const char *t, size_t n, struct tok **out)
{
	size_t cap = 16, k = 0;
	struct tok *v = vms_xmalloc(cap * sizeof(*v));
	for (size_t i = 0; i < n;) {
		if (t[i] == ' ') {
			i++;
			continue;
		}
		if (k == cap)
			v = vms_xrealloc(v, (cap *= 2) * sizeof(*v));
		size_t b = i;
		int kind = T_PUNCT;
		if (t[i] == '"' || t[i] == '\'') {
			char q = t[i];
			for (i++; i < n && t[i] != q; i++)
				i += t[i] == '\\' && i + 1 < n;
			i += i < n;
			kind = q == '"' ? T_STR : T_CHR;
		} else if (id_char((unsigned char)t[i])) {
			kind = t[i] >= '0' && t[i] <= '9' ? T_NUM : T_ID;
			while (i < n && id_char((unsigned char)t[i]))
				i++;
			if (kind == T_ID && i < n && (t[i] == '"' || t[i] == '\'') && i - b <= 2 &&
			    strchr("LuU8", t[i - 1]))
				continue; /* an encoding prefix: the literal is the token */
		} else {
			i += t[i] == '#' && i + 1 < n && t[i + 1] == '#' ? 2 : 1;
		}
		v[k++] = (struct tok){ b, i, kind };
	}
	*out = v;
	return k;
}

static int is_p(const char *t, const struct tok *x, const char *p)
{
	return x->kind == T_PUNCT && x->e - x->b == strlen(p) && !memcmp(t + x->b, p, x->e - x->b);
}

static int is_param(const char *t, const struct tok *x, char **params, size_t np)
{
	for (size_t i = 0; x->kind == T_ID && i < np; i++)
		if (strlen(params[i]) == x->e - x->b && !memcmp(params[i], t + x->b, x->e - x->b))
			return 1;
	return 0;
}

/* `( "lit" )` or `( <...> )` after a query name at k (only_str: `( "lit" )`). */
static int literal_call(const char *t, const struct tok *v, size_t n, size_t k, int only_str)
{
	if (k + 3 >= n + 1 || !is_p(t, &v[k + 1], "("))
		return 0;
	size_t a = k + 2;
	if (a < n && v[a].kind == T_STR)
		a++;
	else if (!only_str && a < n && t[v[a].b] == '<') {
		while (a < n && t[v[a].e - 1] != '>')
			a++;
		a++;
	} else
		return 0;
	return a < n && is_p(t, &v[a], ")");
}

static void add_chain(struct made *m, const char *t, const struct tok *v, size_t n, size_t k,
		      char **params, size_t np, int line)
{
	/* k: the first operand; each `##` is followed by another */
	struct chain c = { .line = line };
	int ident_like = 1;
	for (size_t j = k; j < n; j += 2) {
		if (v[j].kind != T_ID && v[j].kind != T_NUM)
			ident_like = 0;
		c.piece = vms_xrealloc(c.piece, (c.n + 1) * sizeof(char *));
		c.piece[c.n++] = is_param(t, &v[j], params, np)
					 ? NULL : vms_xstrndup(t + v[j].b, v[j].e - v[j].b);
		if (j + 2 >= n || !is_p(t, &v[j + 1], "##"))
			break;
	}
	if (ident_like) {
		m->chains = vms_xrealloc(m->chains, (m->nchains + 1) * sizeof(*m->chains));
		m->chains[m->nchains++] = c;
		return;
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.piece[i]);
	free(c.piece);
}

void made_text(struct made *m, const char *t, size_t n, const size_t *off, int is_define)
{
	struct tok *v;
	size_t nt = lex(t, n, &v), k = 0;
	char **params = NULL;
	size_t np = 0;
	if (is_define && nt && v[0].kind == T_ID) {
		k = 1;
		if (nt > 1 && is_p(t, &v[1], "(") && v[1].b == v[0].e) { /* function-like */
			for (k = 2; k < nt && !is_p(t, &v[k], ")"); k++) {
				int va = is_p(t, &v[k], ".");
				if (v[k].kind != T_ID && !va)
					continue;
				params = vms_xrealloc(params, (np + 1) * sizeof(char *));
				params[np++] = va ? vms_xstrdup("__VA_ARGS__")
						  : vms_xstrndup(t + v[k].b, v[k].e - v[k].b);
				k += va ? 2 : 0;
			}
			k++;
		}
	}
	for (; k < nt; k++) {
		const struct tok *x = &v[k];
		const char *p = t + x->b;
		size_t len = x->e - x->b;
		int line;
		vms_pp_locate(m->s, off[x->b], &line, NULL);
		if (x->kind == T_STR) {
			const char *q = memchr(p, '"', len);
			size_t qb = (size_t)(q - t) + 1, qe = x->e - (t[x->e - 1] == '"' && x->e > qb);
			decode_str(m, t, qb, qe, line);
		} else if (x->kind == T_ID) {
			if (in_list(made_names, p, len) && len > 5 && p[2] == 'h') {
				if (!literal_call(t, v, nt, k, 0))
					refuse_n(m, line, "%s must name a file literally "
						 "(\"file\" or <file>), not through a macro", p, len);
			} else if (len == 7 && !memcmp(p, "_Pragma", 7)) {
				if (k + 4 < nt + 1 && is_p(t, &v[k + 1], "(") && is_p(t, &v[k + 2], "#") &&
				    k + 4 < nt && is_param(t, &v[k + 3], params, np) &&
				    is_p(t, &v[k + 4], ")"))
					m->pragma_param_line = line;
				else if (!literal_call(t, v, nt, k, 1))
					m->refuse(m->ctx, line, "%s takes a literal string here, "
						  "not a macro", "_Pragma");
			} else if (in_list(made_names, p, len)) {
				m->asm_ident = 1;
			}
			if ((len == 10 && !memcmp(p, "dependency", 10)) ||
			    (len == 13 && !memcmp(p, "include_alias", 13)) ||
			    (len == 6 && !memcmp(p, "module", 6) && k &&
			     v[k - 1].e - v[k - 1].b == 5 && !memcmp(t + v[k - 1].b, "clang", 5)))
				m->pragma_word_line = line;
			char *low = lower_dup(p, len);
			int piece = piece_of(made_names, p, len) || piece_of(asm_words, low, len);
			m->pieces |= piece_of(made_names + 4, p, len); /* of asm, __asm, __asm__ */
			for (size_t i = 0; piece && i < m->nids; i++)
				if (strlen(m->ids[i]) == len && !memcmp(m->ids[i], p, len))
					piece = 0;
			if (piece) {
				m->ids = vms_xrealloc(m->ids, (m->nids + 2) * sizeof(char *));
				m->ids[m->nids++] = vms_xstrndup(p, len);
				m->ids[m->nids++] = vms_xstrdup(low);
			}
			if (k && is_p(t, &v[k - 1], ".") && v[k - 1].e == x->b &&
			    in_list(asm_words, low, len))
				refuse_n(m, line, directive_msg(low), t + v[k - 1].b, len + 1);
			free(low);
		} else if (is_p(t, x, "##")) {
			m->pastes = 1;
			int comma = k && is_p(t, &v[k - 1], ",") && k + 1 < nt &&
				    is_param(t, &v[k + 1], params, np);
			if (k && !comma && (k < 2 || !is_p(t, &v[k - 2], "##")))
				add_chain(m, t, v, nt, k - 1, params, np, line);
		}
	}
	for (size_t i = 0; i < np; i++)
		free(params[i]);
	free(params);
	free(v);
}

/* Whether the chain's pieces can spell w (lower: compare the literal pieces lowercased):
 * dp[i][j] says w[0, i) is spelled by the first j pieces. */
static int chain_spells(const struct made *m, const struct chain *c, const char *w, int lower)
{
	size_t n = strlen(w);
	unsigned char dp[32][16] = { { 0 } };
	if (n >= 32 || c->n >= 16)
		return 1; /* cannot tell: assume the worst */
	dp[0][0] = 1;
	for (size_t j = 0; j < c->n; j++)
		for (size_t i = 0; i <= n; i++) {
			if (!dp[i][j])
				continue;
			const char *p = c->piece[j];
			if (p) {
				char *q = lower ? lower_dup(p, strlen(p)) : vms_xstrdup(p);
				size_t l = strlen(q);
				if (i + l <= n && !memcmp(w + i, q, l))
					dp[i + l][j + 1] = 1;
				free(q);
				continue;
			}
			/* a parameter: a run of the source's pieces, maybe empty */
			unsigned char reach[32] = { 0 };
			reach[i] = 1;
			for (size_t a = i; a <= n; a++) {
				if (!reach[a])
					continue;
				dp[a][j + 1] = 1;
				/* the whole name as one argument makes nothing new: it is
				 * in the source already, and checked there */
				for (size_t t = 0; t < m->nids; t++) {
					size_t l = strlen(m->ids[t]);
					if (l && l < n && a + l <= n && !memcmp(w + a, m->ids[t], l))
						reach[a + l] = 1;
				}
			}
		}
	return dp[n][c->n];
}

static const char *const str_words[] = { ".incbin", ".include", ".macro", ".irp", ".altmacro",
					 NULL };

void made_finish(struct made *m)
{
	const char *s = m->str.data ? m->str.data : "";
	size_t n = m->str.len;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '.')
			continue;
		for (int k = 0; str_words[k]; k++) {
			size_t l = strlen(str_words[k]), p = 1;
			if (i + l <= n && !memcmp(s + i, str_words[k], l)) {
				m->refuse(m->ctx, m->str_line[i], directive_msg(str_words[k]),
					  str_words[k]);
				return;
			}
			while (p < l && i + p < n && s[i + p] == str_words[k][p])
				p++;
			if (p < l && i + p < n && s[i + p] == '%') {
				refuse_n(m, m->str_line[i], "assembler directive %s... with an operand "
					 "in its name", s + i, p + 1);
				return;
			}
		}
	}
	static const char *const pragmas[] = { "gcc dependency", "clang dependency",
					       "clang module", "include_alias", NULL };
	for (int k = 0; pragmas[k]; k++) {
		const char *hit = n ? strstr(s, pragmas[k]) : NULL;
		if (hit) {
			m->refuse(m->ctx, m->str_line[hit - s], "pragma %s names files: not allowed",
				  pragmas[k]);
			return;
		}
	}
	if (m->pragma_param_line && m->pragma_word_line)
		m->refuse(m->ctx, m->pragma_param_line, "%s in a source that names a pragma "
			  "reading files (dependency, include_alias, clang module)", "_Pragma(#x)");
	for (size_t i = 0; i < m->nchains; i++) {
		const struct chain *c = &m->chains[i];
		const char *hit = NULL;
		for (int k = 0; !hit && made_names[k]; k++)
			if (chain_spells(m, c, made_names[k], 0))
				hit = made_names[k];
		for (int k = 0; !hit && asm_words[k]; k++)
			if (chain_spells(m, c, asm_words[k], 1))
				hit = asm_words[k];
		if (hit)
			m->refuse(m->ctx, c->line, "token pasting (##) could make `%s` here", hit);
	}
}

void made_free(struct made *m)
{
	vms_buf_free(&m->str);
	free(m->str_line);
	for (size_t i = 0; i < m->nids; i++)
		free(m->ids[i]);
	free(m->ids);
	for (size_t i = 0; i < m->nchains; i++) {
		for (size_t j = 0; j < m->chains[i].n; j++)
			free(m->chains[i].piece[j]);
		free(m->chains[i].piece);
	}
	free(m->chains);
}
