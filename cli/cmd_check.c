/* vmslim check: type-check a BPF C program with the TCC snapshot checker. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/common.h"
#include "tccarena/tccarena.h"

/* Exit codes beyond the common three. */
#define EXIT_UNSUPPORTED 3	/* the fast checker cannot judge this program: ask clang */
#define EXIT_GAVE_UP 4		/* it crashed, ran out of time or of memory on it */

static void usage(FILE *out)
{
	fprintf(out,
"usage: vmslim check [OPTIONS] PROG.c\n"
"\n"
"Type-checks BPF C in about a millisecond: TCC parses the program's preamble (its\n"
"leading #include/#define lines: vmlinux.h, libbpf's headers) once in a snapshot\n"
"process, and each check forks from there. Diagnostics are gcc-style\n"
"(file:line: error: message) on stderr.\n"
"\n"
"options:\n"
"  -I DIR            add DIR to the include path\n"
"  -D NAME[=VALUE]   define a macro (e.g. -D__TARGET_ARCH_x86)\n"
"  --header H        use H wherever the program includes vmlinux.h\n"
"  -W, --warnings    also show TCC's warnings in the program\n"
"  --repeat N        check N times (benchmarks; the snapshot is built first)\n"
"  --stats           print per-check latency (median, p90) and snapshot figures\n"
"  --interval MS     with --repeat: pause MS between checks, as an editor does\n"
"                    between keystrokes (the snapshot forks its next child then)\n"
"  --mode M          snapshot (default); arena or libc: no snapshot, a fresh TCC\n"
"                    per check in this process with its heap in the arena or glibc\n"
"  --time-limit MS   per-check time limit (default 10000)\n"
"  --mem-limit MB    per-check memory limit (default 1024)\n"
"  --confine         open only files under the include directories (untrusted input)\n"
"  --headers-dir D   vmslim's headers (TCC prelude); default: the installed ones\n"
"  -h, --help        this text\n"
"\n"
"PROG.c may be '-' for standard input (named <stdin> in diagnostics).\n"
"\n"
"exit status:\n"
"  0  no errors\n"
"  1  errors found (or the check could not run)\n"
"  2  usage error\n"
"  3  unsupported: the program uses something the fast checker cannot judge (BPF\n"
"     inline asm, C23 enum base types, size-dependent static assertions); this is\n"
"     not an error in the program - check it with clang\n"
"  4  the fast checker gave up on this input (crash, time or memory limit)\n");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, size_t n, double q)
{
	if (!n)
		return 0;
	size_t i = (size_t)(q * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

static int read_input(const char *path, char **data, size_t *len)
{
	if (strcmp(path, "-"))
		return vms_read_file(path, data, len);
	struct vms_buf b = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		vms_buf_append(&b, chunk, n);
	if (ferror(stdin)) {
		vms_buf_free(&b);
		return -EIO;
	}
	*len = b.len;
	*data = vms_buf_steal(&b);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	enum { O_HEADER = 256, O_REPEAT, O_STATS, O_MODE, O_TIME, O_MEM, O_CONFINE, O_HDRDIR, O_INTERVAL };
	static const struct option longopts[] = {
		{ "header", required_argument, NULL, O_HEADER },
		{ "warnings", no_argument, NULL, 'W' },
		{ "repeat", required_argument, NULL, O_REPEAT },
		{ "stats", no_argument, NULL, O_STATS },
		{ "interval", required_argument, NULL, O_INTERVAL },
		{ "mode", required_argument, NULL, O_MODE },
		{ "time-limit", required_argument, NULL, O_TIME },
		{ "mem-limit", required_argument, NULL, O_MEM },
		{ "confine", no_argument, NULL, O_CONFINE },
		{ "headers-dir", required_argument, NULL, O_HDRDIR },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vms_argv incs = { 0 }, defs = { 0 };
	struct vms_tcc_opts o = { 0 };
	const char *mode = "snapshot";
	long repeat = 1, interval_ms = 0;
	int stats = 0, rc = VMS_EXIT_USAGE;
	char *end;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "I:D:Wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'I': vms_argv_push(&incs, optarg); break;
		case 'D': vms_argv_push(&defs, optarg); break;
		case 'W': o.warnings = 1; break;
		case O_HEADER: o.vmlinux_header = optarg; break;
		case O_STATS: stats = 1; break;
		case O_MODE: mode = optarg; break;
		case O_CONFINE: o.confine = 1; break;
		case O_HDRDIR: o.headers_dir = optarg; break;
		case O_REPEAT:
			repeat = strtol(optarg, &end, 10);
			if (*end || repeat < 1 || repeat > 10000000) {
				cli_error("check", "--repeat wants a number from 1 to 10000000, not '%s'",
					  optarg);
				goto out;
			}
			break;
		case O_INTERVAL:
			interval_ms = strtol(optarg, &end, 10);
			if (*end || interval_ms < 0 || interval_ms > 86400000) {
				cli_error("check", "--interval wants milliseconds, not '%s'", optarg);
				goto out;
			}
			break;
		case O_TIME: {
			long ms = strtol(optarg, &end, 10);
			if (*end || ms < 1 || ms > 86400000) {
				cli_error("check", "--time-limit wants milliseconds (at most a day), not '%s'",
					  optarg);
				goto out;
			}
			o.time_limit_ms = (int)ms;
			break;
		}
		case O_MEM: {
			long mb = strtol(optarg, &end, 10);
			if (*end || mb < 1 || mb > (1L << 30)) {
				cli_error("check", "--mem-limit wants megabytes, not '%s'", optarg);
				goto out;
			}
			o.mem_limit = (size_t)mb << 20;
			break;
		}
		case 'h':
			usage(stdout);
			rc = VMS_EXIT_OK;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		cli_error("check", optind >= argc ? "no program given" : "one program at a time");
		usage(stderr);
		goto out;
	}
	enum { M_SNAPSHOT, M_ARENA, M_LIBC } m;
	if (!strcmp(mode, "snapshot")) {
		m = M_SNAPSHOT;
	} else if (!strcmp(mode, "arena")) {
		m = M_ARENA;
	} else if (!strcmp(mode, "libc")) {
		m = M_LIBC;
	} else {
		cli_error("check", "--mode is snapshot, arena or libc, not '%s'", mode);
		goto out;
	}
	const char *path = argv[optind];
	char *src;
	size_t len;
	int e = read_input(path, &src, &len);
	if (e < 0) {
		cli_error("check", "cannot read %s: %s", path, strerror(-e));
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	if (!o.headers_dir)
		o.headers_dir = cli_headers_dir();
	o.include_dirs = (const char *const *)incs.v;
	o.defines = (const char *const *)defs.v;

	struct vms_tcc_request req = {
		.source = src, .len = len, .file_name = strcmp(path, "-") ? path : "<stdin>",
	};
	struct vms_diags d = { 0 };
	struct vms_tcc_checker *ck = NULL;
	double build_ms = 0;
	if (m == M_SNAPSHOT) {
		if (vms_tcc_checker_new(&o, &ck, &d) < 0) {
			vms_diags_print(stderr, &d);
			vms_diags_free(&d);
			free(src);
			rc = VMS_EXIT_FAIL;
			goto out;
		}
		if (repeat > 1 || stats) {
			double t0 = vms_now_ms();
			if (vms_tcc_checker_prepare(ck, &req, &d) < 0) {
				vms_diags_print(stderr, &d);
				vms_diags_free(&d);
				vms_tcc_checker_free(ck);
				free(src);
				rc = VMS_EXIT_FAIL;
				goto out;
			}
			build_ms = vms_now_ms() - t0;
		}
	}
	double *times = vms_xcalloc((size_t)repeat, sizeof(double));
	double *tcc_times = vms_xcalloc((size_t)repeat, sizeof(double));
	struct vms_tcc_result r = { 0 };
	for (long i = 0; i < repeat; i++) {
		vms_tcc_result_free(&r);
		if (interval_ms && i)
			nanosleep(&(struct timespec){ .tv_sec = interval_ms / 1000,
						      .tv_nsec = (interval_ms % 1000) * 1000000L }, NULL);
		double t0 = vms_now_ms();
		if (m == M_SNAPSHOT)
			vms_tcc_check(ck, &req, &r);
		else
			vms_tcc_check_inprocess(&o, m == M_ARENA ? VMS_TCC_ALLOC_ARENA : VMS_TCC_ALLOC_LIBC,
						&req, &r);
		times[i] = vms_now_ms() - t0;
		tcc_times[i] = r.tcc_ms;
	}
	vms_diags_print(stderr, &r.diags);
	switch (r.status) {
	case VMS_TCC_OK: rc = VMS_EXIT_OK; break;
	case VMS_TCC_ERRORS: rc = VMS_EXIT_FAIL; break;
	case VMS_TCC_UNSUPPORTED:
		fprintf(stderr, "%s: note: not checked by the fast checker (unsupported); "
			"check it with clang\n", req.file_name);
		rc = EXIT_UNSUPPORTED;
		break;
	case VMS_TCC_CRASHED:
	case VMS_TCC_TIMEOUT:
	case VMS_TCC_MEMORY:
		rc = EXIT_GAVE_UP;
		break;
	default: rc = VMS_EXIT_FAIL; break;
	}
	if (stats) {
		qsort(times, (size_t)repeat, sizeof(double), cmp_double);
		printf("check: %s, %ld run%s%s, result %s\n", mode, repeat, repeat == 1 ? "" : "s",
		       interval_ms ? " (spaced)" : "", vms_tcc_status_name(r.status));
		printf("per check: median %.3f ms, p90 %.3f ms, min %.3f ms, max %.3f ms\n",
		       percentile(times, (size_t)repeat, 0.5), percentile(times, (size_t)repeat, 0.9),
		       times[0], times[repeat - 1]);
		if (m == M_SNAPSHOT) {
			qsort(tcc_times, (size_t)repeat, sizeof(double), cmp_double);
			printf("of which TCC in the child: median %.3f ms, p90 %.3f ms\n",
			       percentile(tcc_times, (size_t)repeat, 0.5),
			       percentile(tcc_times, (size_t)repeat, 0.9));
			struct vms_tcc_stats s;
			vms_tcc_checker_stats(ck, &s);
			printf("snapshot: built in %.1f ms (preamble parse %.1f ms, %.1f MiB arena), "
			       "%.1f KiB arena per check\n",
			       build_ms, s.last_build_ms, (double)s.last_build_arena_bytes / (1 << 20),
			       (double)r.arena_bytes / 1024);
		} else if (m == M_ARENA) {
			struct vms_arena_stats a;
			vms_tcc_arena_stats(&a);
			printf("arena: peak %.1f MiB, %.1f MiB mapped, %llu allocs, %llu frees, "
			       "%llu reallocs (%llu in place)\n",
			       (double)a.peak / (1 << 20), (double)a.mapped / (1 << 20),
			       (unsigned long long)a.allocs, (unsigned long long)a.frees,
			       (unsigned long long)a.reallocs, (unsigned long long)a.reallocs_in_place);
		}
	}
	vms_tcc_result_free(&r);
	free(times);
	free(tcc_times);
	vms_tcc_checker_free(ck);
	free(src);
out:
	vms_argv_free(&incs);
	vms_argv_free(&defs);
	return rc;
}
