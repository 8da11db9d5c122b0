/* Dependency files (-MD/-MF) of PCH builds: what the options ask for, and rewriting the file
 * clang wrote into the one a plain build writes.
 *
 * The dependency file of a PCH build differs from a plain build's in two ways: it starts
 * with the header's absolute path (clang lists the PCH's input file first), and a header
 * named otherwise is listed through the shim (build.c). Both name the real header, so make
 * would work either way; rewriting them, with clang's own line wrapping, makes the file
 * what a plain build writes.
 *
 * Make syntax is handled by small pure functions, each testable alone (tests/test_pch.c):
 *   pch_dep_tokenize   text -> raw tokens, escapes kept, continuation lines joined;
 *   pch_dep_unescape   one raw token -> the path it names ("a\ b" -> "a b", "$$" -> "$");
 *   pch_dep_escape     a path -> a token (the inverse, for spaces, '#' and '$');
 *   pch_dep_format     targets + dependencies -> text laid out as clang lays it out;
 *   pch_dep_rewrite    the whole rewrite, text to text.
 * pch_fix_depfile is the only one that touches the file system. */
#include "pch/internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- what the options ask for ---- */

static void dep_scan(const char *const *v, struct pch_depinfo *di)
{
	for (size_t i = 0; v && v[i]; i++) {
		const char *a = v[i];
		if (!strcmp(a, "-MD") || !strcmp(a, "-MMD"))
			di->has_md = 1;
		else if (!strncmp(a, "-MT", 3) || !strncmp(a, "-MQ", 3))
			di->has_target = 1;
		else if (!strcmp(a, "-MF") && v[i + 1]) {
			free(di->path);
			di->path = vms_xstrdup(v[++i]);
			di->has_mf = 1;
		} else if (!strncmp(a, "-MF", 3) && a[3]) {
			free(di->path);
			di->path = vms_xstrdup(a + 3);
			di->has_mf = 1;
		} else if (pch_opt_takes_arg(a) && v[i + 1]) {
			i++;
		}
	}
}

void pch_dep_info(const struct vms_build_opts *o, struct pch_depinfo *di)
{
	memset(di, 0, sizeof(*di));
	dep_scan(o->flags, di);
	dep_scan(o->dep_flags, di);
	if (o->dep_file) {
		free(di->path);
		di->path = vms_xstrdup(o->dep_file);
		di->has_mf = 1;
	}
	if (!di->path && di->has_md) {
		/* clang's default: the output with its extension replaced by .d */
		const char *base = o->output;
		const char *dot = strrchr(vms_basename(base), '.');
		di->path = vms_xasprintf("%.*s.d", (int)(dot ? (size_t)(dot - base) : strlen(base)), base);
	}
	if (!di->has_md)
		di->path = (free(di->path), NULL); /* -MF alone writes nothing */
}

/* ---- make syntax ---- */

void pch_dep_tokenize(const char *s, size_t len, struct vms_argv *out)
{
	const char *end = s + len;
	struct vms_buf t = { 0 };
	for (const char *p = s; p <= end; p++) {
		int sep = p == end || *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
		if (p < end && *p == '\\' && p + 1 < end && p[1] == '\n') {
			p++;
			sep = 1;
		} else if (p < end && *p == '\\' && p + 1 < end) {
			vms_buf_append(&t, p, 2);
			p++;
			continue;
		}
		if (!sep) {
			vms_buf_append(&t, p, 1);
			continue;
		}
		if (t.len)
			vms_argv_push(out, t.data);
		vms_buf_free(&t);
	}
	vms_buf_free(&t);
}

char *pch_dep_unescape(const char *tok)
{
	struct vms_buf b = { 0 };
	for (const char *p = tok; *p; p++) {
		if (*p == '\\' && (p[1] == ' ' || p[1] == '#' || p[1] == '\\'))
			p++;
		else if (*p == '$' && p[1] == '$')
			p++;
		vms_buf_append(&b, p, 1);
	}
	return vms_buf_steal(&b);
}

char *pch_dep_escape(const char *path)
{
	struct vms_buf b = { 0 };
	for (const char *h = path; *h; h++) {
		if (*h == ' ' || *h == '#')
			vms_buf_append(&b, "\\", 1);
		else if (*h == '$')
			vms_buf_append(&b, "$", 1);
		vms_buf_append(&b, h, 1);
	}
	return vms_buf_steal(&b);
}

/* clang's layout (DependencyFileGenerator::outputDependencyFile): targets, then ':' and
 * the dependencies, wrapped before column 75 with " \" continuations; widths count the
 * unescaped path. With phony (-MP), "DEP:" for every dependency but the main file (source),
 * each after a blank line (VMS_DEP_PHONY_BLANK: clang up to 18) or on the next line
 * (VMS_DEP_PHONY_TIGHT: clang 19). Tokens are written as given (already escaped). */
char *pch_dep_format(const struct vms_argv *targets, const struct vms_argv *deps, int phony,
		     const char *source)
{
	struct vms_buf b = { 0 };
	unsigned cols = 0;
	for (size_t k = 0; k < targets->n; k++) {
		unsigned n = (unsigned)strlen(targets->v[k]);
		if (!cols) {
			cols = n;
		} else if (cols + n + 2 > 75) {
			cols = n + 2;
			vms_buf_puts(&b, " \\\n  ");
		} else {
			cols += n + 1;
			vms_buf_puts(&b, " ");
		}
		vms_buf_puts(&b, targets->v[k]);
	}
	vms_buf_puts(&b, ":");
	cols += 1;
	for (size_t k = 0; k < deps->n; k++) {
		char *u = pch_dep_unescape(deps->v[k]);
		unsigned n = (unsigned)strlen(u);
		free(u);
		if (cols + (n + 1) + 2 > 75) {
			vms_buf_puts(&b, " \\\n ");
			cols = 2;
		}
		vms_buf_puts(&b, " ");
		vms_buf_puts(&b, deps->v[k]);
		cols += n + 1;
	}
	vms_buf_puts(&b, "\n");
	if (phony) {
		/* Clang's own list is off by one under -include-pch (it skips the PCH's input
		 * instead of the source), so it is rebuilt from the dependencies. */
		int skipped = 0;
		for (size_t k = 0; k < deps->n; k++) {
			char *u = pch_dep_unescape(deps->v[k]);
			if (!skipped && !strcmp(u, source))
				skipped = 1;
			else
				vms_buf_printf(&b, "%s%s:\n", phony == VMS_DEP_PHONY_TIGHT ? "" : "\n",
					       deps->v[k]);
			free(u);
		}
	}
	return vms_buf_steal(&b);
}

/* The length of the first rule: up to its first newline that no backslash continues (the
 * -MP rules follow it). */
static size_t rule_length(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' && i + 1 < len && text[i + 1] == '\n')
			i++;
		else if (text[i] == '\n')
			return i;
	}
	return len;
}

/* How clang laid out the -MP rules after the first: 0 none. */
static int phony_layout(const char *text, size_t len)
{
	size_t r = rule_length(text, len);
	if (r + 1 >= len)
		return 0;
	return text[r + 1] == '\n' ? VMS_DEP_PHONY_BLANK : VMS_DEP_PHONY_TIGHT;
}

/* Splits the rule's tokens at the first unescaped ':' (which may end a target or stand
 * alone); returns the index of the first dependency. */
static size_t split_rule(const struct vms_argv *toks, struct vms_argv *targets)
{
	size_t i = 0;
	for (; i < toks->n; i++) {
		size_t n = strlen(toks->v[i]);
		if (toks->v[i][n - 1] == ':' && (n < 2 || toks->v[i][n - 2] != '\\')) {
			if (n > 1) {
				char *t = vms_xstrndup(toks->v[i], n - 1);
				vms_argv_push(targets, t);
				free(t);
			}
			return i + 1;
		}
		vms_argv_push(targets, toks->v[i]);
	}
	return i;
}

static int same_path(const char *a, const char *b)
{
	return !strcmp(a, b);
}

char *pch_dep_rewrite(const char *text, size_t len, const char *shim_path, const char *header,
		      const char *source, int (*same_file)(const char *a, const char *b))
{
	if (!same_file)
		same_file = same_path;
	/* the rule, then (with -MP) one phony target per dependency */
	int phony = phony_layout(text, len);
	struct vms_argv toks = { 0 }, targets = { 0 }, deps = { 0 };
	pch_dep_tokenize(text, rule_length(text, len), &toks);
	size_t i = split_rule(&toks, &targets);
	char *qheader = pch_dep_escape(header);
	int changed = phony != 0;
	const char *move_header = NULL;
	for (size_t k = i; k < toks.n; k++) {
		char *u = pch_dep_unescape(toks.v[k]);
		if (shim_path && !strcmp(u, shim_path)) {
			vms_argv_push(&deps, qheader);
			changed = 1;
		} else if (k == i && !strcmp(u, header)) {
			/* The PCH's input file. If the program's include named the header under
			 * another spelling it is listed again later: drop this one. Otherwise clang
			 * merged the two, and the entry belongs where a plain build lists it,
			 * right after the source (the header is the program's first include). */
			int elsewhere = 0;
			for (size_t m = k + 1; m < toks.n && !elsewhere; m++) {
				char *um = pch_dep_unescape(toks.v[m]);
				elsewhere = same_file(um, header) || (shim_path && !strcmp(um, shim_path));
				free(um);
			}
			changed = 1;
			if (!elsewhere)
				move_header = toks.v[k];
		} else if (move_header && !strcmp(u, source)) {
			vms_argv_push(&deps, toks.v[k]);
			vms_argv_push(&deps, move_header);
			move_header = NULL;
		} else {
			vms_argv_push(&deps, toks.v[k]);
		}
		free(u);
	}
	if (move_header) /* the source was not found: keep clang's order */
		vms_argv_push(&deps, move_header), changed = 0;
	char *out = changed && targets.n ? pch_dep_format(&targets, &deps, phony, source) : NULL;
	free(qheader);
	vms_argv_free(&toks);
	vms_argv_free(&targets);
	vms_argv_free(&deps);
	return out;
}

/* ---- the file ---- */

static int same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

void pch_fix_depfile(const char *dep, const char *shim_path, const char *header,
		     const char *source)
{
	char *text;
	size_t len;
	if (!dep || !header || vms_read_file(dep, &text, &len) < 0)
		return;
	char *out = pch_dep_rewrite(text, len, shim_path, header, source, same_file);
	if (out)
		vms_write_file_atomic(dep, out, strlen(out), 0644);
	free(out);
	free(text);
}

/* ---- the API's view of the above ---- */

void vms_dep_rule(const char *text, size_t len, struct vms_argv *targets, struct vms_argv *deps)
{
	struct vms_argv toks = { 0 };
	pch_dep_tokenize(text, rule_length(text, len), &toks);
	for (size_t i = split_rule(&toks, targets); i < toks.n; i++)
		vms_argv_push(deps, toks.v[i]);
	vms_argv_free(&toks);
}

char *vms_dep_unescape(const char *tok)
{
	return pch_dep_unescape(tok);
}

char *vms_dep_escape(const char *path)
{
	return pch_dep_escape(path);
}

char *vms_dep_format(const struct vms_argv *targets, const struct vms_argv *deps, int phony,
		     const char *source)
{
	return pch_dep_format(targets, deps, phony, source);
}
