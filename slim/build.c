/* vms_slim_build: a program built against its own slim header, derived on the fly.
 *
 *   plan     the program includes vmlinux.h itself, with nothing ahead of the include
 *            that the header could be parsed before (extract/preinclude.c), and the
 *            flags -include nothing; the full header is build->header or where clang
 *            finds "vmlinux.h". Otherwise: 2, the caller builds as without --slim.
 *   derive   the program's uses of the header: from the warm context when it is the one
 *            for this header and these flags and it reads the program exactly, else by a
 *            one-shot parse (the cold path, vms_extract's own). A program that does not
 *            parse gives 2 too: the full-header build then shows clang's own errors.
 *   cache    the slim header for that set of declarations (cache.c).
 *   build    vms_build with the slim header as --header. vms_build puts a header that
 *            small in front with -include (a larger one through its PCH) and points an
 *            include shim named vmlinux.h at it; the slim header keeps the full one's
 *            include guard, so the program's own #include "vmlinux.h" is skipped
 *            whichever file it reaches. The object is the full header's (what --verify
 *            and tests/slim prove with objdiff); the dependency file is made to name the
 *            full header (depfile.c). A compile that fails gives 2 as well: clang's
 *            messages then come from the full-header build, naming the user's files.
 *   verify   with o->verify, the plain full-header build into a temporary file first, and
 *            vms_obj_compare against the slim object: a difference fails the build and
 *            removes the slim object. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfobj/bpfobj.h"
#include "slim/internal.h"

struct slim_build {
	const struct vms_slim_build_opts *o;
	const struct vms_build_opts *b;
	struct vms_build_result *r;
	struct vms_diags *d;
	char *cache;
	char *full;				/* the full header (as clang names it) */
	struct vms_extract_ctx *oneshot;	/* owned when the one-shot path ran */
	const struct vms_extract_ctx *x;	/* the graph the uses index */
	struct vms_extract_uses u;
	const char *how;			/* "warm" or "one-shot" */
	char *slim;				/* the derived header in the cache */
	int hit;
	char *ref_dir;				/* --verify: the full-header object's directory */
};

static int not_applicable(struct slim_build *s, char *why)
{
	free(s->r->mode);
	s->r->mode = vms_xasprintf("the slim path does not apply: %s", why);
	free(why);
	return 2;
}

/* The full header of b: 0 with *full (absolute), or 2 with *why (both owned). */
static int full_header(const struct vms_build_opts *b, char **full, char **why)
{
	char *src;
	size_t len;
	*full = *why = NULL;
	if (b->sandbox) { /* libclang would read the untrusted program in this process */
		*why = vms_xstrdup("an untrusted program is never parsed in-process");
		return 2;
	}
	if (vms_read_file(b->source, &src, &len) < 0) {
		*why = vms_xasprintf("cannot read %s", b->source);
		return 2;
	}
	if (slim_flags_preinclude(b->flags)) {
		free(src);
		*why = vms_xstrdup("the flags -include a file");
		return 2;
	}
	int angled = 0;
	const char *name = b->header ? vms_basename(b->header) : "vmlinux.h";
	int pre = vms_extract_preinclude_form(src, len, "", 0, name, why, &angled);
	free(src);
	if (pre != VMS_PREINCLUDE_OK) {
		if (!*why)
			*why = vms_xstrdup("the program's preamble");
		return 2;
	}
	free(*why);
	*why = NULL;
	*full = b->header ? slim_abspath(b->header) : slim_find_header(b->source, angled, b->flags);
	if (!*full) {
		*why = vms_xasprintf("%s not found on the include path",
				     angled ? "<vmlinux.h>" : "\"vmlinux.h\"");
		return 2;
	}
	return 0;
}

char *vms_slim_full_header(const struct vms_build_opts *b)
{
	char *full, *why;
	full_header(b, &full, &why);
	free(why);
	char *abs = full ? slim_abspath(full) : NULL;
	free(full);
	return abs;
}

/* 0 when the slim path applies (s->full set), else 2 */
static int plan(struct slim_build *s)
{
	char *why;
	return full_header(s->b, &s->full, &why) ? not_applicable(s, why) : 0;
}

/* 0, or 2 when the uses cannot be found (the full-header build shows why) */
static int derive(struct slim_build *s)
{
	const struct vms_build_opts *b = s->b;
	struct vms_slim_ctx *c = s->o->ctx;
	if (c && vms_slim_ctx_matches(c, s->full, b->flags)) {
		char *why = NULL;
		struct vms_diags quiet = { 0 };
		int rc = vms_extract_warm_uses(c->x, b->source, b->flags, &s->u, &why, &quiet);
		vms_diags_free(&quiet);
		free(why);
		if (rc == 0) {
			s->x = c->x;
			s->how = "warm";
			return 0;
		}
		vms_extract_uses_free(&s->u);
	}
	struct vms_diags ed = { 0 };
	if (vms_extract_oneshot_uses(s->full, b->source, b->flags, &s->oneshot, &s->u, &ed) < 0) {
		char *why = vms_xasprintf("deriving the slim header failed: %s",
					  ed.n ? ed.v[0].msg : "no reason given");
		vms_diags_free(&ed);
		return not_applicable(s, why);
	}
	vms_diags_free(&ed);
	s->x = s->oneshot;
	s->how = "one-shot";
	return 0;
}

/* Where vms_build writes the dependency file: build->dep_file, else -MF among the flags,
 * else (with -MD/-MMD) the output with .d for its extension; NULL when none is written. */
static char *dep_path(const struct vms_build_opts *b)
{
	const char *mf = b->dep_file;
	int md = 0;
	const char *const *lists[] = { b->flags, b->dep_flags };
	for (size_t l = 0; l < 2; l++)
		for (size_t i = 0; lists[l] && lists[l][i]; i++) {
			const char *a = lists[l][i];
			md |= !strcmp(a, "-MD") || !strcmp(a, "-MMD");
			if (!b->dep_file && !strcmp(a, "-MF") && lists[l][i + 1])
				mf = lists[l][++i];
			else if (!b->dep_file && !strncmp(a, "-MF", 3) && a[3])
				mf = a + 3;
		}
	if (!md)
		return NULL;
	if (mf)
		return vms_xstrdup(mf);
	const char *dot = strrchr(vms_basename(b->output), '.');
	size_t n = dot ? (size_t)(dot - b->output) : strlen(b->output);
	return vms_xasprintf("%.*s.d", (int)n, b->output);
}

/* --verify, first half: the plain full-header build (the reference) into a temporary
 * directory. 0 built; otherwise vms_build's answer, which becomes the build's. */
static int build_reference(struct slim_build *s, char **ref)
{
	s->ref_dir = vms_make_tempdir("vmslim-slim-verify");
	if (!s->ref_dir) {
		vms_diag_add(s->d, VMS_ERROR, NULL, 0, 0, "cannot create a temporary directory: %s",
			     strerror(errno));
		return -errno;
	}
	*ref = vms_xasprintf("%s/full.o", s->ref_dir);
	struct vms_build_opts rb = *s->b;
	rb.output = *ref;
	rb.header = s->full;
	rb.no_pch = 1;
	rb.require_pch = 0;
	rb.dep_file = NULL;
	rb.dep_flags = NULL;
	vms_build_result_free(s->r); /* vms_build fills it afresh */
	return vms_build(&rb, s->r, s->d);
}

/* --verify, second half: 0 same; 1 different or unreadable (the slim object removed) */
static int compare(struct slim_build *s, const char *ref)
{
	struct vms_diags cd = { 0 };
	int same = vms_obj_compare(ref, s->b->output, &cd);
	if (same == 0) {
		vms_diags_free(&cd);
		return 0;
	}
	unlink(s->b->output);
	size_t n = same > 0 ? vms_obj_diffs_trim(&cd, VMS_OBJ_DIFFS_SHOWN, 0) : 0;
	if (same > 0)
		vms_diag_add(s->d, VMS_ERROR, s->b->source, 0, 0,
			     "--verify: the object built with the slim header %s differs from the "
			     "full-header build in %zu place%s (below); no object written",
			     s->slim, n, n == 1 ? "" : "s");
	else
		vms_diag_add(s->d, VMS_ERROR, s->b->source, 0, 0,
			     "--verify: cannot compare the slim and full-header objects");
	for (size_t i = 0; i < cd.n; i++)
		vms_diag_add(s->d, cd.v[i].sev, cd.v[i].file, cd.v[i].line, cd.v[i].col, "%s",
			     cd.v[i].msg);
	vms_diags_free(&cd);
	return 1;
}

static size_t decls_used(const struct vms_extract_uses *u)
{
	size_t n = 0;
	for (size_t i = 0; i < u->n; i++)
		n += u->need[i] != 0;
	return n;
}

static void describe(struct slim_build *s, double extract_ms, const char *inner, int same)
{
	struct vms_build_result *r = s->r;
	const char *verdict = !s->o->verify ? ""
			      : same ? ", verified: same object as the full header's"
				     : ", verify FAILED: not the full header's object";
	char *m = vms_xasprintf("slim (%zu decls, header cache %s, extract %.1f ms %s)%s%s",
				decls_used(&s->u), s->hit ? "hit" : "miss", extract_ms, s->how,
				inner && !strncmp(inner, "PCH", 3) ? ", through a PCH of it" : "",
				verdict);
	free(r->mode);
	r->mode = m;
}

static int run(struct slim_build *s)
{
	double t0 = vms_now_ms();
	int rc = plan(s);
	if (rc == 0)
		rc = derive(s);
	if (rc)
		return rc;
	struct vms_diags cd = { 0 };
	if (slim_cache_header(s->cache, s->x, &s->u, s->b->flags, &s->slim, &s->hit, &cd) < 0) {
		char *why = vms_xasprintf("%s", cd.n ? cd.v[0].msg : "cannot cache the slim header");
		vms_diags_free(&cd);
		return not_applicable(s, why);
	}
	double extract_ms = vms_now_ms() - t0;
	char *ref = NULL;
	if (s->o->verify) {
		rc = build_reference(s, &ref);
		if (rc) {
			free(ref);
			return rc;
		}
	}
	vms_build_result_free(s->r);
	struct vms_build_opts sb = *s->b;
	sb.header = s->slim;
	sb.require_pch = 0;
	if (sb.no_pch) {
		/* a header in front by -include, never a PCH; without a header no route
		 * would prefer the slim one over a vmlinux.h beside the program */
		sb.no_pch = 0;
		sb.pch_min_bytes = SIZE_MAX;
	}
	rc = vms_build(&sb, s->r, s->d);
	char *dep = dep_path(s->b);
	if (rc == 0 || rc == 1) {
		int e = slim_fix_depfile(dep, s->slim, s->full);
		if (e < 0) {
			vms_diag_add(s->d, VMS_ERROR, dep, 0, 0, "cannot rewrite: %s", strerror(-e));
			rc = rc ? rc : 1;
		}
	}
	free(dep);
	if (rc == 1 && !ref) {
		/* a program that parsed but does not compile: the full header's build shows
		 * clang's messages with the user's own include stack */
		return not_applicable(s, vms_xstrdup("the compile failed against the slim header"));
	}
	if (rc == 1)
		vms_diag_add(s->d, VMS_ERROR, s->b->source, 0, 0,
			     "--verify: the build with the slim header %s failed where the "
			     "full-header build succeeded", s->slim);
	int compared = rc == 0 && ref;
	if (compared)
		rc = compare(s, ref);
	free(ref);
	if (rc == 0 || compared)
		describe(s, extract_ms, s->r->mode, rc == 0);
	return rc;
}

int vms_slim_build(const struct vms_slim_build_opts *o, struct vms_build_result *r,
		   struct vms_diags *d)
{
	double t0 = vms_now_ms();
	memset(r, 0, sizeof(*r));
	r->clang_stderr = vms_xstrdup("");
	struct slim_build s = { .o = o, .b = o->build, .r = r, .d = d };
	s.cache = o->build->cache_dir ? vms_xstrdup(o->build->cache_dir)
		  : o->ctx		? vms_xstrdup(o->ctx->cache_dir)
					: vms_cache_dir_default();
	int rc = run(&s);
	if (!r->mode)
		r->mode = vms_xstrdup("not built");
	if (!r->clang_stderr)
		r->clang_stderr = vms_xstrdup("");
	if (s.ref_dir) {
		vms_remove_tree(s.ref_dir);
		free(s.ref_dir);
	}
	vms_extract_uses_free(&s.u);
	vms_extract_ctx_free(s.oneshot);
	free(s.cache), free(s.full), free(s.slim);
	r->total_ms = vms_now_ms() - t0;
	return rc;
}
