/* The warm slim header of every program equals the cold one (`vmslim extract --from`).
 *
 * usage: test_slim_extract HEADER OUTDIR PROG...
 * One warm context for HEADER; for each PROG, vms_slim_extract's answer is compared byte
 * for byte with vms_extract's (the cold path, what `vmslim extract --header HEADER --from
 * PROG` runs) and written to OUTDIR/NAME.h for slim.sh to compare with the CLI's output.
 * Each program is reported with the path the warm unit took: "warm", or "cold: why" when
 * it handed the program back (the answer must still be equal). Exit 0 when all equal.
 *
 * usage: test_slim_extract --ctx HEADER WORKDIR PROG   (see check_ctx) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpfobj/bpfobj.h"
#include "extract/extract.h"
#include "slim/slim.h"

static int check(struct vms_slim_ctx *sc, struct vms_extract_ctx *xc, const char *header,
		 const char *outdir, const char *prog)
{
	struct vms_diags d = { 0 };
	struct vms_extract_uses u;
	char *why = NULL;
	int warm = vms_extract_warm_uses(xc, prog, NULL, &u, &why, &d);
	vms_extract_uses_free(&u);
	char *w = NULL, *c = NULL;
	size_t wl = 0, cl = 0;
	int rw = vms_slim_extract(sc, prog, NULL, &w, &wl, NULL, &d);
	const char *progs[] = { prog, NULL };
	struct vms_extract_opts o = { .header_path = header, .programs = progs };
	int rc = vms_extract(&o, &c, &cl, NULL, &d);
	int ok = rw == 0 && rc == 0 && wl == cl && !memcmp(w, c, wl);
	printf("%s %s: %s%s%s (%zu bytes)\n", ok ? "ok" : "FAIL", prog,
	       warm == 0 ? "warm" : "cold", why ? ": " : "", why ? why : "", wl);
	if (rw || rc)
		vms_diags_print(stdout, &d);
	else if (!ok)
		printf("  the warm answer (%zu bytes) differs from the cold one (%zu bytes)\n", wl, cl);
	if (rw == 0) {
		const char *base = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog;
		char *path = vms_xasprintf("%s/%s.h", outdir, base);
		if (vms_write_file_atomic(path, w, wl, 0644))
			ok = 0;
		free(path);
	}
	free(w), free(c), free(why);
	vms_diags_free(&d);
	return ok;
}

/* --ctx HEADER WORKDIR PROG: a context matches its header and flags only, and goes stale
 * when the header's bytes change; vms_slim_build through it reads the program warm and
 * gives the plain full-header build's object. */
static int check_ctx(const char *header, const char *work, const char *prog)
{
	int bad = 0;
	struct vms_diags d = { 0 };
	char *copy = vms_xasprintf("%s/vmlinux.h", work), *text;
	size_t len;
	if (vms_read_file(header, &text, &len) || vms_write_file_atomic(copy, text, len, 0644)) {
		fprintf(stderr, "cannot copy %s to %s\n", header, copy);
		return 1;
	}
	char *inc = vms_xasprintf("-I%s", work);
	const char *flags[] = { inc, NULL }, *other[] = { inc, "-DX", NULL };
	char *cache = vms_xasprintf("%s/cache", work);
	struct vms_slim_ctx *c;
	if (vms_slim_ctx_new(copy, flags, cache, &c, &d)) {
		vms_diags_print(stderr, &d);
		return 1;
	}
	char *objs[2] = { vms_xasprintf("%s/plain.o", work), vms_xasprintf("%s/slim.o", work) };
	for (int k = 0; k < 2; k++) {
		struct vms_build_opts o = { .source = prog, .output = objs[k], .flags = flags,
					    .no_pch = 1, .cache_dir = k ? NULL : cache };
		struct vms_slim_build_opts so = { .build = &o, .ctx = c };
		struct vms_build_result r;
		int rc = k ? vms_slim_build(&so, &r, &d) : vms_build(&o, &r, &d);
		printf("%s build: %d, %s\n", k ? "slim" : "plain", rc, r.mode);
		/* the slim build's cache is the context's: a first build misses it */
		bad += rc != 0 || (k && (!strstr(r.mode, "cache miss, extract") ||
					 !strstr(r.mode, " warm)")));
		vms_build_result_free(&r);
	}
	int same = vms_obj_compare(objs[0], objs[1], &d);
	printf("objects: %s\n", same == 0 ? "same" : "differ");
	bad += same != 0;
	int m1 = vms_slim_ctx_matches(c, copy, flags), m2 = vms_slim_ctx_matches(c, copy, other);
	int m3 = vms_slim_ctx_matches(c, header, flags);
	text = vms_xrealloc(text, len + 32);
	len += (size_t)sprintf(text + len, "/* changed */\n");
	vms_write_file_atomic(copy, text, len, 0644);
	int m4 = vms_slim_ctx_matches(c, copy, flags);
	printf("matches: same %d, other flags %d, other file %d, changed %d\n", m1, m2, m3, m4);
	bad += !(m1 == 1 && m2 == 0 && m3 == 0 && m4 == 0);
	vms_diags_print(stdout, &d);
	vms_slim_ctx_free(c);
	vms_diags_free(&d);
	free(objs[0]), free(objs[1]), free(inc), free(copy), free(text), free(cache);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--ctx"))
		return check_ctx(argv[2], argv[3], argv[4]);
	if (argc < 4) {
		fprintf(stderr, "usage: %s HEADER OUTDIR PROG...\n", argv[0]);
		return 2;
	}
	struct vms_diags d = { 0 };
	struct vms_slim_ctx *sc;
	struct vms_extract_ctx *xc;
	if (vms_slim_ctx_new(argv[1], NULL, NULL, &sc, &d) ||
	    vms_extract_ctx_new(argv[1], NULL, &xc, &d)) {
		vms_diags_print(stderr, &d);
		return 1;
	}
	int bad = 0;
	for (int i = 3; i < argc; i++)
		bad += !check(sc, xc, argv[1], argv[2], argv[i]);
	printf("%d programs, %d differ\n", argc - 3, bad);
	vms_slim_ctx_free(sc);
	vms_extract_ctx_free(xc);
	vms_diags_free(&d);
	return bad ? 1 : 0;
}
