/* vmslim build: a BPF object through a cached, always-fresh PCH; optionally loaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "pch/pch.h"
#include "bpfobj/bpfobj.h"

static const char help[] =
	"usage: vmslim build PROG.c [-o PROG.o] [--header H] [OPTIONS] [-- CLANG FLAGS]\n"
	"\n"
	"Compiles a BPF program with clang -include-pch, through a PCH of its header kept\n"
	"in the cache and rebuilt whenever the header (or anything it includes), the\n"
	"flags or the compiler changed. Flags: --target=bpf -g -O2\n"
	"-D__TARGET_ARCH_<host> (unless CLANG FLAGS define one), then CLANG FLAGS.\n"
	"#defines before the program's #include \"vmlinux.h\" are honoured; anything else\n"
	"there (code, other includes, #if) makes it a plain clang build, and so does a\n"
	"header under 256 KB (a slim one): parsing it costs less than loading a PCH.\n"
	"\n"
	"options:\n"
	"  -o, --output FILE    object file (default: PROG with .o for .c)\n"
	"      --header H       the program's #include \"vmlinux.h\" resolves to H (a slim\n"
	"                       header from `vmslim extract`, or the full one); default:\n"
	"                       wherever clang would find vmlinux.h\n"
	"      --cache-dir DIR  " HELP_SPEC_CACHE_DIR "\n"
	"      --clang PATH     " HELP_SPEC_CLANG "\n"
	"      --no-pch         plain clang build (the reference)\n"
	"      --gmodules=WHEN  auto (default): only when no CO-RE is in play\n"
	"                       (BPF_NO_PRESERVE_ACCESS_INDEX defined, no CO-RE macros)\n"
	"                       and the object keeps every BTF type the kernel needs;\n"
	"                       never; always (experiments: clang crashes with CO-RE)\n"
	"      --load           load the object into the running kernel (libbpf), print\n"
	"                       the verifier's log if it is rejected, then unload\n"
	"  -v, --verbose        which path was taken and why, with timings\n"
	"  -h, --help           " HELP_SPEC_HELP "\n"
	"\n"
	"Exit: 0 built (and loaded), 1 build failed or the verifier rejected it,\n"
	"2 usage, 77 loading refused by this machine (no privileges, no BPF).\n";

static const struct option opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "header", required_argument, NULL, 'H' },
	{ "cache-dir", required_argument, NULL, 'C' },
	{ "clang", required_argument, NULL, 'c' },
	{ "no-pch", no_argument, NULL, 'n' },
	{ "gmodules", required_argument, NULL, 'g' },
	{ "load", no_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "build", help, "o:vh", opts, "clang flags" };

static const struct {
	const char *name;
	enum vms_gmodules_mode mode;
} gmodules_modes[] = {
	{ "auto", VMS_GMODULES_AUTO },
	{ "never", VMS_GMODULES_NEVER },
	{ "always", VMS_GMODULES_ALWAYS },
};

/* Fills o (and the flags) from argv: CLI_CONTINUE, or the exit code to stop with. */
static int parse(struct vms_build_opts *o, int *load, int *verbose, int argc, char **argv)
{
	struct cli_args a;
	size_t k;
	int c;
	/* PROG.c and the options may mix; clang flags follow "--" */
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case 'o': o->output = a.arg; break;
		case 'H': o->header = a.arg; break;
		case 'C': o->cache_dir = a.arg; break;
		case 'c': o->clang = a.arg; break;
		case 'n': o->no_pch = 1; break;
		case 'g':
			for (k = 0; k < sizeof(gmodules_modes) / sizeof(gmodules_modes[0]); k++)
				if (!strcmp(a.arg, gmodules_modes[k].name))
					break;
			if (k == sizeof(gmodules_modes) / sizeof(gmodules_modes[0])) {
				cli_error("build", "--gmodules takes auto, never or always");
				return VMS_EXIT_USAGE;
			}
			o->gmodules = gmodules_modes[k].mode;
			break;
		case 'l': *load = 1; break;
		case 'v': *verbose = 1; break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	int npos = cli_positionals(&a, &o->source, 1);
	if (npos < 0)
		return VMS_EXIT_USAGE;
	if (!npos) {
		cli_error("build", "missing PROG.c");
		return cli_usage_error(&spec);
	}
	if (o->output && !strcmp(o->output, "-")) {
		/* clang's standard output is captured for its messages: the object would be lost */
		cli_error("build", "cannot write the object to standard output: give -o FILE");
		return VMS_EXIT_USAGE;
	}
	o->flags = (const char *const *)cli_rest(&a);
	return CLI_CONTINUE;
}

/* --load: the verifier's verdict on the object as an exit code. */
static int load_object(const char *obj, int verbose)
{
	char *log = NULL;
	int code = VMS_EXIT_FAIL;
	const char *verdict = "cannot open the object";
	switch (vms_bpf_load_object(obj, &log)) {
	case VMS_LOAD_OK:
		if (!verbose && log)
			*log = 0; /* the log of an accepted object only with -v */
		verdict = "loaded, every program accepted";
		code = VMS_EXIT_OK;
		break;
	case VMS_LOAD_REJECTED:
		verdict = "rejected by the verifier";
		break;
	case VMS_LOAD_REFUSED:
		verdict = "this machine refuses to load BPF programs";
		code = VMS_EXIT_REFUSED;
		break;
	default:
		break;
	}
	if (cli_json()) {
		cli_doc_str("load", verdict);
		cli_doc_str("verifier_log", log && *log ? log : NULL);
	} else {
		fputs(log ? log : "", stderr);
		fprintf(stderr, "vmslim build: %s: %s\n", obj, verdict);
	}
	free(log);
	return code;
}

int cmd_build(int argc, char **argv)
{
	struct vms_build_opts o = { 0 };
	int load = 0, verbose = 0;
	int rc = parse(&o, &load, &verbose, argc, argv);
	if (rc != CLI_CONTINUE)
		return rc;
	char *def_out = o.output ? NULL : cli_default_object(o.source);
	if (!o.output)
		o.output = def_out;

	struct vms_diags d = { 0 };
	struct vms_build_result r;
	rc = vms_build(&o, &r, &d);
	cli_clang_output(stderr, r.clang_stderr);
	cli_diags(stderr, &d);
	cli_doc_str("output", rc == 0 ? o.output : NULL);
	cli_doc_str("path", r.mode);
	cli_doc_bool("pch_rebuilt", r.pch_rebuilt);
	cli_doc_num("pch_ms", r.pch_ms);
	cli_doc_num("compile_ms", r.compile_ms);
	cli_doc_num("total_ms", r.total_ms);
	if (verbose && !cli_json())
		fprintf(stderr,
			"vmslim build: %s%s\nvmslim build: pch %.1f ms, compile %.1f ms, total %.1f ms\n",
			r.mode, r.pch_rebuilt ? " [PCH rebuilt]" : "", r.pch_ms, r.compile_ms,
			r.total_ms);
	int exit_code = rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
	if (rc == 0 && load)
		exit_code = load_object(o.output, verbose);
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(def_out);
	return exit_code;
}
