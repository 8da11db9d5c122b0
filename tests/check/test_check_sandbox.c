/* The snapshot checker inside the OS sandbox (tccarena's sandbox_mech): still checks, reads nothing else.
 *
 *   test_check_sandbox HEADERS_DIR PROGS_DIR VMLINUX_H WORKDIR
 *
 * For each mechanism the probe finds (Landlock, the mount namespace, both; none: skipped,
 * exit 77) a confined checker whose helper enters the sandbox:
 *   - checks a real program (tests/progs/cgroup_acct.bpf.c: vmlinux.h, libbpf's headers)
 *     with no error, many times over from one snapshot (fork per check inside the
 *     sandbox, the spare child, the arena's huge pages);
 *   - finds an error in it on the right line;
 *   - does not open a file outside its lists: an #include of a marker file by its
 *     absolute path is "not found", and the marker's text is in no diagnostic;
 *   - a sandbox that cannot be entered (a missing root) fails the check with a message
 *     saying so (VMS_TCC_FAILED), never a check run unconfined.
 */
#include <unistd.h>

#include "common/sandbox.h"
#include "tccarena/tccarena.h"
#include "tests/testutil.h"

#define MARKER "vmslim_secret_marker_5d1e"

static const char *headers, *vmlinux, *work;
static char *prog_src, *prog_name, *inc, *root, *secret;

static int diags_contain(const struct vms_diags *d, const char *s)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].msg && strstr(d->v[i].msg, s))
			return 1;
	return 0;
}

static int first_error_line(const struct vms_diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == VMS_ERROR)
			return d->v[i].line;
	return -1;
}

/* Whether every process this one started (the helpers) lives in another mount namespace
 * than ours; how many there are in *n. */
static int helpers_in_other_mountns(int *n)
{
	char self[64] = "", other[64], path[64];
	ssize_t k = readlink("/proc/self/ns/mnt", self, sizeof(self) - 1);
	if (k > 0)
		self[k] = 0;
	char *kids;
	size_t len;
	char task[64];
	snprintf(task, sizeof(task), "/proc/self/task/%d/children", (int)getpid());
	*n = 0;
	if (vms_read_file(task, &kids, &len) < 0)
		return 0;
	int all = 1;
	for (char *p = kids; *p;) {
		int pid = (int)strtol(p, &p, 10);
		if (pid <= 0)
			break;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
		k = readlink(path, other, sizeof(other) - 1);
		if (k > 0)
			other[k] = 0;
		all &= k > 0 && strcmp(self, other) != 0;
		++*n;
		while (*p == ' ' || *p == '\n')
			p++;
	}
	free(kids);
	return all;
}

static void check(struct vms_tcc_checker *c, const char *src, struct vms_tcc_result *r)
{
	struct vms_tcc_request req = { .source = src, .len = strlen(src), .file_name = prog_name };
	vms_tcc_check(c, &req, r);
}

static void run(unsigned mech, const char *label)
{
	const char *incs[] = { inc, NULL };
	struct vms_tcc_opts o = { .headers_dir = headers, .include_dirs = incs,
				  .vmlinux_header = vmlinux, .confine = 1, .sandbox_mech = mech,
				  .sandbox_root = root };
	struct vms_tcc_checker *c;
	struct vms_diags d = { 0 };
	if (vms_tcc_checker_new(&o, &c, &d) < 0) {
		FAIL("%s: checker: %s", label, d.n ? d.v[0].msg : "?");
		vms_diags_free(&d);
		return;
	}
	struct vms_tcc_result r;
	for (int i = 0; i < 20; i++) {
		check(c, prog_src, &r);
		CHECK(r.status == VMS_TCC_OK, "%s: check %d of the real program: %s (%s)", label, i,
		      vms_tcc_status_name(r.status), r.diags.n ? r.diags.v[0].msg : "");
		vms_tcc_result_free(&r);
	}
	struct vms_tcc_stats st;
	vms_tcc_checker_stats(c, &st);
	printf("%s: snapshot built in %.1f ms\n", label, st.last_build_ms);
	if (mech & VMS_SANDBOX_MOUNTNS) {
		int n;
		CHECK(helpers_in_other_mountns(&n) && n == 1,
		      "%s: the helper is in its own mount namespace (%d helpers)", label, n);
	}
	CHECK(st.hits >= 19 && st.snapshots == 1, "%s: one snapshot served them (%llu hits)",
	      label, (unsigned long long)st.hits);

	/* an error past the preamble, on its line */
	size_t n = strlen(prog_src);
	char *bad = vms_xasprintf("%s%sint broken(void) { return nope; }\n", prog_src,
				  n && prog_src[n - 1] != '\n' ? "\n" : "");
	int line = 1;
	for (const char *p = bad; *p; p++)
		line += *p == '\n';
	check(c, bad, &r);
	CHECK(r.status == VMS_TCC_ERRORS && first_error_line(&r.diags) == line - 1,
	      "%s: the error on line %d (%s, line %d)", label, line - 1,
	      vms_tcc_status_name(r.status), first_error_line(&r.diags));
	vms_tcc_result_free(&r);
	free(bad);

	/* an outside file, by its absolute path, in the body and in the preamble */
	char *m = vms_xasprintf("%s/marker.h", secret);
	char *in_body = vms_xasprintf("int x;\n#include \"%s\"\n", m);
	char *in_pre = vms_xasprintf("#include \"%s\"\nint x;\n", m);
	const char *srcs[] = { in_body, in_pre };
	for (int i = 0; i < 2; i++) {
		check(c, srcs[i], &r);
		CHECK(r.status == VMS_TCC_ERRORS && !diags_contain(&r.diags, MARKER),
		      "%s: the outside file is not read (%s)", label, vms_tcc_status_name(r.status));
		vms_tcc_result_free(&r);
	}
	free(m), free(in_body), free(in_pre);
	vms_tcc_checker_free(c);

	/* a sandbox that cannot be entered fails the check */
	char *missing = vms_xasprintf("%s/no-such-root", work);
	o.sandbox_root = missing;
	if (!(mech & VMS_SANDBOX_MOUNTNS))
		o.sandbox_mech |= 1u << 30; /* a mechanism nobody has: refused as well */
	if (vms_tcc_checker_new(&o, &c, &d) == 0) {
		check(c, prog_src, &r);
		CHECK(r.status == VMS_TCC_FAILED && diags_contain(&r.diags, "sandbox"),
		      "%s: an impossible sandbox fails the check (%s: %s)", label,
		      vms_tcc_status_name(r.status), r.diags.n ? r.diags.v[0].msg : "");
		vms_tcc_result_free(&r);
		vms_tcc_checker_free(c);
	} else {
		FAIL("%s: checker with a missing root", label);
	}
	free(missing);
	vms_diags_free(&d);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: test_check_sandbox HEADERS PROGS VMLINUX_H WORKDIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	headers = argv[1];
	vmlinux = argv[3];
	work = argv[4];
	unsigned have = vms_sandbox_probe();
	char desc[128];
	vms_sandbox_describe(have, desc, sizeof(desc));
	printf("sandbox here: %s\n", desc);
	if (!have)
		return test_skip("no OS sandbox here (%s)", desc);

	test_fresh_dir(work);
	inc = vms_xasprintf("%s/inc", work);
	root = vms_xasprintf("%s/root", work);
	secret = vms_xasprintf("%s/secret", work);
	vms_mkdir_p(inc, 0755), vms_mkdir_p(root, 0755), vms_mkdir_p(secret, 0755);
	char *marker = vms_xasprintf("%s/marker.h", secret);
	const char *mtext = "int " MARKER " = ;\n"; /* an error that would quote it */
	vms_write_file_atomic(marker, mtext, strlen(mtext), 0644);
	free(marker);
	char *orig = vms_xasprintf("%s/cgroup_acct.bpf.c", argv[2]);
	prog_src = test_slurp(orig);
	free(orig);
	prog_name = vms_xasprintf("%s/prog.bpf.c", inc);

	if (have & VMS_SANDBOX_LANDLOCK)
		run(VMS_SANDBOX_LANDLOCK, "landlock");
	else
		printf("skipped: landlock alone (not available)\n");
	if (have & VMS_SANDBOX_MOUNTNS)
		run(VMS_SANDBOX_MOUNTNS, "mount namespace");
	else
		printf("skipped: mount namespace alone (not available)\n");
	if (have == (VMS_SANDBOX_LANDLOCK | VMS_SANDBOX_MOUNTNS))
		run(have, "both");
	vms_remove_tree(work);
	free(prog_src), free(prog_name), free(inc), free(root), free(secret);
	return test_exit();
}
