/* tests/clangsnap: builds through a clang snapshot against plain clang builds of the same
 * source with the same flags: the same BPF object (vms_obj_compare: text, relocations,
 * BTF, BTF.ext CO-RE records, maps), the same diagnostics, and the cases where a snapshot
 * must step aside (preamble #defines, a local include, a changed header, another clang or
 * flags, a killed snapshot), leaving no process behind.
 *
 *   test_clangsnap progs CLANG HEADER PROGS_DIR OUT [PCH]
 *   test_clangsnap cases CLANG HEADER PROGS_DIR OUT
 *   test_clangsnap kill CLANG HEADER PROGS_DIR OUT
 *   test_clangsnap parallel CLANG HEADER PROGS_DIR OUT */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpfobj/bpfobj.h"
#include "clangsnap/clangsnap.h"
#include "tests/testutil.h"


/* vms_which() answers an owned path: a test that only asks whether a program is there
 * must free it (LeakSanitizer counts it) */
static int have_program(const char *name)
{
	char *p = vms_which(name);
	int found = p != NULL;
	free(p);
	return found;
}

static char *hdr_dir;
static const char *flags[8];

static void set_flags(const char *header)
{
	free(hdr_dir);
	hdr_dir = vms_dirname(header);
	static char inc[4096];
	snprintf(inc, sizeof(inc), "-I%s", hdr_dir);
	const char *f[] = { "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", inc, NULL };
	memcpy(flags, f, sizeof(f));
}

/* The reference: plain clang, same flags. Exit code; stderr in *err when asked. */
static int plain(const char *clang, const char *src, const char *out, char **err)
{
	const char *argv[16];
	size_t n = 0;
	argv[n++] = clang;
	for (size_t i = 0; flags[i]; i++)
		argv[n++] = flags[i];
	argv[n++] = "-c";
	argv[n++] = src;
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n] = NULL;
	char *e = NULL;
	int rc = test_run(argv, NULL, NULL, &e);
	if (err)
		*err = e;
	else
		free(e);
	return rc;
}

static struct vms_clangsnap *start(const char *clang, const char *header, const char *pch,
				   int max_jobs)
{
	struct vms_clangsnap_opts o = { .clang = clang, .flags = flags, .header = header,
					.pch = pch, .max_jobs = max_jobs };
	struct vms_diags d = { 0 };
	struct vms_clangsnap *s = NULL;
	int rc = vms_clangsnap_start(&o, &s, &d);
	if (rc) {
		vms_diags_print(stderr, &d);
		FAIL("vms_clangsnap_start(%s, %s): %d", clang, header, rc);
	}
	vms_diags_free(&d);
	return s;
}

static int same_object(const char *a, const char *b)
{
	struct vms_diags d = { 0 };
	int rc = vms_obj_compare(a, b, &d);
	if (rc != 0) {
		vms_obj_diffs_trim(&d, 10, 0);
		vms_diags_print(stderr, &d);
	}
	vms_diags_free(&d);
	return rc == 0;
}

static int snap_build(struct vms_clangsnap *s, const char *src, const char *out,
		      struct vms_build_result *r)
{
	struct vms_diags d = { 0 };
	int rc = vms_clangsnap_build(s, src, out, NULL, r, &d);
	if (d.n)
		vms_diags_print(stderr, &d);
	vms_diags_free(&d);
	return rc;
}

static int first_is_vmlinux(const char *path)
{
	/* the first line that starts with '#' (the programs' comments do not) */
	char *t = test_slurp(path);
	int ok = 0;
	for (size_t i = 0; t[i]; i++) {
		if ((i == 0 || t[i - 1] == '\n') && t[i] == '#') {
			ok = !strncmp(t + i, "#include \"vmlinux.h\"", 20);
			break;
		}
	}
	free(t);
	return ok;
}

/* Every program that includes vmlinux.h first: the snapshot's object is the plain one. */
static int t_progs(const char *clang, const char *header, const char *progs, const char *out,
		   const char *pch)
{
	if (!have_program(clang))
		return test_skip("%s not installed", clang);
	set_flags(header);
	test_fresh_dir(out);
	struct vms_clangsnap *s = start(clang, header, pch, 0);
	if (!s)
		return test_exit();
	DIR *dir = opendir(progs);
	struct dirent *e;
	int n = 0, same_bytes = 0;
	while (dir && (e = readdir(dir))) {
		size_t l = strlen(e->d_name);
		if (l < 7 || strcmp(e->d_name + l - 6, ".bpf.c"))
			continue;
		char *src = vms_xasprintf("%s/%s", progs, e->d_name);
		if (!first_is_vmlinux(src)) {
			printf("%s: does not include vmlinux.h first, left out\n", e->d_name);
			free(src);
			continue;
		}
		char *po = vms_xasprintf("%s/%s.plain.o", out, e->d_name);
		char *so = vms_xasprintf("%s/%s.snap.o", out, e->d_name);
		CHECK(plain(clang, src, po, NULL) == 0, "plain %s", e->d_name);
		struct vms_build_result r;
		int rc = snap_build(s, src, so, &r);
		CHECK(rc == 0, "%s: snapshot build %d (%s): %s", e->d_name, rc,
		      r.mode ? r.mode : "", r.clang_stderr);
		if (rc == 0) {
			CHECK(same_object(po, so), "%s: objects differ", e->d_name);
			char *a, *b;
			size_t al, bl;
			if (!vms_read_file(po, &a, &al) && !vms_read_file(so, &b, &bl)) {
				same_bytes += al == bl && !memcmp(a, b, al);
				free(a);
				free(b);
			}
			printf("%s: same object (%s, %.1f ms)\n", e->d_name, r.mode, r.total_ms);
		}
		n++;
		vms_build_result_free(&r);
		free(src);
		free(po);
		free(so);
	}
	if (dir)
		closedir(dir);
	CHECK(n > 10, "only %d programs", n);
	printf("%s%s: %d programs, %d byte-identical\n", clang, pch ? " (PCH)" : "", n, same_bytes);
	vms_clangsnap_stop(s);
	return test_exit();
}

static void write_text(const char *path, const char *text)
{
	if (vms_write_file_atomic(path, text, strlen(text), 0644) < 0) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
}

/* A copy of execsnoop with `extra` put in after line `at` (0: before everything). */
static char *variant(const char *progs, const char *out, const char *name, int at,
		     const char *extra)
{
	char *src = vms_xasprintf("%s/execsnoop.bpf.c", progs);
	char *t = test_slurp(src);
	free(src);
	struct vms_buf b = { 0 };
	const char *p = t;
	for (int line = 0; line < at && *p; line++) {
		const char *nl = strchr(p, '\n');
		size_t k = nl ? (size_t)(nl - p + 1) : strlen(p);
		vms_buf_append(&b, p, k);
		p += k;
	}
	vms_buf_puts(&b, extra);
	vms_buf_puts(&b, p);
	char *path = vms_xasprintf("%s/%s", out, name);
	write_text(path, b.data);
	vms_buf_free(&b);
	free(t);
	return path;
}

static int t_cases(const char *clang, const char *header, const char *progs, const char *out)
{
	if (!have_program(clang))
		return test_skip("%s not installed", clang);
	test_fresh_dir(out);
	/* a header of our own, to change it */
	char *hd = vms_xasprintf("%s/h", out);
	vms_mkdir_p(hd, 0755);
	char *h = vms_xasprintf("%s/vmlinux.h", hd);
	char *ht = test_slurp(header);
	write_text(h, ht);
	set_flags(h);
	struct vms_clangsnap *s = start(clang, h, NULL, 0);
	if (!s)
		return test_exit();
	struct vms_build_result r;

	/* compile errors: clang's own text, the user's file and line, as a plain build */
	char *bad = variant(progs, out, "bad.bpf.c", 40, "int broken(void) { return nosuch; }\n");
	char *perr = NULL;
	char *po = vms_xasprintf("%s/bad.plain.o", out), *so = vms_xasprintf("%s/bad.snap.o", out);
	CHECK(plain(clang, bad, po, &perr) == 1, "the broken program compiled plainly");
	int rc = snap_build(s, bad, so, &r);
	CHECK(rc == 1, "broken program: %d (%s)", rc, r.mode ? r.mode : "");
	CHECK(!strcmp(r.clang_stderr, perr), "stderr differs:\n--- plain\n%s--- snapshot\n%s",
	      perr, r.clang_stderr);
	char *where = vms_xasprintf("%s:41:", bad);
	CHECK(strstr(r.clang_stderr, where) && strstr(r.clang_stderr, "nosuch"),
	      "no %s error: %s", where, r.clang_stderr);
	CHECK(access(so, F_OK) != 0, "an object was left for a failed build");
	printf("compile error: %s", r.clang_stderr);
	vms_build_result_free(&r);
	free(where);
	free(perr);

	/* a main-file warning (unused static function) is given as a plain build gives it */
	char *warn = variant(progs, out, "warn.bpf.c", 40,
			     "static int unused_helper(int x) { return x + 1; }\n");
	free(so);
	so = vms_xasprintf("%s/warn.snap.o", out);
	free(po);
	po = vms_xasprintf("%s/warn.plain.o", out);
	/* -Wall for this one: a snapshot with other flags */
	vms_clangsnap_stop(s);
	const char *wflags[] = { flags[0], flags[1], flags[2], flags[3], flags[4], flags[5],
				 "-Wall", NULL };
	memcpy(flags, wflags, sizeof(wflags));
	s = start(clang, h, NULL, 0);
	if (!s)
		return test_exit();
	CHECK(plain(clang, warn, po, &perr) == 0, "warn plain");
	rc = snap_build(s, warn, so, &r);
	CHECK(rc == 0 && !strcmp(r.clang_stderr, perr) && strstr(perr, "unused_helper"),
	      "warnings differ (%d):\n--- plain\n%s--- snapshot\n%s", rc, perr, r.clang_stderr);
	CHECK(rc || same_object(po, so), "warn objects differ");
	vms_build_result_free(&r);
	free(perr);

	/* a #define before the header include: does not apply */
	char *pre = variant(progs, out, "pre.bpf.c", 0, "#define BPF_NO_PRESERVE_ACCESS_INDEX\n");
	rc = snap_build(s, pre, so, &r);
	CHECK(rc == 2, "#define first: %d", rc);
	printf("#define first: %s\n", r.mode);
	vms_build_result_free(&r);

	/* a quoted include that a plain build finds in the program's own directory */
	char *ld = vms_xasprintf("%s/local", out);
	vms_mkdir_p(ld, 0755);
	char *lh = vms_xasprintf("%s/local/mine.h", out);
	write_text(lh, "#define MINE 1\n");
	char *loc = variant(progs, ld, "loc.bpf.c", 9, "#include \"mine.h\"\n");
	rc = snap_build(s, loc, so, &r);
	CHECK(rc == 2, "local include: %d (%s)", rc, r.mode ? r.mode : "");
	printf("local include: %s\n", r.mode);
	vms_build_result_free(&r);

	/* other flags or another clang: no match */
	const char *why = NULL;
	const char *other[] = { "-g", "-O1", NULL };
	EXPECT(vms_clangsnap_matches(s, clang, flags, h, NULL, NULL, &why) == 1);
	CHECK(!vms_clangsnap_matches(s, clang, other, h, NULL, NULL, &why), "other flags match");
	printf("other flags: %s\n", why);
	if (have_program("clang-19") && strcmp(clang, "clang-19")) {
		CHECK(!vms_clangsnap_matches(s, "clang-19", flags, h, NULL, NULL, &why),
		      "clang-19 matches a %s snapshot", clang);
		printf("clang-19: %s\n", why);
	}

	/* the header changed on disk (same size: one byte flipped in a comment) */
	char *src = vms_xasprintf("%s/execsnoop.bpf.c", progs);
	rc = snap_build(s, src, so, &r);
	CHECK(rc == 0, "before the change: %d", rc);
	vms_build_result_free(&r);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	char *ht2 = vms_xstrdup(ht);
	char *g = strstr(ht2, "#define __VMLINUX_H__");
	if (g)
		g[1] = 'd'; /* "#define" -> "#ddfine": same size, other meaning */
	write_text(h, ht2);
	CHECK(!vms_clangsnap_matches(s, clang, flags, h, NULL, NULL, &why), "changed header matches");
	printf("changed header: %s\n", why);
	rc = snap_build(s, src, so, &r);
	CHECK(rc == 2, "changed header: %d", rc);
	vms_build_result_free(&r);
	write_text(h, ht);
	vms_clangsnap_stop(s);

	/* a header with a diagnostic of its own, or no include guard: refused at start */
	write_text(h, "#warning from the header\n");
	struct vms_clangsnap_opts o = { .clang = clang, .flags = flags, .header = h };
	struct vms_diags d = { 0 };
	rc = vms_clangsnap_start(&o, &s, &d);
	CHECK(rc == -ENOTSUP && d.n, "unguarded header: %d", rc);
	vms_diags_print(stdout, &d);
	vms_diags_free(&d);
	write_text(h, "#ifndef X_H\n#define X_H\n#warning from the header\n#endif\n");
	rc = vms_clangsnap_start(&o, &s, &d);
	CHECK(rc == -ENOTSUP && d.n, "header warning: %d", rc);
	vms_diags_print(stdout, &d);
	vms_diags_free(&d);
	const char *depf[] = { "-g", "-MD", NULL };
	o.flags = depf;
	rc = vms_clangsnap_start(&o, &s, &d);
	CHECK(rc == -ENOTSUP, "-MD flags: %d", rc);
	vms_diags_print(stdout, &d);
	vms_diags_free(&d);

	free(src);
	free(ht2);
	free(ld);
	free(lh);
	free(loc);
	free(pre);
	free(warn);
	free(bad);
	free(po);
	free(so);
	free(ht);
	free(h);
	free(hd);
	return test_exit();
}

/* Processes whose command line names dir (the snapshot's template directory). */
static int procs_naming(const char *dir)
{
	int n = 0;
	DIR *p = opendir("/proc");
	struct dirent *e;
	while (p && (e = readdir(p))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char *path = vms_xasprintf("/proc/%s/cmdline", e->d_name);
		char *t;
		size_t l;
		if (vms_read_file(path, &t, &l) == 0) {
			for (size_t i = 0; i < l; i += strlen(t + i) + 1)
				if (strstr(t + i, dir)) {
					/* a zombie has an empty cmdline, so this is a live one */
					n++;
					break;
				}
			free(t);
		}
		free(path);
	}
	if (p)
		closedir(p);
	return n;
}

struct job {
	struct vms_clangsnap *s;
	char *src, *out, *ref;
	const char *clang;
	int rc;
	struct vms_build_result r;
};

static void *job_run(void *arg)
{
	struct job *j = arg;
	j->rc = snap_build(j->s, j->src, j->out, &j->r);
	return NULL;
}

static int t_kill(const char *clang, const char *header, const char *progs, const char *out)
{
	test_fresh_dir(out);
	set_flags(header);
	char *wd = vms_xasprintf("%s/work", out);
	vms_mkdir_p(wd, 0700);
	struct vms_clangsnap_opts o = { .clang = clang, .flags = flags, .header = header,
					.work_dir = wd };
	struct vms_diags d = { 0 };
	struct vms_clangsnap *s = NULL;
	if (vms_clangsnap_start(&o, &s, &d)) {
		vms_diags_print(stderr, &d);
		FAIL("start");
		return test_exit();
	}
	CHECK(procs_naming(wd) == 1, "%d processes for one snapshot", procs_naming(wd));
	/* builds in flight when the snapshot is killed: each says "does not apply" */
	struct job j[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].s = s;
		j[i].src = vms_xasprintf("%s/%s.bpf.c", progs, i == 0 ? "runqlat" : i == 1 ? "tcpstates" : "profile");
		j[i].out = vms_xasprintf("%s/k%d.o", out, i);
		pthread_create(&th[i], NULL, job_run, &j[i]);
	}
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	kill(vms_clangsnap_pid(s), SIGKILL);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		/* a build may have finished before the kill */
		CHECK(j[i].rc == 2 || j[i].rc == 0, "build %d during the kill: %d", i, j[i].rc);
		if (j[i].rc == 2)
			printf("build %d: %s\n", i, j[i].r.mode);
		CHECK(j[i].rc == 0 || access(j[i].out, F_OK) != 0, "an output after the kill");
		vms_build_result_free(&j[i].r);
	}
	struct vms_build_result r;
	int rc = snap_build(s, j[0].src, j[0].out, &r);
	CHECK(rc == 2, "build after the kill: %d", rc);
	printf("after the kill: %s\n", r.mode);
	vms_build_result_free(&r);
	vms_clangsnap_stop(s);
	/* PR_SET_PDEATHSIG takes the children with the server; allow them a moment */
	int left = 0;
	for (int i = 0; i < 100 && (left = procs_naming(wd)); i++)
		nanosleep(&ts, NULL);
	CHECK(left == 0, "%d processes left behind", left);
	/* a stop with nothing killed leaves nothing either */
	if (vms_clangsnap_start(&o, &s, &d) == 0) {
		rc = snap_build(s, j[1].src, j[1].out, &r);
		CHECK(rc == 0, "build: %d", rc);
		vms_build_result_free(&r);
		vms_clangsnap_stop(s);
		CHECK(procs_naming(wd) == 0, "processes left after stop");
		DIR *dd = opendir(wd);
		struct dirent *e;
		int files = 0;
		while (dd && (e = readdir(dd)))
			files += e->d_name[0] != '.';
		if (dd)
			closedir(dd);
		CHECK(files == 0, "%d files left in the work directory", files);
	} else {
		vms_diags_print(stderr, &d);
		FAIL("restart");
	}
	vms_diags_free(&d);

	/* the owner (the daemon) dies without stopping it: the snapshot goes with it */
	pid_t owner = fork();
	if (owner == 0) {
		struct vms_clangsnap *s2 = NULL;
		struct vms_diags d2 = { 0 };
		if (vms_clangsnap_start(&o, &s2, &d2))
			_exit(3);
		struct vms_build_result r2;
		int brc = vms_clangsnap_build(s2, j[2].src, j[2].out, NULL, &r2, &d2);
		_exit(brc == 0 && procs_naming(wd) == 1 ? 0 : 4);
	}
	int st = 0;
	waitpid(owner, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the owner's build: %d", st);
	for (int i = 0; i < 100 && (left = procs_naming(wd)); i++)
		nanosleep(&ts, NULL);
	CHECK(left == 0, "%d processes outlived their owner", left);
	/* its template files stay (nobody ran stop); the next start in wd overwrites them */
	for (int i = 0; i < 3; i++) {
		free(j[i].src);
		free(j[i].out);
	}
	free(wd);
	return test_exit();
}

static int t_parallel(const char *clang, const char *header, const char *progs, const char *out)
{
	test_fresh_dir(out);
	set_flags(header);
	struct vms_clangsnap *s = start(clang, header, NULL, 3);
	if (!s)
		return test_exit();
	static const char *names[] = { "execsnoop", "runqlat", "tcpstates", "profile", "vfsstat",
				       "xdp_filter", "core_compat", "exitsnoop", "tcprtt",
				       "unlinksnoop" };
	enum { N = sizeof(names) / sizeof(names[0]) };
	struct job j[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		memset(&j[i], 0, sizeof(j[i]));
		j[i].s = s;
		j[i].src = vms_xasprintf("%s/%s.bpf.c", progs, names[i]);
		j[i].out = vms_xasprintf("%s/%s.snap.o", out, names[i]);
		j[i].ref = vms_xasprintf("%s/%s.plain.o", out, names[i]);
		CHECK(plain(clang, j[i].src, j[i].ref, NULL) == 0, "plain %s", names[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_create(&th[i], NULL, job_run, &j[i]);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		CHECK(j[i].rc == 0, "%s: %d (%s)", names[i], j[i].rc, j[i].r.mode ? j[i].r.mode : "");
		if (j[i].rc == 0)
			CHECK(same_object(j[i].ref, j[i].out), "%s differs", names[i]);
		vms_build_result_free(&j[i].r);
		free(j[i].src);
		free(j[i].out);
		free(j[i].ref);
	}
	printf("%d concurrent builds (3 at a time): all the plain objects\n", N);
	vms_clangsnap_stop(s);
	return test_exit();
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *c = argc > 1 ? argv[1] : "";
	if (argc >= 6 && access(argv[3], R_OK) != 0)
		return test_skip("%s not built (no pinned BTF)", argv[3]);
	int rc = 2;
	if (!strcmp(c, "progs") && (argc == 6 || argc == 7))
		rc = t_progs(argv[2], argv[3], argv[4], argv[5], argc == 7 ? argv[6] : NULL);
	else if (!strcmp(c, "cases") && argc == 6)
		rc = t_cases(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(c, "kill") && argc == 6)
		rc = t_kill(argv[2], argv[3], argv[4], argv[5]);
	else if (!strcmp(c, "parallel") && argc == 6)
		rc = t_parallel(argv[2], argv[3], argv[4], argv[5]);
	else
		fprintf(stderr, "test_clangsnap: bad arguments\n");
	free(hdr_dir);
	return rc;
}
