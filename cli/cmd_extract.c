/* vmslim extract: the CLI over vms_extract(). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "extract/extract.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmslim extract (--header FILE | --btf FILE) ROOTS... -o OUT [options] [-- CLANG_ARGS]\n"
		"\n"
		"Trims a header (vmlinux.h) to the transitive closure of what the roots need:\n"
		"full definitions where a layout is needed, opaque `struct X;` where a pointer\n"
		"is all that is needed. Output keeps the header's order, include guard and\n"
		"preserve_access_index block, and is deterministic byte for byte.\n"
		"\n"
		"input (one of):\n"
		"  --header FILE        a C header, e.g. vmlinux.h\n"
		"  --btf FILE           raw BTF (/sys/kernel/btf/vmlinux) or an ELF with .BTF\n"
		"roots (any number, at least one):\n"
		"  --type NAME          struct, union, enum or typedef name; globs allowed\n"
		"                       ('trace_event_raw_*'); 'struct foo' also accepted\n"
		"  --from PROG.c        every header declaration the BPF program uses; its\n"
		"                       #include \"vmlinux.h\" resolves to the input header\n"
		"options:\n"
		"  -o, --output FILE    write the slim header here (atomically); '-' for stdout\n"
		"  --blacklist GLOB     stop the walk at matching names (kept opaque where\n"
		"                       only a pointer needs them)\n"
		"  --blacklist-file F   globs, one per line ('#' comments); 'default' is the\n"
		"                       shipped list of kernel hub types, for --full-pointers\n"
		"  --full-pointers      follow pointers too (the older, much larger closure)\n"
		"  --stats              print types and bytes kept, and the time taken\n"
		"  -h, --help           this text\n"
		"  -- CLANG_ARGS        extra clang arguments for parsing programs (-I, -D)\n"
		"\n"
		"exit status: 0 written, 1 error (message names file and line), 2 usage\n");
}

static int read_blacklist_file(const char *path, struct vms_argv *bl)
{
	char *data;
	size_t len;
	int rc = vms_read_file(path, &data, &len);
	if (rc) {
		cli_error("extract", "%s: cannot read blacklist file: %s", path, strerror(-rc));
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		char *end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = 0;
		if (*line && *line != '#')
			vms_argv_push(bl, line);
	}
	free(data);
	return 0;
}

int cmd_extract(int argc, char **argv)
{
	enum { OPT_HEADER = 256, OPT_BTF, OPT_TYPE, OPT_FROM, OPT_BL, OPT_BLF, OPT_FULLPTR, OPT_STATS };
	static const struct option opts[] = {
		{ "header", required_argument, NULL, OPT_HEADER },
		{ "btf", required_argument, NULL, OPT_BTF },
		{ "type", required_argument, NULL, OPT_TYPE },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "output", required_argument, NULL, 'o' },
		{ "blacklist", required_argument, NULL, OPT_BL },
		{ "blacklist-file", required_argument, NULL, OPT_BLF },
		{ "full-pointers", no_argument, NULL, OPT_FULLPTR },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_argv types = { 0 }, progs = { 0 }, bl = { 0 }, clang_args = { 0 };
	char *default_blacklist = vms_xasprintf("%s/vmslim-blacklist-default.txt", cli_headers_dir());
	struct vms_extract_opts o = { 0 };
	const char *output = NULL;
	int stats = 0, rc = VMS_EXIT_USAGE;
	/* everything after "--" is clang's, so a stray word before it is a mistake rather
	 * than a clang argument */
	int nopt = cli_options_end(argc, argv);
	optind = 1;
	int c;
	while ((c = getopt_long(nopt, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HEADER: o.header_path = optarg; break;
		case OPT_BTF: o.btf_path = optarg; break;
		case OPT_TYPE: vms_argv_push(&types, optarg); break;
		case OPT_FROM: vms_argv_push(&progs, optarg); break;
		case 'o': output = optarg; break;
		case OPT_BL: vms_argv_push(&bl, optarg); break;
		case OPT_BLF:
			if (read_blacklist_file(!strcmp(optarg, "default") ? default_blacklist : optarg,
						&bl)) {
				rc = VMS_EXIT_FAIL;
				goto out;
			}
			break;
		case OPT_FULLPTR: o.full_pointers = 1; break;
		case OPT_STATS: stats = 1; break;
		case 'h': usage(stdout); rc = VMS_EXIT_OK; goto out;
		default: usage(stderr); goto out;
		}
	}
	if (optind < nopt) {
		cli_error("extract", "unexpected argument '%s' (clang arguments go after --)",
			  argv[optind]);
		goto out;
	}
	for (int i = nopt + 1; i < argc; i++)
		vms_argv_push(&clang_args, argv[i]);
	if (!o.header_path == !o.btf_path) {
		cli_error("extract", "give exactly one of --header FILE or --btf FILE");
		goto out;
	}
	if (!types.n && !progs.n) {
		cli_error("extract", "no roots: give --type NAME or --from PROG.c");
		goto out;
	}
	if (!output) {
		cli_error("extract", "no output: give -o FILE (or -o - for stdout)");
		goto out;
	}
	o.type_roots = (const char *const *)types.v;
	o.programs = (const char *const *)progs.v;
	o.blacklist = (const char *const *)bl.v;
	o.clang_args = (const char *const *)clang_args.v;

	struct vms_diags d = { 0 };
	struct vms_extract_stats st;
	char *text = NULL;
	size_t len = 0;
	rc = VMS_EXIT_FAIL;
	if (vms_extract(&o, &text, &len, &st, &d) == 0) {
		if (!strcmp(output, "-")) {
			fwrite(text, 1, len, stdout);
			rc = fflush(stdout) ? VMS_EXIT_FAIL : VMS_EXIT_OK;
		} else {
			int w = vms_write_file_atomic(output, text, len, 0644);
			if (w)
				vms_diag_add(&d, VMS_ERROR, output, 0, 0, "cannot write: %s", strerror(-w));
			else
				rc = VMS_EXIT_OK;
		}
	}
	vms_diags_print(stderr, &d);
	if (rc == VMS_EXIT_OK && stats)
		fprintf(stderr,
			"types kept: %zu/%zu (+%zu opaque)\nbytes kept: %zu/%zu (%.1f%%, 1/%.0f)\n"
			"time: %.1f ms (parsing %.1f ms)\n",
			st.types_kept, st.types_total, st.types_opaque, st.bytes_kept, st.bytes_total,
			100.0 * (double)st.bytes_kept / (double)(st.bytes_total ? st.bytes_total : 1),
			(double)st.bytes_total / (double)(st.bytes_kept ? st.bytes_kept : 1), st.total_ms,
			st.parse_ms);
	free(text);
	vms_diags_free(&d);
out:
	vms_argv_free(&types);
	vms_argv_free(&progs);
	vms_argv_free(&bl);
	vms_argv_free(&clang_args);
	free(default_blacklist);
	return rc;
}
