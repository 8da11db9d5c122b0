/* vmslim verify: the CLI over vms_verify(). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "bpfobj/bpfobj.h"
#include "extract/extract.h"

static const char help[] =
	"usage: vmslim verify PROG.c --header FULL --slim SLIM [options] [-- CLANG_ARGS]\n"
	"\n"
	"Compiles PROG.c twice with `clang -g -O2 -target bpf`, every inclusion of vmlinux.h\n"
	"resolving first to FULL and then to SLIM, and compares the two objects: section\n"
	"bytes (instructions, data), relocations, global symbols and the CO-RE relocation\n"
	"records of .BTF.ext (kind, access string, root type name). BTF type IDs and debug\n"
	"info may differ. Each difference is one line, \"X (full) vs Y (slim)\", as with\n"
	"`vmslim objdiff`.\n"
	"\n"
	"options:\n"
	"  --header FILE     the full header\n"
	"  --slim FILE       the slim header (from vmslim extract)\n"
	"  --clang PATH      compiler (default: $VMSLIM_CLANG, else clang)\n"
	"  --keep-dir DIR    keep the two objects there as full.o and slim.o\n"
	"  -v, --verbose     add the details of each difference\n"
	"  -h, --help        " HELP_SPEC_HELP "\n"
	"\n"
	"exit status: 0 same object, 1 different (what differs is printed) or a compile\n"
	"error, 2 usage\n";

enum { OPT_HEADER = 256, OPT_SLIM, OPT_CLANG, OPT_KEEP };
static const struct option opts[] = {
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "slim", required_argument, NULL, OPT_SLIM },
	{ "clang", required_argument, NULL, OPT_CLANG },
	{ "keep-dir", required_argument, NULL, OPT_KEEP },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "verify", help, "vh", opts, "clang arguments" };

int cmd_verify(int argc, char **argv)
{
	struct vms_verify_opts o = { .clang = getenv("VMSLIM_CLANG") };
	struct cli_args a;
	int c, verbose = 0;
	/* the program may come before or after the options; clang's arguments follow "--" */
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case OPT_HEADER: o.full_header = a.arg; break;
		case OPT_SLIM: o.slim_header = a.arg; break;
		case OPT_CLANG: o.clang = a.arg; break;
		case OPT_KEEP: o.keep_dir = a.arg; break;
		case 'v': verbose = 1; break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	if (cli_positionals(&a, &o.program, 1) < 0)
		return VMS_EXIT_USAGE;
	if (o.program && !strcmp(o.program, "-")) /* compiled twice: no standard input */
		return cli_unexpected(&a, o.program);
	if (!o.program || !o.full_header || !o.slim_header) {
		cli_error("verify", "need PROG.c, --header FULL and --slim SLIM");
		return cli_usage_error(&spec);
	}
	o.clang_args = (const char *const *)cli_rest(&a);
	struct vms_diags d = { 0 };
	int rc = vms_verify(&o, &d);
	/* only differences are shortened: a failed compile is shown whole */
	size_t n = rc == 1 ? vms_obj_diffs_trim(&d, cli_json() ? SIZE_MAX : VMS_OBJ_DIFFS_SHOWN,
						verbose) : 0;
	cli_diags(stderr, &d);
	vms_diags_free(&d);
	cli_doc_str("program", o.program);
	cli_doc_str("full_header", o.full_header);
	cli_doc_str("slim_header", o.slim_header);
	if (rc >= 0) {
		cli_doc_bool("same", rc == 0);
		cli_doc_int("differences", (long long)n);
	}
	if (cli_json())
		;
	else if (rc == 1)
		fprintf(stderr, "%s: the full and the slim object differ: %zu difference%s\n",
			o.program, n, n == 1 ? "" : "s");
	else if (rc == 0)
		printf("%s: same object with %s and %s\n", o.program, o.full_header, o.slim_header);
	return rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
}
