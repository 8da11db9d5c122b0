/* vmslim bench: the CLI over vms_bench_run(): progress on stderr, the markdown table on
 * stdout, and the JSON / markdown / SVG files asked for. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include "cli/cli.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmslim bench [PROG.c ...] [--runs N] [--quick] [--json FILE]\n"
		"                    [--markdown FILE] [--plot FILE.svg] [options]\n"
		"\n"
		"Measures every pipeline on the same programs and the same header, rows\n"
		"interleaved (A B C ... A B C ...) after warm-up: checks (clang -fsyntax-only,\n"
		"the tcc command, libtcc in process with glibc malloc and with the arena, the TCC\n"
		"snapshot checker; full and slim header), builds (clang full and slim, clang with\n"
		"a PCH made by hand, -gmodules (reported as \"crashes\" where clang dies), vmslim\n"
		"build with a warm cache (in process and as a command), the daemon (a new source\n"
		"and a cache hit); object sizes, and whether each object\n"
		"has the plain build's code) and vmslim extract (time, slim header size).\n"
		"Reports median, p90 and the ratio to the stage's baseline row.\n"
		"\n"
		"With no program: the built-in examples (execsnoop, procinfo, xdp_filter) and the\n"
		"running kernel's vmlinux.h (/sys/kernel/btf/vmlinux, else the pinned BTF).\n"
		"\n"
		"options:\n"
		"  --runs N             measured rounds (default 10; 3 with --quick)\n"
		"  --warmup N           unrecorded rounds first (default and minimum 1: the\n"
		"                       first round builds the PCHs and fills the caches)\n"
		"  --quick              one program (execsnoop), few runs: for CI\n"
		"  --header FILE        the full vmlinux.h to use\n"
		"  --btf FILE           make the full vmlinux.h from this BTF instead\n"
		"  --clang PATH         compiler (default $VMSLIM_CLANG, else clang)\n"
		"  --json FILE          every row and sample, for machines\n"
		"  --markdown FILE      the table (also printed on stdout)\n"
		"  --plot FILE.svg      latency bars, log scale\n"
		"  --keep DIR           work in DIR and keep it (headers, PCHs, objects)\n"
		"  --no-daemon          skip the daemon row (do not start `vmslim serve`)\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit: 0 measured (rows that crash are results, not failures), 1 a row failed or\n"
		"the bench could not run, 2 usage.\n");
}

static void progress(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "bench: %s\n", line);
}

/* The command line as a person would retype it, for the report. */
static char *command_line(int argc, char **argv)
{
	struct vms_buf b = { 0 };
	vms_buf_puts(&b, "vmslim bench");
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		vms_buf_puts(&b, " ");
		if (a[strcspn(a, " \t'\"$`\\")] == 0 && *a) {
			vms_buf_puts(&b, a);
			continue;
		}
		vms_buf_puts(&b, "'");
		for (; *a; a++)
			vms_buf_puts(&b, *a == '\'' ? "'\\''" : (char[]){ *a, 0 });
		vms_buf_puts(&b, "'");
	}
	return vms_buf_steal(&b);
}

static int write_out(const char *path, const struct vms_buf *b)
{
	int rc = vms_write_file_atomic(path, b->data ? b->data : "", b->len, 0644);
	if (rc < 0)
		cli_error("bench", "%s: cannot write: %s", path, strerror(-rc));
	return rc;
}

/* The pinned BTF beside the source tree (../shared/btf), for kernels without BTF. */
static char *pinned_btf(const char *headers_dir)
{
	char *src = vms_dirname(headers_dir);
	char *p = vms_xasprintf("%s/../shared/btf/vmlinux-6.18.44.btf", src);
	free(src);
	if (access(p, R_OK) == 0)
		return p;
	free(p);
	return NULL;
}

int cmd_bench(int argc, char **argv)
{
	enum { OPT_RUNS = 256, OPT_WARMUP, OPT_QUICK, OPT_HEADER, OPT_BTF, OPT_CLANG, OPT_JSON,
	       OPT_MD, OPT_PLOT, OPT_KEEP, OPT_NODAEMON };
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, OPT_RUNS },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "quick", no_argument, NULL, OPT_QUICK },
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "clang", required_argument, NULL, OPT_CLANG },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "markdown", required_argument, NULL, OPT_MD },
		{ "plot", required_argument, NULL, OPT_PLOT },
		{ "keep", required_argument, NULL, OPT_KEEP },
		{ "no-daemon", no_argument, NULL, OPT_NODAEMON },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_bench_opts o = { 0 };
	const char *json = NULL, *md = NULL, *plot = NULL;
	int no_daemon = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_RUNS:
		case OPT_WARMUP: {
			long v;
			if (cli_number("bench", c == OPT_RUNS ? "--runs" : "--warmup", optarg,
				       c == OPT_RUNS ? 1 : 0, 100000, &v) < 0)
				return VMS_EXIT_USAGE;
			if (c == OPT_RUNS)
				o.runs = (int)v;
			else
				o.warmup = v ? (int)v : 1;
			break;
		}
		case OPT_QUICK: o.quick = 1; break;
		case OPT_HEADER: o.header = optarg; break;
		case OPT_BTF: o.btf = optarg; break;
		case OPT_CLANG: o.clang = optarg; break;
		case OPT_JSON: json = optarg; break;
		case OPT_MD: md = optarg; break;
		case OPT_PLOT: plot = optarg; break;
		case OPT_KEEP: o.work_dir = optarg; break;
		case OPT_NODAEMON: no_daemon = 1; break;
		case 'h': usage(stdout); return VMS_EXIT_OK;
		default: usage(stderr); return VMS_EXIT_USAGE;
		}
	}
	if (o.header && o.btf) {
		cli_error("bench", "give --header or --btf, not both");
		return VMS_EXIT_USAGE;
	}
	/* a run takes minutes: an output that cannot be written is worth knowing first */
	const char *outs[] = { json, md, plot };
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!outs[i])
			continue;
		char *dir = vms_dirname(outs[i]);
		int bad = access(dir, W_OK | X_OK) < 0;
		if (bad)
			cli_error("bench", "%s: cannot write: %s", outs[i], strerror(errno));
		free(dir);
		if (bad)
			return VMS_EXIT_FAIL;
	}
	struct vms_argv progs = { 0 };
	for (int i = optind; i < argc; i++)
		vms_argv_push(&progs, argv[i]);
	o.programs = (const char *const *)progs.v;
	o.headers_dir = cli_headers_dir();
	char *progs_dir = NULL;
	const char *env = getenv("VMSLIM_PROGS");
	if (env && *env) {
		progs_dir = vms_xstrdup(env);
	} else {
		char *src = vms_dirname(o.headers_dir);
		progs_dir = vms_xasprintf("%s/tests/progs", src);
		free(src);
	}
	if (!progs.n && access(progs_dir, R_OK) != 0) {
		cli_error("bench", "no program given and no example programs at %s "
				   "(set VMSLIM_PROGS or name programs)", progs_dir);
		free(progs_dir);
		return VMS_EXIT_USAGE;
	}
	o.programs_dir = progs_dir;
	char *fallback = pinned_btf(o.headers_dir);
	o.fallback_btf = fallback;
	char *self = vms_realpath("/proc/self/exe");
	o.vmslim_exe = self;
	o.no_daemon = no_daemon;
	o.progress = progress;

	char *cmd = command_line(argc, argv);
	struct vms_bench_report rep;
	struct vms_diags d = { 0 };
	int rc = VMS_EXIT_FAIL;
	if (vms_bench_run(&o, &rep, &d) < 0) {
		vms_diags_print(stderr, &d);
		goto out;
	}
	rc = VMS_EXIT_OK;
	struct vms_buf b = { 0 };
	vms_bench_markdown(&rep, cmd, &b);
	fwrite(b.data, 1, b.len, stdout);
	fflush(stdout);
	if (md && write_out(md, &b) < 0)
		rc = VMS_EXIT_FAIL;
	vms_buf_free(&b);
	if (json) {
		vms_bench_json(&rep, cmd, &b);
		if (write_out(json, &b) < 0)
			rc = VMS_EXIT_FAIL;
		vms_buf_free(&b);
	}
	if (plot) {
		vms_bench_svg(&rep, cmd, &b);
		if (write_out(plot, &b) < 0)
			rc = VMS_EXIT_FAIL;
		vms_buf_free(&b);
	}
	for (size_t i = 0; i < rep.n; i++)
		if (rep.rows[i].state == VMS_BENCH_FAILED) {
			cli_error("bench", "%s: %s failed: %s", rep.rows[i].program, rep.rows[i].label,
				  rep.rows[i].note ? rep.rows[i].note : "?");
			rc = VMS_EXIT_FAIL;
		}
out:
	vms_bench_report_free(&rep);
	vms_diags_free(&d);
	vms_argv_free(&progs);
	free(progs_dir);
	free(fallback);
	free(self);
	free(cmd);
	return rc;
}
