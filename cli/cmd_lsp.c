/* vmslim lsp: a language server over stdio for editors (docs/editors.md). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "serve/serve.h"

static const char help[] =
	"usage: vmslim lsp [-I DIR ...] [-D NAME[=VALUE] ...] [--header H] [OPTIONS]\n"
	"\n"
	"A Language Server (LSP over stdio) for BPF C. On every change it publishes the TCC\n"
	"snapshot checker's diagnostics at once, then, for the same version, clang's own\n"
	"(line, column, warnings) from libclang with a precompiled preamble in this process\n"
	"(a few ms per edit after a first parse of about a second; never for a version the\n"
	"editor has already replaced). Where the fast checker cannot judge the text, clang's\n"
	"answer is the only one. On save it builds the object with clang through a cached\n"
	"PCH and publishes clang's diagnostics (and, with --load, the verifier's verdict).\n"
	"Editor set-up: docs/editors.md. The same options can come from the client's\n"
	"initializationOptions: includeDirs, defines, header, buildOnSave, loadOnSave,\n"
	"fastOnly, clangTier, exact, targetBtf (a list), compileCommandsDir.\n"
	"\n"
	"Editor features, from the same libclang parse: completion (members after -> and .,\n"
	"also in BPF_CORE_READ() field arguments; types after struct/enum; identifiers,\n"
	"helpers, enum constants), hover (type; a member's offset and size, and with\n"
	"--target-btf its offset in each target kernel), go to definition (into vmlinux.h\n"
	"and libbpf's headers) and signature help for helpers. Not with --fast-only (not\n"
	"advertised then). Each document's flags (-I, -D, -U, -include, -target) also come\n"
	"from compile_commands.json or compile_flags.txt, found as clangd finds them: in\n"
	"--compile-commands-dir, else the workspace root or its build/, else the\n"
	"document's directory and those above it.\n"
	"\n"
	"options:\n"
	"  -I DIR             include directory (the document's own directory is implied)\n"
	"  -D NAME[=VALUE]    define\n"
	"      --header H     what #include \"vmlinux.h\" opens (default: found as clang would)\n"
	"      --no-build     do not build on save\n"
	"      --load         after a successful build on save, load the object into the\n"
	"                     kernel (verifier) and report a rejection\n"
	"      --fast-only    only the fast checker's answer on a change (no libclang in\n"
	"                     this process: ~90 MiB less); clang -fsyntax-only processes\n"
	"                     where it cannot judge the text\n"
	"      --clang-tier   with --fast-only: where the fast checker cannot judge a text,\n"
	"                     answer with libclang instead of a clang process per version\n"
	"      --exact        only clang's answer (libclang) on a change, no fast one first\n"
	"      --target-btf FILE  after each successful build on save, resolve the object's\n"
	"                     CO-RE relocations against this kernel's BTF (repeat for\n"
	"                     each kernel) and warn on each unguarded access it cannot\n"
	"                     satisfy, naming the kernel\n"
	"      --compile-commands-dir DIR  where compile_commands.json is (default:\n"
	"                     found as above)\n"
	"      --time-limit MS  limit for builds and clang checks (default 60000)\n"
	"      --clang PATH   " HELP_SPEC_CLANG "\n"
	"      --cache-dir D  PCH cache (default $XDG_CACHE_HOME/vmslim)\n"
	"      --headers-dir D  " HELP_SPEC_HEADERS_DIR "\n"
	"      --log FILE     append a log of what the server does to FILE\n"
	"  -h, --help         " HELP_SPEC_HELP "\n"
	"\n"
	"Exit: 0 after shutdown and exit, 1 otherwise (as the LSP specification asks, and\n"
	"when a --target-btf file cannot be read), 2 usage error.\n";

static void log_line(void *ctx, const char *line)
{
	FILE *f = ctx;
	fprintf(f, "vmslim lsp: %s\n", line);
	fflush(f);
}

enum { O_HEADER = 256, O_NOBUILD, O_LOAD, O_TIME, O_CLANG, O_CACHE, O_HDRDIR, O_LOG,
       O_TIER, O_EXACT, O_FAST, O_TARGET, O_CCDIR };
static const struct option opts[] = {
	{ "header", required_argument, NULL, O_HEADER },
	{ "no-build", no_argument, NULL, O_NOBUILD },
	{ "load", no_argument, NULL, O_LOAD },
	{ "time-limit", required_argument, NULL, O_TIME },
	{ "clang", required_argument, NULL, O_CLANG },
	{ "cache-dir", required_argument, NULL, O_CACHE },
	{ "headers-dir", required_argument, NULL, O_HDRDIR },
	{ "log", required_argument, NULL, O_LOG },
	{ "clang-tier", no_argument, NULL, O_TIER },
	{ "exact", no_argument, NULL, O_EXACT },
	{ "fast-only", no_argument, NULL, O_FAST },
	{ "target-btf", required_argument, NULL, O_TARGET },
	{ "compile-commands-dir", required_argument, NULL, O_CCDIR },
	{ "stdio", no_argument, NULL, 's' }, /* what some clients pass; stdio is all we do */
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "lsp", help, "I:D:h", opts, NULL };

/* One option into o, the vectors and the log file: 0, or -1 after saying what was wrong. */
static int take_option(struct cli_args *a, struct vms_lsp_opts *o, struct vms_argv *inc,
		       struct vms_argv *defs, struct vms_argv *targets, FILE **logf)
{
	long v;
	switch (a->opt) {
	case 'I': vms_argv_push(inc, a->arg); break;
	case 'D': vms_argv_pushf(defs, "-D%s", a->arg); break;
	case O_HEADER: o->backend.header = a->arg; break;
	case O_NOBUILD: o->build_on_save = 0; break;
	case O_LOAD: o->load_on_save = 1; break;
	case O_TIER: o->clang_tier = 1; break;
	case O_EXACT: o->exact = 1; break;
	case O_FAST: o->fast_only = 1; break;
	case O_TARGET: vms_argv_push(targets, a->arg); break;
	case O_CCDIR: o->compile_commands_dir = a->arg; break;
	case O_TIME:
		if (cli_number(a, 10, INT_MAX, NULL, &v) < 0)
			return -1;
		o->time_limit_ms = (int)v;
		break;
	case O_CLANG: o->backend.clang = a->arg; break;
	case O_CACHE: o->backend.cache_dir = a->arg; break;
	case O_HDRDIR: o->backend.headers_dir = a->arg; break;
	case 's': break;
	case O_LOG:
		if (*logf)
			fclose(*logf);
		*logf = fopen(a->arg, "a");
		if (!*logf) {
			cli_error("lsp", "cannot open %s: %s", a->arg, strerror(errno));
			return -1;
		}
		break;
	}
	return 0;
}

int cmd_lsp(int argc, char **argv)
{
	struct vms_lsp_opts o = { .build_on_save = 1 };
	struct vms_argv inc = { 0 }, defs = { 0 }, targets = { 0 };
	FILE *logf = NULL;
	int rc = VMS_EXIT_USAGE, c;
	struct cli_args a;
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0)
		if (take_option(&a, &o, &inc, &defs, &targets, &logf) < 0)
			goto out;
	if (c == CLI_EXIT) {
		rc = a.exit;
		goto out;
	}
	if (optind != argc) {
		cli_unexpected(&a, argv[optind]);
		goto out;
	}
	if (o.exact && o.fast_only) {
		cli_error("lsp", "--exact and --fast-only exclude each other");
		goto out;
	}
	o.backend.inc_dirs = (const char *const *)inc.v;
	o.backend.n_inc = inc.n;
	o.backend.flags = (const char *const *)defs.v;
	o.backend.n_flags = defs.n;
	for (size_t i = 0; i < targets.n; i++)
		if (access(targets.v[i], R_OK) < 0) {
			cli_error("lsp", "%s: %s", targets.v[i], strerror(errno));
			rc = 1;
			goto out;
		}
	o.target_btfs = (const char *const *)targets.v;
	o.n_target_btfs = targets.n;
	if (!o.backend.headers_dir)
		o.backend.headers_dir = cli_headers_dir();
	o.log = log_line;
	o.log_ctx = logf ? logf : stderr;
	rc = vms_lsp_run(&o, STDIN_FILENO, STDOUT_FILENO);
out:
	if (logf)
		fclose(logf);
	vms_argv_free(&inc);
	vms_argv_free(&defs);
	vms_argv_free(&targets);
	return rc;
}
