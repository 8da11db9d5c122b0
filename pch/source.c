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
 * CO-RE" costs only the -gmodules speed-up.
 *
 * The lines come from the one preprocessor scanner (common/ppscan.h), so splices, comments
 * and literals are read as clang reads them. Raw strings are not asked for: clang 19 in a
 * gnu mode hides the lines inside R"x(...)x", clang 14 and -std=cXX do not, and seeing
 * those lines as directives or code can only make the scan more cautious. */
#include "pch/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/ppscan.h"

static int is_ident(int c)
{
	return isalnum(c) || c == '_';
}

/* The length of the identifier (ASCII letters, digits, '_') that t[0..n) starts with. */
static size_t ident_len(const char *t, size_t n)
{
	size_t i = 0;
	while (i < n && is_ident((unsigned char)t[i]))
		i++;
	return i;
}

/* Does t[0..n) start with the identifier word (and not a longer one)? */
static int starts_with_ident(const char *t, size_t n, const char *word)
{
	size_t l = ident_len(t, n);
	return l == strlen(word) && !memcmp(t, word, l);
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

/* Notes whether the scanner's text t[0..n) names CO-RE. In code, literals are skipped; in
 * a directive's text they are read too (a #pragma's operand, a macro body's string). */
static void note_core(struct pch_preamble *p, const char *t, size_t n, int skip_literals)
{
	for (size_t i = 0; i < n;) {
		size_t l = ident_len(t + i, n - i);
		if (l) {
			char *id = vms_xstrndup(t + i, l);
			p->uses_core |= is_core_ident(id) != 0;
			free(id);
			i += l;
		} else if (skip_literals && (t[i] == '"' || t[i] == '\'')) {
			char q = t[i++];
			while (i < n && t[i] != q) {
				if (t[i] == '\\' && i + 1 < n)
					i++;
				i++;
			}
			if (i < n)
				i++;
		} else {
			i++;
		}
	}
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

/* The name in `"name"` or `<name>` that an #include's text starts with (owned), or NULL:
 * a computed include. */
static char *include_name(const char *t, size_t n, int *angled)
{
	if (!n || (t[0] != '"' && t[0] != '<'))
		return NULL;
	char close = t[0] == '"' ? '"' : '>';
	const char *e = memchr(t + 1, close, n - 1);
	if (!e)
		return NULL;
	*angled = close == '>';
	return vms_xstrndup(t + 1, (size_t)(e - t - 1));
}

struct preamble_scan {
	struct pch_preamble *p;
	int in_preamble;
};

static void on_include(struct preamble_scan *x, const struct vms_pp_dir *d)
{
	struct pch_preamble *p = x->p;
	int angled = 0;
	char *name = include_name(d->text, d->text_len, &angled);
	if (!name) {
		if (x->in_preamble)
			set_why(p, vms_xstrdup("a computed #include precedes \"vmlinux.h\""));
		x->in_preamble = 0;
		p->other_includes = 1;
	} else if (!strcmp(name, "vmlinux.h") && !p->found) {
		/* simple only if nothing but #defines came first */
		p->found = 1;
		p->simple = x->in_preamble && !p->why;
		p->angled = angled;
		x->in_preamble = 0;
	} else {
		if (x->in_preamble)
			set_why(p, vms_xasprintf("#include %c%s%c precedes \"vmlinux.h\"",
						 angled ? '<' : '"', name, angled ? '>' : '"'));
		x->in_preamble = 0;
		if (!is_known_include(name))
			p->other_includes = 1;
	}
	free(name);
}

/* A #define of the preamble becomes -DNAME[(PARAMS)]=BODY: the parameters only when '('
 * touches the name (a function-like macro), the body as tokens see it. */
static void on_preamble_define(struct preamble_scan *x, const struct vms_pp_dir *d)
{
	struct pch_preamble *p = x->p;
	const char *t = d->text;
	size_t n = d->text_len, i = ident_len(t, n);
	if (!i) {
		set_why(p, vms_xstrdup("malformed #define before \"vmlinux.h\""));
		x->in_preamble = 0;
		return;
	}
	char *name = vms_xstrndup(t, i);
	size_t params = i;
	if (i < n && t[i] == '(') {
		while (i < n && t[i] != ')')
			i++;
		if (i < n)
			i++;
	}
	size_t params_len = i - params;
	if (i < n && t[i] == ' ')
		i++;
	vms_argv_pushf(&p->defines, "-D%s%.*s=%.*s", name, (int)params_len, t + params,
		       (int)(n - i), t + i);
	if (!strcmp(name, "BPF_NO_PRESERVE_ACCESS_INDEX"))
		p->defines_no_pai = 1;
	note_core(p, t + i, n - i, 0);
	free(name);
}

static int preamble_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	(void)s;
	struct preamble_scan *x = ctx;
	size_t l = ident_len(d->name, d->name_len);
	if (!l) /* the null directive, or "#" then junk */
		return 0;
	char *dir = vms_xstrndup(d->name, l);
	if (!strcmp(dir, "include") || !strcmp(dir, "include_next") || !strcmp(dir, "import")) {
		on_include(x, d);
	} else if (!strcmp(dir, "define") && x->in_preamble) {
		on_preamble_define(x, d);
	} else {
		if (x->in_preamble)
			set_why(x->p, vms_xasprintf("#%s precedes \"vmlinux.h\"", dir));
		x->in_preamble = 0;
		/* the rest of the line may name CO-RE (#pragma clang attribute) */
		note_core(x->p, d->text, d->text_len, 0);
	}
	free(dir);
	return 0;
}

static int preamble_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	(void)s;
	struct preamble_scan *x = ctx;
	if (x->in_preamble) {
		set_why(x->p, vms_xstrdup("code precedes #include \"vmlinux.h\""));
		x->in_preamble = 0;
	}
	note_core(x->p, c->text, c->text_len, 1);
	return 0;
}

void pch_scan_preamble(const char *text, size_t len, struct pch_preamble *p)
{
	memset(p, 0, sizeof(*p));
	struct preamble_scan x = { .p = p, .in_preamble = 1 };
	struct vms_pp_ops ops = { preamble_directive, preamble_code, &x };
	struct vms_pp_src s;
	vms_pp_open(&s, text, len, 0, NULL, NULL); /* only VMS_PP_STRICT refuses */
	vms_pp_scan(&s, 0, &ops);
	vms_pp_close(&s);
	if (!p->found)
		set_why(p, vms_xstrdup("the program does not #include \"vmlinux.h\""));
}

void pch_preamble_free(struct pch_preamble *p)
{
	free(p->why);
	vms_argv_free(&p->defines);
	memset(p, 0, sizeof(*p));
}

/* The header's first directive and the one after it; any code before them, and the
 * answer is no.
 *
 * A vmlinux.h is megabytes and its guard sits in its first lines, so a prefix is scanned,
 * twice as long each time until a line that decides is complete in it: one whose newline
 * is not the prefix's last byte. Lines before the deciding one are complete too, and a
 * cut can only shorten the last line or a comment that runs to the prefix's end, never
 * change a line before it (literals end at their line, raw strings are not read). */
struct guard_scan {
	int seen;		/* directives seen so far */
	char *guard;		/* the #ifndef's macro (owned) */
	int ok;
	int whole;		/* the prefix is the whole header */
	int decided;		/* ok holds for the whole header too */
};

/* Stops the scan at the line ending at logical offset end. */
static int guard_stop(struct guard_scan *g, const struct vms_pp_src *s, size_t end)
{
	g->decided = g->whole || end < s->n;
	return 1;
}

static int guard_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	struct guard_scan *g = ctx;
	if (g->seen++ == 0) {
		if (starts_with_ident(d->name, d->name_len, "pragma")) {
			g->ok = starts_with_ident(d->text, d->text_len, "once");
		} else if (starts_with_ident(d->name, d->name_len, "ifndef")) {
			size_t l = ident_len(d->text, d->text_len);
			if (l) {
				g->guard = vms_xstrndup(d->text, l);
				return 0; /* on to the #define */
			}
		}
		return guard_stop(g, s, d->end);
	}
	if (starts_with_ident(d->name, d->name_len, "define"))
		g->ok = starts_with_ident(d->text, d->text_len, g->guard);
	return guard_stop(g, s, d->end);
}

static int guard_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	struct guard_scan *g = ctx;
	g->ok = 0;
	return guard_stop(g, s, c->end);
}

int pch_header_guarded(const char *text, size_t len)
{
	for (size_t m = 4096;; m *= 2) {
		size_t n = m < len ? m : len;
		struct guard_scan g = { .whole = n == len };
		struct vms_pp_ops ops = { guard_directive, guard_code, &g };
		struct vms_pp_src s;
		vms_pp_open(&s, text, n, 0, NULL, NULL); /* only VMS_PP_STRICT refuses */
		vms_pp_scan(&s, 0, &ops);
		vms_pp_close(&s);
		free(g.guard);
		if (g.decided || g.whole)
			return g.ok;
	}
}
