/* vmslim build: a BPF object through a cached, always-fresh PCH; optionally loaded. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pch/pch.h"

#define EXIT_LOAD_REFUSED 77

static void usage(FILE *out)
{
	fprintf(out,
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
		"      --cache-dir DIR  cache directory (default $XDG_CACHE_HOME/vmslim)\n"
		"      --clang PATH     compiler (default $VMSLIM_CLANG, else clang)\n"
		"      --no-pch         plain clang build (the reference)\n"
		"      --gmodules=WHEN  auto (default): only when no CO-RE is in play\n"
		"                       (BPF_NO_PRESERVE_ACCESS_INDEX defined, no CO-RE macros)\n"
		"                       and the object keeps every BTF type the kernel needs;\n"
		"                       never; always (experiments: clang crashes with CO-RE)\n"
		"      --load           load the object into the running kernel (libbpf), print\n"
		"                       the verifier's log if it is rejected, then unload\n"
		"  -v, --verbose        which path was taken and why, with timings\n"
		"  -h, --help           this text\n"
		"\n"
		"Exit: 0 built (and loaded), 1 build failed or the verifier rejected it,\n"
		"2 usage, 77 loading refused by this machine (no privileges, no BPF).\n");
}

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "header", required_argument, NULL, 'H' },
		{ "cache-dir", required_argument, NULL, 'C' },
		{ "clang", required_argument, NULL, 'c' },
		{ "no-pch", no_argument, NULL, 'n' },
		{ "gmodules", required_argument, NULL, 'g' },
		{ "load", no_argument, NULL, 'l' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_build_opts o = { 0 };
	int load = 0, verbose = 0;
	/* options and PROG may mix; everything after "--" is clang's */
	int nopt = cli_options_end(argc, argv);
	optind = 1;
	int c;
	while ((c = getopt_long(nopt, argv, "o:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': o.output = optarg; break;
		case 'H': o.header = optarg; break;
		case 'C': o.cache_dir = optarg; break;
		case 'c': o.clang = optarg; break;
		case 'n': o.no_pch = 1; break;
		case 'g':
			if (!strcmp(optarg, "auto"))
				o.gmodules = VMS_GMODULES_AUTO;
			else if (!strcmp(optarg, "never"))
				o.gmodules = VMS_GMODULES_NEVER;
			else if (!strcmp(optarg, "always"))
				o.gmodules = VMS_GMODULES_ALWAYS;
			else {
				cli_error("build", "--gmodules takes auto, never or always");
				return VMS_EXIT_USAGE;
			}
			break;
		case 'l': load = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return VMS_EXIT_OK;
		default: usage(stderr); return VMS_EXIT_USAGE;
		}
	}
	/* PROG.c may come before or after the options; clang flags follow "--" */
	const char *src = NULL;
	for (; optind < argc; optind++) {
		if (!strcmp(argv[optind], "--")) {
			optind++;
			break;
		}
		if (src) {
			cli_error("build", "unexpected argument '%s' (clang flags go after --)",
				  argv[optind]);
			return VMS_EXIT_USAGE;
		}
		src = argv[optind];
	}
	if (!src) {
		cli_error("build", "missing PROG.c");
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	if (o.output && !strcmp(o.output, "-")) {
		/* clang's standard output is captured for its messages: the object would be lost */
		cli_error("build", "cannot write the object to standard output: give -o FILE");
		return VMS_EXIT_USAGE;
	}
	o.source = src;
	o.flags = (const char *const *)argv + optind;
	char *def_out = o.output ? NULL : cli_default_object(src);
	if (!o.output)
		o.output = def_out;

	struct vms_diags d = { 0 };
	struct vms_build_result r;
	int rc = vms_build(&o, &r, &d);
	fputs(r.clang_stderr, stderr);
	vms_diags_print(stderr, &d);
	if (verbose)
		fprintf(stderr,
			"vmslim build: %s%s\nvmslim build: pch %.1f ms, compile %.1f ms, total %.1f ms\n",
			r.mode, r.pch_rebuilt ? " [PCH rebuilt]" : "", r.pch_ms, r.compile_ms,
			r.total_ms);
	int exit_code = rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
	if (rc == 0 && load) {
		char *log = NULL;
		enum vms_load_result lr = vms_bpf_load_object(o.output, &log);
		switch (lr) {
		case VMS_LOAD_OK:
			if (verbose && log && *log)
				fputs(log, stderr);
			fprintf(stderr, "vmslim build: %s: loaded, every program accepted\n", o.output);
			break;
		case VMS_LOAD_REJECTED:
			fputs(log ? log : "", stderr);
			fprintf(stderr, "vmslim build: %s: rejected by the verifier\n", o.output);
			exit_code = VMS_EXIT_FAIL;
			break;
		case VMS_LOAD_REFUSED:
			fputs(log ? log : "", stderr);
			fprintf(stderr, "vmslim build: %s: this machine refuses to load BPF programs\n",
				o.output);
			exit_code = EXIT_LOAD_REFUSED;
			break;
		default:
			fputs(log ? log : "", stderr);
			fprintf(stderr, "vmslim build: %s: cannot open the object\n", o.output);
			exit_code = VMS_EXIT_FAIL;
			break;
		}
		free(log);
	}
	vms_build_result_free(&r);
	vms_diags_free(&d);
	free(def_out);
	return exit_code;
}
