/* Tests of tccarena/ and the fast checker, on real inputs: Debian's libtcc, the vmlinux.h
 * of both pinned BTFs, the project's BPF programs (every tests/progs/NAME.bpf.c,
 * listed at run time), clang -fsyntax-only -target bpf as the reference, real fork/crash/timeout.
 *
 *   test_check unit HEADERS VMLINUX FIXTURES WORK      arena, preamble, wire, verdicts, staleness,
 *                                                       LRU, confinement, header swap
 *   test_check progs HEADERS PROGS VMLINUX...           no false errors (snapshot and
 *                                                       in-process agree)
 *   test_check slim HEADERS PROGS VMSLIM VMLINUX WORK   each program against its slim header
 *   test_check errors HEADERS PROGS VMLINUX TABLE       injected errors: same line as clang
 *   test_check robust HEADERS PROGS VMLINUX             1,000 mixed requests, one snapshot
 *
 * No assertion depends on wall-clock time; time limits only bound pathological inputs.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "tccarena/internal.h" /* the wire format, for test_wire */
#include "tccarena/tccarena.h"
#include "exact/exact.h"
#include "tests/testutil.h"

static void xwrite(const char *path, const char *s)
{
	if (vms_write_file_atomic(path, s, strlen(s), 0644) < 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* tests/progs/NAME.bpf.c, sorted: whatever programs the project has when the test runs */
static char **list_progs(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s\n", dir);
		exit(1);
	}
	struct vms_argv v = { 0 };
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l > 6 && !strcmp(e->d_name + l - 6, ".bpf.c"))
			vms_argv_pushf(&v, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (v.n)
		qsort(v.v, v.n, sizeof(char *), cmp_str);
	*n = v.n;
	return v.v;
}

static void free_progs(char **progs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(progs[i]);
	free(progs);
}

static const char *defines_x86[] = { "__TARGET_ARCH_x86", NULL };

/* a checker for programs that #include "vmlinux.h": header is the file to use for it */
static struct vms_tcc_checker *new_checker(const char *headers, const char *header,
					   struct vms_tcc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->headers_dir = headers;
	o->vmlinux_header = header;
	o->defines = defines_x86;
	struct vms_tcc_checker *c;
	struct vms_diags d = { 0 };
	if (vms_tcc_checker_new(o, &c, &d) < 0) {
		vms_diags_print(stderr, &d);
		exit(1);
	}
	vms_diags_free(&d);
	return c;
}

static int check_src(struct vms_tcc_checker *c, const char *src, const char *name,
		     struct vms_tcc_result *r)
{
	struct vms_tcc_request req = { .source = src, .len = strlen(src), .file_name = name };
	return vms_tcc_check(c, &req, r);
}

static int first_error_line(const struct vms_diags *d, const char *file)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == VMS_ERROR && d->v[i].file && !strcmp(d->v[i].file, file))
			return d->v[i].line;
	return -1;
}

static void dump(const struct vms_tcc_result *r)
{
	fprintf(stderr, "  status %s\n", vms_tcc_status_name(r->status));
	vms_diags_print(stderr, &r->diags);
}

/* ==== unit ========================================================================== */

static void test_preamble(void)
{
	struct {
		const char *src, *preamble;
	} cases[] = {
		{ "#include \"a.h\"\nint x;\n", "#include \"a.h\"\n" },
		{ "// c\n\n#include <b.h>\n#define X 1\n/* multi\n line */\nstruct s;\n",
		  "// c\n\n#include <b.h>\n#define X 1\n/* multi\n line */\n" },
		/* a comment that ends on a line with code: cut before the comment */
		{ "#include \"a.h\"\n/* one\n two */ int x;\n", "#include \"a.h\"\n" },
		/* an #if still open where code starts: cut before it */
		{ "#include \"a.h\"\n#ifdef X\nint x;\n#endif\n", "#include \"a.h\"\n" },
		{ "#include \"a.h\"\n#ifdef X\n#define Y\n#endif\nint x;\n",
		  "#include \"a.h\"\n#ifdef X\n#define Y\n#endif\n" },
		/* continuation lines and a comment opener inside a string stay in the directive */
		{ "#define A(x) \\\n  (x)\n#define S \"/*\"\nint y;\n",
		  "#define A(x) \\\n  (x)\n#define S \"/*\"\n" },
		{ "int x;\n", "" },
		{ "#include \"a.h\"", "#include \"a.h\"" },
		/* splices: in a name, before a code line (the cut stays before the splice, at
		 * a line's start), continuing a // comment over a would-be #ifdef */
		{ "#ifdef X\n#define Y\n#end\\\nif\nint x;\n", "#ifdef X\n#define Y\n#end\\\nif\n" },
		{ "#include \"a.h\"\n\\\nint x;\n", "#include \"a.h\"\n" },
		{ "// c \\\n#ifdef X\nint y;\n#endif\n", "// c \\\n#ifdef X\n" },
		/* TCC reads a comment between '#' and the name as blank: the #if is open */
		{ "#include \"a.h\"\n#/**/ifdef X\nint x;\n#endif\n", "#include \"a.h\"\n" },
		/* directives inside comments are none; a header name holds no comment */
		{ "/*\n#include <x.h>\n#ifdef X\n*/\nint x;\n", "/*\n#include <x.h>\n#ifdef X\n*/\n" },
		{ "#include \"a.h\" /* #ifdef X */\n// #if 1\nint x;\n",
		  "#include \"a.h\" /* #ifdef X */\n// #if 1\n" },
		{ "#include <a/*b.h>\nint x;\n", "#include <a/*b.h>\n" },
		/* a comment open at the end stays in the body */
		{ "#include \"a.h\"\n/* open\n", "#include \"a.h\"\n" },
		{ "#include \"a.h\"\n#define A /* open\n#define B\n", "#include \"a.h\"\n" },
		/* CRLF: lines and splices as with LF */
		{ "#include \"a.h\"\r\n#ifdef X\r\n#define Y \\\r\n 1\r\n#endif\r\nint x;\r\n",
		  "#include \"a.h\"\r\n#ifdef X\r\n#define Y \\\r\n 1\r\n#endif\r\n" },
		{ "#include \"a.h\"\r\n#ifdef X\r\nint x;\r\n#endif\r\n", "#include \"a.h\"\r\n" },
		/* what TCC reads otherwise than clang: no preamble for a BOM (TCC: identifier
		 * bytes), a lone CR (TCC: a blank, so the #define below swallows `int y;`) or a
		 * backslash and blanks before the newline (TCC: no splice); the digraph %: is
		 * a code line to TCC */
		{ "\xef\xbb\xbf#include \"a.h\"\nint x;\n", "" },
		{ "\xef\xbb\xbf#include \"a.h\"\n", "" },
		{ "#include \"a.h\"\n#define X 1\rint y;\nint x = X;\n", "" },
		{ "#include \"a.h\"\n#define X 1 \\ \n 2\nint x;\n", "" },
		{ "#include \"a.h\"\n%:define X 1\nint x;\n", "#include \"a.h\"\n" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = vms_tcc_preamble_len(cases[i].src, strlen(cases[i].src));
		CHECK(n == strlen(cases[i].preamble) && !strncmp(cases[i].src, cases[i].preamble, n),
		      "preamble %zu: got %zu bytes, want %zu", i, n, strlen(cases[i].preamble));
	}
}

/* the arena through a whole in-process check, many times over: same answers as glibc */
static void test_inprocess(const char *headers, const char *vmlinux, const char *fixtures)
{
	struct vms_tcc_opts o = { .headers_dir = headers, .vmlinux_header = vmlinux,
				  .defines = defines_x86 };
	char *good = vms_xasprintf("%s/good.bpf.c", fixtures);
	char *bad = vms_xasprintf("%s/bad_field.bpf.c", fixtures);
	char *gs = test_slurp(good), *bs = test_slurp(bad);
	struct vms_arena_stats a0, a1;
	vms_tcc_arena_stats(&a0);
	for (int i = 0; i < 6; i++) {
		enum vms_tcc_alloc alloc = i % 3 == 2 ? VMS_TCC_ALLOC_LIBC : VMS_TCC_ALLOC_ARENA;
		const char *src = i % 2 ? bs : gs, *name = i % 2 ? bad : good;
		struct vms_tcc_request req = { .source = src, .len = strlen(src), .file_name = name };
		struct vms_tcc_result r;
		CHECK(vms_tcc_check_inprocess(&o, alloc, &req, &r) == 0, "in-process check ran");
		if (i % 2) {
			CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags, bad) == 12,
			      "in-process (%s) bad_field: error on line 12",
			      alloc == VMS_TCC_ALLOC_ARENA ? "arena" : "libc");
		} else {
			CHECK(r.status == VMS_TCC_OK, "in-process (%s) good: ok",
			      alloc == VMS_TCC_ALLOC_ARENA ? "arena" : "libc");
		}
		if (failures)
			dump(&r);
		vms_tcc_result_free(&r);
	}
	vms_tcc_arena_stats(&a1);
	CHECK(a1.resets >= a0.resets + 4, "the arena was reset after each arena check");
	CHECK(a1.in_use == 0, "nothing in use after a reset (%zu)", a1.in_use);
	CHECK(a1.peak > (size_t)1 << 20, "the arena held TCC's heap (peak %zu)", a1.peak);
	CHECK(a1.reallocs_in_place > 0, "realloc grew blocks in place");

	/* the cap is a clean error, not an abort */
	struct vms_tcc_request req = { .source = gs, .len = strlen(gs), .file_name = good,
				       .mem_limit = 256 << 10 };
	struct vms_tcc_result r;
	vms_tcc_check_inprocess(&o, VMS_TCC_ALLOC_ARENA, &req, &r);
	CHECK(r.status == VMS_TCC_MEMORY, "a 256 KiB cap: memory (got %s)",
	      vms_tcc_status_name(r.status));
	vms_tcc_result_free(&r);
	vms_tcc_arena_stats(&a1);
	CHECK(a1.cap_hits > 0, "the cap refused an allocation");
	free(gs), free(bs), free(good), free(bad);
}

struct expect {
	const char *fixture;
	enum vms_tcc_status status;
	int line;		/* the first error's (or note's) line; 0: none expected */
	int col;		/* the first error's column, as clang 14 says; 0: not asserted */
};

/* fixtures with known verdicts, through the snapshot checker */
static void test_fixtures(const char *headers, const char *vmlinux, const char *fixtures)
{
	static const struct expect ex[] = {
		{ "good.bpf.c", VMS_TCC_OK, 0, 0 },
		{ "bad_field.bpf.c", VMS_TCC_ERRORS, 12, 14 },
		{ "bad_inline.bpf.c", VMS_TCC_ERRORS, 8, 12 },	/* in an unused static inline */
		{ "bad_last_line.bpf.c", VMS_TCC_ERRORS, 10, 0 }, /* missing ';' at the very end */
		{ "bad_include.bpf.c", VMS_TCC_ERRORS, 3, 0 },	/* in the preamble */
		/* clang 14 warns, clang 16 rejects: not ours to judge */
		{ "implicit_decl.bpf.c", VMS_TCC_UNSUPPORTED, 7, 0 },
		/* what clang accepts must never be an error (issue 11) */
		{ "uapi_bpf.bpf.c", VMS_TCC_OK, 0, 0 },	/* `__u32 :32;` in <linux/bpf.h> */
		{ "bitfield_typedef.bpf.c", VMS_TCC_UNSUPPORTED, 8, 0 }, /* the same, own */
		{ "const_bound.bpf.c", VMS_TCC_UNSUPPORTED, 8, 0 },	/* clang folds `b[n]` */
		{ "sync_span.bpf.c", VMS_TCC_UNSUPPORTED, 9, 0 },	/* TCC: the call's end */
		/* lines and columns as clang 14 has them, inside the prelude's builtins */
		{ "builtin_lines.bpf.c", VMS_TCC_ERRORS, 9, 27 },	/* TCC said 10 */
		{ "semicolon_sync.bpf.c", VMS_TCC_ERRORS, 9, 8 },	/* TCC said 10 */
		{ "core_macros.bpf.c", VMS_TCC_OK, 0, 0 },	/* every CO-RE builtin and macro */
		{ "enum_value3.bpf.c", VMS_TCC_OK, 0, 0 },	/* newer 3-argument form too */
		{ "no_access_index.bpf.c", VMS_TCC_OK, 0, 0 },	/* #define before vmlinux.h */
		{ "asm_bpf.bpf.c", VMS_TCC_UNSUPPORTED, 9, 0 },
		{ "asm_barrier.bpf.c", VMS_TCC_OK, 0, 0 },	/* asm TCC can take: checked */
		{ "enum_base.bpf.c", VMS_TCC_UNSUPPORTED, 5, 0 },
		{ "static_assert_size.bpf.c", VMS_TCC_UNSUPPORTED, 11, 0 },
		{ "static_assert_plain.bpf.c", VMS_TCC_ERRORS, 6, 0 },
		{ "int128.bpf.c", VMS_TCC_OK, 0, 0 },
		{ "atomics.bpf.c", VMS_TCC_OK, 0, 0 },
		/* libbpf-tools-style programs clang 14 and 19 accept with both headers */
		{ "foreach_map.bpf.c", VMS_TCC_OK, 0, 0 },	/* callbacks, bpf_loop, .rodata */
		{ "kfuncs.bpf.c", VMS_TCC_OK, 0, 0 },	/* __ksym, __kconfig, bitfields */
		{ "inits.bpf.c", VMS_TCC_OK, 0, 0 },	/* anonymous unions, map-in-map */
		{ "gnu_c.bpf.c", VMS_TCC_OK, 0, 0 },	/* case ranges, typeof, packed... */
		{ "lsm_iter.bpf.c", VMS_TCC_OK, 0, 0 },	/* spin lock, timer, iterators */
		{ "tail_call.bpf.c", VMS_TCC_OK, 0, 0 },	/* bpf_tail_call_static (clang-only) */
		{ "has_include.bpf.c", VMS_TCC_UNSUPPORTED, 12, 0 },
		{ "union_cast.bpf.c", VMS_TCC_UNSUPPORTED, 14, 0 },
		{ "bad_stray.bpf.c", VMS_TCC_ERRORS, 8, 1 },	/* TCC says 7 */
		{ "bad_string.bpf.c", VMS_TCC_ERRORS, 6, 17 },	/* TCC says 8 (end of file) */
	};
	struct vms_tcc_opts o;
	struct vms_tcc_checker *c = new_checker(headers, vmlinux, &o);
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		char *path = vms_xasprintf("%s/%s", fixtures, ex[i].fixture);
		char *src = test_slurp(path);
		struct vms_tcc_result r;
		check_src(c, src, path, &r);
		int line = 0, col = 0;
		for (size_t k = 0; k < r.diags.n && !line; k++)
			if (r.diags.v[k].sev != VMS_WARNING && r.diags.v[k].file &&
			    !strcmp(r.diags.v[k].file, path)) {
				line = r.diags.v[k].line;
				col = r.diags.v[k].col;
			}
		int ok = r.status == ex[i].status && line == ex[i].line &&
			 (!ex[i].col || col == ex[i].col);
		CHECK(ok, "%s: want %s at %d:%d, got %s at %d:%d", ex[i].fixture,
		      vms_tcc_status_name(ex[i].status), ex[i].line, ex[i].col,
		      vms_tcc_status_name(r.status), line, col);
		if (!ok)
			dump(&r);
		/* the in-process path gives the same verdict */
		struct vms_tcc_request req = { .source = src, .len = strlen(src), .file_name = path };
		struct vms_tcc_result r2;
		vms_tcc_check_inprocess(&o, VMS_TCC_ALLOC_ARENA, &req, &r2);
		CHECK(r2.status == r.status, "%s: in-process says %s, snapshot %s", ex[i].fixture,
		      vms_tcc_status_name(r2.status), vms_tcc_status_name(r.status));
		vms_tcc_result_free(&r2);
		vms_tcc_result_free(&r);
		free(src);
		free(path);
	}
	vms_tcc_checker_free(c);
}

/* crash, timeout, memory: answered, and the snapshot lives on */
static void test_limits(const char *headers, const char *vmlinux)
{
	struct vms_tcc_opts o;
	struct vms_tcc_checker *c = new_checker(headers, vmlinux, &o);
	const char *pre = "#include \"vmlinux.h\"\n";
	struct vms_buf deep = { 0 };
	vms_buf_printf(&deep, "%sint f(void) { return ", pre);
	for (int i = 0; i < 100000; i++)
		vms_buf_puts(&deep, "(");
	vms_buf_puts(&deep, "1");
	for (int i = 0; i < 100000; i++)
		vms_buf_puts(&deep, ")");
	vms_buf_puts(&deep, "; }\n");
	struct vms_tcc_result r;
	check_src(c, deep.data, "deep.c", &r);
	CHECK(r.status == VMS_TCC_CRASHED, "100,000 nested parentheses crash TCC's parser: %s",
	      vms_tcc_status_name(r.status));
	vms_tcc_result_free(&r);

	/* 2^40 empty statements from 40 lines of macros: pure CPU, no memory */
	struct vms_buf hang = { 0 };
	/* (after a declaration, so that the macros are in the body, not the preamble) */
	vms_buf_printf(&hang, "%sint dummy;\n#define A0 ;\n", pre);
	for (int i = 1; i <= 40; i++)
		vms_buf_printf(&hang, "#define A%d A%d A%d\n", i, i - 1, i - 1);
	vms_buf_puts(&hang, "int f(void) { A40 return 0; }\n");
	struct vms_tcc_request req = { .source = hang.data, .len = hang.len, .file_name = "hang.c",
				       .time_limit_ms = 200 };
	vms_tcc_check(c, &req, &r);
	CHECK(r.status == VMS_TCC_TIMEOUT, "endless macro expansion: timeout, got %s",
	      vms_tcc_status_name(r.status));
	vms_tcc_result_free(&r);

	const char *big = "#include \"vmlinux.h\"\nchar big[1 << 30] = { 1 };\n";
	struct vms_tcc_request breq = { .source = big, .len = strlen(big), .file_name = "big.c",
					.mem_limit = 64 << 20 };
	vms_tcc_check(c, &breq, &r);
	CHECK(r.status == VMS_TCC_MEMORY, "1 GiB initialized array under a 64 MiB cap: memory, got %s",
	      vms_tcc_status_name(r.status));
	vms_tcc_result_free(&r);

	const char *fine = "#include \"vmlinux.h\"\nint ok(struct task_struct *t) { return t->pid; }\n";
	check_src(c, fine, "fine.c", &r);
	CHECK(r.status == VMS_TCC_OK && r.snapshot_hit, "after all that, the same snapshot answers");
	vms_tcc_result_free(&r);
	struct vms_tcc_stats st;
	vms_tcc_checker_stats(c, &st);
	CHECK(st.misses == 1 && st.rebuilds == 0 && st.crashed == 1 && st.timeouts == 1 &&
	      st.memory == 1, "one snapshot built, never rebuilt (misses %llu rebuilds %llu)",
	      (unsigned long long)st.misses, (unsigned long long)st.rebuilds);

	/* a helper killed from outside (the OOM killer, say) is replaced on the next check */
	int killed = 0;
	char *kids;
	size_t klen;
	char *path = vms_xasprintf("/proc/%d/task/%d/children", (int)getpid(), (int)getpid());
	if (vms_read_file(path, &kids, &klen) == 0) {
		for (char *k = strtok(kids, " \n"); k; k = strtok(NULL, " \n"))
			killed += kill(atoi(k), SIGKILL) == 0;
		free(kids);
	}
	free(path);
	CHECK(killed >= 1, "found the helpers to kill");
	/* The first check may still be answered by the dead helper's spare child, which
	 * dies (PR_SET_PDEATHSIG) a moment after its parent; by the second, no process of
	 * the old snapshot is left to answer, so it must have been replaced. */
	for (int i = 0; i < 2; i++) {
		check_src(c, fine, "fine.c", &r);
		CHECK(r.status == VMS_TCC_OK, "after the kill, check %d: %s", i,
		      vms_tcc_status_name(r.status));
		vms_tcc_result_free(&r);
	}
	vms_tcc_checker_stats(c, &st);
	CHECK(st.rebuilds == 1, "a killed helper is replaced, once (%llu)",
	      (unsigned long long)st.rebuilds);
	vms_buf_free(&deep);
	vms_buf_free(&hang);
	vms_tcc_checker_free(c);
}

/* snapshots follow their headers, keys and the LRU bound */
static void test_snapshots(const char *headers, const char *work)
{
	char *dir = vms_xasprintf("%s/snap", work);
	test_fresh_dir(dir);
	char *hdr = vms_xasprintf("%s/mine.h", dir);
	char *prog = vms_xasprintf("%s/p.c", dir);
	xwrite(hdr, "struct mine { int a; };\n");
	const char *src = "#include \"mine.h\"\nint f(struct mine *m) { return m->b; }\n";
	struct vms_tcc_opts o = { .headers_dir = headers, .max_snapshots = 2 };
	struct vms_tcc_checker *c;
	struct vms_diags d = { 0 };
	CHECK(vms_tcc_checker_new(&o, &c, &d) == 0, "checker");
	struct vms_tcc_result r;
	check_src(c, src, prog, &r);
	CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags, prog) == 2,
	      "no member b yet: error on line 2");
	vms_tcc_result_free(&r);
	/* same size, new content: mtime (and maybe inode) change */
	sleep(0); /* the mtime has nanoseconds; a rename gives a new inode anyway */
	xwrite(hdr, "struct mine { int b; };\n");
	check_src(c, src, prog, &r);
	CHECK(r.status == VMS_TCC_OK, "header changed on disk: the snapshot is rebuilt, now ok");
	vms_tcc_result_free(&r);
	struct vms_tcc_stats st;
	vms_tcc_checker_stats(c, &st);
	CHECK(st.rebuilds == 1, "one rebuild (%llu)", (unsigned long long)st.rebuilds);

	/* three preambles, room for two */
	const char *srcs[] = {
		"#include \"mine.h\"\n#define V 1\nint a = V;\n",
		"#include \"mine.h\"\n#define V 2\nint a = V;\n",
		"#include \"mine.h\"\n#define V 3\nint a = V;\n",
	};
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 3; i++) {
			check_src(c, srcs[i], prog, &r);
			CHECK(r.status == VMS_TCC_OK, "preamble %d ok", i);
			vms_tcc_result_free(&r);
		}
	vms_tcc_checker_stats(c, &st);
	CHECK(st.snapshots == 2, "LRU keeps two (%zu)", st.snapshots);
	CHECK(st.evictions >= 4, "and evicts the oldest (%llu)", (unsigned long long)st.evictions);

	/* a preamble error points at the program's line */
	check_src(c, "#include \"mine.h\"\n\n#include \"missing.h\"\nint x;\n", prog, &r);
	CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags, prog) == 3,
	      "missing include: error on line 3");
	vms_tcc_result_free(&r);

	/* a preamble #define reaches the body; -D reaches both */
	check_src(c, "#define N 4\nint a[N == 4 ? 1 : -1];\n", prog, &r);
	CHECK(r.status == VMS_TCC_OK, "preamble macro seen by the body");
	vms_tcc_result_free(&r);
	/* CRLF, a spliced #define and a // comment spliced over an #ifdef in the preamble:
	 * the body's error keeps its line; with a BOM (no preamble) TCC's own error, line 1 */
	check_src(c, "#define N \\\r\n 4\r\n// x \\\r\n#ifdef Q\r\nint a[N == 4 ? 1 : -1];\r\n"
		  "int b = nope;\r\n", prog, &r);
	CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags, prog) == 6,
	      "CRLF and splices in the preamble: error on line 6 (%d)",
	      first_error_line(&r.diags, prog));
	vms_tcc_result_free(&r);
	check_src(c, "\xef\xbb\xbf#define N 4\nint a[N == 4 ? 1 : -1];\n", prog, &r);
	CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags, prog) == 1,
	      "BOM: TCC's error on line 1");
	vms_tcc_result_free(&r);
	vms_tcc_checker_free(c);

	/* confinement: nothing outside the allowed directories opens */
	const char *inc[] = { dir, NULL };
	struct vms_tcc_opts oc = { .headers_dir = headers, .confine = 1, .include_dirs = inc };
	CHECK(vms_tcc_checker_new(&oc, &c, &d) == 0, "confined checker");
	check_src(c, "#include \"mine.h\"\nint x;\n#include \"/etc/passwd\"\n", prog, &r);
	CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags, prog) == 3,
	      "confined: /etc/passwd is not found");
	vms_tcc_result_free(&r);
	check_src(c, "#include \"../../../../../../../../etc/hostname\"\nint x;\n", prog, &r);
	CHECK(r.status == VMS_TCC_ERRORS, "confined: ../ does not lead out");
	vms_tcc_result_free(&r);
	check_src(c, "#include <linux/types.h>\n#include <bpf/bpf_helpers.h>\nint x;\n", prog, &r);
	CHECK(r.status == VMS_TCC_OK, "confined: system headers still open");
	vms_tcc_result_free(&r);
	vms_tcc_checker_free(c);
	vms_diags_free(&d);
	vms_remove_tree(dir);
	free(dir), free(hdr), free(prog);
}

/* Every decoder of the caller/helper frames takes a whole frame back, and refuses every
 * shorter one (the payload is read to its last byte, so any cut lands mid-field) and a
 * frame of another type, without reading past the payload (ASan watches). */
static void check_cuts(const struct vms_wire_frame *f, const char *what,
		       int (*decode)(const struct vms_wire_frame *f))
{
	CHECK(decode(f) == 0, "wire %s: the whole frame decodes", what);
	int refused = 1;
	for (size_t k = 0; k < f->len; k++) {
		char *cut = vms_xmalloc(k + 1); /* exactly k bytes (and a NUL) for ASan */
		memcpy(cut, f->data, k);
		cut[k] = 0;
		struct vms_wire_frame g = { .type = f->type, .data = cut, .len = k };
		refused &= decode(&g) == -EPROTO;
		free(cut);
	}
	CHECK(refused, "wire %s: every shorter frame is refused", what);
	struct vms_wire_frame other = *f;
	other.type = f->type == VMS_WIRE_RESULT ? VMS_WIRE_READY : VMS_WIRE_RESULT;
	CHECK(decode(&other) == -EPROTO, "wire %s: a frame of another type is refused", what);
}

static int decode_result(const struct vms_wire_frame *f)
{
	struct vms_wire_result res;
	struct vms_raw_msgs m = { 0 };
	int rc = vms_wire_get_result(f, &res, &m);
	if (rc == 0 && (res.outcome != VMS_WIRE_SIGNAL || res.sig != 11 || res.arena_bytes != 123 ||
			res.tcc_ms != 1.5 || m.n != 2 || strcmp(m.v[1].text, "b: error: x") ||
			!m.v[1].in_asm || !m.v[1].cap_hit || m.v[0].in_asm))
		rc = -EINVAL;
	vms_raw_msgs_free(&m);
	return rc;
}

static int decode_ready(const struct vms_wire_frame *f)
{
	struct vms_wire_ready r;
	int rc = vms_wire_get_ready(f, &r);
	if (rc == 0 && (r.arena_bytes != 7 || r.msgs.n != 2 || r.n_files != 1 ||
			strcmp(r.files[0].path, "/x/vmlinux.h") || r.files[0].st.st_size != 42))
		rc = -EINVAL;
	for (size_t i = 0; i < r.n_files; i++)
		free(r.files[i].path);
	free(r.files);
	vms_raw_msgs_free(&r.msgs);
	return rc;
}

static int decode_setup(const struct vms_wire_frame *f)
{
	struct vms_wire_setup s;
	int rc = vms_wire_get_setup(f, &s);
	if (rc == 0 && (strcmp(s.o.headers_dir, "/h") || s.o.tcc_lib_dir || !s.o.confine ||
			strcmp(s.o.defines[1], "B=2") || s.o.defines[2] || strcmp(s.cfiles[0], "/f") ||
			strcmp(s.body_path, "/d/b.c") || s.plen != 4 || memcmp(s.preamble, "#if\n", 4)))
		rc = -EINVAL;
	free((char *)s.o.headers_dir);
	free((char *)s.o.tcc_lib_dir);
	free((char *)s.o.vmlinux_header);
	vms_strv_free((char **)s.o.include_dirs);
	vms_strv_free((char **)s.o.defines);
	vms_strv_free(s.cdirs);
	vms_strv_free(s.cfiles);
	free((char *)s.tmpl_path);
	free((char *)s.body_path);
	return rc;
}

static void test_wire(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
		FAIL("socketpair: %s", strerror(errno));
		return;
	}
	struct vms_raw_msgs m = { 0 };
	vms_raw_msgs_add(&m, vms_xstrdup("a: warning: y"), 0, 0);
	vms_raw_msgs_add(&m, vms_xstrdup("b: error: x"), 1, 1);
	struct vms_wire_frame f;

	struct vms_wire_result res = { .outcome = VMS_WIRE_SIGNAL, .sig = 11, .arena_bytes = 123,
				       .tcc_ms = 1.5 };
	CHECK(vms_wire_send_result(sv[0], &res, &m) == 0, "wire: RESULT sent");
	CHECK(vms_wire_recv(sv[1], vms_now_ms() + 5000, &f) == 0, "wire: RESULT received");
	check_cuts(&f, "RESULT", decode_result);
	vms_wire_frame_free(&f);

	struct vms_tracked_file tf = { .path = (char *)"/x/vmlinux.h", .st = { .st_size = 42 } };
	CHECK(vms_wire_send_ready(sv[0], 7, &m, &tf, 1) == 0, "wire: READY sent");
	CHECK(vms_wire_recv(sv[1], vms_now_ms() + 5000, &f) == 0, "wire: READY received");
	check_cuts(&f, "READY", decode_ready);
	vms_wire_frame_free(&f);

	const char *defs[] = { "A", "B=2", NULL };
	char *cfiles[] = { (char *)"/f", NULL };
	struct vms_wire_setup s = { .o = { .headers_dir = "/h", .defines = defs, .confine = 1 },
				    .cfiles = cfiles, .tmpl_path = "/d/t.c", .body_path = "/d/b.c",
				    .preamble = "#if\n", .plen = 4 };
	CHECK(vms_wire_send_setup(sv[0], &s) == 0, "wire: SETUP sent");
	CHECK(vms_wire_recv(sv[1], vms_now_ms() + 5000, &f) == 0, "wire: SETUP received");
	check_cuts(&f, "SETUP", decode_setup);
	vms_wire_frame_free(&f);

	/* a count far beyond the payload is refused before anything is allocated for it */
	uint32_t huge[4] = { 0, 0, 0, 0xffffffffu }; /* three empty strings, then -I's count */
	struct vms_wire_frame g = { .type = VMS_WIRE_SETUP, .data = (char *)huge, .len = 16 };
	CHECK(decode_setup(&g) == -EPROTO, "wire: a string vector longer than its frame is refused");

	/* the reader gives up at its deadline, and sees EOF as -EPIPE */
	CHECK(vms_wire_recv(sv[1], vms_now_ms() + 20, &f) == -ETIMEDOUT, "wire: deadline");
	close(sv[0]);
	CHECK(vms_wire_recv(sv[1], -1, &f) == -EPIPE, "wire: EOF");
	close(sv[1]);
	vms_raw_msgs_free(&m);
}

static int run_unit(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	const char *headers = argv[2], *vmlinux = argv[3], *fixtures = argv[4], *work = argv[5];
	vms_mkdir_p(work, 0755);
	test_preamble();
	test_wire();
	test_inprocess(headers, vmlinux, fixtures);
	test_fixtures(headers, vmlinux, fixtures);
	test_limits(headers, vmlinux);
	test_snapshots(headers, work);
	return test_exit();
}

/* ==== progs: no false errors ======================================================== */

static int mentions_asm(const char *src)
{
	return strstr(src, "asm volatile") || strstr(src, "asm(") || strstr(src, "__asm__");
}

static int run_progs(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	const char *headers = argv[2];
	size_t n;
	char **progs = list_progs(argv[3], &n);
	CHECK(n > 0, "no programs in %s", argv[3]);
	for (int h = 4; h < argc; h++) {
		struct vms_tcc_opts o;
		struct vms_tcc_checker *c = new_checker(headers, argv[h], &o);
		for (size_t i = 0; i < n; i++) {
			char *src = test_slurp(progs[i]);
			struct vms_tcc_result r, r2;
			check_src(c, src, progs[i], &r);
			int ok = r.status == VMS_TCC_OK ||
				 (r.status == VMS_TCC_UNSUPPORTED && mentions_asm(src));
			CHECK(ok, "%s with %s: %s", progs[i], argv[h], vms_tcc_status_name(r.status));
			if (!ok)
				dump(&r);
			struct vms_tcc_request req = { .source = src, .len = strlen(src),
						       .file_name = progs[i] };
			vms_tcc_check_inprocess(&o, VMS_TCC_ALLOC_ARENA, &req, &r2);
			CHECK(r2.status == r.status, "%s: in-process %s, snapshot %s", progs[i],
			      vms_tcc_status_name(r2.status), vms_tcc_status_name(r.status));
			printf("%-28s %-40s %s\n", vms_basename(progs[i]), argv[h],
			       vms_tcc_status_name(r.status));
			vms_tcc_result_free(&r);
			vms_tcc_result_free(&r2);
			free(src);
		}
		vms_tcc_checker_free(c);
	}
	free_progs(progs, n);
	return test_exit();
}

/* ==== slim: each program against its own slim header ================================ */

static int run_slim(int argc, char **argv)
{
	if (argc != 7)
		return 2;
	const char *headers = argv[2], *vmslim = argv[4], *full = argv[5], *work = argv[6];
	size_t n;
	char **progs = list_progs(argv[3], &n);
	test_fresh_dir(work);
	for (size_t i = 0; i < n; i++) {
		char *slim = vms_xasprintf("%s/%s.h", work, vms_basename(progs[i]));
		char *args[] = { (char *)vmslim, "extract", "--header", (char *)full, "--from",
				 progs[i], "-o", slim, "--", "-D__TARGET_ARCH_x86", NULL };
		struct vms_proc_result pr = { 0 };
		if (vms_run(args, NULL, 0, 300000, &pr) < 0 || pr.exit_code) {
			FAIL("extract %s: exit %d\n%s", progs[i], pr.exit_code, pr.err);
			vms_proc_result_free(&pr);
			free(slim);
			continue;
		}
		vms_proc_result_free(&pr);
		struct vms_tcc_opts o;
		struct vms_tcc_checker *c = new_checker(headers, slim, &o);
		char *src = test_slurp(progs[i]);
		struct vms_tcc_result r;
		check_src(c, src, progs[i], &r);
		int ok = r.status == VMS_TCC_OK || (r.status == VMS_TCC_UNSUPPORTED && mentions_asm(src));
		CHECK(ok, "%s against its slim header: %s", progs[i], vms_tcc_status_name(r.status));
		if (!ok)
			dump(&r);
		struct stat st;
		stat(slim, &st);
		printf("%-28s slim header %7lld bytes: %s\n", vms_basename(progs[i]),
		       (long long)st.st_size, vms_tcc_status_name(r.status));
		vms_tcc_result_free(&r);
		vms_tcc_checker_free(c);
		free(src);
		free(slim);
	}
	free_progs(progs, n);
	return test_exit();
}

/* ==== errors: injected into every program, compared with clang ====================== */

/* Each kind either rewrites a line of the program's body or inserts a statement as the
 * first line of its first function body (the first line that is just "{"). */
struct kind {
	const char *name;
	const char *insert;		/* statement to insert, or NULL */
	int (*mutate)(struct vms_argv *lines, size_t from); /* returns the line index or -1 */
	/* clang 14 only warns (it is an error with -Werror=, as clang 16 has it): the fast
	 * checker must answer "unsupported" on clang's line, never an error */
	int warning_in_clang14;
};

static int is_code_line(const char *l)
{
	while (*l == ' ' || *l == '\t')
		l++;
	return *l && *l != '#' && *l != '*' && strncmp(l, "/*", 2) && strncmp(l, "//", 2);
}

static int misspell_field(struct vms_argv *lines, size_t from)
{
	for (size_t i = from; i < lines->n; i++) {
		char *l = lines->v[i], *a;
		if (!is_code_line(l) || !(a = strstr(l, "->")))
			continue;
		char *id = a + 2, *e = id;
		while (*e == '_' || (*e >= 'a' && *e <= 'z') || (*e >= 'A' && *e <= 'Z') ||
		       (*e >= '0' && *e <= '9'))
			e++;
		if (e == id)
			continue;
		char *nl = vms_xasprintf("%.*sx%s", (int)(e - l), l, e);
		free(lines->v[i]);
		lines->v[i] = nl;
		return (int)i;
	}
	return -1;
}

static int drop_semicolon(struct vms_argv *lines, size_t from)
{
	for (size_t i = from; i < lines->n; i++) {
		char *l = lines->v[i];
		const char *t = l;
		while (*t == ' ' || *t == '\t')
			t++;
		size_t len = strlen(l);
		/* "return EXPR;": a bare "return" glued to the next line's "}" is not how a
		 * semicolon goes missing in practice */
		if (strncmp(t, "return ", 7) || len < 2 || l[len - 1] != ';')
			continue;
		l[len - 1] = 0;
		return (int)i;
	}
	return -1;
}

static const struct kind kinds[] = {
	{ "misspelled field", NULL, misspell_field, 0 },
	{ "undeclared identifier", "\tvmslim_undeclared++;", NULL, 0 },
	{ "wrong member of a union", "\t{ union bpf_attr vmslim_u; vmslim_u.pid = 1; }", NULL, 0 },
	{ "struct assigned to int",
	  "\t{ struct list_head vmslim_l; int vmslim_i = vmslim_l; (void)vmslim_i; }", NULL, 0 },
	{ "missing semicolon", NULL, drop_semicolon, 0 },
	{ "unknown helper", "\tbpf_vmslim_no_such_helper(0);", NULL, 1 },
	{ "wrong number of arguments", "\tbpf_get_current_comm(0);", NULL, 0 },
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

static void split_lines(const char *src, struct vms_argv *out)
{
	const char *p = src;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *l = vms_xstrndup(p, n);
		vms_argv_push(out, l);
		free(l);
		p += n + (nl ? 1 : 0);
	}
}

static char *join_lines(const struct vms_argv *l)
{
	struct vms_buf b = { 0 };
	for (size_t i = 0; i < l->n; i++) {
		vms_buf_puts(&b, l->v[i]);
		vms_buf_puts(&b, "\n");
	}
	return vms_buf_steal(&b);
}

/* vmlinux.h precompiled once, so that each clang run below costs a few tens of ms
 * instead of a full parse; the programs' #include "vmlinux.h" is then skipped by its
 * include guard, exactly as in a plain compile after the first include. */
static char *clang_pch;

static int make_pch(const char *vmlinux, const char *dir)
{
	clang_pch = vms_xasprintf("%s/vmlinux.h.pch", dir);
	char *args[] = { "clang", "-target", "bpf", "-D__TARGET_ARCH_x86", "-x", "c-header",
			 (char *)vmlinux, "-o", clang_pch, NULL };
	struct vms_proc_result pr;
	int rc = vms_run(args, NULL, 0, 300000, &pr);
	int ok = rc == 0 && pr.exit_code == 0;
	if (!ok)
		fprintf(stderr, "clang could not precompile %s:\n%s", vmlinux, rc ? "" : pr.err);
	if (!rc)
		vms_proc_result_free(&pr);
	return ok ? 0 : -1;
}

/* clang's first error in `path`: its line (and *col), or 0 for none; -1 if clang could
 * not run */
static int clang_first_error(const char *path, const char *vmlinux_dir, char **msg, int *col)
{
	char *inc = vms_xasprintf("-I%s", vmlinux_dir);
	char *args[] = { "clang", "-fsyntax-only", "-target", "bpf", "-D__TARGET_ARCH_x86", inc,
			 "-Werror=implicit-function-declaration", "-fno-color-diagnostics",
			 "-include-pch", clang_pch, (char *)path, NULL };
	struct vms_proc_result pr;
	int rc = vms_run(args, NULL, 0, 120000, &pr);
	free(inc);
	if (rc < 0)
		return -1;
	int line = 0;
	*msg = NULL;
	*col = 0;
	size_t plen = strlen(path);
	for (char *l = pr.err; l && *l;) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (!strncmp(l, path, plen) && l[plen] == ':' && strstr(l, ": error: ")) {
			char *c = strchr(l + plen + 1, ':');
			line = atoi(l + plen + 1);
			*col = c ? atoi(c + 1) : 0;
			*msg = vms_xstrdup(strstr(l, ": error: ") + 9);
			break;
		}
		l = nl ? nl + 1 : NULL;
	}
	vms_proc_result_free(&pr);
	return line;
}

static int run_errors(int argc, char **argv)
{
	if (argc != 6)
		return 2;
	const char *headers = argv[2], *vmlinux = argv[4], *table = argv[5];
	char *vdir = vms_dirname(vmlinux);
	size_t n;
	char **progs = list_progs(argv[3], &n);
	char *tmp = vms_make_tempdir("vmslim-check-errors");
	if (make_pch(vmlinux, tmp) < 0)
		return 1;
	struct vms_tcc_opts o;
	struct vms_tcc_checker *c = new_checker(headers, vmlinux, &o);
	struct vms_buf md = { 0 };
	vms_buf_puts(&md, "| error kind | program | clang line:col | vmslim check line:col | "
			  "line agrees | column agrees | check --exact line:col | exact agrees |\n");
	vms_buf_puts(&md, "|---|---|---|---|---|---|---|---|\n");
	/* check --exact (libclang with a precompiled preamble, exact/) must give clang's line
	 * and column on every one: one checker per program, so the preamble is reused */
	int ex_agree[N_KINDS] = { 0 };
	/* Lines must agree (the test fails otherwise); columns are counted, not required: the
	 * fast checker claims one only where it can find clang's token (0: none claimed). */
	int agree[N_KINDS] = { 0 }, total[N_KINDS] = { 0 }, col_agree[N_KINDS] = { 0 };
	for (size_t i = 0; i < n; i++) {
		char *src = test_slurp(progs[i]);
		size_t plen = vms_tcc_preamble_len(src, strlen(src));
		size_t body_line = 0;
		for (size_t k = 0; k < plen; k++)
			body_line += src[k] == '\n';
		/* the original must be clean for clang, or nothing below means anything */
		char *cmsg = NULL;
		int c0;
		int l0 = clang_first_error(progs[i], vdir, &cmsg, &c0);
		free(cmsg);
		if (l0 != 0) {
			FAIL("clang rejects %s as it is (line %d)", progs[i], l0);
			free(src);
			continue;
		}
		char *xpath = vms_xasprintf("%s/%s", tmp, vms_basename(progs[i]));
		const char *xinc[] = { vdir };
		struct vms_exact_opts xo = { .include_dirs = xinc, .n_inc = 1 };
		struct vms_exact *x = NULL;
		struct vms_diags xd = { 0 };
		CHECK(vms_exact_new(&xo, xpath, &x, &xd) == 0, "exact checker: %s",
		      xd.n ? xd.v[0].msg : "?");
		vms_diags_free(&xd);
		free(xpath);
		for (size_t k = 0; k < N_KINDS; k++) {
			struct vms_argv lines = { 0 };
			split_lines(src, &lines);
			int at = -1;
			if (kinds[k].insert) {
				for (size_t j = body_line; j < lines.n; j++)
					if (!strcmp(lines.v[j], "{")) {
						at = (int)j + 1;
						break;
					}
				if (at >= 0) {
					vms_argv_push(&lines, "");
					free(lines.v[lines.n - 1]);
					memmove(&lines.v[at + 1], &lines.v[at],
						(lines.n - 1 - (size_t)at) * sizeof(char *));
					lines.v[at] = vms_xstrdup(kinds[k].insert);
				}
			} else {
				at = kinds[k].mutate(&lines, body_line);
			}
			if (at < 0) {
				vms_argv_free(&lines);
				continue; /* nothing to mutate in this program */
			}
			char *mutated = join_lines(&lines);
			char *path = vms_xasprintf("%s/%s", tmp, vms_basename(progs[i]));
			xwrite(path, mutated);
			char *clang_msg = NULL;
			int cc;
			int cl = clang_first_error(path, vdir, &clang_msg, &cc);
			struct vms_tcc_result r;
			check_src(c, mutated, path, &r);
			int vl = -1, vc = 0;
			for (size_t q = 0; q < r.diags.n && vl < 0; q++) {
				const struct vms_diag *g = &r.diags.v[q];
				int want = kinds[k].warning_in_clang14 ? VMS_NOTE : VMS_ERROR;
				if ((int)g->sev == want && g->file && !strcmp(g->file, path))
					vl = g->line, vc = g->col;
			}
			total[k]++;
			enum vms_tcc_status want = kinds[k].warning_in_clang14 ? VMS_TCC_UNSUPPORTED
									      : VMS_TCC_ERRORS;
			int ok = cl > 0 && r.status == want && vl == cl;
			int col_ok = ok && !kinds[k].warning_in_clang14 && vc == cc;
			agree[k] += ok;
			col_agree[k] += col_ok;
			CHECK(cl > 0, "%s / %s: clang reports no error (mutated line %d)", kinds[k].name,
			      vms_basename(progs[i]), at + 1);
			CHECK(ok || cl <= 0, "%s / %s: clang line %d (%s), vmslim %s line %d",
			      kinds[k].name, vms_basename(progs[i]), cl, clang_msg ? clang_msg : "",
			      vms_tcc_status_name(r.status), vl);
			if (!ok)
				dump(&r);
			int xl = -1, xc = -1;
			struct vms_diags xr = { 0 };
			if (x && vms_exact_check(x, mutated, strlen(mutated), &xr) == 0)
				for (size_t q = 0; q < xr.n && xl < 0; q++)
					if (xr.v[q].sev == VMS_ERROR && xr.v[q].file &&
					    !strcmp(xr.v[q].file, path))
						xl = xr.v[q].line, xc = xr.v[q].col;
			vms_diags_free(&xr);
			int ex_ok = cl > 0 && xl == cl && xc == cc;
			ex_agree[k] += ex_ok;
			CHECK(ex_ok || cl <= 0, "%s / %s: clang %d:%d, check --exact %d:%d", kinds[k].name,
			      vms_basename(progs[i]), cl, cc, xl, xc);
			const char *vmsg = "";
			for (size_t q = 0; q < r.diags.n; q++)
				if (r.diags.v[q].sev != VMS_WARNING) {
					vmsg = r.diags.v[q].msg;
					break;
				}
			vms_buf_printf(&md, "| %s | %s | %d:%d: %s | %d:%d: %s%s | %s | %s | %d:%d | %s |\n",
				       kinds[k].name, vms_basename(progs[i]), cl, cc,
				       clang_msg ? clang_msg : "-", vl, vc,
				       kinds[k].warning_in_clang14 ? "(unsupported) " : "", vmsg,
				       ok ? "yes" : "**no**",
				       kinds[k].warning_in_clang14 ? "-" : col_ok ? "yes" : "no", xl, xc,
				       ex_ok ? "yes" : "**no**");
			vms_tcc_result_free(&r);
			free(clang_msg);
			free(path);
			free(mutated);
			vms_argv_free(&lines);
		}
		if (x)
			vms_exact_free(x);
		free(src);
	}
	vms_buf_puts(&md, "\n| error kind | fast: line agreement | fast: column agreement | "
			  "exact: line and column agreement |\n|---|---|---|---|\n");
	int sum_l = 0, sum_c = 0, sum_t = 0, sum_x = 0, sum_xt = 0;
	for (size_t k = 0; k < N_KINDS; k++) {
		if (kinds[k].warning_in_clang14) {
			vms_buf_printf(&md, "| %s (clang 14 warns: fast answers unsupported on its line) | %d/%d | - | %d/%d |\n",
				       kinds[k].name, agree[k], total[k], ex_agree[k], total[k]);
			sum_x += ex_agree[k], sum_xt += total[k];
			continue;
		}
		vms_buf_printf(&md, "| %s | %d/%d | %d/%d | %d/%d |\n", kinds[k].name, agree[k],
			       total[k], col_agree[k], total[k], ex_agree[k], total[k]);
		sum_l += agree[k], sum_c += col_agree[k], sum_t += total[k];
		sum_x += ex_agree[k], sum_xt += total[k];
	}
	vms_buf_printf(&md, "| all errors | %d/%d | %d/%d | %d/%d (every kind) |\n", sum_l, sum_t,
		       sum_c, sum_t, sum_x, sum_xt);
	xwrite(table, md.data);
	fputs(md.data, stdout);
	vms_buf_free(&md);
	vms_tcc_checker_free(c);
	vms_remove_tree(tmp);
	free(tmp);
	free(vdir);
	free(clang_pch);
	free_progs(progs, n);
	return test_exit();
}

/* ==== robust: 1,000 requests in a row ================================================ */

static int run_robust(int argc, char **argv)
{
	if (argc != 5)
		return 2;
	const char *headers = argv[2], *vmlinux = argv[4];
	size_t n;
	char **progs = list_progs(argv[3], &n);
	CHECK(n > 0, "programs");
	/* every program shares the snapshot only if its preamble is the common one; the
	 * generated inputs below use one preamble so that the whole run is one snapshot */
	const char *pre = "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n"
			  "#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n";
	struct vms_buf crash = { 0 };
	vms_buf_printf(&crash, "%sint f(void) { return ", pre);
	for (int i = 0; i < 60000; i++)
		vms_buf_puts(&crash, "(");
	vms_buf_puts(&crash, "1");
	for (int i = 0; i < 60000; i++)
		vms_buf_puts(&crash, ")");
	vms_buf_puts(&crash, "; }\n");
	struct vms_buf hang = { 0 };
	vms_buf_printf(&hang, "%sint dummy;\n#define A0 ;\n", pre);
	for (int i = 1; i <= 40; i++)
		vms_buf_printf(&hang, "#define A%d A%d A%d\n", i, i - 1, i - 1);
	vms_buf_puts(&hang, "int f(void) { A40 return 0; }\n");

	/* room for every program's own snapshot and the generated inputs' one */
	struct vms_tcc_opts o = { .headers_dir = headers, .vmlinux_header = vmlinux,
				  .defines = defines_x86, .max_snapshots = (int)n + 2 };
	struct vms_tcc_checker *c;
	struct vms_diags d = { 0 };
	if (vms_tcc_checker_new(&o, &c, &d) < 0) {
		vms_diags_print(stderr, &d);
		return 1;
	}
	int counts[8] = { 0 };
	unsigned seed = 12345;
	for (int i = 0; i < 1000; i++) {
		seed = seed * 1103515245u + 12345u;
		unsigned pick = (seed >> 16) % 100;
		struct vms_buf src = { 0 };
		enum vms_tcc_status want;
		int want_line = 0;
		char name[64];
		snprintf(name, sizeof(name), "req%04d.bpf.c", i);
		int time_limit = 0, any_verdict = 0;
		if (pick < 45) { /* good: a real program (one with BPF asm may be unsupported) */
			char *p = test_slurp(progs[(seed >> 8) % n]);
			vms_buf_puts(&src, p);
			free(p);
			want = VMS_TCC_OK;
			any_verdict = mentions_asm(src.data);
		} else if (pick < 80) { /* bad: an error on a known line */
			int k = (int)((seed >> 9) % 4);
			want_line = 6 + k;
			vms_buf_printf(&src, "%s\nint f(struct task_struct *t)\n{\n", pre);
			for (int j = 0; j < k; j++)
				vms_buf_puts(&src, "\tt->pid++;\n");
			vms_buf_puts(&src, "\treturn t->no_such_field;\n}\n");
			want = VMS_TCC_ERRORS;
			want_line = 8 + k;
		} else if (pick < 88) { /* BPF asm: unsupported */
			vms_buf_printf(&src, "%sint f(void)\n{\n\tasm volatile(\"r0 = 1\" ::: \"r0\");\n"
				       "\treturn 0;\n}\n", pre);
			want = VMS_TCC_UNSUPPORTED;
			want_line = 7;
		} else if (pick < 97) { /* crash */
			vms_buf_puts(&src, crash.data);
			want = VMS_TCC_CRASHED;
		} else { /* hang */
			vms_buf_puts(&src, hang.data);
			want = VMS_TCC_TIMEOUT;
			time_limit = 150;
		}
		struct vms_tcc_request req = { .source = src.data, .len = src.len, .file_name = name,
					       .time_limit_ms = time_limit };
		struct vms_tcc_result r;
		int rc = vms_tcc_check(c, &req, &r);
		int line = 0;
		for (size_t k = 0; k < r.diags.n && !line; k++)
			if (r.diags.v[k].file && !strcmp(r.diags.v[k].file, name))
				line = r.diags.v[k].line;
		int ok = rc == 0 && (r.status == want || (any_verdict && r.status == VMS_TCC_UNSUPPORTED)) &&
			 (!want_line || line == want_line);
		CHECK(ok, "request %d: want %s (line %d), got %s (line %d)", i,
		      vms_tcc_status_name(want), want_line, vms_tcc_status_name(r.status), line);
		if (!ok)
			dump(&r);
		counts[r.status]++;
		vms_tcc_result_free(&r);
		vms_buf_free(&src);
	}
	struct vms_tcc_stats st;
	vms_tcc_checker_stats(c, &st);
	printf("1000 requests: %d ok, %d errors, %d unsupported, %d crashed, %d timeouts\n",
	       counts[VMS_TCC_OK], counts[VMS_TCC_ERRORS], counts[VMS_TCC_UNSUPPORTED],
	       counts[VMS_TCC_CRASHED], counts[VMS_TCC_TIMEOUT]);
	printf("snapshots built %llu, rebuilt %llu, live %zu\n", (unsigned long long)st.misses,
	       (unsigned long long)st.rebuilds, st.snapshots);
	CHECK(st.rebuilds == 0, "no snapshot died (rebuilds %llu)", (unsigned long long)st.rebuilds);
	CHECK(st.checks == 1000, "1000 answers");
	vms_tcc_checker_free(c);
	vms_buf_free(&crash);
	vms_buf_free(&hang);
	vms_diags_free(&d);
	free_progs(progs, n);
	return test_exit();
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: test_check unit|progs|slim|errors|robust ARGS...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int rc = 2;
	if (!strcmp(argv[1], "unit"))
		rc = run_unit(argc, argv);
	else if (!strcmp(argv[1], "progs"))
		rc = run_progs(argc, argv);
	else if (!strcmp(argv[1], "slim"))
		rc = run_slim(argc, argv);
	else if (!strcmp(argv[1], "errors"))
		rc = run_errors(argc, argv);
	else if (!strcmp(argv[1], "robust"))
		rc = run_robust(argc, argv);
	if (rc == 2)
		fprintf(stderr, "test_check: bad arguments\n");
	return rc;
}
