/* test_pch: the PCH library against real clang and real vmlinux.h headers.
 *
 *   test_pch unit                                   parsers: flags, preamble, cc plans, diags
 *   test_pch stale      CLANG VMLINUX PROG WORKDIR  header byte / touch / -D / dependency
 *   test_pch compiler   CLANG CLANG2 VMLINUX PROG WORKDIR   clang version/path change
 *   test_pch corrupt    CLANG VMLINUX PROG WORKDIR  damaged or truncated PCH and manifest
 *   test_pch parallel   CLANG VMLINUX PROGS_DIR WORKDIR     8 builders, empty cache
 *   test_pch gmodules   CLANG VMLINUX FIXTURES PROGS_DIR WORKDIR   when -gmodules is taken
 *
 * Every object the PCH path makes is compared with a plain clang build of the same
 * program and header (vms_obj_compare, what `vmslim objdiff` runs), and with its bytes.
 * Exit 0 pass, 1 fail, 77 skip (a second compiler missing).
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpfobj/bpfobj.h"
#include "pch/internal.h"
#include "pch/pch.h"
#include "tests/testutil.h"

static void copy_file(const char *from, const char *to)
{
	char *data;
	size_t len;
	if (vms_read_file(from, &data, &len) < 0 || vms_write_file_atomic(to, data, len, 0644) < 0) {
		printf("cannot copy %s to %s\n", from, to);
		exit(1);
	}
	free(data);
}

/* Overwrites one byte in place, keeping size and (optionally) mtime: only a content hash
 * can notice. */
static void poke(const char *file, long off, char c, int keep_mtime)
{
	struct stat st;
	stat(file, &st);
	int fd = open(file, O_WRONLY);
	if (fd < 0 || pwrite(fd, &c, 1, off < 0 ? st.st_size + off : off) != 1) {
		printf("cannot poke %s\n", file);
		exit(1);
	}
	close(fd);
	if (keep_mtime) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		utimensat(AT_FDCWD, file, ts, 0);
	}
}

static long file_size(const char *f)
{
	struct stat st;
	return stat(f, &st) == 0 ? (long)st.st_size : -1;
}

static void print_diags(const struct vms_diags *d)
{
	vms_diags_print(stdout, d);
}

/* Builds prog with the PCH path and with plain clang; both must succeed and give the
 * same object. Returns whether the PCH was rebuilt (or -1). */
static int build_and_compare(const char *clang, const char *header, const char *prog,
			     const char *const *flags, const char *cache, const char *dir,
			     const char *tag, int *used_pch)
{
	char *out = vms_xasprintf("%s/%s.pch.o", dir, tag);
	char *ref = vms_xasprintf("%s/%s.plain.o", dir, tag);
	struct vms_diags d = { 0 };
	struct vms_build_opts o = { .source = prog, .output = out, .header = header,
				    .flags = flags, .clang = clang, .cache_dir = cache };
	struct vms_build_result r;
	int rc = vms_build(&o, &r, &d);
	CHECK(rc == 0, "%s: vms_build -> %d: %s", tag, rc, r.clang_stderr);
	int rebuilt = r.pch_rebuilt;
	if (used_pch)
		*used_pch = r.used_pch;
	printf("  %s: %s%s\n", tag, r.mode, r.pch_rebuilt ? " [PCH rebuilt]" : "");
	vms_build_result_free(&r);
	o.no_pch = 1;
	o.output = ref;
	rc = vms_build(&o, &r, &d);
	CHECK(rc == 0 && !r.used_pch, "%s: plain build -> %d: %s", tag, rc, r.clang_stderr);
	vms_build_result_free(&r);
	int cmp = vms_obj_compare(out, ref, &d);
	CHECK(cmp == 0, "%s: PCH object differs from the plain one", tag);
	if (cmp != 0)
		print_diags(&d);
	/* for information: clang 14 gives the very same bytes; clang 19 orders the BTF
	 * types of a PCH build differently (type IDs, which objdiff rightly ignores) */
	char *a, *b;
	size_t al, bl;
	if (vms_read_file(out, &a, &al) == 0 && vms_read_file(ref, &b, &bl) == 0) {
		printf("  %s: %s\n", tag, al == bl && !memcmp(a, b, al) ? "byte-identical"
								     : "same object, other bytes");
		free(a), free(b);
	}
	vms_diags_free(&d);
	free(out), free(ref);
	return rc == 0 ? rebuilt : -1;
}

/* ---- unit ---- */

static int argv_has(const struct vms_argv *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return 1;
	return 0;
}

static int t_unit(void)
{
	/* flags: outputs and inputs out, spellings unified, paths absolute */
	const char *f[] = { "-target", "bpf", "-D", "X=1", "-DY", "-I", "inc", "-Iabs", "-c",
			    "prog.c", "-o", "p.o", "-MD", "-MF", "p.d", "-MT", "t", "-g",
			    "-O2", "-Xclang", "-foo", "-include", "x.h", NULL };
	struct vms_argv n;
	vms_flags_normalize(f, &n);
	char cwd[4096];
	if (!getcwd(cwd, sizeof(cwd)))
		abort();
	char *inc = vms_xasprintf("-I%s/inc", cwd), *incabs = vms_xasprintf("-I%s/abs", cwd);
	char *xh = vms_xasprintf("%s/x.h", cwd);
	CHECK(argv_has(&n, "--target=bpf") && argv_has(&n, "-DX=1") && argv_has(&n, "-DY") &&
		      argv_has(&n, inc) && argv_has(&n, incabs) && argv_has(&n, "-g") &&
		      argv_has(&n, "-O2") && argv_has(&n, "-foo") && argv_has(&n, xh),
	      "normalized flags miss something");
	CHECK(!argv_has(&n, "-c") && !argv_has(&n, "prog.c") && !argv_has(&n, "p.o") &&
		      !argv_has(&n, "-MD") && !argv_has(&n, "p.d") && !argv_has(&n, "t"),
	      "normalized flags keep per-compile arguments");
	CHECK(n.n == 11, "%zu normalized flags", n.n);
	vms_argv_free(&n);
	free(inc), free(incabs), free(xh);

	/* preamble */
	const char *src1 = "// c\n/* multi\n line */\n#define A 1\n#define F(x) ((x) + /*c*/ 1)\n"
			   "#define BPF_NO_PRESERVE_ACCESS_INDEX\n# include \"vmlinux.h\"\n"
			   "#include <bpf/bpf_helpers.h>\nint x = BPF_CORE_READ(a, b);\n";
	struct pch_preamble p;
	pch_scan_preamble(src1, strlen(src1), &p);
	CHECK(p.found && p.simple && !p.angled, "preamble 1: found %d simple %d", p.found, p.simple);
	CHECK(p.defines.n == 3 && !strcmp(p.defines.v[0], "-DA=1") &&
		      !strcmp(p.defines.v[1], "-DF(x)=((x) + 1)") &&
		      !strcmp(p.defines.v[2], "-DBPF_NO_PRESERVE_ACCESS_INDEX="),
	      "preamble 1 defines: %zu", p.defines.n);
	CHECK(p.defines_no_pai && p.uses_core && !p.other_includes, "preamble 1 facts");
	pch_preamble_free(&p);

	const char *src2 = "#include <linux/types.h>\n#include <vmlinux.h>\n";
	pch_scan_preamble(src2, strlen(src2), &p);
	CHECK(p.found && !p.simple && p.why && strstr(p.why, "linux/types.h"), "preamble 2: %s", p.why);
	pch_preamble_free(&p);

	const char *src3 = "#include <vmlinux.h>\n#include \"mine.h\"\nint f(void) { return 0; }\n";
	pch_scan_preamble(src3, strlen(src3), &p);
	CHECK(p.found && p.simple && p.angled && p.other_includes && !p.uses_core, "preamble 3");
	pch_preamble_free(&p);

	const char *src4 = "#ifdef X\n#endif\n#include \"vmlinux.h\"\n";
	pch_scan_preamble(src4, strlen(src4), &p);
	CHECK(p.found && !p.simple, "preamble 4: #ifdef before the include must not be simple");
	pch_preamble_free(&p);

	const char *h1 = "/* c */\n#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\nstruct a;\n#endif\n";
	const char *h2 = "#pragma once\nstruct a;\n";
	const char *h3 = "struct a;\n";
	CHECK(pch_header_guarded(h1, strlen(h1)) && pch_header_guarded(h2, strlen(h2)) &&
		      !pch_header_guarded(h3, strlen(h3)),
	      "include guard detection");

	/* cc plans */
	char *cc1[] = { "-g", "-O2", "-target", "bpf", "-Iinc", "-c", "p.bpf.c", "-o", "p.o",
			"-MD", "-MF", "p.d", "-MT", "tgt", NULL };
	struct vms_cc_plan plan;
	vms_cc_plan(14, cc1, &plan);
	CHECK(plan.is_bpf_compile && !strcmp(plan.source, "p.bpf.c") && !strcmp(plan.output, "p.o") &&
		      plan.dep_file && !strcmp(plan.dep_file, "p.d") && plan.dep_flags.n == 3 &&
		      plan.flags.n == 5,
	      "cc plan 1: %s", plan.why_not ? plan.why_not : "");
	vms_cc_plan_free(&plan);
	char *cc2[] = { "-O2", "-c", "x.c", "-o", "x.o", NULL };
	vms_cc_plan(5, cc2, &plan);
	CHECK(!plan.is_bpf_compile && strstr(plan.why_not, "BPF"), "cc plan 2");
	vms_cc_plan_free(&plan);
	char *cc3[] = { "--target=bpf", "-E", "x.c", NULL };
	vms_cc_plan(3, cc3, &plan);
	CHECK(!plan.is_bpf_compile, "cc plan 3 (-E)");
	vms_cc_plan_free(&plan);
	char *cc4[] = { "--target=bpf", "-c", "dir/x.bpf.c", NULL };
	vms_cc_plan(3, cc4, &plan);
	CHECK(plan.is_bpf_compile && !strcmp(plan.output, "x.bpf.o"), "cc plan 4 default output");
	vms_cc_plan_free(&plan);

	/* clang diagnostics */
	struct vms_diags d = { 0 };
	vms_clang_parse_diags("a/b.c:12:5: error: use of undeclared identifier 'x'\n"
			      "a/b.c:3:1: warning: w [-Wfoo]\n   ^\nfatal error: too many\n", &d);
	CHECK(d.n == 3 && !strcmp(d.v[0].file, "a/b.c") && d.v[0].line == 12 && d.v[0].col == 5 &&
		      d.v[0].sev == VMS_ERROR && d.v[1].sev == VMS_WARNING && !d.v[2].file,
	      "clang diagnostics: %zu", d.n);
	vms_diags_free(&d);

	/* manifest escaping round trip */
	struct vms_buf b = { 0 };
	pch_escape(&b, "a b%c\nd");
	char *u = pch_unescape(b.data);
	CHECK(!strchr(b.data, ' ') && !strcmp(u, "a b%c\nd"), "escape: %s", b.data);
	free(u);
	vms_buf_free(&b);
	return 0;
}

/* ---- staleness ---- */

static int pch_reason(const char *clang, const char *header, const char *const *flags,
		      const char *out, char **reason)
{
	struct vms_pch_opts o = { .header = header, .flags = flags, .clang = clang, .out = out };
	struct vms_pch_info info;
	struct vms_diags d = { 0 };
	int rc = vms_pch_ensure(&o, &info, &d);
	if (rc < 0) {
		print_diags(&d);
		printf("%s", info.clang_stderr ? info.clang_stderr : "");
	}
	int rebuilt = rc < 0 ? -1 : info.rebuilt;
	*reason = info.reason ? vms_xstrdup(info.reason) : NULL;
	vms_pch_info_free(&info);
	vms_diags_free(&d);
	return rebuilt;
}

static int t_stale(const char *clang, const char *vmlinux, const char *prog, const char *work)
{
	test_fresh_dir(work);
	char *inc = vms_xasprintf("%s/inc", work), *cache = vms_xasprintf("%s/cache", work);
	vms_mkdir_p(inc, 0755);
	char *header = vms_xasprintf("%s/vmlinux.h", inc);
	copy_file(vmlinux, header);
	const char *none[] = { NULL };

	printf("first build, empty cache\n");
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "first", NULL) == 1,
	      "the first build must build the PCH");
	printf("second build\n");
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "again", NULL) == 0,
	      "an unchanged header must not rebuild the PCH");

	printf("touch the header (make does): same bytes, no rebuild, clang still accepts\n");
	struct timespec later[2] = { { .tv_nsec = UTIME_NOW }, { .tv_sec = time(NULL) + 100 } };
	utimensat(AT_FDCWD, header, later, 0);
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "touched", NULL) == 0,
	      "a touched header must not rebuild the PCH");

	printf("one byte of the header, same size and mtime: only the hash can tell\n");
	char *text;
	size_t len;
	vms_read_file(header, &text, &len);
	char *guard_comment = strstr(text, "#endif /* __VMLINUX_H__ */");
	CHECK(guard_comment != NULL, "bpftool's closing #endif comment not found");
	if (guard_comment)
		poke(header, (long)(guard_comment - text) + 18, 'x', 1);
	free(text);
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "byte", NULL) == 1,
	      "a changed header byte must rebuild the PCH");

	printf("one -D more: another PCH, never the old one\n");
	const char *withd[] = { "-DVMSLIM_TEST_FLAG=1", NULL };
	CHECK(build_and_compare(clang, header, prog, withd, cache, work, "dflag", NULL) == 1,
	      "a new -D must build a new PCH");
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "nodflag", NULL) == 0,
	      "going back to the old flags finds the old PCH");

	printf("explicit PCH path: the manifest names what changed\n");
	char *out = vms_xasprintf("%s/explicit.pch", work), *reason = NULL;
	const char *f1[] = { "--target=bpf", "-g", "-O2", NULL };
	const char *f2[] = { "--target=bpf", "-g", "-O2", "-DVMSLIM_TEST_FLAG=2", NULL };
	CHECK(pch_reason(clang, header, f1, out, &reason) == 1, "explicit build");
	free(reason);
	CHECK(pch_reason(clang, header, f1, out, &reason) == 0, "explicit reuse");
	free(reason);
	CHECK(pch_reason(clang, header, f2, out, &reason) == 1 && reason &&
		      strstr(reason, "flags changed"),
	      "-D change: %s", reason ? reason : "(none)");
	free(reason);

	printf("a file the header includes changes\n");
	char *dep_dir = vms_xasprintf("%s/dep", work);
	vms_mkdir_p(dep_dir, 0755);
	char *dep_h = vms_xasprintf("%s/vmlinux.h", dep_dir);
	char *inner = vms_xasprintf("%s/inner.h", dep_dir);
	const char *outer_text = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n#include \"inner.h\"\n#endif\n";
	vms_write_file_atomic(dep_h, outer_text, strlen(outer_text), 0644);
	copy_file(vmlinux, inner);
	char *dep_pch = vms_xasprintf("%s/dep.pch", work);
	CHECK(pch_reason(clang, dep_h, f1, dep_pch, &reason) == 1, "dependency PCH build");
	free(reason);
	CHECK(pch_reason(clang, dep_h, f1, dep_pch, &reason) == 0, "dependency PCH reuse");
	free(reason);
	char *man;
	char *manifest = vms_xasprintf("%s.manifest", dep_pch);
	vms_read_file(manifest, &man, NULL);
	CHECK(strstr(man, "\ndep ") && strstr(man, "inner.h"), "the manifest lists inner.h:\n%s", man);
	free(man);
	vms_read_file(inner, &text, &len);
	guard_comment = strstr(text, "#endif /* __VMLINUX_H__ */");
	if (guard_comment)
		poke(inner, (long)(guard_comment - text) + 18, 'y', 1);
	free(text);
	CHECK(pch_reason(clang, dep_h, f1, dep_pch, &reason) == 1 && reason &&
		      strstr(reason, "inner.h changed"),
	      "dependency change: %s", reason ? reason : "(none)");
	free(reason);

	free(inc), free(cache), free(header), free(out), free(dep_dir), free(dep_h), free(inner);
	free(dep_pch), free(manifest);
	return 0;
}

/* ---- compiler change ---- */

static int t_compiler(const char *clang, const char *clang2, const char *vmlinux,
		      const char *prog, const char *work)
{
	struct vms_compiler c2;
	struct vms_diags d = { 0 };
	if (vms_compiler_identify(clang2, NULL, &c2, &d) < 0) {
		vms_diags_free(&d);
		return test_skip("second compiler %s not available", clang2);
	}
	struct vms_compiler c1;
	CHECK(vms_compiler_identify(clang, NULL, &c1, &d) == 0, "identify %s", clang);
	CHECK(strcmp(c1.id_hex, c2.id_hex), "two compilers with one identity");
	test_fresh_dir(work);
	char *inc = vms_xasprintf("%s/inc", work), *cache = vms_xasprintf("%s/cache", work);
	char *bin = vms_xasprintf("%s/bin", work);
	vms_mkdir_p(inc, 0755);
	vms_mkdir_p(bin, 0755);
	char *header = vms_xasprintf("%s/vmlinux.h", inc);
	copy_file(vmlinux, header);

	/* `clang` in a directory of ours, re-pointed the way update-alternatives does */
	char *link = vms_xasprintf("%s/clang", bin), *tmp = vms_xasprintf("%s/clang.new", bin);
	if (symlink(c1.path, link) < 0) {
		printf("cannot symlink\n");
		return 1;
	}
	const char *f1[] = { "--target=bpf", "-g", "-O2", NULL };
	char *out = vms_xasprintf("%s/explicit.pch", work), *reason = NULL;
	CHECK(pch_reason(link, header, f1, out, &reason) == 1, "build with %s", c1.path);
	free(reason);
	CHECK(pch_reason(link, header, f1, out, &reason) == 0, "reuse with %s", c1.path);
	free(reason);
	if (symlink(c2.path, tmp) < 0 || rename(tmp, link) < 0) {
		printf("cannot re-point the symlink\n");
		return 1;
	}
	CHECK(pch_reason(link, header, f1, out, &reason) == 1 && reason &&
		      strstr(reason, "compiler changed"),
	      "clang version change: %s", reason ? reason : "(none)");
	free(reason);

	printf("both compilers through the cache: each its own PCH, each object = its plain build\n");
	const char *none[] = { NULL };
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "c1", NULL) == 1, "c1 first");
	CHECK(build_and_compare(clang2, header, prog, none, cache, work, "c2", NULL) == 1, "c2 first");
	CHECK(build_and_compare(clang, header, prog, none, cache, work, "c1again", NULL) == 0, "c1 reuse");
	CHECK(build_and_compare(clang2, header, prog, none, cache, work, "c2again", NULL) == 0, "c2 reuse");
	vms_compiler_free(&c1);
	vms_compiler_free(&c2);
	vms_diags_free(&d);
	free(inc), free(cache), free(bin), free(header), free(link), free(tmp), free(out);
	return 0;
}

/* ---- corruption ---- */

static int no_temporaries(const char *dir)
{
	char *pat = vms_xasprintf("%s/*tmp*", dir);
	glob_t g;
	int n = glob(pat, 0, NULL, &g) == 0 ? (int)g.gl_pathc : 0;
	if (n)
		globfree(&g);
	free(pat);
	return n == 0;
}

static int t_corrupt(const char *clang, const char *vmlinux, const char *prog, const char *work)
{
	test_fresh_dir(work);
	char *inc = vms_xasprintf("%s/inc", work);
	vms_mkdir_p(inc, 0755);
	char *header = vms_xasprintf("%s/vmlinux.h", inc);
	copy_file(vmlinux, header);
	char *pch = vms_xasprintf("%s/h.pch", work), *man = vms_xasprintf("%s/h.pch.manifest", work);
	char *reason = NULL;
	const char *f[] = { "--target=bpf", "-g", "-O2", "-D__TARGET_ARCH_x86", NULL };
	char *incflag = vms_xasprintf("-I%s", inc);
	const char *fi[] = { "--target=bpf", "-g", "-O2", "-D__TARGET_ARCH_x86", incflag, NULL };
	(void)f;
	CHECK(pch_reason(clang, header, fi, pch, &reason) == 1, "first build");
	free(reason);

	struct {
		const char *what, *expect;
	} cases[] = {
		{ "PCH byte flipped (same size, same mtime)", "PCH checksum mismatch" },
		{ "PCH truncated", "truncated" },
		{ "PCH removed", "PCH missing" },
		{ "manifest truncated", "manifest truncated" },
		{ "manifest byte flipped", "corrupted" },
		{ "manifest empty", "manifest truncated" },
		{ "manifest removed", "no PCH yet" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		printf("%s\n", cases[i].what);
		switch (i) {
		case 0: poke(pch, file_size(pch) / 2, (char)0xa5, 1); break;
		case 1: CHECK(truncate(pch, file_size(pch) / 3) == 0, "truncate"); break;
		case 2: unlink(pch); break;
		case 3: CHECK(truncate(man, file_size(man) - 20) == 0, "truncate"); break;
		case 4: poke(man, 30, 'Z', 1); break;
		case 5: CHECK(truncate(man, 0) == 0, "truncate"); break;
		case 6: unlink(man); break;
		}
		CHECK(pch_reason(clang, header, fi, pch, &reason) == 1 && reason &&
			      strstr(reason, cases[i].expect),
		      "%s: reason '%s', expected '%s'", cases[i].what, reason ? reason : "(none)",
		      cases[i].expect);
		free(reason);
		CHECK(pch_reason(clang, header, fi, pch, &reason) == 0, "%s: fresh after the rebuild",
		      cases[i].what);
		free(reason);
		CHECK(no_temporaries(work), "temporary files left behind");
	}

	printf("a rebuilt explicit PCH works for a real compile\n");
	char *obj = vms_xasprintf("%s/p.o", work), *ref = vms_xasprintf("%s/p.plain.o", work);
	struct vms_argv av = { 0 };
	vms_argv_push(&av, clang);
	for (size_t i = 0; fi[i]; i++)
		vms_argv_push(&av, fi[i]);
	vms_argv_push(&av, "-include-pch");
	vms_argv_push(&av, pch);
	vms_argv_push(&av, "-c");
	vms_argv_push(&av, prog);
	vms_argv_push(&av, "-o");
	vms_argv_push(&av, obj);
	struct vms_proc_result r;
	CHECK(vms_run(av.v, NULL, 0, 600000, &r) == 0 && r.exit_code == 0, "clang -include-pch: %s", r.err);
	vms_proc_result_free(&r);
	vms_argv_free(&av);
	struct vms_diags d = { 0 };
	const char *none[] = { NULL };
	struct vms_build_opts o = { .source = prog, .output = ref, .header = header, .flags = none,
				    .clang = clang, .no_pch = 1 };
	struct vms_build_result br;
	CHECK(vms_build(&o, &br, &d) == 0, "plain build");
	vms_build_result_free(&br);
	CHECK(vms_obj_compare(obj, ref, &d) == 0, "objects differ");
	print_diags(&d);
	vms_diags_free(&d);
	free(inc), free(header), free(pch), free(man), free(incflag), free(obj), free(ref);
	return 0;
}

/* ---- parallel builders ---- */

static int t_parallel(const char *clang, const char *vmlinux, const char *progs_dir, const char *work)
{
	test_fresh_dir(work);
	char *cache = vms_xasprintf("%s/cache", work);
	char *pat = vms_xasprintf("%s/*.bpf.c", progs_dir);
	glob_t g;
	if (glob(pat, 0, NULL, &g) != 0 || g.gl_pathc == 0) {
		printf("no programs in %s\n", progs_dir);
		return 1;
	}
	enum { N = 8 };
	pid_t pids[N];
	/* one byte per child: 'r' rebuilt the PCH, 'u' used it, 'f' failed */
	int pipefd[2];
	if (pipe(pipefd) < 0)
		return 1;
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(pipefd[0]);
			const char *prog = g.gl_pathv[(size_t)i % g.gl_pathc];
			char *out = vms_xasprintf("%s/out%d.o", work, i);
			const char *none[] = { NULL };
			struct vms_build_opts o = { .source = prog, .output = out, .header = vmlinux,
						    .flags = none, .clang = clang, .cache_dir = cache };
			struct vms_build_result r;
			struct vms_diags d = { 0 };
			int rc = vms_build(&o, &r, &d);
			char c = rc != 0 || !r.used_pch ? 'f' : r.pch_rebuilt ? 'r' : 'u';
			if (c == 'f') {
				printf("builder %d (%s): rc %d, %s\n%s", i, prog, rc, r.mode, r.clang_stderr);
				print_diags(&d);
			}
			fflush(stdout);
			if (write(pipefd[1], &c, 1) != 1)
				_exit(2);
			_exit(c == 'f');
		}
	}
	close(pipefd[1]);
	int rebuilt = 0, used = 0, failed = 0;
	char c;
	while (read(pipefd[0], &c, 1) == 1)
		rebuilt += c == 'r', used += c == 'u', failed += c == 'f';
	close(pipefd[0]);
	for (int i = 0; i < N; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "builder %d failed", i);
	}
	printf("%d builders: %d built the PCH, %d reused it, %d failed\n", N, rebuilt, used, failed);
	CHECK(failed == 0 && rebuilt == 1 && used == N - 1, "expected exactly one PCH build");

	char *pchpat = vms_xasprintf("%s/pch/*/*", cache);
	glob_t pg;
	int pchs = 0, others = 0;
	if (glob(pchpat, 0, NULL, &pg) == 0) {
		for (size_t i = 0; i < pg.gl_pathc; i++) {
			size_t n = strlen(pg.gl_pathv[i]);
			if (n > 4 && !strcmp(pg.gl_pathv[i] + n - 4, ".pch"))
				pchs++;
			else if (!strstr(pg.gl_pathv[i], ".manifest") && !strstr(pg.gl_pathv[i], ".lock"))
				others++, printf("unexpected file %s\n", pg.gl_pathv[i]);
		}
		globfree(&pg);
	}
	CHECK(pchs == 1 && others == 0, "%d PCH files, %d other files in the cache", pchs, others);

	/* and each object is the plain build's */
	struct vms_diags d = { 0 };
	for (int i = 0; i < N; i++) {
		const char *prog = g.gl_pathv[(size_t)i % g.gl_pathc];
		char *out = vms_xasprintf("%s/out%d.o", work, i), *ref = vms_xasprintf("%s/ref%d.o", work, i);
		const char *none[] = { NULL };
		struct vms_build_opts o = { .source = prog, .output = ref, .header = vmlinux,
					    .flags = none, .clang = clang, .no_pch = 1 };
		struct vms_build_result r;
		CHECK(vms_build(&o, &r, &d) == 0, "plain %s", prog);
		vms_build_result_free(&r);
		CHECK(vms_obj_compare(out, ref, &d) == 0, "%s differs from its plain build", prog);
		free(out), free(ref);
	}
	print_diags(&d);
	vms_diags_free(&d);
	globfree(&g);
	free(cache), free(pat), free(pchpat);
	return 0;
}

/* ---- -gmodules ---- */

static int build_mode(const char *clang, const char *vmlinux, const char *prog, const char *cache,
		      const char *work, const char *tag, char **mode)
{
	char *out = vms_xasprintf("%s/%s.o", work, tag), *ref = vms_xasprintf("%s/%s.plain.o", work, tag);
	struct vms_diags d = { 0 };
	const char *none[] = { NULL };
	struct vms_build_opts o = { .source = prog, .output = out, .header = vmlinux,
				    .flags = none, .clang = clang, .cache_dir = cache };
	struct vms_build_result r;
	int rc = vms_build(&o, &r, &d);
	CHECK(rc == 0, "%s: %d %s", tag, rc, r.clang_stderr);
	int gm = r.used_gmodules;
	*mode = vms_xstrdup(r.mode);
	printf("  %s: %s\n", tag, r.mode);
	vms_build_result_free(&r);
	o.no_pch = 1;
	o.output = ref;
	CHECK(vms_build(&o, &r, &d) == 0, "%s: plain", tag);
	vms_build_result_free(&r);
	int cmp = vms_obj_compare(out, ref, &d);
	CHECK(cmp == 0, "%s: the object differs from the plain build", tag);
	print_diags(&d);
	vms_diags_free(&d);
	free(out), free(ref);
	return gm;
}

static int t_gmodules(const char *clang, const char *vmlinux, const char *fixtures,
		      const char *progs, const char *work)
{
	test_fresh_dir(work);
	char *cache = vms_xasprintf("%s/cache", work), *mode;
	char *p;

	p = vms_xasprintf("%s/gm_plain.bpf.c", fixtures);
	CHECK(build_mode(clang, vmlinux, p, cache, work, "gm_plain", &mode) == 1,
	      "no CO-RE, no header type in BTF: -gmodules expected, got '%s'", mode);
	free(mode), free(p);

	p = vms_xasprintf("%s/gm_map.bpf.c", fixtures);
	CHECK(build_mode(clang, vmlinux, p, cache, work, "gm_map", &mode) == 0 &&
		      strstr(mode, "file_ra_state"),
	      "a map of a header type: -gmodules must be rejected, got '%s'", mode);
	free(mode);
	CHECK(build_mode(clang, vmlinux, p, cache, work, "gm_map_again", &mode) == 0 &&
		      strstr(mode, "rejected"),
	      "the rejection is remembered: '%s'", mode);
	free(mode), free(p);

	p = vms_xasprintf("%s/core_nopai.bpf.c", fixtures);
	CHECK(build_mode(clang, vmlinux, p, cache, work, "core_nopai", &mode) == 0 &&
		      strstr(mode, "CO-RE"),
	      "BPF_CORE_READ without the pragma is still CO-RE: '%s'", mode);
	free(mode), free(p);

	p = vms_xasprintf("%s/execsnoop.bpf.c", progs);
	CHECK(build_mode(clang, vmlinux, p, cache, work, "execsnoop", &mode) == 0 &&
		      strstr(mode, "BPF_NO_PRESERVE_ACCESS_INDEX"),
	      "the default vmlinux.h is CO-RE: '%s'", mode);
	free(mode), free(p);

	p = vms_xasprintf("%s/preamble.bpf.c", fixtures);
	build_mode(clang, vmlinux, p, cache, work, "preamble", &mode);
	CHECK(strstr(mode, "PCH"), "preamble #defines keep the PCH path: '%s'", mode);
	free(mode), free(p);

	p = vms_xasprintf("%s/not_first.bpf.c", fixtures);
	build_mode(clang, vmlinux, p, cache, work, "not_first", &mode);
	CHECK(strstr(mode, "plain"), "code before the include: plain build expected, got '%s'", mode);
	free(mode), free(p);

	printf("--gmodules=always on a CO-RE program: clang crashes, the build falls back\n");
	p = vms_xasprintf("%s/core_nopai.bpf.c", fixtures);
	char *out = vms_xasprintf("%s/always.o", work);
	const char *none[] = { NULL };
	struct vms_build_opts o = { .source = p, .output = out, .header = vmlinux, .flags = none,
				    .clang = clang, .cache_dir = cache,
				    .gmodules = VMS_GMODULES_ALWAYS };
	struct vms_build_result r;
	struct vms_diags d = { 0 };
	CHECK(vms_build(&o, &r, &d) == 0 && !r.used_gmodules, "always: %s", r.mode);
	printf("  always: %s\n", r.mode);
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(out), free(p), free(cache);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_pch CASE ARGS...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *c = argv[1];
	int rc = 2;
	if (!strcmp(c, "unit") && argc == 2)
		rc = t_unit();
	else if (!strcmp(c, "stale") && argc == 6)
		rc = t_stale(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(c, "compiler") && argc == 7)
		rc = t_compiler(argv[2], argv[3], argv[4], argv[5], argv[6]);
	else if (!strcmp(c, "corrupt") && argc == 6)
		rc = t_corrupt(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(c, "parallel") && argc == 6)
		rc = t_parallel(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(c, "gmodules") && argc == 7)
		rc = t_gmodules(argv[2], argv[3], argv[4], argv[5], argv[6]);
	else
		fprintf(stderr, "test_pch: bad arguments for '%s'\n", c);
	return rc ? rc : test_exit();
}
