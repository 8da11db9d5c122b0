/* bench/clangsnap_bench: per-build time of clang snapshot builds against `vmslim build`
 * (the PCH path) and plain clang, with the full header and with the program's slim header
 * (`vmslim extract --from`). Median of N runs; ratios from one run; a quiet machine. The
 * snapshot columns: one for any program (the header parsed, or its PCH loaded), and one
 * for this program only (opts.source: DWARF byte for byte, what the daemon uses).
 *
 *   clangsnap_bench VMSLIM FULL_VMLINUX_H PROG.bpf.c WORKDIR [N] [CLANG]
 *
 * Every snapshot object is checked against the plain one (vms_obj_compare) so that a
 * figure never stands for a wrong build. Exit: 0 ok, 1 a build failed or differed, 2 usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bpfobj/bpfobj.h"
#include "clangsnap/clangsnap.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run(const char *const *argv)
{
	struct vms_proc_result r;
	if (vms_run((char *const *)argv, NULL, 0, 300000, &r) < 0)
		return -1;
	int rc = r.exit_code;
	if (rc)
		fprintf(stderr, "%s: %s", argv[0], r.err);
	vms_proc_result_free(&r);
	return rc;
}

/* Median ms of N runs of argv (after one warm-up run). */
static double time_cmd(const char *const *argv, int n)
{
	double *t = calloc((size_t)n, sizeof(double));
	if (run(argv))
		return -1;
	for (int i = 0; i < n; i++) {
		double t0 = vms_now_ms();
		if (run(argv))
			return -1;
		t[i] = vms_now_ms() - t0;
	}
	double m = median(t, n);
	free(t);
	return m;
}

static double time_snap(const char *clang, const char *const *flags, const char *header,
			const char *pch, const char *prog, const char *out, const char *ref,
			int n, double *start_ms, int one)
{
	struct vms_clangsnap_opts o = { .clang = clang, .flags = flags, .header = header,
					.pch = pch, .source = one ? prog : NULL };
	struct vms_diags d = { 0 };
	struct vms_clangsnap *s;
	double t0 = vms_now_ms();
	if (vms_clangsnap_start(&o, &s, &d)) {
		vms_diags_print(stderr, &d);
		vms_diags_free(&d);
		return -1;
	}
	*start_ms = vms_now_ms() - t0;
	double *t = calloc((size_t)n + 1, sizeof(double));
	double m = -1;
	for (int i = 0; i <= n; i++) {
		struct vms_build_result r;
		double t1 = vms_now_ms();
		int rc = vms_clangsnap_build(s, prog, out, NULL, &r, &d);
		t[i] = vms_now_ms() - t1;
		if (rc) {
			fprintf(stderr, "snapshot build: %d %s %s", rc, r.mode ? r.mode : "",
				r.clang_stderr);
			vms_build_result_free(&r);
			goto done;
		}
		vms_build_result_free(&r);
	}
	if (vms_obj_compare(ref, out, &d) != 0) {
		vms_diags_print(stderr, &d);
		fprintf(stderr, "snapshot object differs from plain clang's\n");
		goto done;
	}
	m = median(t + 1, n); /* t[0]: the first build, left out like the others' warm-up */
done:
	vms_diags_free(&d);
	free(t);
	vms_clangsnap_stop(s);
	return m;
}

int main(int argc, char **argv)
{
	if (argc < 5 || argc > 7) {
		fprintf(stderr, "usage: clangsnap_bench VMSLIM FULL_VMLINUX_H PROG.bpf.c WORKDIR "
				"[N] [CLANG]\n");
		return 2;
	}
	const char *vmslim = argv[1], *full = argv[2], *prog = argv[3], *work = argv[4];
	int n = argc > 5 ? atoi(argv[5]) : 11;
	const char *clang = argc > 6 ? argv[6] : "clang";
	if (n < 1)
		n = 1;
	vms_mkdir_p(work, 0755);
	char *slim_dir = vms_xasprintf("%s/slim", work);
	vms_mkdir_p(slim_dir, 0755);
	char *slim = vms_xasprintf("%s/vmlinux.h", slim_dir);
	char *cache = vms_xasprintf("%s/cache", work);
	const char *ex[] = { vmslim, "extract", "--header", full, "--from", prog, "-o", slim, NULL };
	if (run(ex)) {
		fprintf(stderr, "extract failed\n");
		return 1;
	}
	printf("program %s, clang %s, median of %d runs\n", vms_basename(prog), clang, n);
	printf("%-6s %10s %12s %10s %12s %12s %10s  %s\n", "header", "plain ms", "vmslim build",
	       "snapshot", "snap+PCH", "one-program", "start ms",
	       "ratios (plain/snapshot, build/snapshot)");
	int bad = 0;
	for (int h = 0; h < 2; h++) {
		const char *header = h ? slim : full;
		char *dir = vms_dirname(header);
		char *inc = vms_xasprintf("-I%s", dir);
		const char *flags[] = { "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", inc,
					NULL };
		char *ref = vms_xasprintf("%s/plain-%d.o", work, h);
		char *bo = vms_xasprintf("%s/build-%d.o", work, h);
		char *so = vms_xasprintf("%s/snap-%d.o", work, h);
		char *pch = vms_xasprintf("%s/vmlinux-%d.pch", work, h);
		const char *pl[] = { clang, "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", inc,
				     "-c", prog, "-o", ref, NULL };
		const char *vb[] = { vmslim, "build", prog, "-o", bo, "--header", header, "--clang",
				     clang, "--cache-dir", cache, NULL };
		const char *vp[] = { vmslim, "pch", header, "-o", pch, "--clang", clang, "--raw",
				     "--", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", inc,
				     NULL };
		double t_plain = time_cmd(pl, n);
		double t_build = time_cmd(vb, n);
		double start = 0, start_pch = 0;
		double t_snap = time_snap(clang, flags, header, NULL, prog, so, ref, n, &start, 0);
		double t_snap_pch = run(vp) ? -1
				  : time_snap(clang, flags, header, pch, prog, so, ref, n, &start_pch, 0);
		double start_one = 0;
		double t_one = time_snap(clang, flags, header, NULL, prog, so, ref, n, &start_one, 1);
		bad |= t_plain < 0 || t_build < 0 || t_snap < 0 || t_snap_pch < 0 || t_one < 0;
		printf("%-6s %10.1f %12.1f %10.1f %12.1f %12.1f %10.0f  %.1fx, %.1fx (PCH: %.1fx, %.1fx)\n",
		       h ? "slim" : "full", t_plain, t_build, t_snap, t_snap_pch, t_one, start,
		       t_plain / t_snap, t_build / t_snap, t_plain / t_snap_pch, t_build / t_snap_pch);
		free(dir);
		free(inc);
		free(ref);
		free(bo);
		free(so);
		free(pch);
	}
	free(slim_dir);
	free(slim);
	free(cache);
	return bad;
}
