/* vmslim verify: the CLI over vms_verify(). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "extract/extract.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmslim verify PROG.c --header FULL --slim SLIM [options] [-- CLANG_ARGS]\n"
		"\n"
		"Compiles PROG.c twice with `clang -g -O2 -target bpf`, its #include \"vmlinux.h\"\n"
		"resolving first to FULL and then to SLIM, and compares the two objects: section\n"
		"bytes (instructions, data), relocations, global symbols and the CO-RE relocation\n"
		"records of .BTF.ext (kind, access string, root type name). BTF type IDs and debug\n"
		"info may differ.\n"
		"\n"
		"options:\n"
		"  --header FILE     the full header\n"
		"  --slim FILE       the slim header (from vmslim extract)\n"
		"  --clang PATH      compiler (default: $VMSLIM_CLANG, else clang)\n"
		"  --keep-dir DIR    keep the two objects there as full.o and slim.o\n"
		"  -h, --help        this text\n"
		"\n"
		"exit status: 0 same object, 1 different (what differs is printed) or a compile\n"
		"error, 2 usage\n");
}

int cmd_verify(int argc, char **argv)
{
	enum { OPT_HEADER = 256, OPT_SLIM, OPT_CLANG, OPT_KEEP };
	static const struct option opts[] = {
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "slim", required_argument, NULL, OPT_SLIM },
		{ "clang", required_argument, NULL, OPT_CLANG },
		{ "keep-dir", required_argument, NULL, OPT_KEEP },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_verify_opts o = { .clang = getenv("VMSLIM_CLANG") };
	optind = 1;
	/* '+' stops at the first non-option, so the program may come before or after the
	 * options, and everything after "--" is left for clang */
	while (optind < argc) {
		int c = getopt_long(argc, argv, "+h", opts, NULL);
		if (c == -1) {
			if (optind < argc && argv[optind][0] != '-' && !o.program) {
				o.program = argv[optind++];
				continue;
			}
			break; /* "--" was consumed */
		}
		switch (c) {
		case OPT_HEADER: o.full_header = optarg; break;
		case OPT_SLIM: o.slim_header = optarg; break;
		case OPT_CLANG: o.clang = optarg; break;
		case OPT_KEEP: o.keep_dir = optarg; break;
		case 'h': usage(stdout); return VMS_EXIT_OK;
		default: usage(stderr); return VMS_EXIT_USAGE;
		}
	}
	if (optind < argc && strcmp(argv[optind - 1], "--")) {
		cli_error("verify", "unexpected argument '%s' (clang arguments go after --)", argv[optind]);
		return VMS_EXIT_USAGE;
	}
	if (!o.program || !o.full_header || !o.slim_header) {
		cli_error("verify", "need PROG.c, --header FULL and --slim SLIM");
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	o.clang_args = (const char *const *)(argv + optind);
	struct vms_diags d = { 0 };
	int rc = vms_verify(&o, &d);
	vms_diags_print(stderr, &d);
	vms_diags_free(&d);
	if (rc == 0)
		printf("%s: same object with %s and %s\n", o.program, o.full_header, o.slim_header);
	return rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
}
