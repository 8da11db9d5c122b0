/* Include confinement: a request's source may read only files under the configured header
 * directories, and a refusal must not depend on (so cannot reveal) anything outside them.
 *
 * The compiler is the one that opens files, so the scan has to see every directive the
 * compiler would see, under every reading the compilers we feed (clang, TCC) might take.
 * It therefore reads the source with the one preprocessor scanner (common/ppscan.h), as
 * translation phases 1-3 do in gnu modes (no trigraphs; backslash-newline splices; with
 * raw strings and without), refuses the spellings those compilers read
 * differently (a lone CR, a backslash separated from its newline by blanks, NUL bytes),
 * and errs towards seeing too many directives rather than too few:
 *  - a `#` (or the digraph `%:`) that is the first token of a line is a directive, where a
 *    block comment that contains a newline counts as one (so `/<star>...\n<star>/ #include`
 *    is seen), and a line inside a block comment that starts with `#` is looked at too;
 *  - `#include`, `#include_next`, `#import` and `#embed` must name a literal path; a macro
 *    there (`#include HEADER`) is refused, since what it expands to is the compiler's
 *    business, not ours;
 *  - a literal path must be relative without `..` and must resolve, through symlinks, to a
 *    regular file under one of the directories; anything else gets the same answer
 *    ("not in the header directories"), whether or not such a file exists;
 *  - `#pragma ... dependency` and literal `__has_include`/`_Pragma` forms are checked the
 *    same way (they reveal existence only, but cost nothing to check), the latter
 *    anywhere in the text, comments and literals included;
 *  - blanks are clang's, Unicode ones included (U+00A0 before '#' makes a directive for
 *    clang compiling), and also zero-width ones and a BOM after the start (none does);
 *  - what macros could make — inline asm that reads files (.incbin, .include), macro-made
 *    `__has_include`/`_Pragma`, pastes that could spell those — is confine_made.c's.
 * The headers reached this way are trusted (the operator chose them); they are scanned
 * too, but only to learn the include closure whose contents go into the cache key.
 * What goes into the key is always a hash of a header's contents, never a time stamp;
 * only re-reading is saved (see memo_get), so a request pays a few stat calls. */
#include "serve/internal.h"

#include "common/ppscan.h"
#include "serve/confine_made.h"
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

struct memo {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	struct timespec hashed_at; /* CLOCK_REALTIME when its contents were read */
	struct vms_hash128 hash;
	char **deps; /* resolved realpaths of what it includes */
	size_t ndeps;
	struct memo *next;
};

struct confine {
	char **dirs;	/* realpaths, each ending without '/' */
	size_t ndirs;
	char **sys;	/* compiler built-in header dirs, searched after dirs */
	size_t nsys;
	char *vmlinux;	/* what "vmlinux.h" opens for every backend (--header), or NULL */
	struct memo *memo;
};

static void add_dir(char ***v, size_t *n, const char *d)
{
	char *r = vms_realpath(d);
	if (!r)
		return;
	*v = vms_xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = r;
}

struct confine *confine_new(const char *const *dirs, size_t n, const char *const *sys,
			    size_t nsys, const char *vmlinux)
{
	struct confine *c = vms_xcalloc(1, sizeof(*c));
	c->vmlinux = vmlinux ? vms_realpath(vmlinux) : NULL;
	for (size_t i = 0; i < n; i++)
		add_dir(&c->dirs, &c->ndirs, dirs[i]);
	for (size_t i = 0; i < nsys; i++)
		add_dir(&c->sys, &c->nsys, sys[i]);
	return c;
}

void confine_free(struct confine *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i]);
	for (size_t i = 0; i < c->nsys; i++)
		free(c->sys[i]);
	free(c->dirs);
	free(c->sys);
	free(c->vmlinux);
	for (struct memo *m = c->memo, *next; m; m = next) {
		next = m->next;
		for (size_t i = 0; i < m->ndeps; i++)
			free(m->deps[i]);
		free(m->deps);
		free(m->path);
		free(m);
	}
	free(c);
}

/* ---- resolution --------------------------------------------------------------- */

static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return 1;
	return !strncmp(path, dir, n) && path[n] == '/';
}

static int allowed_path(const struct confine *c, const char *real)
{
	for (size_t i = 0; i < c->ndirs; i++)
		if (under(real, c->dirs[i]))
			return 1;
	for (size_t i = 0; i < c->nsys; i++)
		if (under(real, c->sys[i]))
			return 1;
	return 0;
}

/* A name we are willing to look up: relative, no "..", no empty. */
static int sane_name(const char *name)
{
	if (!*name || name[0] == '/')
		return 0;
	for (const char *p = name; *p;) {
		const char *s = strchr(p, '/');
		size_t len = s ? (size_t)(s - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return 0;
		if (!s)
			break;
		p = s + 1;
	}
	return 1;
}

/* Looking name up in one directory the way the compiler would, without letting the answer
 * depend on anything outside the allowed directories. The compiler takes the first
 * directory where dir/name opens, so a symlink there that leads outside must not be
 * skipped in favour of a later directory's file (clang would read the outside one), and
 * whether its target exists must not matter either: any component under dir that is a
 * symlink leading outside (or nowhere) blocks the lookup, whatever is at its end. A name
 * with no entry at all in dir (a plain ENOENT inside allowed territory) moves on. */
enum lookup { LOOK_FOUND, LOOK_ABSENT, LOOK_BLOCKED };

static enum lookup try_in(const struct confine *c, const char *dir, const char *name,
			  char **real_out)
{
	*real_out = NULL;
	char *cand = vms_xasprintf("%s/%s", dir, name);
	enum lookup res = LOOK_BLOCKED;
	size_t dlen = strlen(dir);
	/* each prefix dir/c1/.../ck, the last one being the whole name */
	for (char *p = cand + dlen + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char keep = *p;
		*p = 0;
		struct stat lst;
		int e = lstat(cand, &lst) < 0 ? errno : 0;
		if (e == ENOENT || e == ENOTDIR) {
			*p = keep;
			res = LOOK_ABSENT;
			goto out;
		}
		if (e) {
			*p = keep;
			goto out; /* unreadable: blocked, not skipped */
		}
		if (S_ISLNK(lst.st_mode)) {
			char *r = vms_realpath(cand);
			int ok = r && allowed_path(c, r);
			free(r);
			if (!ok) {
				*p = keep;
				goto out;
			}
		}
		*p = keep;
		if (!keep)
			break;
	}
	struct stat st;
	if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
		char *real = vms_realpath(cand);
		if (real && allowed_path(c, real)) {
			*real_out = real;
			res = LOOK_FOUND;
		} else {
			free(real);
		}
	} else if (stat(cand, &st) == 0 && S_ISDIR(st.st_mode)) {
		res = LOOK_ABSENT; /* a directory is no header: the compiler looks on */
	}
out:
	free(cand);
	return res;
}

/* Returns the realpath of the allowed regular file name resolves to, or NULL (not found,
 * or blocked by what the first directory holding it has there). */
static char *resolve(const struct confine *c, const char *name, const char *from_dir)
{
	if (!sane_name(name))
		return NULL;
	if (c->vmlinux && !strcmp(name, "vmlinux.h"))
		return vms_xstrdup(c->vmlinux);
	char *r = NULL;
	enum lookup l = LOOK_ABSENT;
	if (from_dir)
		l = try_in(c, from_dir, name, &r);
	for (size_t i = 0; l == LOOK_ABSENT && i < c->ndirs; i++)
		l = try_in(c, c->dirs[i], name, &r);
	for (size_t i = 0; l == LOOK_ABSENT && i < c->nsys; i++)
		l = try_in(c, c->sys[i], name, &r);
	return r;
}

/* ---- what a source names: its directives (common/ppscan) and the query forms ------- *
 *
 * The directives come from the one preprocessor scanner, opened with VMS_PP_STRICT (the
 * three refusals) and run with every caution it has: the lines inside block comments
 * (VMS_PP_COMMENT_LINES), a '#' after a block comment that held a newline read as a line
 * start (VMS_PP_COMMENT_BOL, which clang does not do), and two passes, with and without
 * raw strings (clang 19 in gnu modes has them, clang 14 and TCC do not), where a directive
 * either pass finds is checked. The query forms (`__has_include(...)`, `_Pragma("...")`)
 * only reveal existence, so they are looked for in the whole text, comments and literals
 * included, wherever an identifier could start: more than any reading of the source sees. */

struct names {
	const struct vms_pp_src *s;
	/* what the source asks for; line < 0: a __has_include query, where a miss is an
	 * answer and not a refusal */
	void (*on_include)(struct names *n, const char *kind, const char *name, int quoted,
			   int line);
	void (*on_refuse)(struct names *n, int line, const char *fmt, const char *arg);
	void *ctx;
	/* the directives of the first pass, (hash, end, in_comment): the second checks the
	 * rest */
	size_t *seen;
	size_t nseen, cap;
	int second;
	struct made *made; /* an untrusted source: what its macros could make */
};

static int is_hspace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\f' || ch == '\v';
}

/* A blank as clang reads one (U+00A0 and the other Unicode blanks included): its length. */
static size_t blank_len(const char *p, size_t left)
{
	return !left ? 0 : is_hspace(*p) ? 1 : vms_pp_unicode_blank(p, left);
}

static int is_ident(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$';
}

static int word_at(const char *t, size_t n, size_t i, const char *w)
{
	size_t k = strlen(w);
	return i + k <= n && !strncmp(t + i, w, k) && (i == 0 || !is_ident(t[i - 1])) &&
	       (i + k == n || !is_ident(t[i + k]));
}

/* Pragmas that name files: GCC/clang `dependency`, MS `include_alias`, clang modules. */
static int check_pragma_text(struct names *nm, const char *t, size_t n, int line)
{
	static const char *const bad[] = { "dependency", "include_alias", "module", "embed",
					   "include", NULL };
	for (size_t i = 0; i < n; i++)
		for (int k = 0; bad[k]; k++)
			if (word_at(t, n, i, bad[k])) {
				nm->on_refuse(nm, line, "#pragma %s is not allowed", bad[k]);
				return 1;
			}
	return 0;
}

/* After `#include` and friends, the first token of the rest: a literal "path" or <path>,
 * read up to the first closing character as written (no escapes), or a refusal. */
static void include_operand(struct names *nm, const struct vms_pp_dir *d, const char *kind)
{
	char open = d->text_len ? d->text[0] : '\n';
	if (open != '"' && open != '<') {
		nm->on_refuse(nm, d->line, "#%s must name a file literally (\"file\" or <file>), "
					   "not through a macro",
			      kind);
		return;
	}
	char close = open == '"' ? '"' : '>';
	size_t e = 1;
	while (e < d->text_len && d->text[e] != close)
		e++;
	if (e >= d->text_len) {
		nm->on_refuse(nm, d->line, "#%s: unterminated file name", kind);
		return;
	}
	if (open == '"' && d->text[e - 1] == '\\') {
		/* "a\" b": the file name is `a\` read as written, `a\" b` read as a string */
		nm->on_refuse(nm, d->line, "#%s: a backslash before the closing quote", kind);
		return;
	}
	char *name = vms_xstrndup(d->text + 1, e - 1);
	nm->on_include(nm, kind, name, open == '"', d->line);
	free(name);
}

static int cmp_pair(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* 1 when the first pass already read this directive the same way. */
static int seen_before(struct names *nm, const struct vms_pp_dir *d)
{
	size_t key[2] = { d->hash, 2 * d->end + (d->in_comment != 0) };
	if (nm->second)
		return nm->nseen &&
		       bsearch(key, nm->seen, nm->nseen, 2 * sizeof(size_t), cmp_pair) != NULL;
	if (nm->nseen == nm->cap) {
		nm->cap = nm->cap ? 2 * nm->cap : 16;
		nm->seen = vms_xrealloc(nm->seen, 2 * nm->cap * sizeof(size_t));
	}
	memcpy(nm->seen + 2 * nm->nseen++, key, sizeof(key));
	return 0;
}

/* Inside a comment, `#define #include ...` (or #if, #elif; one character, then blanks,
 * then '#'): confinement has always read a second directive there. Nothing compiles it. */
static int nested_directive(const char *name, const struct vms_pp_dir *d)
{
	if (strcmp(name, "define") && strcmp(name, "if") && strcmp(name, "elif"))
		return 0;
	size_t i = 1;
	while (i < d->raw_len && blank_len(d->raw + i, d->raw_len - i))
		i += blank_len(d->raw + i, d->raw_len - i);
	return i < d->raw_len && (d->raw[i] == '#' ||
				  (d->raw[i] == '%' && i + 1 < d->raw_len && d->raw[i + 1] == ':'));
}

/* #error, #warning, #ident: text that is shown, never expanded */
static int message(const struct vms_pp_dir *d)
{
	return (d->name_len == 5 && (!memcmp(d->name, "error", 5) || !memcmp(d->name, "ident", 5))) ||
	       (d->name_len == 7 && !memcmp(d->name, "warning", 7));
}

static int on_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	struct names *nm = ctx;
	(void)s;
	if (seen_before(nm, d))
		return 0;
	int odd = d->raw_len && (d->raw[0] == '\\' || ((unsigned char)d->raw[0] >= 0x80 &&
						       !blank_len(d->raw, d->raw_len)));
	for (size_t k = 0; k < d->name_len; k++)
		odd |= (unsigned char)d->name[k] >= 0x80;
	if (odd) {
		/* `#\u0069nclude`, `#incl<UTF-8>ude`: nothing honest needs these */
		nm->on_refuse(nm, d->line, "unrecognized directive spelling%s", "");
		return 0;
	}
	char name[32] = "";
	if (d->name_len < sizeof(name))
		memcpy(name, d->name, d->name_len), name[d->name_len] = 0;
	if (d->in_comment && nested_directive(name, d)) {
		nm->on_refuse(nm, d->line, "unrecognized directive spelling%s", "");
		return 0;
	}
	int inc = !strcmp(name, "include") || !strcmp(name, "include_next") ||
		  !strcmp(name, "import") || !strcmp(name, "embed");
	if (nm->made && !nm->second && !d->in_comment && !inc && !message(d))
		made_text(nm->made, d->text, d->text_len, d->text_off, !strcmp(name, "define"));
	if (inc)
		include_operand(nm, d, name);
	else if (!strcmp(name, "pragma") && !check_pragma_text(nm, d->raw, d->raw_len, d->line))
		check_pragma_text(nm, d->text, d->text_len, d->line);
	return 0;
}

/* Blanks and block comments (which may span lines) from i. */
static size_t skip_space(const struct vms_pp_src *s, size_t i)
{
	while (i < s->n) {
		if (blank_len(s->t + i, s->n - i)) {
			i += blank_len(s->t + i, s->n - i);
		} else if (s->t[i] == '/' && i + 1 < s->n && s->t[i + 1] == '*') {
			const char *e = strstr(s->t + i + 2, "*/");
			i = e ? (size_t)(e - s->t) + 2 : s->n;
		} else {
			break;
		}
	}
	return i;
}

/* `__has_include("x")` (and _next, __has_embed) or `_Pragma("...")` at i. */
static void query_form(struct names *nm, size_t i, size_t len, int line)
{
	const struct vms_pp_src *s = nm->s;
	const char *t = s->t;
	int prag = len == 7;
	i = skip_space(s, i + len);
	if (i >= s->n || t[i] != '(')
		return; /* a macro taking it apart: it can only test existence */
	i = skip_space(s, i + 1);
	char open = i < s->n ? t[i] : 0;
	if (!prag && (open == '"' || open == '<')) {
		char close = open == '"' ? '"' : '>';
		size_t b = ++i;
		while (i < s->n && t[i] != close && t[i] != '\n')
			i++;
		char *name = vms_xstrndup(t + b, i - b);
		nm->on_include(nm, "__has_include", name, open == '"', -line);
		free(name);
	} else if (prag && open == '"') {
		size_t b = ++i;
		while (i < s->n && t[i] != '"' && t[i] != '\n')
			i += t[i] == '\\' && i + 1 < s->n ? 2 : 1;
		check_pragma_text(nm, t + b, (i < s->n ? i : s->n) - b, line);
	}
}

static void query_forms(struct names *nm)
{
	static const char *const forms[] = { "__has_include", "__has_include_next",
					     "__has_embed", "_Pragma", NULL };
	const struct vms_pp_src *s = nm->s;
	for (const char *p = s->t; (p = memchr(p, '_', s->n - (size_t)(p - s->t))); p++) {
		size_t i = (size_t)(p - s->t);
		if (i && is_ident(s->t[i - 1]))
			continue;
		for (int k = 0; forms[k]; k++)
			if (word_at(s->t, s->n, i, forms[k])) {
				int line;
				vms_pp_locate(s, i, &line, NULL);
				query_form(nm, i, strlen(forms[k]), line);
			}
	}
}

static int on_made_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *d)
{
	struct names *nm = ctx;
	(void)s;
	if (!(d->name_len == 7 && !memcmp(d->name, "include", 7)) && !message(d))
		made_text(nm->made, d->text, d->text_len, d->text_off,
			  d->name_len == 6 && !memcmp(d->name, "define", 6));
	return 0;
}

static int on_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	struct names *nm = ctx;
	(void)s;
	if (nm->made && !nm->second)
		made_text(nm->made, c->text, c->text_len, c->text_off, 0);
	return 0;
}

static void made_refuse(void *ctx, int line, const char *fmt, const char *arg)
{
	struct names *nm = ctx;
	nm->on_refuse(nm, line, fmt, arg);
}

static void scan_names(struct names *nm)
{
	const unsigned flags = VMS_PP_COMMENT_LINES | VMS_PP_COMMENT_BOL | VMS_PP_WIDE_BLANKS;
	struct vms_pp_ops ops = { .directive = on_directive, .code = on_code, .ctx = nm };
	vms_pp_scan(nm->s, flags, &ops);
	if (nm->made)
		made_finish(nm->made);
	if (nm->nseen)
		qsort(nm->seen, nm->nseen, 2 * sizeof(size_t), cmp_pair);
	nm->second = 1;
	vms_pp_scan(nm->s, flags | VMS_PP_RAW_STRINGS, &ops);
	query_forms(nm);
	free(nm->seen);
}

/* ---- the request's source ------------------------------------------------------ */

struct req_ctx {
	struct confine *c;
	const char *file;
	struct vms_diags *d;
	char **found;
	size_t nfound;
	int refused;
	int lookups;
};

#define MAX_LOOKUPS 1024

static void req_refuse(struct names *n, int line, const char *fmt, const char *arg)
{
	struct req_ctx *r = n->ctx;
	r->refused = 1;
	char *msg = vms_xasprintf(fmt, arg);
	vms_diag_add(r->d, VMS_ERROR, r->file, line, 0, "refused: %s", msg);
	free(msg);
}

static void req_include(struct names *n, const char *kind, const char *name, int quoted,
			int line)
{
	struct req_ctx *r = n->ctx;
	int query = line < 0; /* __has_include: a miss is an answer, not a refusal */
	if (query)
		line = -line;
	/* each lookup costs a few system calls in the daemon's loop: bound them */
	if (++r->lookups > MAX_LOOKUPS) {
		if (r->lookups == MAX_LOOKUPS + 1) {
			r->refused = 1;
			vms_diag_add(r->d, VMS_ERROR, r->file, line, 0,
				     "refused: more than %d files named by directives", MAX_LOOKUPS);
		}
		return;
	}
	char *real = resolve(r->c, name, NULL);
	if (real) {
		r->found = vms_xrealloc(r->found, (r->nfound + 1) * sizeof(*r->found));
		r->found[r->nfound++] = real;
		return;
	}
	if (query && sane_name(name))
		return;
	r->refused = 1;
	/* One message for "outside", "missing" and "not a file" alike: the answer must not
	 * tell what exists outside the header directories. */
	vms_diag_add(r->d, VMS_ERROR, r->file, line, 0,
		     "refused: %s %c%s%c is not in the header directories", kind,
		     quoted ? '"' : '<', name, quoted ? '"' : '>');
}

/* ---- the trusted headers' closure, for the cache key -------------------------- */

struct dep_ctx {
	struct confine *c;
	const char *dir;
	struct memo *m;
};

static void dep_include(struct names *n, const char *kind, const char *name, int quoted,
			int line)
{
	struct dep_ctx *dc = n->ctx;
	(void)kind, (void)line;
	char *real = resolve(dc->c, name, quoted ? dc->dir : NULL);
	if (!real)
		return;
	for (size_t i = 0; i < dc->m->ndeps; i++)
		if (!strcmp(dc->m->deps[i], real)) {
			free(real);
			return;
		}
	dc->m->deps = vms_xrealloc(dc->m->deps, (dc->m->ndeps + 1) * sizeof(char *));
	dc->m->deps[dc->m->ndeps++] = real;
}

static void dep_refuse(struct names *n, int line, const char *fmt, const char *arg)
{
	(void)n, (void)line, (void)fmt, (void)arg;
}

/* a - b in nanoseconds, saturated */
static long long ts_diff(struct timespec a, struct timespec b)
{
	long long s = (long long)a.tv_sec - (long long)b.tv_sec;
	if (s > 1000000 || s < -1000000)
		return s * 1000000000LL;
	return s * 1000000000LL + (a.tv_nsec - b.tv_nsec);
}

/* A header's content hash and include list, re-read only when the file may have changed
 * since it was hashed. A rewrite at the same size with its mtime put back (utimensat) keeps
 * dev, ino, size and mtime, but not ctime: the kernel sets ctime on every write and every
 * utimensat, and userspace cannot set it. ctime has the file system's timestamp
 * granularity (a jiffy or coarser on some), so a write in the same tick as our read could
 * leave all five unchanged: like ccache's "too new" rule, a file whose ctime was less than
 * 2 s before the moment we hashed it is hashed again next time, until that is no longer
 * so. Re-hashing vmlinux.h (2.8 MB) costs ~0.5 ms, which a fast check would feel on
 * every request; this way it is paid only in the 2 s after a change. */
static struct memo *memo_get(struct confine *c, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return NULL;
	struct memo *m;
	for (m = c->memo; m; m = m->next)
		if (!strcmp(m->path, path))
			break;
	if (m && m->dev == st.st_dev && m->ino == st.st_ino && m->size == st.st_size &&
	    !ts_diff(m->mtime, st.st_mtim) && !ts_diff(m->ctime, st.st_ctim) &&
	    ts_diff(m->hashed_at, st.st_ctim) >= 2000000000LL)
		return m;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	char *data;
	size_t len;
	if (vms_read_file(path, &data, &len) < 0)
		return NULL;
	if (!m) {
		m = vms_xcalloc(1, sizeof(*m));
		m->path = vms_xstrdup(path);
		m->next = c->memo;
		c->memo = m;
	}
	for (size_t i = 0; i < m->ndeps; i++)
		free(m->deps[i]);
	free(m->deps);
	m->deps = NULL;
	m->ndeps = 0;
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->size = st.st_size;
	m->mtime = st.st_mtim;
	m->ctime = st.st_ctim;
	m->hashed_at = now;
	m->hash = vms_hash128(data, len);
	struct vms_pp_src s;
	struct vms_diags ignore = { 0 };
	if (vms_pp_open(&s, data, len, VMS_PP_STRICT, path, &ignore) == 0) {
		char *dir = vms_dirname(path);
		struct dep_ctx dc = { c, dir, m };
		struct names nm = { .s = &s, .on_include = dep_include, .on_refuse = dep_refuse,
				    .ctx = &dc };
		scan_names(&nm);
		free(dir);
	} else {
		/* a header with odd line endings: its own contents still key the cache */
	}
	vms_pp_close(&s);
	vms_diags_free(&ignore);
	free(data);
	return m;
}

static void hash_closure(struct confine *c, const char *path, struct vms_hasher *h,
			 char ***seen, size_t *nseen, int depth)
{
	for (size_t i = 0; i < *nseen; i++)
		if (!strcmp((*seen)[i], path))
			return;
	*seen = vms_xrealloc(*seen, (*nseen + 1) * sizeof(**seen));
	(*seen)[(*nseen)++] = vms_xstrdup(path);
	struct memo *m = memo_get(c, path);
	vms_hasher_update_str(h, path);
	if (!m) {
		vms_hasher_update_str(h, "(unreadable)");
		return;
	}
	vms_hasher_update(h, &m->hash, sizeof(m->hash));
	if (depth > 64)
		return;
	/* m->deps may be rebuilt by a nested memo_get only for another path, never this one */
	for (size_t i = 0; i < m->ndeps; i++)
		hash_closure(c, m->deps[i], h, seen, nseen, depth + 1);
}

int confine_source(struct confine *c, const char *src, size_t len, const char *file,
		   struct vms_hasher *deps, char **norm_out, size_t *norm_len,
		   int *asm_suspect, struct vms_diags *d)
{
	struct vms_pp_src s;
	*norm_out = NULL;
	if (vms_pp_open(&s, src, len, VMS_PP_STRICT, file, d) < 0) {
		vms_pp_close(&s);
		return -EPERM;
	}
	struct req_ctx r = { .c = c, .file = file, .d = d };
	struct names nm = { .s = &s, .on_include = req_include, .on_refuse = req_refuse,
			    .ctx = &r };
	struct made made = { .s = &s, .refuse = made_refuse, .ctx = &nm };
	nm.made = &made;
	scan_names(&nm);
	/* Inline asm can come only from the keywords asm, __asm, __asm__ after
	 * preprocessing: the source names one (in code or in a macro body), pastes tokens
	 * (`__as ## m`), or has an identifier that is a piece of one (`a`, `s`, `m`,
	 * `_`...) that a header's pasting macro could join (libbpf's ___bpf_concat).
	 * Erring that way costs an IR check of the build only. */
	if (asm_suspect)
		*asm_suspect = made.asm_ident || made.pastes || made.pieces;
	made_free(&made);
	vms_pp_close(&s);
	if (!r.refused && deps) {
		char **seen = NULL;
		size_t nseen = 0;
		for (size_t i = 0; i < r.nfound; i++)
			hash_closure(c, r.found[i], deps, &seen, &nseen, 0);
		for (size_t i = 0; i < nseen; i++)
			free(seen[i]);
		free(seen);
	}
	for (size_t i = 0; i < r.nfound; i++)
		free(r.found[i]);
	free(r.found);
	if (r.refused)
		return -EPERM;
	/* what the compiler gets: the source with CRLF read as LF (a lone CR was refused) */
	char *norm = vms_xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (src[i] != '\r' || i + 1 >= len || src[i + 1] != '\n')
			norm[n++] = src[i];
	norm[n] = 0;
	*norm_len = n;
	*norm_out = norm;
	return 0;
}

/* What a source's macros could make, found without a daemon: the refusals' count and
 * whether inline asm could come out of it. */
static void ignore_refusal(void *ctx, int line, const char *fmt, const char *arg)
{
	(void)line, (void)fmt, (void)arg;
	++*(int *)ctx;
}

static void made_of(const char *src, size_t len, int *refusals, int *asm_suspect)
{
	struct vms_pp_src s;
	*refusals = 0;
	vms_pp_open(&s, src, len, 0, NULL, NULL);
	struct made m = { .s = &s, .refuse = ignore_refusal, .ctx = refusals };
	struct names nm = { .s = &s, .made = &m };
	struct vms_pp_ops ops = { .directive = on_made_directive, .code = on_code, .ctx = &nm };
	vms_pp_scan(&s, VMS_PP_WIDE_BLANKS, &ops);
	made_finish(&m);
	*asm_suspect = m.asm_ident || m.pastes || m.pieces;
	made_free(&m);
	vms_pp_close(&s);
}

/* ---- flags ---------------------------------------------------------------------- */

static int ident_ok(const char *s, size_t n)
{
	if (!n || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_ident(s[i]) || s[i] == '$')
			return 0;
	return 1;
}

static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* What a request may pass to the compiler. Clang turns -D into `#define` lines of its
 * predefines buffer, so a newline in a value would inject a directive: no control
 * characters anywhere. Flags that add search paths, include files, load plugins or pass
 * arguments through (-I, -include, -Wp,..., -Xclang, @file) are not on the list. */
int confine_flag_ok(const char *f)
{
	if (!printable(f))
		return 0;
	if (!strncmp(f, "-D", 2)) {
		const char *eq = strchr(f + 2, '=');
		if (!ident_ok(f + 2, eq ? (size_t)(eq - f - 2) : strlen(f + 2)))
			return 0;
		if (!eq)
			return 1;
		/* a value is a macro body the scan never sees in the source: none that could
		 * make asm, a query, a paste or a directive */
		char *def = vms_xasprintf("#define %s\n", f + 2);
		*strchr(def, '=') = ' ';
		int refusals, suspect;
		made_of(def, strlen(def), &refusals, &suspect);
		free(def);
		return !refusals && !suspect;
	}
	if (!strncmp(f, "-U", 2))
		return ident_ok(f + 2, strlen(f + 2));
	static const char *const exact[] = {
		"-O0", "-O1", "-O2", "-O3", "-Os", "-Oz", "-g", "-g0", "-w", "-Werror",
		"-mcpu=v1", "-mcpu=v2", "-mcpu=v3", "-mcpu=v4", "-std=gnu89", "-std=gnu99",
		"-std=gnu11", "-std=gnu17", "-mlittle-endian", "-mbig-endian", NULL };
	for (int i = 0; exact[i]; i++)
		if (!strcmp(f, exact[i]))
			return 1;
	if (!strncmp(f, "-W", 2) && f[2] && strncmp(f, "-Wl,", 4) && strncmp(f, "-Wa,", 4) &&
	    strncmp(f, "-Wp,", 4)) {
		for (const char *p = f + 2; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
			      *p == '=' || *p == '_'))
				return 0;
		return 1;
	}
	return 0;
}
