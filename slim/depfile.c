/* The dependency file of a slim build names the full header, never the derived one.
 *
 * clang lists the derived header (it was -included) and, where the program's own
 * `#include "vmlinux.h"` reached it through the include shim, the shim too (vms_build
 * already turns the shim into the header it was given, the derived one). make must
 * rebuild when the full header changes, and the derived file is a cache entry that may
 * vanish: so every dependency that is the derived header becomes the full one, and a
 * dependency listed twice by then is listed once (the program's include found the full
 * header too when it lies beside the program). Phony targets (-MP) get the same rewrite.
 *
 * Make syntax, as clang writes it: logical lines joined by backslash-newline, tokens split
 * at blanks, "\ " "\#" and "$$" escaping a blank, a hash and a dollar; a rule is the
 * targets, a ':' ending a token, the dependencies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "slim/internal.h"

/* the path a make token names */
static char *token_path(const char *t, size_t n)
{
	struct vms_buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		int esc = (t[i] == '\\' && i + 1 < n && strchr(" #\\", t[i + 1])) ||
			  (t[i] == '$' && i + 1 < n && t[i + 1] == '$');
		i += (size_t)esc;
		vms_buf_append(&b, &t[i], 1);
	}
	return vms_buf_steal(&b);
}

static char *path_token(const char *p)
{
	struct vms_buf b = { 0 };
	for (; *p; p++) {
		if (*p == ' ' || *p == '#')
			vms_buf_puts(&b, "\\");
		else if (*p == '$')
			vms_buf_puts(&b, "$");
		vms_buf_append(&b, p, 1);
	}
	return vms_buf_steal(&b);
}

/* one logical line's tokens (continuations joined); returns where the next line starts */
static const char *split_line(const char *s, const char *end, struct vms_argv *toks)
{
	struct vms_buf t = { 0 };
	for (; s < end; s++) {
		int cont = *s == '\\' && s + 1 < end && s[1] == '\n';
		if (cont) {
			s++;
		} else if (*s == '\\' && s + 1 < end) {
			vms_buf_append(&t, s, 2);
			s++;
			continue;
		} else if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r') {
			vms_buf_append(&t, s, 1);
			continue;
		}
		if (t.len)
			vms_argv_push(toks, t.data);
		vms_buf_free(&t);
		if (*s == '\n' && !cont) {
			s++;
			break;
		}
	}
	if (t.len)
		vms_argv_push(toks, t.data);
	vms_buf_free(&t);
	return s;
}

static int seen(const struct vms_argv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return 1;
	return 0;
}

/* A token that ends the targets: "x.o:" or a lone ":" (an escaped "\:" does not). */
static int ends_targets(const char *t)
{
	size_t n = strlen(t);
	return t[n - 1] == ':' && (n < 2 || t[n - 2] != '\\');
}

char *slim_dep_rewrite(const char *text, size_t len, const char *full,
		       int (*is_derived)(const char *path, void *arg), void *arg)
{
	struct vms_buf out = { 0 };
	struct vms_argv phony = { 0 };
	char *qfull = path_token(full);
	int changed = 0;
	for (const char *s = text, *end = text + len; s < end;) {
		struct vms_argv toks = { 0 }, deps = { 0 };
		s = split_line(s, end, &toks);
		size_t k = 0;
		while (k < toks.n && !ends_targets(toks.v[k]))
			k++;
		if (k == toks.n) { /* not a rule: a blank line between them */
			if (!toks.n)
				vms_buf_puts(&out, "\n");
			vms_argv_free(&toks);
			continue;
		}
		struct vms_argv targets = { 0 };
		for (size_t i = 0; i <= k; i++) {
			char *t = i < k ? vms_xstrdup(toks.v[i])
					: vms_xstrndup(toks.v[i], strlen(toks.v[i]) - 1);
			char *p = token_path(t, strlen(t));
			if (*t && is_derived(p, arg)) {
				free(t);
				t = vms_xstrdup(qfull);
				changed = 1;
			}
			if (*t)
				vms_argv_push(&targets, t);
			free(t), free(p);
		}
		for (size_t i = k + 1; i < toks.n; i++) {
			char *p = token_path(toks.v[i], strlen(toks.v[i]));
			const char *t = is_derived(p, arg) ? qfull : toks.v[i];
			changed |= t == qfull;
			if (seen(&deps, t))
				changed = 1;
			else
				vms_argv_push(&deps, t);
			free(p);
		}
		/* a phony rule "dep:" for a dependency that has one already goes */
		int dup = !deps.n && targets.n == 1 && seen(&phony, targets.v[0]);
		if (!deps.n && targets.n == 1 && !dup)
			vms_argv_push(&phony, targets.v[0]);
		if (dup) {
			changed = 1;
			/* and so does the blank line that came before it */
			if (out.len >= 2 && out.data[out.len - 1] == '\n' && out.data[out.len - 2] == '\n')
				out.data[--out.len] = 0;
		} else {
			for (size_t i = 0; i < targets.n; i++)
				vms_buf_printf(&out, "%s%s", i ? " " : "", targets.v[i]);
			vms_buf_puts(&out, ":");
			size_t col = out.len;
			for (size_t i = 0; i < deps.n; i++) {
				if (i && out.len - col + strlen(deps.v[i]) > 72) {
					vms_buf_puts(&out, " \\\n ");
					col = out.len;
				}
				vms_buf_printf(&out, " %s", deps.v[i]);
			}
			vms_buf_puts(&out, "\n");
		}
		vms_argv_free(&targets);
		vms_argv_free(&deps);
		vms_argv_free(&toks);
	}
	free(qfull);
	vms_argv_free(&phony);
	if (!changed) {
		vms_buf_free(&out);
		return NULL;
	}
	return vms_buf_steal(&out);
}

/* the derived header, reached by its own path or by a symlink to it (the include shim) */
static int same_inode(const char *path, void *arg)
{
	const struct stat *want = arg;
	struct stat st;
	return stat(path, &st) == 0 && st.st_dev == want->st_dev && st.st_ino == want->st_ino;
}

int slim_fix_depfile(const char *path, const char *derived, const char *full)
{
	char *text;
	size_t len;
	struct stat st;
	if (!path || stat(derived, &st) < 0 || vms_read_file(path, &text, &len) < 0)
		return 0;
	char *out = slim_dep_rewrite(text, len, full, same_inode, &st);
	int rc = out ? vms_write_file_atomic(path, out, strlen(out), 0644) : 0;
	free(out);
	free(text);
	return rc;
}
