/* One header, many programs: the header parsed once, each program by a reparse.
 *
 * vms_extract parses program and header together (~300 ms with the full vmlinux.h), so
 * its every run pays for the header. Here the header is parsed once for its graph, and a
 * second unit is made whose main file is a fixed stub on disk:
 *
 *     #include "/abs/vmlinux.h"           <- the preamble: precompiled once by libclang
 *     typedef int __vmslim_preamble_end;  <- ends the preamble (first token that is code)
 *     #include "/abs/prog.bpf.c"          <- per program: the only part that is re-read
 *
 * clang_reparseTranslationUnit with that stub (and the program's bytes) as unsaved files
 * reuses the precompiled preamble while its bytes are unchanged, so a program costs a
 * few milliseconds. The program's own `#include "vmlinux.h"` is then skipped by the
 * header's include guard, which is why the header must have one, and why nothing ahead of
 * that include may change how the header reads (preinclude.c). Its other includes resolve
 * as before: the program is read from its own directory; an -idirafter directory holding
 * a vmlinux.h symlink catches an include that would otherwise find nothing.
 *
 * Two details are measured facts of libclang 14, not style: the stub must exist on disk
 * (with an unsaved main file only, every reparse parsed the header again: 230 ms), and
 * the unit's index is made with excludeDeclarationsFromPCH, so a walk of the unit's top
 * level visits the program's ~270 declarations, not the header's 17,000 (70-100 ms).
 * The first reparse still walks them all; the context pays for it once, up front.
 *
 * The uses are collected by the same code as vms_extract's (uses.c) against the same
 * graph, so the slim header is byte for byte the one vms_extract emits; a program that
 * the warm unit cannot read exactly as clang would is handed back to the cold path. */
#include <errno.h>
#include <malloc.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/bpf_cmdline.h"
#include "common/ppscan.h"
#include "extract/internal.h"

struct vms_extract_ctx {
	char *header;		/* as given (the banner names its basename) */
	char *header_real;	/* symlinks resolved: what the stub includes */
	char *text;
	size_t len;
	struct vms_hash128 hash;
	struct graph g;
	struct vms_argv user;	/* the clang arguments given */
	/* warm only */
	char *dir, *stub;
	struct vms_argv args;	/* the unit's command line */
	CXIndex idx;
	CXTranslationUnit tu;
};

static const char stub_head_fmt[] = "#include \"%s\"\ntypedef int __vmslim_preamble_end;\n";

struct vms_hash128 vms_extract_ctx_header_hash(const struct vms_extract_ctx *c)
{
	return c->hash;
}

const char *vms_extract_ctx_header(const struct vms_extract_ctx *c)
{
	return c->header;
}

const struct vms_argv *vms_extract_ctx_args(const struct vms_extract_ctx *c)
{
	return &c->user;
}

void vms_extract_ctx_free(struct vms_extract_ctx *c)
{
	if (!c)
		return;
	if (c->tu)
		clang_disposeTranslationUnit(c->tu);
	if (c->idx)
		clang_disposeIndex(c->idx);
	if (c->dir) {
		vms_remove_tree(c->dir);
		free(c->dir);
	}
	graph_free(&c->g);
	vms_argv_free(&c->user);
	vms_argv_free(&c->args);
	free(c->stub);
	free(c->header), free(c->header_real), free(c->text);
	free(c);
}

void vms_extract_uses_free(struct vms_extract_uses *u)
{
	free(u->need);
	memset(u, 0, sizeof(*u));
}

static struct vms_extract_ctx *ctx_read(const char *header, const char *const *clang_args,
					struct vms_diags *d)
{
	struct vms_extract_ctx *c = vms_xcalloc(1, sizeof(*c));
	c->header = vms_xstrdup(header);
	for (size_t i = 0; clang_args && clang_args[i]; i++)
		vms_argv_push(&c->user, clang_args[i]);
	int r = vms_read_file(header, &c->text, &c->len);
	c->header_real = vms_realpath(header);
	if (r || !c->header_real) {
		vms_diag_add(d, VMS_ERROR, header, 0, 0, "cannot read header: %s",
			     strerror(r ? -r : errno));
		vms_extract_ctx_free(c);
		return NULL;
	}
	c->hash = vms_hash128(c->text, c->len);
	return c;
}

static int has_errors(CXTranslationUnit tu)
{
	unsigned n = clang_getNumDiagnostics(tu);
	int bad = 0;
	for (unsigned i = 0; i < n && !bad; i++) {
		CXDiagnostic g = clang_getDiagnostic(tu, i);
		bad = clang_getDiagnosticSeverity(g) >= CXDiagnostic_Error;
		clang_disposeDiagnostic(g);
	}
	return bad;
}

/* The first two directives are #ifndef X and #define X: the guard that makes the
 * program's own include of the header a no-op after the stub's. */
struct guard_scan {
	int n;
	char first[256];
	int ok;
};

static int on_guard_directive(void *ctx, const struct vms_pp_src *s, const struct vms_pp_dir *dir)
{
	(void)s;
	struct guard_scan *g = ctx;
	size_t l = 0;
	while (l < dir->text_len && l < sizeof(g->first) - 1 &&
	       (dir->text[l] == '_' || (dir->text[l] >= '0' && dir->text[l] <= '9') ||
		((dir->text[l] | 32) >= 'a' && (dir->text[l] | 32) <= 'z')))
		l++;
	if (g->n == 0) {
		if (dir->name_len != 6 || memcmp(dir->name, "ifndef", 6) || !l)
			return 1;
		memcpy(g->first, dir->text, l);
		g->first[l] = 0;
	} else {
		g->ok = dir->name_len == 6 && !memcmp(dir->name, "define", 6) &&
			l == strlen(g->first) && !memcmp(dir->text, g->first, l);
		return 1;
	}
	g->n++;
	return 0;
}

static int on_guard_code(void *ctx, const struct vms_pp_src *s, const struct vms_pp_code *c)
{
	(void)ctx, (void)s, (void)c;
	return 1;
}

static int has_include_guard(const char *text, size_t len)
{
	struct guard_scan g = { 0 };
	struct vms_pp_src s;
	struct vms_diags d = { 0 };
	if (vms_pp_open(&s, text, len, 0, NULL, &d) == 0) {
		struct vms_pp_ops ops = { .directive = on_guard_directive, .code = on_guard_code,
					  .ctx = &g };
		vms_pp_scan(&s, 0, &ops);
	}
	vms_pp_close(&s);
	vms_diags_free(&d);
	return g.ok;
}

static int graph_of_header(struct vms_extract_ctx *c, struct vms_diags *d)
{
	/* the header alone, with the user's arguments (a -D may change what it declares) */
	CXIndex idx = clang_createIndex(0, 0);
	struct vms_argv args = { 0 };
	struct vms_bpf_cmd cmd = parse_libclang_cmd();
	cmd.user[0] = (struct vms_args){ (const char *const *)c->user.v, c->user.n };
	vms_bpf_cmdline(&cmd, &args);
	struct parsed p = { 0 };
	int rc = -1;
	enum CXErrorCode e = clang_parseTranslationUnit2(idx, c->header_real,
							 (const char *const *)args.v, (int)args.n,
							 NULL, 0, CXTranslationUnit_SkipFunctionBodies,
							 &p.tu);
	if (e != CXError_Success || !p.tu || has_errors(p.tu)) {
		vms_diag_add(d, VMS_ERROR, c->header, 0, 0,
			     "libclang could not parse the header alone (error %d)", (int)e);
	} else {
		p.header = clang_getFile(p.tu, c->header_real);
		p.shown_path = c->header;
		if (p.header && graph_build(&c->g, &p, c->text, c->len, d) == 0)
			rc = 0;
	}
	if (p.tu)
		clang_disposeTranslationUnit(p.tu);
	clang_disposeIndex(idx);
	vms_argv_free(&args);
	return rc;
}

static int write_stub(const struct vms_extract_ctx *c, const char *tail, struct CXUnsavedFile *uf,
		      char **text)
{
	struct vms_buf b = { 0 };
	vms_buf_printf(&b, stub_head_fmt, c->header_real);
	if (tail)
		vms_buf_puts(&b, tail);
	*text = vms_buf_steal(&b);
	*uf = (struct CXUnsavedFile){ .Filename = c->stub, .Contents = *text,
				      .Length = (unsigned long)strlen(*text) };
	return 0;
}

static int make_unit(struct vms_extract_ctx *c, struct vms_diags *d)
{
	char *text;
	struct CXUnsavedFile uf;
	write_stub(c, NULL, &uf, &text);
	unsigned opts = CXTranslationUnit_PrecompiledPreamble |
			CXTranslationUnit_CreatePreambleOnFirstParse;
	enum CXErrorCode e = clang_parseTranslationUnit2(c->idx, c->stub,
							 (const char *const *)c->args.v,
							 (int)c->args.n, &uf, 1, opts, &c->tu);
	int rc = 0;
	if (e != CXError_Success || !c->tu || has_errors(c->tu)) {
		vms_diag_add(d, VMS_ERROR, c->header, 0, 0,
			     "libclang could not precompile the header (error %d)", (int)e);
		rc = -1;
	} else if (clang_reparseTranslationUnit(c->tu, 1, &uf, clang_defaultReparseOptions(c->tu))) {
		vms_diag_add(d, VMS_ERROR, c->header, 0, 0, "libclang could not reparse the header");
		rc = -1;
	}
	if (rc && c->tu) {
		clang_disposeTranslationUnit(c->tu);
		c->tu = NULL;
	}
	free(text);
	/* the preamble's whole AST is freed by now: give its pages back */
	malloc_trim(0);
	return rc;
}

int vms_extract_ctx_new(const char *header, const char *const *clang_args,
			struct vms_extract_ctx **out, struct vms_diags *d)
{
	*out = NULL;
	if (vms_libclang_load(d))
		return -1;
	for (size_t i = 0; clang_args && clang_args[i]; i++)
		if (!strncmp(clang_args[i], "-include", 8) || !strncmp(clang_args[i], "-imacros", 8)) {
			vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
				     "%s: a warm context cannot serve -include or -imacros",
				     clang_args[i]);
			return -1;
		}
	struct vms_extract_ctx *c = ctx_read(header, clang_args, d);
	if (!c)
		return -1;
	if (strpbrk(c->header_real, "\"\\\n") || !has_include_guard(c->text, c->len)) {
		vms_diag_add(d, VMS_ERROR, header, 0, 0,
			     "the header has no include guard (#ifndef X / #define X): a warm "
			     "context needs one");
		vms_extract_ctx_free(c);
		return -1;
	}
	if (graph_of_header(c, d)) {
		vms_extract_ctx_free(c);
		return -1;
	}
	c->dir = vms_make_tempdir("vmslim-warm");
	char *inc = c->dir ? vms_xasprintf("%s/inc", c->dir) : NULL;
	char *link = c->dir ? vms_xasprintf("%s/inc/vmlinux.h", c->dir) : NULL;
	char *link2 = c->dir ? vms_xasprintf("%s/inc/%s", c->dir, vms_basename(header)) : NULL;
	c->stub = c->dir ? vms_xasprintf("%s/vmslim-warm-stub.c", c->dir) : NULL;
	int ok = c->dir && mkdir(inc, 0700) == 0 && symlink(c->header_real, link) == 0 &&
		 (!strcmp(link, link2) || symlink(c->header_real, link2) == 0);
	char *text = NULL;
	struct CXUnsavedFile uf;
	if (ok) {
		write_stub(c, NULL, &uf, &text);
		ok = vms_write_file_atomic(c->stub, text, strlen(text), 0600) == 0;
		free(text);
	}
	if (!ok) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "cannot make the warm context's directory: %s",
			     strerror(errno));
		free(inc), free(link), free(link2);
		vms_extract_ctx_free(c);
		return -1;
	}
	struct vms_bpf_cmd cmd = parse_libclang_cmd();
	const char *after[] = { "-idirafter", inc, NULL };
	cmd.user[0] = (struct vms_args){ (const char *const *)c->user.v, c->user.n };
	cmd.user[1] = VMS_ARGS(after);
	vms_bpf_cmdline(&cmd, &c->args);
	free(inc), free(link), free(link2);
	c->idx = clang_createIndex(1, 0);
	if (make_unit(c, d)) {
		vms_extract_ctx_free(c);
		return -1;
	}
	/* the first walk after the preamble was made visits all of it (see the top) */
	struct vms_extract_uses u = { 0 };
	char *why = NULL;
	struct vms_diags quiet = { 0 };
	(void)vms_extract_warm_uses(c, NULL, clang_args, &u, &why, &quiet);
	vms_extract_uses_free(&u);
	vms_diags_free(&quiet);
	free(why);
	*out = c;
	return 0;
}

/* ---- a program through the warm unit ---- */

struct other_header {
	const struct vms_extract_ctx *c;
	char *why;
};

/* Another file named like the header was entered: the warm path holds only when it is the
 * header, or a copy of it (its guard skips it). */
static void inclusion_check(CXFile included, CXSourceLocation *stack, unsigned depth,
			    CXClientData data)
{
	(void)stack, (void)depth;
	struct other_header *o = data;
	if (o->why)
		return;
	CXString name = clang_getFileName(included);
	const char *s = clang_getCString(name);
	if (s && (!strcmp(vms_basename(s), "vmlinux.h") ||
		  !strcmp(vms_basename(s), vms_basename(o->c->header)))) {
		char *real = vms_realpath(s);
		if (!real || strcmp(real, o->c->header_real)) {
			char *t = NULL;
			size_t n = 0;
			struct vms_hash128 h = { 0 };
			if (vms_read_file(s, &t, &n) == 0)
				h = vms_hash128(t, n);
			if (!t || n != o->c->len || h.hi != o->c->hash.hi || h.lo != o->c->hash.lo)
				o->why = vms_xasprintf("the program reaches another header, %s", s);
			free(t);
		}
		free(real);
	}
	clang_disposeString(name);
}

static char *absolute(const char *path)
{
	if (path[0] == '/')
		return vms_xstrdup(path);
	char *cwd = getcwd(NULL, 0);
	char *r = vms_xasprintf("%s/%s", cwd ? cwd : ".", path);
	free(cwd);
	return r;
}

static int same_args(const struct vms_argv *a, const char *const *b)
{
	size_t n = 0;
	while (b && b[n])
		n++;
	if (n != a->n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcmp(a->v[i], b[i]))
			return 0;
	return 1;
}

static void hash_uses(struct vms_extract_uses *u)
{
	u->hash = vms_hash128(u->need, u->n);
}

/* program NULL: a reparse of the stub alone (the context's warm-up) */
int vms_extract_warm_uses(struct vms_extract_ctx *c, const char *program,
			  const char *const *clang_args, struct vms_extract_uses *u, char **why,
			  struct vms_diags *d)
{
	double t0 = vms_now_ms();
	memset(u, 0, sizeof(*u));
	*why = NULL;
	if (!same_args(&c->user, clang_args)) {
		*why = vms_xstrdup("other clang arguments than the warm context's");
		return VMS_PREINCLUDE_COLD;
	}
	char *src = NULL, *abs = NULL, *text = NULL;
	size_t len = 0;
	if (program) {
		int r = vms_read_file(program, &src, &len);
		if (r) {
			vms_diag_add(d, VMS_ERROR, program, 0, 0, "cannot read program: %s",
				     strerror(-r));
			return -1;
		}
		int pre = vms_extract_preinclude(src, len, c->text, c->len, c->header, why);
		abs = absolute(program);
		if (pre == VMS_PREINCLUDE_OK && strpbrk(abs, "\"\\\n")) {
			*why = vms_xstrdup("a path libclang cannot be handed in an #include");
			pre = VMS_PREINCLUDE_COLD;
		}
		if (pre != VMS_PREINCLUDE_OK) {
			free(src), free(abs);
			return pre;
		}
	}
	if (!c->tu && make_unit(c, d)) {
		free(src), free(abs);
		return -1;
	}
	struct CXUnsavedFile uf[2];
	char *tail = abs ? vms_xasprintf("#include \"%s\"\n", abs) : NULL;
	write_stub(c, tail, &uf[0], &text);
	free(tail);
	unsigned nuf = 1;
	if (src)
		uf[nuf++] = (struct CXUnsavedFile){ .Filename = abs, .Contents = src,
						    .Length = (unsigned long)len };
	int rc = 0;
	if (clang_reparseTranslationUnit(c->tu, nuf, uf, clang_defaultReparseOptions(c->tu))) {
		/* a failed reparse leaves the unit unusable: the next call makes it again */
		clang_disposeTranslationUnit(c->tu);
		c->tu = NULL;
		*why = vms_xstrdup("libclang could not reparse the program");
		rc = VMS_PREINCLUDE_COLD;
		goto out;
	}
	if (has_errors(c->tu)) {
		/* the cold path reports them, with the program's own file names */
		*why = vms_xstrdup("the program has errors");
		rc = VMS_PREINCLUDE_COLD;
		goto out;
	}
	struct other_header oh = { .c = c };
	clang_getInclusions(c->tu, inclusion_check, &oh);
	if (oh.why) {
		*why = oh.why;
		rc = VMS_PREINCLUDE_COLD;
		goto out;
	}
	struct parsed p = { .tu = c->tu, .header = clang_getFile(c->tu, c->header_real) };
	if (!p.header) {
		*why = vms_xstrdup("libclang lost track of the header");
		rc = VMS_PREINCLUDE_COLD;
		goto out;
	}
	u->n = c->g.n;
	u->need = vms_xcalloc(u->n ? u->n : 1, 1);
	collect_program_uses(&c->g, &p, u->need);
	hash_uses(u);
	u->warm = 1;
out:
	free(text), free(src), free(abs);
	u->ms = vms_now_ms() - t0;
	return rc;
}

/* ---- one-shot ---- */

int vms_extract_oneshot_uses(const char *header, const char *program,
			     const char *const *clang_args, struct vms_extract_ctx **ctx,
			     struct vms_extract_uses *u, struct vms_diags *d)
{
	double t0 = vms_now_ms();
	memset(u, 0, sizeof(*u));
	*ctx = NULL;
	if (vms_libclang_load(d))
		return -1;
	struct vms_extract_ctx *c = ctx_read(header, clang_args, d);
	if (!c)
		return -1;
	CXIndex idx = clang_createIndex(0, 0);
	struct parsed p;
	int rc = parse_program(idx, program, header, clang_args, &p, d);
	if (rc == 0)
		rc = graph_build(&c->g, &p, c->text, c->len, d);
	if (rc == 0) {
		u->n = c->g.n;
		u->need = vms_xcalloc(u->n ? u->n : 1, 1);
		collect_program_uses(&c->g, &p, u->need);
		hash_uses(u);
	}
	parsed_dispose(&p);
	clang_disposeIndex(idx);
	if (rc) {
		vms_extract_ctx_free(c);
		vms_extract_uses_free(u);
		return -1;
	}
	*ctx = c;
	u->ms = vms_now_ms() - t0;
	return 0;
}

int vms_extract_emit_uses(const struct vms_extract_ctx *c, const struct vms_extract_uses *u,
			  const char *program, char **out, size_t *out_len,
			  struct vms_extract_stats *st, struct vms_diags *d)
{
	double t0 = vms_now_ms();
	if (u->n != c->g.n) {
		vms_diag_add(d, VMS_ERROR, c->header, 0, 0,
			     "these uses were found against another graph of the header");
		return -1;
	}
	struct closure cl = { 0 };
	closure_run(&c->g, u->need, NULL, 0, &cl, d);
	char *banner;
	if (program) {
		const char *progs[] = { program, NULL };
		struct vms_extract_opts o = { .header_path = c->header, .programs = progs };
		banner = extract_banner(&o, vms_basename(c->header), c->text, c->len);
	} else {
		struct vms_buf b = { 0 };
		vms_buf_printf(&b, "/* Trimmed by vmslim build --slim from %s (xxh3-64 %016llx, %zu bytes):\n"
				   " * the declarations one program uses (set %016llx%016llx).\n */\n",
			       vms_basename(c->header), (unsigned long long)vms_hash64(c->text, c->len),
			       c->len, (unsigned long long)u->hash.hi, (unsigned long long)u->hash.lo);
		banner = vms_buf_steal(&b);
	}
	struct vms_extract_stats s = { 0 };
	*out = emit_header(&c->g, &cl, banner, out_len, &s);
	free(banner);
	closure_free(&cl);
	s.parse_ms = u->ms;
	s.total_ms = u->ms + (vms_now_ms() - t0);
	if (st)
		*st = s;
	return 0;
}
