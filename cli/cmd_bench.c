/* vmslim bench: the CLI over vms_bench_run(): progress on stderr, the markdown table on
 * stdout, and the JSON / markdown / SVG files asked for. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/bench.h"
#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/report.h"

static const char help[] =
	"usage: vmslim bench [PROG.c ...] [--runs N] [--quick] [--json FILE]\n"
	"                    [--markdown FILE] [--plot FILE.svg] [options]\n"
	"\n"
	"Measures the pipelines a user can choose between, on the same programs and the\n"
	"same header, rows interleaved (A B C ... A B C ...) after warm-up: checks (clang\n"
	"-fsyntax-only, the tcc command, the language server's fast and exact checks, the\n"
	"daemon), builds (clang with the full and the slim header, clang with a PCH made by\n"
	"hand, the vmslim build command, the daemon: a new source and a cache hit; object\n"
	"sizes, and whether each object has the plain build's code) and vmslim extract\n"
	"(time, slim header size). Reports median, p90 and the ratio to the stage's\n"
	"baseline row; \"What each row runs\" gives each row as the command to type.\n"
	"--all-rows adds the project's internal variants (libtcc in process with glibc\n"
	"malloc and with the arena, -gmodules, reported as \"crashes\" where clang dies,\n"
	"in-process builds, PCHs of slim headers).\n"
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
	"  --clang PATH         " HELP_SPEC_CLANG "\n"
	"  --json FILE          every row and sample, for machines\n"
	"  --markdown FILE      the table (also printed on stdout)\n"
	"  --plot FILE.svg      the bars as an SVG\n"
	"  --axis AXIS          of the plot: speedup (default: times faster than the\n"
	"                       stage's baseline, linear), linear (ms, linear), log (ms)\n"
	"  --all-rows           also the internal variants (see above)\n"
	"  --keep DIR           work in DIR and keep it (headers, PCHs, objects)\n"
	"  --no-daemon          skip the daemon row (do not start `vmslim serve`)\n"
	"  -h, --help           " HELP_SPEC_HELP "\n"
	"\n"
	"Exit: 0 measured (rows that crash are results, not failures), 1 a row failed or\n"
	"the bench could not run, 2 usage.\n";

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

enum { OPT_RUNS = 256, OPT_WARMUP, OPT_QUICK, OPT_HEADER, OPT_BTF, OPT_CLANG, OPT_JSON,
       OPT_MD, OPT_PLOT, OPT_KEEP, OPT_NODAEMON, OPT_AXIS, OPT_ALLROWS };
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
	{ "axis", required_argument, NULL, OPT_AXIS },
	{ "all-rows", no_argument, NULL, OPT_ALLROWS },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "bench", help, "h", opts, NULL };

/* One `vmslim bench`: the options, the files to write, and what is owned. */
struct bench_cmd {
	struct vms_bench_opts o;
	const char *json, *md, *plot;
	enum vms_bench_axis axis;
	struct vms_argv progs;
	char *progs_dir, *fallback, *self, *cmd;
};

/* Fills b from argv: CLI_CONTINUE, or the exit code to stop with. */
static int parse(struct bench_cmd *b, int argc, char **argv)
{
	struct cli_args a;
	long v;
	int c;
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case OPT_RUNS:
			if (cli_number(&a, 1, 100000, NULL, &v) < 0)
				return VMS_EXIT_USAGE;
			b->o.runs = (int)v;
			break;
		case OPT_WARMUP:
			if (cli_number(&a, 0, 100000, NULL, &v) < 0)
				return VMS_EXIT_USAGE;
			b->o.warmup = v ? (int)v : 1;
			break;
		case OPT_QUICK: b->o.quick = 1; break;
		case OPT_HEADER: b->o.header = a.arg; break;
		case OPT_BTF: b->o.btf = a.arg; break;
		case OPT_CLANG: b->o.clang = a.arg; break;
		case OPT_JSON: b->json = a.arg; break;
		case OPT_MD: b->md = a.arg; break;
		case OPT_PLOT: b->plot = a.arg; break;
		case OPT_KEEP: b->o.work_dir = a.arg; break;
		case OPT_NODAEMON: b->o.no_daemon = 1; break;
		case OPT_ALLROWS: b->o.all_rows = 1; break;
		case OPT_AXIS:
			if (vms_bench_axis_parse(a.arg, &b->axis) < 0) {
				cli_error("bench", "--axis: '%s' is not speedup, linear or log",
					  a.arg);
				return VMS_EXIT_USAGE;
			}
			break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	if (b->o.header && b->o.btf) {
		cli_error("bench", "give --header or --btf, not both");
		return VMS_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		vms_argv_push(&b->progs, argv[i]);
	return CLI_CONTINUE;
}

/* A run takes minutes: an output that cannot be written is worth knowing first. */
static int outputs_writable(const struct bench_cmd *b)
{
	const char *outs[] = { b->json, b->md, b->plot };
	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!outs[i])
			continue;
		char *dir = vms_dirname(outs[i]);
		int bad = access(dir, W_OK | X_OK) < 0;
		if (bad)
			cli_error("bench", "%s: cannot write: %s", outs[i], strerror(errno));
		free(dir);
		if (bad)
			return 0;
	}
	return 1;
}

/* The inputs beside the options: programs (or where the examples are), the pinned BTF,
 * this binary. CLI_CONTINUE or the exit code to stop with. */
static int find_inputs(struct bench_cmd *b)
{
	b->o.programs = (const char *const *)b->progs.v;
	b->o.headers_dir = cli_headers_dir();
	const char *env = getenv("VMSLIM_PROGS");
	if (env && *env) {
		b->progs_dir = vms_xstrdup(env);
	} else {
		char *src = vms_dirname(b->o.headers_dir);
		b->progs_dir = vms_xasprintf("%s/tests/progs", src);
		free(src);
	}
	if (!b->progs.n && access(b->progs_dir, R_OK) != 0) {
		cli_error("bench", "no program given and no example programs at %s "
				   "(set VMSLIM_PROGS or name programs)", b->progs_dir);
		return VMS_EXIT_USAGE;
	}
	b->o.programs_dir = b->progs_dir;
	b->o.fallback_btf = b->fallback = pinned_btf(b->o.headers_dir);
	b->o.vmslim_exe = b->self = vms_realpath("/proc/self/exe");
	b->o.progress = progress;
	return CLI_CONTINUE;
}

/* The table on stdout, and each file asked for: the exit code. */
static int report(const struct bench_cmd *b, const struct vms_bench_report *rep)
{
	int rc = VMS_EXIT_OK;
	struct vms_buf buf = { 0 };
	vms_bench_markdown(rep, b->cmd, &buf);
	if (!cli_json()) { /* -j: the results go in the document instead of the table */
		fwrite(buf.data, 1, buf.len, stdout);
		fflush(stdout);
	}
	if (b->md && write_out(b->md, &buf) < 0)
		rc = VMS_EXIT_FAIL;
	vms_buf_free(&buf);
	if (cli_json()) {
		vms_bench_json(rep, b->cmd, &buf);
		struct json_object *r = json_tokener_parse(buf.data ? buf.data : "");
		if (r)
			json_object_object_add(cli_doc(), "results", r);
		vms_buf_free(&buf);
	}
	if (b->json) {
		vms_bench_json(rep, b->cmd, &buf);
		if (write_out(b->json, &buf) < 0)
			rc = VMS_EXIT_FAIL;
		vms_buf_free(&buf);
	}
	if (b->plot) {
		vms_bench_svg(rep, b->cmd, b->axis, &buf);
		if (write_out(b->plot, &buf) < 0)
			rc = VMS_EXIT_FAIL;
		vms_buf_free(&buf);
	}
	for (size_t i = 0; i < rep->n; i++)
		if (rep->rows[i].state == VMS_BENCH_FAILED) {
			cli_error("bench", "%s: %s failed: %s", rep->rows[i].program,
				  rep->rows[i].label, rep->rows[i].note ? rep->rows[i].note : "?");
			rc = VMS_EXIT_FAIL;
		}
	return rc;
}

int cmd_bench(int argc, char **argv)
{
	struct bench_cmd b = { 0 };
	int rc = parse(&b, argc, argv);
	if (rc == CLI_CONTINUE && !outputs_writable(&b))
		rc = VMS_EXIT_FAIL;
	if (rc == CLI_CONTINUE)
		rc = find_inputs(&b);
	if (rc == CLI_CONTINUE) {
		b.cmd = command_line(argc, argv);
		struct vms_bench_report rep;
		struct vms_diags d = { 0 };
		if (vms_bench_run(&b.o, &rep, &d) < 0) {
			vms_diags_print(stderr, &d);
			rc = VMS_EXIT_FAIL;
		} else {
			rc = report(&b, &rep);
		}
		vms_bench_report_free(&rep);
		vms_diags_free(&d);
	}
	vms_argv_free(&b.progs);
	free(b.progs_dir);
	free(b.fallback);
	free(b.self);
	free(b.cmd);
	return rc;
}
