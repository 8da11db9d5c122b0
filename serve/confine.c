/* Include confinement: a request's source may read only files under the configured header
 * directories, and a refusal must not depend on (so cannot reveal) anything outside them.
 *
 * The compiler is the one that opens files, so the scan has to see every directive the
 * compiler would see, under every reading the compilers we feed (clang, TCC) might take.
 * It therefore works on the source exactly as translation phases 1-3 do in gnu modes
 * (no trigraphs; backslash-newline splices), refuses the spellings those compilers read
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
 *    same way (they reveal existence only, but cost nothing to check).
 * The headers reached this way are trusted (the operator chose them); they are scanned
 * too, but only to learn the include closure whose contents go into the cache key —
 * memoized per file by (device, inode, size, mtime), so a request pays a few stat calls. */
#include "serve/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct memo {
	char *path;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
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

/* Returns the realpath of the allowed regular file name resolves to, or NULL. */
static char *try_in(const struct confine *c, const char *dir, const char *name)
{
	char *cand = vms_xasprintf("%s/%s", dir, name);
	struct stat st;
	char *real = NULL;
	if (stat(cand, &st) == 0 && S_ISREG(st.st_mode)) {
		real = vms_realpath(cand);
		if (real && !allowed_path(c, real)) {
			free(real);
			real = NULL;
		}
	}
	free(cand);
	return real;
}

static char *resolve(const struct confine *c, const char *name, const char *from_dir)
{
	if (!sane_name(name))
		return NULL;
	if (c->vmlinux && !strcmp(name, "vmlinux.h"))
		return vms_xstrdup(c->vmlinux);
	char *r = NULL;
	if (from_dir)
		r = try_in(c, from_dir, name);
	for (size_t i = 0; !r && i < c->ndirs; i++)
		r = try_in(c, c->dirs[i], name);
	for (size_t i = 0; !r && i < c->nsys; i++)
		r = try_in(c, c->sys[i], name);
	return r;
}

/* ---- phases 1-2: splices, with a map back to physical lines ------------------- */

struct text {
	char *t;
	int *line; /* physical line of each byte of t */
	size_t n;
};

static void text_free(struct text *x)
{
	free(x->t);
	free(x->line);
}

/* 0, or -1 with a diagnostic for spellings the compilers disagree on. */
static int splice(const char *src, size_t len, const char *file, struct text *x,
		  struct vms_diags *d, struct vms_buf *norm)
{
	x->t = vms_xmalloc(len + 1);
	x->line = vms_xmalloc((len + 1) * sizeof(int));
	x->n = 0;
	int line = 1;
	for (size_t i = 0; i < len; i++) {
		char ch = src[i];
		if (ch == 0) {
			vms_diag_add(d, VMS_ERROR, file, line, 0,
				     "refused: the source contains a NUL byte");
			return -1;
		}
		if (ch == '\r') {
			if (i + 1 < len && src[i + 1] == '\n')
				continue; /* CRLF reads as LF everywhere; normalized away */
			vms_diag_add(d, VMS_ERROR, file, line, 0,
				     "refused: a carriage return without a line feed");
			return -1;
		}
		if (norm)
			vms_buf_append(norm, &ch, 1);
		if (ch == '\\') {
			size_t j = i + 1;
			while (j < len && (src[j] == ' ' || src[j] == '\t' || src[j] == '\f' ||
					   src[j] == '\v'))
				j++;
			size_t k = j;
			if (k < len && src[k] == '\r' && k + 1 < len && src[k + 1] == '\n')
				k++;
			if (k < len && src[k] == '\n') {
				if (j != i + 1) {
					vms_diag_add(d, VMS_ERROR, file, line, 0,
						     "refused: backslash and newline separated by "
						     "blanks (compilers disagree on whether that "
						     "continues the line)");
					return -1;
				}
				if (norm)
					vms_buf_append(norm, "\n", 1);
				line++;
				i = k;
				continue;
			}
		}
		x->t[x->n] = ch;
		x->line[x->n++] = line;
		if (ch == '\n')
			line++;
	}
	x->t[x->n] = 0;
	x->line[x->n] = line;
	return 0;
}

/* ---- phase 3 and the directives we care about ---------------------------------- */

struct scan {
	const struct text *x;
	size_t i;
	/* what a directive asks for */
	void (*on_include)(struct scan *s, const char *kind, const char *name, int quoted,
			   int line);
	void (*on_refuse)(struct scan *s, int line, const char *fmt, const char *arg);
	void *ctx;
};

static int is_hspace(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\f' || ch == '\v';
}

static int is_ident(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '$';
}

/* Skips a block comment starting at s->i ("/<star>"); returns 1 if it held a newline. */
static int skip_block_comment(struct scan *s)
{
	const struct text *x = s->x;
	int nl = 0;
	s->i += 2;
	while (s->i < x->n && !(x->t[s->i] == '*' && s->i + 1 < x->n && x->t[s->i + 1] == '/')) {
		nl |= x->t[s->i] == '\n';
		s->i++;
	}
	s->i = s->i < x->n ? s->i + 2 : x->n;
	return nl;
}

/* Blanks and block comments inside a directive (a comment may span lines there). */
static void skip_dir_space(struct scan *s)
{
	const struct text *x = s->x;
	while (s->i < x->n) {
		if (is_hspace(x->t[s->i]))
			s->i++;
		else if (x->t[s->i] == '/' && s->i + 1 < x->n && x->t[s->i + 1] == '*')
			skip_block_comment(s);
		else
			break;
	}
}

static void skip_to_eol(struct scan *s)
{
	while (s->i < s->x->n && s->x->t[s->i] != '\n')
		s->i++;
}

/* After `#include` and friends: a literal "path" or <path>, or a refusal. */
static void include_operand(struct scan *s, const char *kind, int line)
{
	const struct text *x = s->x;
	skip_dir_space(s);
	char open = s->i < x->n ? x->t[s->i] : '\n';
	if (open != '"' && open != '<') {
		s->on_refuse(s, line, "#%s must name a file literally (\"file\" or <file>), "
				      "not through a macro",
			     kind);
		skip_to_eol(s);
		return;
	}
	char close = open == '"' ? '"' : '>';
	size_t start = ++s->i;
	while (s->i < x->n && x->t[s->i] != close && x->t[s->i] != '\n')
		s->i++;
	if (s->i >= x->n || x->t[s->i] != close) {
		s->on_refuse(s, line, "#%s: unterminated file name", kind);
		skip_to_eol(s);
		return;
	}
	char *name = vms_xstrndup(x->t + start, s->i - start);
	s->i++;
	s->on_include(s, kind, name, open == '"', line);
	free(name);
	skip_to_eol(s);
}

static int word_at(const char *t, size_t n, size_t i, const char *w)
{
	size_t k = strlen(w);
	return i + k <= n && !strncmp(t + i, w, k) && (i == 0 || !is_ident(t[i - 1])) &&
	       (i + k == n || !is_ident(t[i + k]));
}

/* Pragmas that name files: GCC/clang `dependency`, MS `include_alias`, clang modules. */
static void check_pragma_text(struct scan *s, const char *t, size_t n, int line)
{
	static const char *const bad[] = { "dependency", "include_alias", "module", "embed",
					   "include", NULL };
	for (size_t i = 0; i < n; i++)
		for (int k = 0; bad[k]; k++)
			if (word_at(t, n, i, bad[k])) {
				s->on_refuse(s, line, "#pragma %s is not allowed", bad[k]);
				return;
			}
}

static void directive(struct scan *s)
{
	const struct text *x = s->x;
	int line = x->line[s->i];
	s->i += x->t[s->i] == '#' ? 1 : 2; /* '#' or "%:" */
	skip_dir_space(s);
	size_t start = s->i;
	while (s->i < x->n && is_ident(x->t[s->i]))
		s->i++;
	size_t len = s->i - start;
	char name[32] = "";
	if (len < sizeof(name))
		memcpy(name, x->t + start, len), name[len] = 0;
	if (s->i < x->n && (x->t[s->i] == '\\' || (unsigned char)x->t[s->i] >= 0x80)) {
		/* `#\u0069nclude`, `#incl<UTF-8>ude`: nothing honest needs these */
		s->on_refuse(s, line, "unrecognized directive spelling%s", "");
		skip_to_eol(s);
		return;
	}
	if (!strcmp(name, "include") || !strcmp(name, "include_next") ||
	    !strcmp(name, "import") || !strcmp(name, "embed")) {
		include_operand(s, name, line);
		return;
	}
	if (!strcmp(name, "pragma")) {
		size_t b = s->i;
		skip_to_eol(s);
		check_pragma_text(s, x->t + b, s->i - b, line);
		return;
	}
	if (!strcmp(name, "define") || !strcmp(name, "if") || !strcmp(name, "elif")) {
		/* may hold __has_include/_Pragma: the main loop looks at the rest */
		return;
	}
	skip_to_eol(s);
}

/* `__has_include("x")`, `_Pragma("...")` outside comments and strings. */
static void special_ident(struct scan *s, const char *id, size_t len, int line)
{
	const struct text *x = s->x;
	int has = (len == 13 && !strncmp(id, "__has_include", 13)) ||
		  (len == 18 && !strncmp(id, "__has_include_next", 18)) ||
		  (len == 11 && !strncmp(id, "__has_embed", 11));
	int prag = len == 7 && !strncmp(id, "_Pragma", 7);
	if (!has && !prag)
		return;
	size_t save = s->i;
	skip_dir_space(s);
	if (s->i >= x->n || x->t[s->i] != '(') {
		s->i = save; /* a macro taking it apart: it can only test existence */
		return;
	}
	s->i++;
	skip_dir_space(s);
	if (has) {
		char open = s->i < x->n ? x->t[s->i] : 0;
		if (open == '"' || open == '<') {
			char close = open == '"' ? '"' : '>';
			size_t b = ++s->i;
			while (s->i < x->n && x->t[s->i] != close && x->t[s->i] != '\n')
				s->i++;
			char *name = vms_xstrndup(x->t + b, s->i - b);
			if (s->i < x->n && x->t[s->i] == close)
				s->i++;
			s->on_include(s, "__has_include", name, open == '"', -line);
			free(name);
		}
		return;
	}
	if (s->i < x->n && x->t[s->i] == '"') {
		size_t b = ++s->i;
		while (s->i < x->n && x->t[s->i] != '"' && x->t[s->i] != '\n')
			s->i += x->t[s->i] == '\\' && s->i + 1 < x->n ? 2 : 1;
		check_pragma_text(s, x->t + b, (s->i < x->n ? s->i : x->n) - b, line);
		if (s->i < x->n && x->t[s->i] == '"')
			s->i++;
	}
}

static void skip_literal(struct scan *s)
{
	const struct text *x = s->x;
	char q = x->t[s->i++];
	while (s->i < x->n && x->t[s->i] != q && x->t[s->i] != '\n') {
		if (x->t[s->i] == '\\' && s->i + 1 < x->n && x->t[s->i + 1] != '\n')
			s->i++;
		s->i++;
	}
	if (s->i < x->n && x->t[s->i] == q)
		s->i++;
}

static int directive_start(const struct text *x, size_t i)
{
	return x->t[i] == '#' || (x->t[i] == '%' && i + 1 < x->n && x->t[i + 1] == ':');
}

static void scan_text(struct scan *s)
{
	const struct text *x = s->x;
	int bol = 1;
	s->i = 0;
	while (s->i < x->n) {
		char ch = x->t[s->i];
		if (ch == '\n') {
			bol = 1;
			s->i++;
			continue;
		}
		if (is_hspace(ch)) {
			s->i++;
			continue;
		}
		if (ch == '/' && s->i + 1 < x->n && x->t[s->i + 1] == '*') {
			/* Lines inside the comment that look like directives get looked at:
			 * if a compiler ends the comment elsewhere, they would be real. */
			size_t b = s->i;
			int nl = skip_block_comment(s);
			size_t e = s->i, save = s->i;
			int lbol = 0;
			for (size_t k = b + 2; k + 2 <= e; k++) {
				if (x->t[k] == '\n') {
					lbol = 1;
					continue;
				}
				if (is_hspace(x->t[k]))
					continue;
				if (lbol && directive_start(x, k)) {
					struct scan sub = *s;
					struct text part = { x->t, x->line, e - 2 };
					sub.x = &part;
					sub.i = k;
					directive(&sub);
					k = sub.i;
					continue;
				}
				lbol = 0;
			}
			s->i = save;
			bol |= nl;
			continue;
		}
		if (ch == '/' && s->i + 1 < x->n && x->t[s->i + 1] == '/') {
			skip_to_eol(s);
			continue;
		}
		if (bol && directive_start(x, s->i)) {
			bol = 0;
			directive(s);
			continue;
		}
		bol = 0;
		if (ch == '"' || ch == '\'') {
			skip_literal(s);
			continue;
		}
		if (is_ident(ch)) {
			size_t b = s->i;
			while (s->i < x->n && is_ident(x->t[s->i]))
				s->i++;
			special_ident(s, x->t + b, s->i - b, x->line[b]);
			continue;
		}
		s->i++;
	}
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

static void req_refuse(struct scan *s, int line, const char *fmt, const char *arg)
{
	struct req_ctx *r = s->ctx;
	r->refused = 1;
	char *msg = vms_xasprintf(fmt, arg);
	vms_diag_add(r->d, VMS_ERROR, r->file, line, 0, "refused: %s", msg);
	free(msg);
}

static void req_include(struct scan *s, const char *kind, const char *name, int quoted,
			int line)
{
	struct req_ctx *r = s->ctx;
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

static void dep_include(struct scan *s, const char *kind, const char *name, int quoted,
			int line)
{
	struct dep_ctx *dc = s->ctx;
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

static void dep_refuse(struct scan *s, int line, const char *fmt, const char *arg)
{
	(void)s, (void)line, (void)fmt, (void)arg;
}

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
	    m->mtime.tv_sec == st.st_mtim.tv_sec && m->mtime.tv_nsec == st.st_mtim.tv_nsec)
		return m;
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
	m->hash = vms_hash128(data, len);
	struct text x;
	struct vms_diags ignore = { 0 };
	if (splice(data, len, path, &x, &ignore, NULL) == 0) {
		char *dir = vms_dirname(path);
		struct dep_ctx dc = { c, dir, m };
		struct scan s = { .x = &x, .on_include = dep_include, .on_refuse = dep_refuse,
				  .ctx = &dc };
		scan_text(&s);
		free(dir);
	} else {
		/* a header with odd line endings: its own contents still key the cache */
	}
	text_free(&x);
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
		   struct vms_diags *d)
{
	struct text x;
	struct vms_buf norm = { 0 };
	*norm_out = NULL;
	if (splice(src, len, file, &x, d, &norm) < 0) {
		text_free(&x);
		vms_buf_free(&norm);
		return -EPERM;
	}
	struct req_ctx r = { .c = c, .file = file, .d = d };
	struct scan s = { .x = &x, .on_include = req_include, .on_refuse = req_refuse, .ctx = &r };
	scan_text(&s);
	text_free(&x);
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
	if (r.refused) {
		vms_buf_free(&norm);
		return -EPERM;
	}
	*norm_len = norm.len;
	*norm_out = vms_buf_steal(&norm);
	return 0;
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
		return ident_ok(f + 2, eq ? (size_t)(eq - f - 2) : strlen(f + 2));
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
