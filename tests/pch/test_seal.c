/* test_seal: the daemon's side of the PCH path — seals instead of trusting size and
 * mtime, the inline-assembly audit, and builds inside the OS sandbox.
 *
 *   test_seal seal     CLANG VMLINUX PROG WORKDIR        corrupted in place / swapped PCH,
 *                                                        header rewritten, with and without
 *                                                        a seal from before
 *   test_seal audit    CLANG PROGS_DIR FIXTURES VMLINUX WORKDIR [CLANG2]   two-step objects
 *                                                        byte-identical; refused directives
 *   test_seal sandbox  CLANG VMLINUX FIXTURES WORKDIR    a sandboxed build: same object, no
 *                                                        file outside read, no reproducers
 *
 * Exit 0 pass, 1 fail, 77 skip (no sandbox mechanism on this machine). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bpfobj/bpfobj.h"
#include "common/sandbox.h"
#include "pch/internal.h"
#include "pch/pch.h"
#include "tests/testutil.h"

static int same_bytes(const char *a, const char *b)
{
	char *x, *y;
	size_t xl, yl;
	if (vms_read_file(a, &x, &xl) < 0)
		return 0;
	if (vms_read_file(b, &y, &yl) < 0) {
		free(x);
		return 0;
	}
	int same = xl == yl && !memcmp(x, y, xl);
	free(x), free(y);
	return same;
}

/* Writes bytes over a file in place (same inode, so ctime moves), putting its mtime back. */
static void overwrite_keep_mtime(const char *file, const char *data, size_t len, long off)
{
	struct stat st;
	stat(file, &st);
	int fd = open(file, O_WRONLY);
	if (fd < 0 || pwrite(fd, data, len, off) != (ssize_t)len) {
		printf("cannot write %s\n", file);
		exit(1);
	}
	close(fd);
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	utimensat(AT_FDCWD, file, ts, 0);
}

/* Until the PCH's ctime lies VMS_PCH_SEAL_SETTLE_NS in the past: only then does a seal
 * taken of it vouch. */
static void settle(const char *pch)
{
	struct stat st;
	stat(pch, &st);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long long wait = st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec +
			 VMS_PCH_SEAL_SETTLE_NS + 100000000LL -
			 (now.tv_sec * 1000000000LL + now.tv_nsec);
	if (wait > 0) {
		struct timespec ts = { wait / 1000000000LL, wait % 1000000000LL };
		nanosleep(&ts, NULL);
	}
}

struct run {
	int rc, rebuilt, hashed, used_pch;
	struct vms_pch_seal seal;
	char *pch;
};

static void build(const char *clang, const char *header, const char *prog, const char *out,
		  const char *cache, const struct vms_pch_seal *seal_in, size_t min, int no_pch,
		  struct run *x)
{
	struct vms_build_opts o = { .source = prog, .output = out, .header = header,
				    .clang = clang, .cache_dir = cache, .pch_seal_in = seal_in,
				    .pch_min_bytes = min, .no_pch = no_pch,
				    .gmodules = VMS_GMODULES_NEVER };
	struct vms_build_result r;
	struct vms_diags d = { 0 };
	x->rc = vms_build(&o, &r, &d);
	if (x->rc != 0) {
		vms_diags_print(stdout, &d);
		printf("%s", r.clang_stderr);
	}
	x->rebuilt = r.pch_rebuilt;
	x->hashed = r.pch_hashed;
	x->used_pch = r.used_pch;
	x->seal = r.pch_seal;
	free(x->pch);
	x->pch = r.pch_path ? vms_xstrdup(r.pch_path) : NULL;
	printf("  %s: rc %d, %s%s%s%s\n", vms_basename(out), x->rc, r.mode,
	       r.pch_rebuilt ? " [PCH rebuilt]" : "", r.pch_hashed ? " [PCH hashed]" : "",
	       r.pch_seal.valid ? " [seal valid]" : "");
	vms_build_result_free(&r);
	vms_diags_free(&d);
}

/* ---- seals ---- */

static int t_seal_vmlinux(const char *clang, const char *vmlinux, const char *prog, const char *work)
{
	char *inc = vms_xasprintf("%s/inc", work), *cache = vms_xasprintf("%s/cache", work);
	vms_mkdir_p(inc, 0755);
	char *header = vms_xasprintf("%s/vmlinux.h", inc);
	char *text;
	size_t len;
	if (vms_read_file(vmlinux, &text, &len) < 0 ||
	    vms_write_file_atomic(header, text, len, 0644) < 0)
		return 1;
	free(text);
	char *out = vms_xasprintf("%s/p.o", work), *ref = vms_xasprintf("%s/plain.o", work);
	struct run x = { 0 }, p = { 0 };
	build(clang, header, prog, ref, cache, NULL, 0, 1, &p);
	CHECK(p.rc == 0, "plain build");

	printf("first build: the PCH is built, its seal too new to vouch\n");
	build(clang, header, prog, out, cache, NULL, 0, 0, &x);
	CHECK(x.rc == 0 && x.used_pch && x.rebuilt && !x.seal.valid, "first build");
	settle(x.pch);
	build(clang, header, prog, out, cache, &x.seal, 0, 0, &x);
	CHECK(x.rc == 0 && !x.rebuilt && x.hashed && x.seal.valid, "settled: hashed, valid seal");
	struct vms_pch_seal good = x.seal;
	build(clang, header, prog, out, cache, &good, 0, 0, &x);
	CHECK(x.rc == 0 && !x.rebuilt && !x.hashed && x.seal.valid, "a valid seal skips the hash");
	CHECK(same_bytes(out, ref), "the object through a sealed PCH differs from the plain one");

	for (int with_seal = 0; with_seal < 2; with_seal++) {
		printf("PCH corrupted in place (same size, mtime restored), %s\n",
		       with_seal ? "the old seal passed" : "no seal");
		struct stat st;
		stat(x.pch, &st);
		char junk[64];
		memset(junk, 0x5a + with_seal, sizeof(junk));
		overwrite_keep_mtime(x.pch, junk, sizeof(junk), (long)st.st_size / 2);
		build(clang, header, prog, out, cache, with_seal ? &good : NULL, 0, 0, &x);
		CHECK(x.rc == 0 && x.rebuilt, "a corrupted PCH must be rebuilt");
		CHECK(same_bytes(out, ref), "object after the rebuild differs from the plain one");
		settle(x.pch);
		build(clang, header, prog, out, cache, NULL, 0, 0, &x);
		good = x.seal;
	}
	free(x.pch), free(p.pch);
	free(inc), free(cache), free(header), free(out), free(ref);
	return 0;
}

/* Two versions of a header of the same size whose struct has its field at offset 12 or
 * 16: a PCH of one taken for the other gives a wrong object (issue 10). */
static const char hdr_fmt[] =
	"#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"
	"struct ev { int pad[%d]; int field; };\n"
	"typedef unsigned int __u32;\n#endif\n";
static const char prog_text[] =
	"#include \"vmlinux.h\"\n"
	"__attribute__((section(\"license\"), used)) char LICENSE[] = \"GPL\";\n"
	"__attribute__((section(\"tp/x\"), used)) int f(struct ev *e) { return e->field; }\n";

static void write_header(const char *path, int pad)
{
	char *t = vms_xasprintf(hdr_fmt, pad);
	struct stat st;
	int had = stat(path, &st) == 0;
	int fd = open(path, O_WRONLY | O_CREAT, 0644); /* in place: same inode */
	if (fd < 0 || pwrite(fd, t, strlen(t), 0) != (ssize_t)strlen(t)) {
		printf("cannot write %s\n", path);
		exit(1);
	}
	close(fd);
	if (had) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		utimensat(AT_FDCWD, path, ts, 0);
	}
	free(t);
}

static int t_seal_swap(const char *clang, const char *work)
{
	char *inc = vms_xasprintf("%s/swap", work);
	vms_mkdir_p(inc, 0755);
	char *header = vms_xasprintf("%s/vmlinux.h", inc), *prog = vms_xasprintf("%s/ev.bpf.c", inc);
	char *ca = vms_xasprintf("%s/cache-a", work), *cb = vms_xasprintf("%s/cache-b", work);
	char *out = vms_xasprintf("%s/ev.o", work), *ref3 = vms_xasprintf("%s/ev3.o", work);
	char *ref4 = vms_xasprintf("%s/ev4.o", work), *pchb = vms_xasprintf("%s/b.pch", work);
	vms_write_file_atomic(prog, prog_text, strlen(prog_text), 0644);
	struct run a = { 0 }, b = { 0 }, p = { 0 };

	write_header(header, 4);
	build(clang, header, prog, ref4, ca, NULL, 0, 1, &p);
	write_header(header, 3);
	build(clang, header, prog, ref3, ca, NULL, 0, 1, &p);
	CHECK(p.rc == 0 && !same_bytes(ref3, ref4), "the two header versions give one object");

	printf("PCH of version 3 (offset 12), settled, sealed\n");
	build(clang, header, prog, out, ca, NULL, 1, 0, &a);
	CHECK(a.rc == 0 && a.used_pch && same_bytes(out, ref3), "version 3 through its PCH");
	settle(a.pch);
	build(clang, header, prog, out, ca, NULL, 1, 0, &a);
	struct vms_pch_seal seal = a.seal;
	CHECK(seal.valid, "no valid seal");

	printf("a PCH of version 4 (offset 16) of the same size swapped in, mtime restored\n");
	write_header(header, 4);
	build(clang, header, prog, out, cb, NULL, 1, 0, &b);
	CHECK(b.rc == 0 && same_bytes(out, ref4), "version 4 through its PCH");
	write_header(header, 3);
	char *bytes;
	size_t blen;
	struct stat st;
	CHECK(vms_read_file(b.pch, &bytes, &blen) == 0 && stat(a.pch, &st) == 0 &&
	      (size_t)st.st_size == blen, "the PCHs of the two versions differ in size (%zu, %lld)",
	      blen, (long long)st.st_size);
	if ((size_t)st.st_size == blen)
		overwrite_keep_mtime(a.pch, bytes, blen, 0);
	free(bytes);
	build(clang, header, prog, out, ca, &seal, 1, 0, &a);
	CHECK(a.rc == 0 && a.rebuilt, "a swapped PCH must be rebuilt");
	CHECK(same_bytes(out, ref3), "a swapped PCH served the wrong object (field offset)");

	printf("the header rewritten at the same size, mtime restored, a valid seal passed\n");
	settle(a.pch);
	build(clang, header, prog, out, ca, NULL, 1, 0, &a);
	seal = a.seal;
	write_header(header, 4);
	build(clang, header, prog, out, ca, &seal, 1, 0, &a);
	CHECK(a.rc == 0 && a.rebuilt, "a rewritten header must rebuild the PCH");
	CHECK(same_bytes(out, ref4), "the rewritten header's object is wrong");
	free(a.pch), free(b.pch), free(p.pch);
	free(inc), free(header), free(prog), free(ca), free(cb), free(out), free(ref3), free(ref4);
	free(pchb);
	return 0;
}

static int t_seal(const char *clang, const char *vmlinux, const char *prog, const char *work)
{
	test_fresh_dir(work);
	int rc = t_seal_vmlinux(clang, vmlinux, prog, work);
	return rc ? rc : t_seal_swap(clang, work);
}

/* ---- the asm audit ---- */

/* Builds prog with and without the audit (and a plain build with it); the objects must
 * be the same bytes. */
static void audit_same(const char *clang, const char *vmlinux, const char *prog,
		       const char *cache, const char *work, enum vms_gmodules_mode gm, int no_pch,
		       int want_bytes)
{
	char *one = vms_xasprintf("%s/one.o", work), *two = vms_xasprintf("%s/two.o", work);
	struct vms_build_opts o = { .source = prog, .output = one, .header = vmlinux, .clang = clang,
				    .cache_dir = cache, .gmodules = gm, .no_pch = no_pch };
	struct vms_build_result r;
	struct vms_diags d = { 0 };
	int rc1 = vms_build(&o, &r, &d);
	char *mode = vms_xstrdup(r.mode);
	vms_build_result_free(&r);
	o.output = two;
	o.audit_asm = 1;
	int rc2 = vms_build(&o, &r, &d);
	CHECK(rc1 == 0 && rc2 == 0, "%s: builds -> %d, %d: %s", prog, rc1, rc2, r.clang_stderr);
	vms_diags_print(stdout, &d);
	int same = same_bytes(one, two), equal = same || vms_obj_compare(one, two, &d) == 0;
	printf("  %-28s %-50.50s %s\n", vms_basename(prog), mode,
	       same ? "byte-identical" : equal ? "same object, BTF type ids in another order"
					: "DIFFERENT");
	CHECK(same || !want_bytes, "%s: the two-step object's bytes differ", prog);
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(mode), free(one), free(two);
}

struct refusal {
	const char *what, *text, *directive;
	int line, line_g0;	/* with -g, and without: from a macro, only !dbg knows */
};

static const struct refusal refusals[] = {
	{ "file scope", "#include \"vmlinux.h\"\nint x;\n__asm__(\".incbin \\\"/etc/hostname\\\"\");\n",
	  ".incbin", 3, 3 },
	{ "in a function, between push/popsection",
	  "#include \"vmlinux.h\"\nint f(void)\n{\n\tasm volatile(\".pushsection .data\\n\"\n"
	  "\t\t\".incbin \\\"/etc/hostname\\\"\\n\"\n\t\t\".popsection\");\n\treturn 0;\n}\n",
	  ".incbin", 5, 5 },
	{ "made by a macro, upper case",
	  "#include \"vmlinux.h\"\n#define S(x) #x\n#define D(a, b) S(a##b)\n"
	  "int f(void)\n{\n\tasm volatile(D(.INC, BIN) \" \\\"/etc/hostname\\\"\");\n\treturn 0;\n}\n",
	  ".incbin", 6, 0 },
	{ ".include", "#include \"vmlinux.h\"\n__asm__(\".include \\\"/etc/hostname\\\"\");\n",
	  ".include", 2, 2 },
	{ ".macro", "#include \"vmlinux.h\"\nint f(void)\n{\n\tasm volatile(\".macro m\\n.endm\");\n"
		    "\treturn 0;\n}\n", ".macro", 4, 4 },
	{ ".irpc", "#include \"vmlinux.h\"\nint f(void)\n{\n\tasm volatile(\".irpc c,ab\\n.endr\");\n"
		   "\treturn 0;\n}\n", ".irpc", 4, 4 },
};

static int t_audit(const char *clang, const char *progs_dir, const char *fixtures,
		   const char *vmlinux, const char *work, const char *clang2)
{
	test_fresh_dir(work);
	char *cache = vms_xasprintf("%s/cache", work);
	/* unit: IR strings with \XX escapes */
	struct pch_asm_finding f;
	static const char ir1[] = "module asm \"\\2EInCbIn \\22/x\\22\"\n";
	CHECK(pch_ir_audit(ir1, strlen(ir1), "", 0, &f) && !strcmp(f.directive, ".incbin"),
	      "escaped .incbin in module asm");
	static const char ir2[] = "  %1 = call i32 asm sideeffect \"r0 = 1; .rept 2\\0A.endr\", \"=r\"()\n"
				  "  call void asm \"\", \"\"(), !srcloc !3\n";
	CHECK(!pch_ir_audit(ir2, strlen(ir2), "", 0, &f), "harmless asm refused");
	static const char ir3[] = "  call void asm sideeffect \".inc$0\", \"X\"(ptr @bin)\n";
	CHECK(pch_ir_audit(ir3, strlen(ir3), "", 0, &f), "a directive glued to an operand");

	/* clang 14 gives the very same bytes. clang 19 does not, once the IR went through a
	 * file (text or bitcode, with use-lists kept or not, value names discarded or not):
	 * of 17 programs 7 are byte-identical, 8 differ only in the order of BTF type ids
	 * and 2 (tc_mark, xdp_filter) have two stack slots swapped. For a second compiler
	 * the outcome is reported, not checked. */
	printf("two-step builds (frontend to IR, backend on it) = one-step builds\n");
	const char *clangs[] = { clang, clang2 };
	for (int k = 0; k < 2 && clangs[k]; k++) {
		char *pat = vms_xasprintf("%s/*.bpf.c", progs_dir);
		glob_t g;
		if (glob(pat, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				audit_same(clangs[k], vmlinux, g.gl_pathv[i], cache, work,
					   VMS_GMODULES_NEVER, 0, k == 0);
			globfree(&g);
		}
		free(pat);
		char *asm_ok = vms_xasprintf("%s/asm_ok.bpf.c", fixtures);
		char *gm = vms_xasprintf("%s/gm_plain.bpf.c", fixtures);
		audit_same(clangs[k], vmlinux, asm_ok, cache, work, VMS_GMODULES_NEVER, 0, k == 0);
		audit_same(clangs[k], vmlinux, asm_ok, cache, work, VMS_GMODULES_NEVER, 1, k == 0);
		audit_same(clangs[k], vmlinux, gm, cache, work, VMS_GMODULES_AUTO, 0, k == 0);
		free(asm_ok), free(gm);
	}

	printf("refused directives, with and without -g\n");
	char *src = vms_xasprintf("%s/evil.bpf.c", work), *out = vms_xasprintf("%s/evil.o", work);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		for (int nog = 0; nog < 2; nog++) {
			const struct refusal *c = &refusals[i];
			vms_write_file_atomic(src, c->text, strlen(c->text), 0644);
			unlink(out);
			const char *g0[] = { "-g0", NULL };
			struct vms_build_opts o = { .source = src, .output = out, .header = vmlinux,
						    .clang = clang, .cache_dir = cache,
						    .flags = nog ? g0 : NULL, .audit_asm = 1 };
			struct vms_build_result r;
			struct vms_diags d = { 0 };
			int rc = vms_build(&o, &r, &d);
			const struct vms_diag *e = d.n ? &d.v[0] : NULL;
			char *want = vms_xasprintf("refused: assembler directive %s", c->directive);
			printf("  %s%s: rc %d, %s:%d: %s\n", c->what, nog ? " (-g0)" : "", rc,
			       e && e->file ? e->file : "?", e ? e->line : -1, e ? e->msg : "(none)");
			CHECK(rc == 3 && e && e->msg && strstr(e->msg, want) && e->file &&
				      !strcmp(e->file, src) && access(out, F_OK) < 0,
			      "%s: not refused as expected", c->what);
			int line = nog ? c->line_g0 : c->line;
			CHECK(!e || e->line == line, "%s: line %d, expected %d", c->what,
			      e ? e->line : -1, line);
			free(want);
			vms_build_result_free(&r);
			vms_diags_free(&d);
		}
	free(src), free(out), free(cache);
	return 0;
}

/* ---- the sandbox ---- */

static int t_sandbox(const char *clang, const char *vmlinux, const char *fixtures, const char *work)
{
	unsigned mech = vms_sandbox_probe();
	if (!mech)
		return test_skip("no sandbox mechanism available here");
	char desc[128];
	vms_sandbox_describe(mech, desc, sizeof(desc));
	printf("sandbox: %s\n", desc);
	test_fresh_dir(work);
	char *cache = vms_xasprintf("%s/cache", work), *job = vms_xasprintf("%s/job", work);
	char *root = vms_xasprintf("%s/root", work), *tmp = vms_xasprintf("%s/tmp", work);
	char *secret = vms_xasprintf("%s/secret.txt", work);
	vms_mkdir_p(job, 0755), vms_mkdir_p(root, 0755), vms_mkdir_p(tmp, 0755);
	vms_write_file_atomic(secret, "SECRET-MARKER-4711\n", 19, 0644);
	struct vms_compiler cc;
	struct vms_diags d = { 0 };
	CHECK(vms_compiler_identify(clang, cache, &cc, &d) == 0, "identify");
	/* what clang needs to run: itself, its libraries, its resource directory, libbpf */
	struct vms_argv read = { 0 };
	vms_sandbox_program_files(cc.path, &read);
	struct vms_proc_result pr;
	char *av[] = { cc.path, "-print-resource-dir", NULL };
	if (vms_run(av, NULL, 0, 10000, &pr) == 0) {
		pr.out[strcspn(pr.out, "\n")] = 0;
		vms_argv_push(&read, pr.out);
		vms_proc_result_free(&pr);
	}
	vms_argv_push(&read, "/usr/include/bpf");
	const char *write[] = { job, tmp, NULL };
	struct vms_sandbox sb = { .read = (const char *const *)read.v, .write = write, .mech = mech,
				  .root = root, .cwd = job };

	char *prog = vms_xasprintf("%s/asm_ok.bpf.c", fixtures);
	char *text;
	size_t len;
	vms_read_file(prog, &text, &len);
	char *src = vms_xasprintf("%s/prog.bpf.c", job), *out = vms_xasprintf("%s/out.o", job);
	char *ref = vms_xasprintf("%s/ref.o", work);
	vms_write_file_atomic(src, text, len, 0644);
	free(text);
	/* the same compilation directory in and out of the sandbox (which runs in job/) */
	const char *fl[] = { "-fdebug-compilation-dir=.", NULL };
	struct vms_build_opts o = { .source = src, .output = ref, .header = vmlinux, .clang = clang,
				    .cache_dir = cache, .flags = fl };
	struct vms_build_result r;
	CHECK(vms_build(&o, &r, &d) == 0, "unsandboxed build: %s", r.clang_stderr);
	vms_build_result_free(&r);
	o.output = out;
	o.sandbox = &sb;
	for (int audit = 0; audit < 2; audit++) {
		o.audit_asm = audit;
		int rc = vms_build(&o, &r, &d);
		printf("  sandboxed%s: rc %d, %s\n", audit ? ", audited" : "", rc, r.mode);
		CHECK(rc == 0 && r.used_pch, "sandboxed build: %s", r.clang_stderr);
		CHECK(same_bytes(out, ref), "the sandboxed object differs");
		vms_build_result_free(&r);
	}
	vms_diags_print(stdout, &d);
	vms_diags_free(&d);

	printf("the OS layer alone (no audit): .incbin of a file outside reads nothing\n");
	char *evil = vms_xasprintf("#include \"vmlinux.h\"\n__asm__(\".pushsection .data\\n"
				   ".incbin \\\"%s\\\"\\n.popsection\");\n", secret);
	vms_write_file_atomic(src, evil, strlen(evil), 0644);
	unlink(out);
	o.audit_asm = 0;
	setenv("TMPDIR", tmp, 1);
	int rc = vms_build(&o, &r, &d);
	char *obj = NULL;
	size_t olen = 0;
	int leaked = rc == 0 && vms_read_file(out, &obj, &olen) == 0 &&
		     memmem(obj, olen, "SECRET-MARKER", 13);
	printf("  rc %d, %s\n", rc, leaked ? "LEAKED" : "nothing read");
	CHECK(!leaked && rc != 0, "the sandbox let .incbin read %s", secret);
	CHECK(strstr(r.clang_stderr, secret) || rc != 0, "no error from clang");
	free(obj);
	vms_build_result_free(&r);
	vms_diags_free(&d);

	printf("clang crashing in the sandbox (-gmodules on CO-RE) leaves no reproducer\n");
	char *core = vms_xasprintf("%s/core_nopai.bpf.c", fixtures);
	vms_read_file(core, &text, &len);
	vms_write_file_atomic(src, text, len, 0644);
	free(text);
	o.gmodules = VMS_GMODULES_ALWAYS;
	rc = vms_build(&o, &r, &d);
	printf("  rc %d, %s\n", rc, r.mode);
	vms_build_result_free(&r);
	vms_diags_free(&d);
	unsetenv("TMPDIR");
	DIR *dh = opendir(tmp);
	struct dirent *e;
	int left = 0;
	while (dh && (e = readdir(dh)))
		left += e->d_name[0] != '.';
	if (dh)
		closedir(dh);
	CHECK(left == 0, "%d files left in TMPDIR (crash reproducers?)", left);
	vms_argv_free(&read);
	vms_compiler_free(&cc);
	free(cache), free(job), free(root), free(tmp), free(secret), free(prog), free(src), free(out);
	free(ref), free(evil), free(core);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	int rc = 2;
	if (!strcmp(c, "seal") && argc == 6)
		rc = t_seal(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(c, "audit") && (argc == 7 || argc == 8))
		rc = t_audit(argv[2], argv[3], argv[4], argv[5], argv[6], argc == 8 ? argv[7] : NULL);
	else if (!strcmp(c, "sandbox") && argc == 6)
		rc = t_sandbox(argv[2], argv[3], argv[4], argv[5]);
	else
		fprintf(stderr, "test_seal: bad arguments\n");
	return rc ? rc : test_exit();
}
