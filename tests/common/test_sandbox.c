/* The OS layer alone (common/sandbox.h): clang in a sandbox reads nothing outside its lists.
 *
 *   test_sandbox MECH CLANG WORKDIR     MECH: landlock, mountns or both
 *
 * This is the worker-level test that bypasses the include scan: it uses only common/ and a
 * real clang, no daemon. In WORKDIR: secret/ holds a marker file that is in no list, job/
 * is the request's directory (readable), job/out/ the only writable directory, inc/ an
 * include directory. Each case compiles a BPF source the way the daemon would and asserts:
 *   (a) .incbin of the marker, at file scope and inside a function between
 *       .pushsection/.popsection: the compile fails, neither object nor stderr holds the
 *       marker (an unsandboxed compile first shows the source does embed it);
 *   (b) #include "<the marker's absolute path>" fails;
 *   (c) __has_include of an existing and of a missing outside path: identical objects in
 *       the mount namespace. Landlock alone refuses opening, not lookup: clang's
 *       __has_include opens an existing file, gets EACCES and stops with "cannot open
 *       file", while a missing one is just false; existence stays visible there, which the
 *       test prints (the scan must cover it) but does not assert;
 *   (d) an output outside job/out/ is refused and not created;
 *   (e) a legitimate compile (the resource directory, -I inc) works and its object has
 *       the same bytes as the unsandboxed one; with job/ listed to read and to write, an
 *       output beside the source works too.
 * A mechanism the probe says is unavailable skips the test (exit 77, SKIP_RETURN_CODE).
 * "both" also prints the cost of each mechanism on `clang --version`. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/sandbox.h"
#include "tests/testutil.h"

#define MARKER "VMSLIM_SECRET_MARKER_7f3a9c"

static const char *work, *clang;
static char *clang_path, *resource_dir, *job, *out_dir, *inc, *secret, *root;
static struct vms_argv reads;

static int contains(const char *hay, size_t n, const char *needle)
{
	return hay && memmem(hay, n, needle, strlen(needle)) != NULL;
}

static char *path_in(const char *dir, const char *name)
{
	return vms_xasprintf("%s/%s", dir, name);
}

static void put(const char *path, const char *text)
{
	if (vms_write_file_atomic(path, text, strlen(text), 0644) < 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

static int write_also_job;	/* the job directory is writable too */

static struct vms_sandbox sandbox_of(unsigned mech)
{
	static const char *write[3];
	write[0] = out_dir;
	write[1] = write_also_job ? job : NULL;
	return (struct vms_sandbox){ .read = (const char *const *)reads.v, .write = write,
				     .mech = mech, .root = root, .cwd = job };
}

struct compile {
	int exit_code;
	char *err;		/* clang's stderr (owned) */
	char *obj;		/* the object's bytes, NULL when none was written */
	size_t obj_len;
};

static void compile_free(struct compile *c)
{
	free(c->err);
	free(c->obj);
}

/* clang -target bpf -O2 -c job/<name> -o <output>, in the sandbox when mech != 0 (or
 * plainly with mech 0). The object is read back (and removed). */
static struct compile compile(unsigned mech, const char *name, const char *source,
			      const char *output)
{
	char *src = path_in(job, name);
	put(src, source);
	unlink(output);
	char *argv[] = { clang_path, (char *)"-target", (char *)"bpf", (char *)"-O2",
			 (char *)"-fno-crash-diagnostics", (char *)"-I", inc, (char *)"-c", src,
			 (char *)"-o", (char *)output, NULL };
	struct vms_sandbox sb = sandbox_of(mech);
	struct vms_proc_result r;
	struct compile c = { 0 };
	if (vms_run_sandboxed(argv, mech ? &sb : NULL, 60000, &r) < 0) {
		FAIL("cannot run %s", clang_path);
		c.exit_code = -1;
		c.err = vms_xstrdup("");
	} else {
		c.exit_code = r.exit_code;
		c.err = r.err;
		r.err = NULL;
		vms_proc_result_free(&r);
	}
	if (vms_read_file(output, &c.obj, &c.obj_len) < 0)
		c.obj = NULL;
	unlink(output);
	free(src);
	return c;
}

/* (a) and (b): sources that read the marker must fail without it anywhere. */
static void case_reads(unsigned mech)
{
	char *marker = path_in(secret, "marker.txt");
	char *obj = path_in(out_dir, "leak.o");
	struct { const char *what, *fmt; int embeds; } cases[] = {
		{ ".incbin at file scope", "__asm__(\".incbin \\\"%s\\\"\");\nint x;\n", 1 },
		{ ".incbin in a function",
		  "int f(void)\n{\n\t__asm__(\".pushsection .data.leak\\n.incbin \\\"%s\\\"\\n"
		  ".popsection\");\n\treturn 0;\n}\n", 1 },
		{ "#include of an absolute path", "#include \"%s\"\nint x;\n", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *src = vms_xasprintf(cases[i].fmt, marker);
		if (cases[i].embeds) {
			/* the source is a real leak without the OS layer */
			struct compile plain = compile(0, "leak.c", src, obj);
			CHECK(plain.exit_code == 0 && contains(plain.obj, plain.obj_len, MARKER),
			      "%s: unsandboxed, the object holds the marker (exit %d)",
			      cases[i].what, plain.exit_code);
			compile_free(&plain);
		}
		struct compile c = compile(mech, "leak.c", src, obj);
		CHECK(c.exit_code != 0, "%s: the sandboxed compile fails", cases[i].what);
		CHECK(!contains(c.obj, c.obj_len, MARKER), "%s: the object holds the marker",
		      cases[i].what);
		CHECK(!contains(c.err, strlen(c.err), MARKER), "%s: stderr holds the marker: %s",
		      cases[i].what, c.err);
		CHECK(!strstr(c.err, "vmslim: sandbox"), "%s: the sandbox was entered: %s",
		      cases[i].what, c.err);
		compile_free(&c);
		free(src);
	}
	free(marker);
	free(obj);
}

/* (c): the answer for an existing and a missing outside path. */
static void case_has_include(unsigned mech)
{
	char *obj = path_in(out_dir, "probe.o");
	const char *names[2] = { "marker.txt", "missing.h" };
	struct compile c[2];
	for (int i = 0; i < 2; i++) {
		char *p = path_in(secret, names[i]);
		char *src = vms_xasprintf("#if __has_include(\"%s\")\nint yes;\n#else\nint no;\n"
					  "#endif\n", p);
		c[i] = compile(mech, "probe.c", src, obj);
		if (mech & VMS_SANDBOX_MOUNTNS)
			CHECK(c[i].exit_code == 0 && c[i].obj, "__has_include(%s) compiles: %s",
			      names[i], c[i].err);
		free(src);
		free(p);
	}
	int same = c[0].obj && c[1].obj && c[0].obj_len == c[1].obj_len &&
		   !memcmp(c[0].obj, c[1].obj, c[0].obj_len);
	if (mech & VMS_SANDBOX_MOUNTNS)
		CHECK(same, "__has_include: an existing and a missing outside path answer alike");
	else
		printf("landlock alone: __has_include of an existing outside path %s (exit %d, "
		       "missing: exit %d)\n", same ? "answers as for a missing one"
		       : "is visible: clang opens it and reports EACCES", c[0].exit_code,
		       c[1].exit_code);
	compile_free(&c[0]);
	compile_free(&c[1]);
	free(obj);
}

/* (d) and (e) */
static void case_write_and_legit(unsigned mech)
{
	const char *src = "#include <stddef.h>\n#include \"hdr.h\"\n"
			  "struct s { int a; long b; };\n"
			  "int off = offsetof(struct s, b) + HDR_VALUE;\n";
	const char *outside[] = { "job/evil.o", "secret/evil.o", "evil.o" };
	for (size_t i = 0; i < 3; i++) {
		char *o = path_in(work, outside[i]);
		struct compile c = compile(mech, "ok.c", src, o);
		CHECK(c.exit_code != 0 && !c.obj, "writing %s is refused", outside[i]);
		CHECK(access(o, F_OK) < 0, "%s is not created", outside[i]);
		compile_free(&c);
		free(o);
	}
	char *o = path_in(out_dir, "ok.o"), *plain_o = path_in(work, "plain.o");
	struct compile c = compile(mech, "ok.c", src, o);
	struct compile p = compile(0, "ok.c", src, plain_o);
	CHECK(c.exit_code == 0 && c.obj, "a legitimate compile works: %s", c.err);
	CHECK(p.exit_code == 0 && p.obj, "the unsandboxed compile works: %s", p.err);
	CHECK(c.obj && p.obj && c.obj_len == p.obj_len && !memcmp(c.obj, p.obj, c.obj_len),
	      "the sandboxed object has the unsandboxed one's bytes");
	compile_free(&c);
	compile_free(&p);
	/* a directory listed both to read and to write is writable (the job directory
	 * holding the source and, beside it, the output) */
	write_also_job = 1;
	char *beside = path_in(job, "beside.o");
	c = compile(mech, "ok.c", src, beside);
	CHECK(c.exit_code == 0 && c.obj, "a read and write directory takes the output: %s",
	      c.err);
	compile_free(&c);
	write_also_job = 0;
	free(beside);
	free(o);
	free(plain_o);
}

/* A sandbox that cannot be entered: exit 126 and a message, never an unconfined run. */
static void case_refused(unsigned mech)
{
	struct vms_sandbox sb = sandbox_of(mech);
	char *bad_root = path_in(work, "no-such-root");
	sb.root = bad_root;
	if (!(mech & VMS_SANDBOX_MOUNTNS)) {
		/* Landlock: a list it cannot build from (a write dir that is a file) is
		 * skipped, not fatal; an impossible cwd is */
		sb.cwd = bad_root;
	}
	char *argv[] = { clang_path, (char *)"--version", NULL };
	struct vms_proc_result r;
	CHECK(vms_run_sandboxed(argv, &sb, 30000, &r) == 0, "run");
	CHECK(r.exit_code == 126 && contains(r.err, r.err_len, "vmslim: sandbox: "),
	      "an impossible sandbox: exit 126 with the reason (exit %d: %.*s)", r.exit_code,
	      (int)r.err_len, r.err ? r.err : "");
	CHECK(!contains(r.out, r.out_len, "clang version"), "clang did not run");
	vms_proc_result_free(&r);
	free(bad_root);
}

/* ms of one sandboxed `clang --version`, best of 5 */
static double time_version(unsigned mech)
{
	double best = 1e9;
	for (int i = 0; i < 5; i++) {
		struct vms_sandbox sb = sandbox_of(mech);
		char *argv[] = { clang_path, (char *)"--version", NULL };
		struct vms_proc_result r;
		double t0 = vms_now_ms();
		int rc = vms_run_sandboxed(argv, mech ? &sb : NULL, 30000, &r);
		double ms = vms_now_ms() - t0;
		CHECK(rc == 0 && r.exit_code == 0 && contains(r.out, r.out_len, "clang version"),
		      "clang --version in sandbox %u: %.*s", mech, (int)r.err_len,
		      r.err ? r.err : "");
		vms_proc_result_free(&r);
		if (ms < best)
			best = ms;
	}
	return best;
}

static void setup(void)
{
	test_fresh_dir(work);
	job = path_in(work, "job");
	out_dir = path_in(job, "out");
	inc = path_in(work, "inc");
	secret = path_in(work, "secret");
	root = path_in(work, "root");
	const char *dirs[] = { job, out_dir, inc, secret, root };
	for (size_t i = 0; i < 5; i++)
		if (vms_mkdir_p(dirs[i], 0755) < 0)
			exit(1);
	char *m = path_in(secret, "marker.txt"), *h = path_in(inc, "hdr.h");
	put(m, MARKER "\n");
	put(h, "#define HDR_VALUE 3\n");
	free(m), free(h);

	if (vms_sandbox_program_files(clang, &reads) < 0 || !reads.n) {
		fprintf(stderr, "cannot list the files of %s\n", clang);
		exit(1);
	}
	clang_path = vms_xstrdup(reads.v[0]);
	int interp = 0, cache = 0;
	for (size_t i = 0; i < reads.n; i++) {
		interp |= strstr(reads.v[i], "ld-linux") != NULL;
		cache |= !strcmp(reads.v[i], "/etc/ld.so.cache");
	}
	CHECK(interp && cache && reads.n > 3, "program files: the interpreter, libraries and "
	      "the loader's cache (%zu paths)", reads.n);
	char *argv[] = { clang_path, (char *)"-print-resource-dir", NULL };
	char *out = NULL;
	if (test_run((const char *const *)argv, NULL, &out, NULL) != 0) {
		fprintf(stderr, "%s -print-resource-dir failed\n", clang_path);
		exit(1);
	}
	out[strcspn(out, "\n")] = 0;
	resource_dir = out;
	vms_argv_push(&reads, resource_dir);
	vms_argv_push(&reads, inc);
	vms_argv_push(&reads, job);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: test_sandbox landlock|mountns|both CLANG WORKDIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	unsigned mech = !strcmp(argv[1], "landlock") ? VMS_SANDBOX_LANDLOCK
			: !strcmp(argv[1], "mountns") ? VMS_SANDBOX_MOUNTNS
			: VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS;
	clang = argv[2];
	work = argv[3];
	unsigned have = vms_sandbox_probe();
	char desc[128];
	vms_sandbox_describe(have, desc, sizeof(desc));
	printf("available here: %s\n", desc);
	if ((have & mech) != mech) {
		char want[128];
		vms_sandbox_describe(mech, want, sizeof(want));
		printf("skipped: %s is not available\n", want);
		return test_skip("%s is not available here", want);
	}
	setup();
	case_reads(mech);
	case_has_include(mech);
	case_write_and_legit(mech);
	case_refused(mech);
	if (mech == (VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS)) {
		double none = time_version(0), ll = time_version(VMS_SANDBOX_LANDLOCK),
		       ns = time_version(VMS_SANDBOX_MOUNTNS), both = time_version(mech);
		printf("clang --version (best of 5): none %.1f ms, landlock %.1f ms, "
		       "mount namespace %.1f ms, both %.1f ms\n", none, ll, ns, both);
	}
	vms_argv_free(&reads);
	vms_remove_tree(work);
	free(clang_path), free(resource_dir), free(job), free(out_dir), free(inc), free(secret);
	free(root);
	return test_exit();
}
