/* vmslim objdiff: the CLI over vms_obj_compare(). */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "bpfobj/bpfobj.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static const char help[] =
	"usage: vmslim objdiff [options] A.o B.o\n"
	"\n"
	"Compares two BPF objects the way a loader sees them: the bytes of every\n"
	"allocated section (instructions, .rodata, .data, .maps, license), their\n"
	"relocations, the symbols, the function and CO-RE relocation records of\n"
	".BTF.ext (section, instruction, kind, access string, root type), and the BTF\n"
	"that libbpf and the verifier read (map key/value types, global variables,\n"
	"global function prototypes). BTF type ids and debug info may differ.\n"
	"\n"
	"Each difference is one line: what differs, where, and both values, \"X (A) vs\n"
	"Y (B)\". The first " STR(VMS_OBJ_DIFFS_SHOWN) " are shown, then how many more there are.\n"
	"\n"
	"options:\n"
	"  -q, --quiet    print nothing; the exit status says it all\n"
	"  -v, --verbose  add the details of each difference (whole map definitions,\n"
	"                 prototypes, instruction bytes)\n"
	"  -h, --help     " HELP_SPEC_HELP "\n"
	"\n"
	"exit status: 0 same, 1 different (each difference is printed),\n"
	"             2 usage error or an unreadable object\n";

static const struct option opts[] = {
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "objdiff", help, "qvh", opts, NULL };

int cmd_objdiff(int argc, char **argv)
{
	struct cli_args a;
	int quiet = 0, verbose = 0, c;
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		if (c == 'q')
			quiet = 1;
		else if (c == 'v')
			verbose = 1;
	}
	if (c == CLI_EXIT)
		return a.exit;
	if (argc - optind != 2) {
		cli_error("objdiff", "expected two object files, got %d", argc - optind);
		return cli_usage_error(&spec);
	}

	const char *x = argv[optind], *y = argv[optind + 1];
	struct vms_diags d = { 0 };
	int rc = vms_obj_compare(x, y, &d);
	cli_doc_str("a", x);
	cli_doc_str("b", y);
	if (rc < 0) {
		cli_diags(stderr, &d);
		vms_diags_free(&d);
		return VMS_EXIT_USAGE;
	}
	size_t n = vms_obj_diffs_trim(&d, cli_json() ? SIZE_MAX : VMS_OBJ_DIFFS_SHOWN, verbose);
	if (cli_json()) { /* every difference, as a diagnostic; --quiet is for text */
		cli_diags(stdout, &d);
		cli_doc_bool("same", rc == 0);
		cli_doc_int("differences", (long long)n);
	} else if (!quiet && rc == 0) {
		printf("%s and %s are the same BPF object\n", x, y);
	} else if (!quiet) {
		vms_diags_print(stdout, &d);
		printf("%s and %s differ: %zu difference%s\n", x, y, n, n == 1 ? "" : "s");
	}
	vms_diags_free(&d);
	return rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
}
