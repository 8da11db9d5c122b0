/* What a program does before it includes the header, and whether -gmodules could be safe.
 *
 * `-include-pch` processes the header before the program's first line. That equals the
 * program's own `#include "vmlinux.h"` only when nothing before that include could change
 * how the header reads: a program may `#define BPF_NO_PRESERVE_ACCESS_INDEX` or
 * `__TARGET_ARCH_arm64` first. So the preamble is scanned the way clangd delimits one:
 * comments and object- or function-like `#define`s are allowed and become `-D` arguments
 * of both the PCH and the compile (then the program's own #define is an identical
 * redefinition, which C allows silently); any other directive or code before the include
 * makes the PCH path inapplicable and the build runs plainly.
 *
 * The same pass collects the facts the -gmodules decision needs: whether the text names
 * any CO-RE builtin or libbpf macro built on them, and whether it includes headers whose
 * text we did not see. This is a lexical scan, deliberately conservative: a false "uses
 * CO-RE" costs only the -gmodules speed-up. */
#include "pch/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct lex {
	const char *p, *end;
};

/* Skips a comment at l->p if there is one; returns 1 if it did. */
static int skip_comment(struct lex *l)
{
	if (l->p + 1 >= l->end || l->p[0] != '/')
		return 0;
	if (l->p[1] == '*') {
		const char *e = l->p + 2;
		while (e + 1 < l->end && !(e[0] == '*' && e[1] == '/'))
			e++;
		l->p = e + 1 < l->end ? e + 2 : l->end;
		return 1;
	}
	if (l->p[1] == '/') {
		const char *e = l->p + 2;
		while (e < l->end && *e != '\n') {
			if (*e == '\\' && e + 1 < l->end && e[1] == '\n')
				e++;
			e++;
		}
		l->p = e;
		return 1;
	}
	return 0;
}

/* Skips blanks, line continuations and comments; newlines too unless in_directive. */
static void skip_space(struct lex *l, int in_directive)
{
	while (l->p < l->end) {
		char c = *l->p;
		if (c == '\\' && l->p + 1 < l->end && l->p[1] == '\n')
			l->p += 2;
		else if (c == '\\' && l->p + 2 < l->end && l->p[1] == '\r' && l->p[2] == '\n')
			l->p += 3;
		else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v' ||
			 (c == '\n' && !in_directive))
			l->p++;
		else if (!skip_comment(l))
			return;
	}
}

static int is_ident(int c)
{
	return isalnum(c) || c == '_';
}

static char *read_ident(struct lex *l)
{
	const char *s = l->p;
	while (l->p < l->end && is_ident((unsigned char)*l->p))
		l->p++;
	return l->p > s ? vms_xstrndup(s, (size_t)(l->p - s)) : NULL;
}

/* The rest of a directive line with comments and blank runs folded to one space. */
static char *read_directive_rest(struct lex *l)
{
	struct vms_buf b = { 0 };
	int pending_space = 0;
	for (;;) {
		const char *before = l->p;
		skip_space(l, 1);
		if (l->p != before)
			pending_space = 1;
		if (l->p >= l->end || *l->p == '\n')
			break;
		if (pending_space && b.len)
			vms_buf_append(&b, " ", 1);
		pending_space = 0;
		char c = *l->p;
		if (c == '"' || c == '\'') {
			/* literals are copied verbatim, escapes included */
			const char *s = l->p++;
			while (l->p < l->end && *l->p != c && *l->p != '\n') {
				if (*l->p == '\\' && l->p + 1 < l->end)
					l->p++;
				l->p++;
			}
			if (l->p < l->end && *l->p == c)
				l->p++;
			vms_buf_append(&b, s, (size_t)(l->p - s));
		} else {
			vms_buf_append(&b, &c, 1);
			l->p++;
		}
	}
	return vms_buf_steal(&b);
}

static void skip_line(struct lex *l)
{
	while (l->p < l->end && *l->p != '\n') {
		const char *before = l->p;
		skip_space(l, 1);
		if (l->p == before)
			l->p++;
	}
}

static void set_why(struct pch_preamble *p, char *why)
{
	if (!p->why)
		p->why = why;
	else
		free(why);
}

/* Identifiers that mean CO-RE relocations: clang's builtins, the attribute, and every
 * libbpf macro that expands to them (BPF_CORE_READ, bpf_core_*, PT_REGS_*_CORE*,
 * BPF_KSYSCALL / BPF_KPROBE_SYSCALL which read syscall arguments with CO-RE). */
static int is_core_ident(const char *id)
{
	return strstr(id, "preserve_access_index") || strstr(id, "__builtin_preserve") ||
	       strstr(id, "__builtin_btf_type_id") || strstr(id, "_CORE") ||
	       !strncmp(id, "bpf_core_", 9) || !strncmp(id, "BPF_CORE", 8) ||
	       strstr(id, "KSYSCALL") || strstr(id, "KPROBE_SYSCALL") ||
	       strstr(id, "preserve_");
}

/* libbpf headers that define macros only (every CO-RE use goes through a macro the scan
 * recognizes by name). Anything else might hide CO-RE in text we do not read. */
static int is_known_include(const char *name)
{
	static const char *const ok[] = { "vmlinux.h", "bpf/bpf_helpers.h", "bpf/bpf_tracing.h",
					  "bpf/bpf_endian.h", "bpf/bpf_core_read.h", NULL };
	for (size_t i = 0; ok[i]; i++)
		if (!strcmp(name, ok[i]))
			return 1;
	return 0;
}

/* Parses `"name"` or `<name>` after #include; returns the owned name or NULL. */
static char *read_include_name(struct lex *l, int *angled)
{
	skip_space(l, 1);
	if (l->p >= l->end)
		return NULL;
	char close = *l->p == '"' ? '"' : *l->p == '<' ? '>' : 0;
	if (!close)
		return NULL;
	*angled = close == '>';
	const char *s = ++l->p;
	while (l->p < l->end && *l->p != close && *l->p != '\n')
		l->p++;
	if (l->p >= l->end || *l->p != close)
		return NULL;
	char *name = vms_xstrndup(s, (size_t)(l->p - s));
	l->p++;
	return name;
}

void pch_scan_preamble(const char *text, size_t len, struct pch_preamble *p)
{
	memset(p, 0, sizeof(*p));
	struct lex l = { text, text + len };
	int in_preamble = 1;
	while (l.p < l.end) {
		skip_space(&l, 0);
		if (l.p >= l.end)
			break;
		if (*l.p == '#') {
			l.p++;
			skip_space(&l, 1);
			char *dir = read_ident(&l);
			if (!dir) { /* the null directive, or "#" then junk */
				skip_line(&l);
				continue;
			}
			if (!strcmp(dir, "include") || !strcmp(dir, "include_next") ||
			    !strcmp(dir, "import")) {
				int angled = 0;
				char *name = read_include_name(&l, &angled);
				if (!name) {
					if (in_preamble)
						set_why(p, vms_xstrdup("a computed #include precedes \"vmlinux.h\""));
					in_preamble = 0;
					p->other_includes = 1;
				} else if (!strcmp(name, "vmlinux.h") && !p->found) {
					/* simple only if nothing but #defines came first */
					p->found = 1;
					p->simple = in_preamble && !p->why;
					p->angled = angled;
					in_preamble = 0;
				} else {
					if (in_preamble)
						set_why(p, vms_xasprintf("#include %c%s%c precedes \"vmlinux.h\"",
									 angled ? '<' : '"', name,
									 angled ? '>' : '"'));
					in_preamble = 0;
					if (!is_known_include(name))
						p->other_includes = 1;
				}
				free(name);
			} else if (!strcmp(dir, "define") && in_preamble) {
				skip_space(&l, 1);
				char *name = read_ident(&l);
				if (!name) {
					set_why(p, vms_xstrdup("malformed #define before \"vmlinux.h\""));
					in_preamble = 0;
				} else {
					char *params = NULL;
					if (l.p < l.end && *l.p == '(') {
						const char *s = l.p;
						while (l.p < l.end && *l.p != ')' && *l.p != '\n')
							l.p++;
						if (l.p < l.end && *l.p == ')')
							l.p++;
						params = vms_xstrndup(s, (size_t)(l.p - s));
					}
					char *body = read_directive_rest(&l);
					vms_argv_pushf(&p->defines, "-D%s%s=%s", name, params ? params : "", body);
					if (!strcmp(name, "BPF_NO_PRESERVE_ACCESS_INDEX"))
						p->defines_no_pai = 1;
					for (struct lex b = { body, body + strlen(body) }; b.p < b.end;) {
						char *id = read_ident(&b);
						if (id) {
							p->uses_core |= is_core_ident(id) != 0;
							free(id);
						} else {
							b.p++;
						}
					}
					free(params);
					free(body);
					free(name);
				}
			} else {
				if (in_preamble)
					set_why(p, vms_xasprintf("#%s precedes \"vmlinux.h\"", dir));
				in_preamble = 0;
				/* the rest of the line may name CO-RE (#pragma clang attribute) */
				char *rest = read_directive_rest(&l);
				for (struct lex b = { rest, rest + strlen(rest) }; b.p < b.end;) {
					char *id = read_ident(&b);
					if (id) {
						p->uses_core |= is_core_ident(id) != 0;
						free(id);
					} else {
						b.p++;
					}
				}
				free(rest);
			}
			free(dir);
			skip_line(&l);
			continue;
		}
		if (in_preamble) {
			set_why(p, vms_xstrdup("code precedes #include \"vmlinux.h\""));
			in_preamble = 0;
		}
		/* an ordinary line: look at identifiers, skip literals */
		while (l.p < l.end && *l.p != '\n') {
			char c = *l.p;
			if (is_ident((unsigned char)c)) {
				char *id = read_ident(&l);
				p->uses_core |= is_core_ident(id) != 0;
				free(id);
			} else if (c == '"' || c == '\'') {
				l.p++;
				while (l.p < l.end && *l.p != c && *l.p != '\n') {
					if (*l.p == '\\' && l.p + 1 < l.end)
						l.p++;
					l.p++;
				}
				if (l.p < l.end && *l.p == c)
					l.p++;
			} else if (!skip_comment(&l)) {
				l.p++;
			}
		}
	}
	if (!p->found)
		set_why(p, vms_xstrdup("the program does not #include \"vmlinux.h\""));
}

void pch_preamble_free(struct pch_preamble *p)
{
	free(p->why);
	vms_argv_free(&p->defines);
	memset(p, 0, sizeof(*p));
}

int pch_header_guarded(const char *text, size_t len)
{
	struct lex l = { text, text + len };
	skip_space(&l, 0);
	if (l.p >= l.end || *l.p != '#')
		return 0;
	l.p++;
	skip_space(&l, 1);
	char *dir = read_ident(&l);
	int ok = 0;
	if (dir && !strcmp(dir, "pragma")) {
		skip_space(&l, 1);
		char *what = read_ident(&l);
		ok = what && !strcmp(what, "once");
		free(what);
	} else if (dir && !strcmp(dir, "ifndef")) {
		skip_space(&l, 1);
		char *guard = read_ident(&l);
		skip_line(&l);
		skip_space(&l, 0);
		if (guard && l.p < l.end && *l.p == '#') {
			l.p++;
			skip_space(&l, 1);
			char *def = read_ident(&l);
			if (def && !strcmp(def, "define")) {
				skip_space(&l, 1);
				char *name = read_ident(&l);
				ok = name && !strcmp(name, guard);
				free(name);
			}
			free(def);
		}
		free(guard);
	}
	free(dir);
	return ok;
}
