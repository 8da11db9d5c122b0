/* vmslim objdiff: the CLI over vms_obj_compare(). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "extract/extract.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmslim objdiff [options] A.o B.o\n"
		"\n"
		"Compares two BPF objects the way a loader sees them: the bytes of every\n"
		"allocated section (instructions, .rodata, .data, .maps, license), their\n"
		"relocations, the symbols, the function and CO-RE relocation records of\n"
		".BTF.ext (section, instruction, kind, access string, root type), and the BTF\n"
		"that libbpf and the verifier read (map key/value types, global variables,\n"
		"global function prototypes). BTF type ids and debug info may differ.\n"
		"\n"
		"options:\n"
		"  -q, --quiet    print nothing; the exit status says it all\n"
		"  -h, --help     this text\n"
		"\n"
		"exit status: 0 same, 1 different (each difference is printed),\n"
		"             2 usage error or an unreadable object\n");
}

int cmd_objdiff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_diags d = { 0 };
	int quiet = 0, c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return VMS_EXIT_OK;
		default:
			usage(stderr);
			return VMS_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error("objdiff", "expected two object files, got %d", argc - optind);
		usage(stderr);
		return VMS_EXIT_USAGE;
	}

	rc = vms_obj_compare(argv[optind], argv[optind + 1], &d);
	if (rc < 0) {
		vms_diags_print(stderr, &d);
		vms_diags_free(&d);
		return VMS_EXIT_USAGE;
	}
	if (!quiet) {
		if (rc == 0) {
			printf("%s and %s are the same BPF object\n", argv[optind], argv[optind + 1]);
		} else {
			vms_diags_print(stdout, &d);
			printf("%s and %s differ: %zu difference%s\n", argv[optind], argv[optind + 1],
			       d.n, d.n == 1 ? "" : "s");
		}
	}
	vms_diags_free(&d);
	return rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
}
