/* vmslim check: type-check a BPF C program with the TCC snapshot checker, or (--exact)
 * with clang's own diagnostics through libclang and a precompiled preamble. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "cli/cli.h"
#include "cli/report.h"
#include "common/common.h"
#include "common/compdb.h"
#include "exact/exact.h"
#include "tccarena/tccarena.h"
#include "serve/cc.h"
#include "serve/serve.h"

#include <json-c/json.h>
#include <unistd.h>

static const char help[] =
	"usage: vmslim check [OPTIONS] PROG.c\n"
	"       vmslim check --exact [OPTIONS] PROG.c...\n"
	"\n"
	"Type-checks BPF C in about a millisecond: TCC parses the program's preamble (its\n"
	"leading #include/#define lines: vmlinux.h, libbpf's headers) once in a snapshot\n"
	"process, and each check forks from there. Diagnostics are gcc-style\n"
	"(file:line: error: message) on stderr.\n"
	"\n"
	"With --exact, clang itself judges each program (libclang, in this process): every\n"
	"diagnostic clang gives, warnings and notes included, as file:line:col: on stderr.\n"
	"clang parses the preamble once into a precompiled preamble (about half a second\n"
	"with the full vmlinux.h); each --repeat reparses the text against it, as an\n"
	"editor's edit does. An implicit function declaration is an error, as in the fast\n"
	"checker (clang 16+ and the BPF backend reject it).\n"
	"\n"
	"options:\n"
	"  -I DIR            add DIR to the include path\n"
	"  -D NAME[=VALUE]   define a macro (e.g. -D__TARGET_ARCH_x86)\n"
	"  --header H        use H wherever the program includes vmlinux.h\n"
	"  -p DIR            the program's flags (-I, -D, -U, -include, --target) from\n"
	"                    DIR's compile_commands.json (or DIR/build/'s), or its\n"
	"                    compile_flags.txt, as clangd reads them; a program the database\n"
	"                    does not list takes an entry of its directory's\n"
	"  -W, --warnings    also show TCC's warnings in the program\n"
	"  --exact           clang's diagnostics (libclang) instead of the fast checker's;\n"
	"                    --mode, --confine and the limits do not apply\n"
	"  --repeat N        check N times (benchmarks; the snapshot is built first)\n"
	"  --stats           print per-check latency (median, p90) and snapshot figures\n"
	"                    (--exact: the preamble build, per reparse, VmRSS and VmHWM)\n"
	"  --interval MS     with --repeat: pause MS between checks, as an editor does\n"
	"                    between keystrokes (the snapshot forks its next child then)\n"
	"  --mode M          snapshot (default); arena or libc: no snapshot, a fresh TCC\n"
	"                    per check in this process with its heap in the arena or glibc\n"
	"  --time-limit MS   per-check time limit (default 10000)\n"
	"  --mem-limit MB    per-check memory limit (default 1024)\n"
	"  --confine         open only files under the include directories (untrusted input)\n"
	"  --headers-dir D   vmslim's headers (TCC prelude); default: the installed ones\n"
	"  --no-daemon       check in this process (also VMSLIM_NO_DAEMON=1); by default a\n"
	"                    one-shot check goes to the per-user daemon `vmslim cc` uses\n"
	"                    (started on first use), which keeps the snapshot warm; the\n"
	"                    diagnostics and exit status are the same either way\n"
	"  -h, --help        " HELP_SPEC_HELP "\n"
	"\n"
	"PROG.c may be '-' for standard input (named <stdin> in diagnostics).\n"
	"\n"
	"exit status:\n"
	"  0  no errors\n"
	"  1  errors found (or the check could not run: with --exact, no libclang)\n"
	"  2  usage error\n"
	"  3  unsupported: the program uses something the fast checker cannot judge (BPF\n"
	"     inline asm, C23 enum base types, size-dependent static assertions); this is\n"
	"     not an error in the program - check it with clang\n"
	"  4  the fast checker gave up on this input (crash, time or memory limit);\n"
	"     with --exact: libclang could not parse it\n"
	"With --exact and several programs, the highest status of any of them.\n";

enum { O_HEADER = 256, O_REPEAT, O_STATS, O_MODE, O_TIME, O_MEM, O_CONFINE, O_HDRDIR, O_INTERVAL,
       O_EXACT, O_NODAEMON };
static const struct option opts[] = {
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
	{ "exact", no_argument, NULL, O_EXACT },
	{ "no-daemon", no_argument, NULL, O_NODAEMON },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "check", help, "I:D:Wp:h", opts, NULL };

enum check_mode { M_SNAPSHOT, M_ARENA, M_LIBC };
static const char *const mode_names[] = { "snapshot", "arena", "libc" };

/* One `vmslim check`: what the command line asked for, and the checker it runs. */
struct check_cmd {
	struct vms_tcc_opts o;
	struct vms_argv incs, defs;
	const char *mode_name;		/* as given; mode once known */
	enum check_mode mode;
	long repeat, interval_ms;
	int stats, exact;
	const char *compdb;		/* -p DIR */
	int no_daemon;			/* --no-daemon */
	const char *path;
	char **paths;			/* --exact: every program given */
	int npaths;
	struct vms_tcc_request req;
	struct vms_tcc_checker *ck;	/* M_SNAPSHOT */
	double build_ms;		/* the snapshot's, when built up front */
	double *times, *tcc_times;	/* per check: as the caller waits, and TCC's share */
};

/* One option of the loop in parse(): CLI_CONTINUE or the exit code to stop with. */
static int take_option(struct check_cmd *k, struct cli_args *a)
{
	long v;
	switch (a->opt) {
	case 'I': vms_argv_push(&k->incs, a->arg); break;
	case 'D': vms_argv_push(&k->defs, a->arg); break;
	case 'W': k->o.warnings = 1; break;
	case 'p': k->compdb = a->arg; break;
	case O_HEADER: k->o.vmlinux_header = a->arg; break;
	case O_STATS: k->stats = 1; break;
	case O_EXACT: k->exact = 1; break;
	case O_NODAEMON: k->no_daemon = 1; break;
	case O_CONFINE: k->o.confine = 1; break;
	case O_HDRDIR: k->o.headers_dir = a->arg; break;
	case O_MODE: k->mode_name = a->arg; break;
	case O_REPEAT:
		if (cli_number(a, 1, 10000000, NULL, &k->repeat) < 0)
			return VMS_EXIT_USAGE;
		break;
	case O_INTERVAL:
		if (cli_number(a, 0, 86400000, "milliseconds", &k->interval_ms) < 0)
			return VMS_EXIT_USAGE;
		break;
	case O_TIME:
		if (cli_number(a, 1, 86400000, "milliseconds (at most a day)", &v) < 0)
			return VMS_EXIT_USAGE;
		k->o.time_limit_ms = (int)v;
		break;
	case O_MEM:
		if (cli_number(a, 1, 1L << 30, "megabytes", &v) < 0)
			return VMS_EXIT_USAGE;
		k->o.mem_limit = (size_t)v << 20;
		break;
	}
	return CLI_CONTINUE;
}

/* Fills k from argv: CLI_CONTINUE, or the exit code to stop with. */
static int parse(struct check_cmd *k, int argc, char **argv)
{
	struct cli_args a;
	int c = CLI_END, rc = CLI_CONTINUE;
	cli_args_init(&a, &spec, argc, argv);
	while (rc == CLI_CONTINUE && (c = cli_next(&a)) > 0)
		rc = take_option(k, &a);
	if (rc != CLI_CONTINUE)
		return rc;
	if (c == CLI_EXIT)
		return a.exit;
	if (optind >= argc || (optind != argc - 1 && !k->exact)) {
		cli_error("check", optind >= argc ? "no program given" : "one program at a time");
		return cli_usage_error(&spec);
	}
	k->path = argv[optind];
	k->paths = argv + optind;
	k->npaths = argc - optind;
	if (k->exact && (k->o.confine || strcmp(k->mode_name, "snapshot"))) {
		cli_error("check", "--exact runs libclang in this process: no --confine or --mode");
		return VMS_EXIT_USAGE;
	}
	for (size_t m = 0; m < sizeof(mode_names) / sizeof(mode_names[0]); m++)
		if (!strcmp(k->mode_name, mode_names[m])) {
			k->mode = (enum check_mode)m;
			return CLI_CONTINUE;
		}
	cli_error("check", "--mode is snapshot, arena or libc, not '%s'", k->mode_name);
	return VMS_EXIT_USAGE;
}

/* The snapshot checker, its snapshot built up front when checks are timed (so that the
 * first one is not the build). 0, or -1 with its diagnostics printed. */
static int start_checker(struct check_cmd *k)
{
	struct vms_diags d = { 0 };
	int rc = vms_tcc_checker_new(&k->o, &k->ck, &d);
	if (rc >= 0 && (k->repeat > 1 || k->stats)) {
		double t0 = vms_now_ms();
		rc = vms_tcc_checker_prepare(k->ck, &k->req, &d);
		k->build_ms = vms_now_ms() - t0;
	}
	if (rc < 0)
		cli_diags(stderr, &d);
	vms_diags_free(&d);
	return rc < 0 ? -1 : 0;
}

/* Checks repeat times, --interval apart; r is the last check's result. */
static void run_checks(struct check_cmd *k, struct vms_tcc_result *r)
{
	k->times = vms_xcalloc((size_t)k->repeat, sizeof(double));
	k->tcc_times = vms_xcalloc((size_t)k->repeat, sizeof(double));
	for (long i = 0; i < k->repeat; i++) {
		vms_tcc_result_free(r);
		if (k->interval_ms && i)
			nanosleep(&(struct timespec){ .tv_sec = k->interval_ms / 1000,
						      .tv_nsec = (k->interval_ms % 1000) * 1000000L },
				  NULL);
		double t0 = vms_now_ms();
		if (k->mode == M_SNAPSHOT)
			vms_tcc_check(k->ck, &k->req, r);
		else
			vms_tcc_check_inprocess(&k->o, k->mode == M_ARENA ? VMS_TCC_ALLOC_ARENA
									  : VMS_TCC_ALLOC_LIBC,
						&k->req, r);
		k->times[i] = vms_now_ms() - t0;
		k->tcc_times[i] = r->tcc_ms;
	}
}

static int exit_code(const struct vms_tcc_result *r, const char *file_name)
{
	cli_doc_str("status", vms_tcc_status_name(r->status));
	switch (r->status) {
	case VMS_TCC_OK: return VMS_EXIT_OK;
	case VMS_TCC_ERRORS: return VMS_EXIT_FAIL;
	case VMS_TCC_UNSUPPORTED:
		if (!cli_json())
			fprintf(stderr, "%s: note: " HELP_SPEC_UNSUPPORTED "\n", file_name);
		return VMS_EXIT_UNSUPPORTED;
	case VMS_TCC_CRASHED:
	case VMS_TCC_TIMEOUT:
	case VMS_TCC_MEMORY:
		return VMS_EXIT_GAVE_UP;
	default: return VMS_EXIT_FAIL;
	}
}

/* --stats: latency figures (bench's statistics) and the snapshot's or arena's. */
static void print_stats(const struct check_cmd *k, const struct vms_tcc_result *r)
{
	struct vms_bench_summary t, tcc;
	vms_bench_summarize(k->times, (size_t)k->repeat, &t);
	printf("check: %s, %ld run%s%s, result %s\n", mode_names[k->mode], k->repeat,
	       k->repeat == 1 ? "" : "s", k->interval_ms ? " (spaced)" : "",
	       vms_tcc_status_name(r->status));
	printf("per check: median %.3f ms, p90 %.3f ms, min %.3f ms, max %.3f ms\n", t.median,
	       t.p90, t.min, t.max);
	if (k->mode == M_SNAPSHOT) {
		vms_bench_summarize(k->tcc_times, (size_t)k->repeat, &tcc);
		printf("of which TCC in the child: median %.3f ms, p90 %.3f ms\n", tcc.median,
		       tcc.p90);
		struct vms_tcc_stats s;
		vms_tcc_checker_stats(k->ck, &s);
		printf("snapshot: built in %.1f ms (preamble parse %.1f ms, %.1f MiB arena), "
		       "%.1f KiB arena per check\n",
		       k->build_ms, s.last_build_ms, (double)s.last_build_arena_bytes / (1 << 20),
		       (double)r->arena_bytes / 1024);
	} else if (k->mode == M_ARENA) {
		struct vms_arena_stats a;
		vms_tcc_arena_stats(&a);
		printf("arena: peak %.1f MiB, %.1f MiB mapped, %llu allocs, %llu frees, "
		       "%llu reallocs (%llu in place)\n",
		       (double)a.peak / (1 << 20), (double)a.mapped / (1 << 20),
		       (unsigned long long)a.allocs, (unsigned long long)a.frees,
		       (unsigned long long)a.reallocs, (unsigned long long)a.reallocs_in_place);
	}
}

/* -p DIR: the program's flags from DIR's compilation database (common/compdb.h), appended
 * to out as clang flags ("-I" "dir", "-DX", "-UX", "-include" "f", "--target=bpf").
 * 0 (also without -p), or -1 with the reason printed. */
static int project_flags(const struct check_cmd *k, const char *path, struct vms_argv *out)
{
	if (!k->compdb)
		return 0;
	struct vms_diags d = { 0 };
	char *from = NULL;
	int rc = vms_compdb_flags(path, k->compdb, out, &from, &d);
	if (rc < 0)
		cli_diags(stderr, &d);
	else if (rc == 0)
		cli_error("check", "-p %s: no compile_commands.json, build/compile_commands.json "
			  "or compile_flags.txt there", k->compdb);
	else
		cli_doc_str("compile_commands", from);
	vms_diags_free(&d);
	free(from);
	return rc > 0 ? 0 : -1;
}

/* The database's flags as the fast checker takes them: include directories of every kind
 * (TCC has one search list), defines and undefines ("-NAME"); what it has no notion of
 * (a forced -include, the target, the language standard) is said once and left out. */
static void fast_flags(struct check_cmd *k, const struct vms_argv *f)
{
	static const char *const dirs[] = { "-I", "-isystem", "-iquote", "-idirafter" };
	for (size_t i = 0; i < f->n; i++) {
		const char *a = f->v[i];
		int dir = 0;
		for (size_t j = 0; j < sizeof(dirs) / sizeof(dirs[0]); j++)
			dir |= !strcmp(a, dirs[j]);
		if (dir && i + 1 < f->n)
			vms_argv_push(&k->incs, f->v[++i]);
		else if (!strncmp(a, "-D", 2))
			vms_argv_push(&k->defs, a + 2);
		else if (!strncmp(a, "-U", 2))
			vms_argv_pushf(&k->defs, "-%s", a + 2);
		else if (!strcmp(a, "-include") && i + 1 < f->n && !cli_json())
			fprintf(stderr, "vmslim check: note: -include %s (from -p) is not seen by "
				"the fast checker; --exact takes it\n", f->v[++i]);
	}
}

/* ---- one-shot checks through the per-user daemon ------------------------------------ */

/* A path as the daemon must see it: absolute (it does not run in our directory). */
static char *abs_path(const char *cwd, const char *p)
{
	return p[0] == '/' ? vms_xstrdup(p) : vms_xasprintf("%s/%s", cwd, p);
}

static void push_paths(struct json_object *req, const char *k, const struct vms_argv *v,
		       const char *cwd, struct json_object *rel)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < v->n; i++) {
		char *p = cwd ? abs_path(cwd, v->v[i]) : vms_xstrdup(v->v[i]);
		json_object_array_add(a, json_object_new_string(p));
		if (rel && v->v[i][0] != '/')
			json_object_array_add(rel, json_object_new_string(p));
		free(p);
	}
	json_object_object_add(req, k, a);
}

/* The check by the daemon's warm checker: 0 with r filled, -1 when it cannot answer (the
 * caller checks in this process). Only the plain one-shot form goes there: --repeat,
 * --stats, --mode and --confine measure or confine this process's own checker. */
static int check_via_daemon(struct check_cmd *k, struct vms_tcc_result *r)
{
	char cwd[4096];
	if (k->no_daemon || cli_env_on("VMSLIM_NO_DAEMON") || k->repeat != 1 || k->stats ||
	    k->mode != M_SNAPSHOT || k->o.confine || !strcmp(k->path, "-") ||
	    !getcwd(cwd, sizeof(cwd)))
		return -1;
	struct json_object *req = json_object_new_object(), *rel = json_object_new_array();
	char *file = abs_path(cwd, k->path);
	char *hdir = abs_path(cwd, k->o.headers_dir);
	json_object_object_add(req, "op", json_object_new_string("check_file"));
	json_object_object_add(req, "file", json_object_new_string(file));
	json_object_object_add(req, "name", json_object_new_string(cli_input_name(k->path)));
	json_object_object_add(req, "cwd", json_object_new_string(cwd));
	json_object_object_add(req, "headers_dir", json_object_new_string(hdir));
	if (k->o.vmlinux_header) {
		char *h = abs_path(cwd, k->o.vmlinux_header);
		json_object_object_add(req, "header", json_object_new_string(h));
		free(h);
	}
	push_paths(req, "include_dirs", &k->incs, cwd, rel);
	push_paths(req, "defines", &k->defs, NULL, NULL);
	json_object_object_add(req, "relative_dirs", rel);
	json_object_object_add(req, "warnings", json_object_new_int(k->o.warnings));
	json_object_object_add(req, "time_limit_ms", json_object_new_int(k->o.time_limit_ms));
	json_object_object_add(req, "mem_limit_mib", json_object_new_int((int)(k->o.mem_limit >> 20)));
	free(file);
	free(hdir);
	struct json_object *o = cli_daemon_ask(req, NULL), *v, *arr;
	int ok = o && json_object_object_get_ex(o, "tcc_status", &v) &&
		 json_object_object_get_ex(o, "diagnostics", &arr);
	if (ok) {
		memset(r, 0, sizeof(*r));
		r->status = (enum vms_tcc_status)json_object_get_int(v);
		vms_diags_from_json(arr, &r->diags);
		/* a checker that could not run is no answer: this process tries itself */
		ok = r->status != VMS_TCC_FAILED;
		if (!ok)
			vms_tcc_result_free(r);
	}
	json_object_put(o);
	return ok ? 0 : -1;
}

/* Reads the program, checks it, prints: the exit code. */
static int run(struct check_cmd *k)
{
	char *src;
	size_t len;
	int e = cli_read_input(k->path, &src, &len);
	if (e < 0) {
		cli_error("check", "cannot read %s: %s", k->path, strerror(-e));
		return VMS_EXIT_FAIL;
	}
	struct vms_argv proj = { 0 };
	int pf = project_flags(k, k->path, &proj);
	fast_flags(k, &proj);
	vms_argv_free(&proj);
	if (pf < 0) {
		free(src);
		return VMS_EXIT_FAIL;
	}
	if (!k->o.headers_dir)
		k->o.headers_dir = cli_headers_dir();
	k->o.include_dirs = (const char *const *)k->incs.v;
	k->o.defines = (const char *const *)k->defs.v;
	k->req = (struct vms_tcc_request){
		.source = src, .len = len, .file_name = cli_input_name(k->path),
	};
	int rc = VMS_EXIT_FAIL;
	struct vms_tcc_result dr;
	if (check_via_daemon(k, &dr) == 0) {
		cli_diags(stderr, &dr.diags);
		cli_doc_str("file", k->req.file_name);
		cli_doc_str("checker", "fast");
		rc = exit_code(&dr, k->req.file_name);
		vms_tcc_result_free(&dr);
		free(src);
		return rc;
	}
	if (k->mode != M_SNAPSHOT || start_checker(k) == 0) {
		struct vms_tcc_result r = { 0 };
		run_checks(k, &r);
		cli_diags(stderr, &r.diags);
		cli_doc_str("file", k->req.file_name);
		cli_doc_str("checker", "fast");
		rc = exit_code(&r, k->req.file_name);
		if (k->stats && !cli_json()) /* --stats is a text report */
			print_stats(k, &r);
		vms_tcc_result_free(&r);
	}
	vms_tcc_checker_free(k->ck);
	free(src);
	return rc;
}

/* ---- --exact: libclang ------------------------------------------------------------ */

static void pause_ms(long ms)
{
	nanosleep(&(struct timespec){ .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L },
		  NULL);
}

/* --stats for --exact: the first check builds the preamble, the others are what an edit
 * costs; memory is this process's, libclang's AST and preamble included. */
static void print_exact_stats(const struct check_cmd *k, const char *name,
			      const struct vms_exact *x, int rc)
{
	struct vms_exact_stats st;
	vms_exact_get_stats(x, &st);
	long rss, hwm;
	vms_exact_rss_kib(&rss, &hwm);
	printf("check --exact: %s, %ld run%s%s, result %s\n", name, k->repeat,
	       k->repeat == 1 ? "" : "s", k->interval_ms ? " (spaced)" : "",
	       rc < 0 ? "failed" : rc ? "errors" : "ok");
	printf("first check (preamble built): %.1f ms\n", st.first_ms);
	if (k->repeat > 1) {
		struct vms_bench_summary t;
		vms_bench_summarize(k->times + 1, (size_t)k->repeat - 1, &t);
		printf("per reparse: median %.3f ms, p90 %.3f ms, min %.3f ms, max %.3f ms\n",
		       t.median, t.p90, t.min, t.max);
	}
	printf("memory: VmRSS %.1f MiB, VmHWM %.1f MiB\n", rss / 1024.0, hwm / 1024.0);
}

/* One program through libclang, repeat times: its exit code. */
static int exact_one(struct check_cmd *k, const char *path, const struct vms_exact_opts *xo)
{
	char *src;
	size_t len;
	int e = cli_read_input(path, &src, &len);
	if (e < 0) {
		cli_error("check", "cannot read %s: %s", path, strerror(-e));
		return VMS_EXIT_FAIL;
	}
	const char *name = cli_input_name(path);
	struct vms_diags d = { 0 };
	struct vms_exact *x;
	if (vms_exact_new(xo, name, &x, &d) < 0) {
		for (size_t i = 0; i < d.n; i++)
			cli_error("check", "--exact: %s%s%s", d.v[i].file ? d.v[i].file : "",
				  d.v[i].file ? ": " : "", d.v[i].msg);
		vms_diags_free(&d);
		free(src);
		return VMS_EXIT_FAIL;
	}
	int rc = 0;
	for (long i = 0; i < k->repeat; i++) {
		vms_diags_free(&d);
		if (k->interval_ms && i)
			pause_ms(k->interval_ms);
		double t0 = vms_now_ms();
		rc = vms_exact_check(x, src, len, &d);
		k->times[i] = vms_now_ms() - t0;
	}
	cli_diags(stderr, &d);
	int errors = rc == 0 && vms_diags_count(&d, VMS_ERROR) > 0;
	if (k->stats && !cli_json()) /* --stats is a text report */
		print_exact_stats(k, name, x, rc < 0 ? -1 : errors);
	vms_diags_free(&d);
	vms_exact_free(x);
	free(src);
	return rc < 0 ? VMS_EXIT_GAVE_UP : errors ? VMS_EXIT_FAIL : VMS_EXIT_OK;
}

/* Every program, the same options as the fast checker's: -I, -D (its "-NAME" undefines),
 * --header. The highest exit code wins. */
static int run_exact(struct check_cmd *k)
{
	struct vms_argv flags = { 0 };
	for (size_t i = 0; i < k->defs.n; i++)
		if (k->defs.v[i][0] == '-')
			vms_argv_pushf(&flags, "-U%s", k->defs.v[i] + 1);
		else
			vms_argv_pushf(&flags, "-D%s", k->defs.v[i]);
	struct vms_exact_opts xo = {
		.include_dirs = (const char *const *)k->incs.v,
		.n_inc = k->incs.n,
		.flags = (const char *const *)flags.v,
		.n_flags = flags.n,
		.vmlinux_header = k->o.vmlinux_header,
	};
	k->times = vms_xcalloc((size_t)k->repeat, sizeof(double));
	int worst = VMS_EXIT_OK;
	size_t n_own = flags.n;
	for (int i = 0; i < k->npaths; i++) {
		/* each program's own database entry after the command line's flags */
		while (flags.n > n_own)
			free(flags.v[--flags.n]);
		if (flags.v)
			flags.v[flags.n] = NULL;
		int rc = project_flags(k, k->paths[i], &flags) < 0 ? VMS_EXIT_FAIL : -1;
		if (rc < 0) {
			xo.flags = (const char *const *)flags.v;
			xo.n_flags = flags.n;
			rc = exact_one(k, k->paths[i], &xo);
		}
		if (rc > worst)
			worst = rc;
	}
	vms_argv_free(&flags);
	cli_doc_str("checker", "exact");
	cli_doc_str("status", worst == VMS_EXIT_OK ? "ok" : worst == VMS_EXIT_FAIL ? "errors"
							 : "gave up");
	return worst;
}

int cmd_check(int argc, char **argv)
{
	struct check_cmd k = { .repeat = 1, .mode_name = "snapshot" };
	int rc = parse(&k, argc, argv);
	if (rc == CLI_CONTINUE)
		rc = k.exact ? run_exact(&k) : run(&k);
	free(k.times);
	free(k.tcc_times);
	vms_argv_free(&k.incs);
	vms_argv_free(&k.defs);
	return rc;
}
