/* vmslim pch: build (or refresh) a precompiled header with its manifest. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "pch/pch.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmslim pch HEADER [-o OUT.pch] [OPTIONS] [-- CLANG FLAGS]\n"
		"\n"
		"Precompiles HEADER for BPF builds and writes a manifest beside the PCH\n"
		"(OUT.pch.manifest: hashes of the header and everything it includes, the flags,\n"
		"the clang path and version, the PCH's own hash). An up-to-date PCH is kept;\n"
		"anything stale, mismatched or damaged is rebuilt atomically. Concurrent runs\n"
		"serialize on OUT.pch.lock.\n"
		"\n"
		"The flags are those of `vmslim build --header HEADER`: --target=bpf -g -O2\n"
		"-D__TARGET_ARCH_<host>, the -I that resolves \"vmlinux.h\" to HEADER, then\n"
		"CLANG FLAGS. Without -o the PCH goes to the cache, where `vmslim build\n"
		"--header HEADER` with the same flags finds it.\n"
		"\n"
		"options:\n"
		"  -o, --output FILE    write the PCH here instead of the cache\n"
		"      --cache-dir DIR  cache directory (default $XDG_CACHE_HOME/vmslim)\n"
		"      --clang PATH     compiler (default $VMSLIM_CLANG, else clang)\n"
		"      --raw            no default flags: exactly CLANG FLAGS\n"
		"      --gmodules       build with -gmodules (see `vmslim build --help`)\n"
		"  -f, --force          rebuild even if fresh\n"
		"  -v, --verbose        say whether it was rebuilt and why, with timings\n"
		"  -h, --help           this text\n"
		"\n"
		"Prints the PCH's path. Exit: 0 ok, 1 failure, 2 usage.\n");
}

int cmd_pch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "cache-dir", required_argument, NULL, 'C' },
		{ "clang", required_argument, NULL, 'c' },
		{ "raw", no_argument, NULL, 'r' },
		{ "gmodules", no_argument, NULL, 'g' },
		{ "force", no_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *out = NULL, *cache = NULL, *clang = NULL;
	int raw = 0, gmodules = 0, force = 0, verbose = 0;
	/* options and PROG may mix; everything after "--" is clang's */
	int nopt = cli_options_end(argc, argv);
	optind = 1;
	int c;
	while ((c = getopt_long(nopt, argv, "o:fvh", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'C': cache = optarg; break;
		case 'c': clang = optarg; break;
		case 'r': raw = 1; break;
		case 'g': gmodules = 1; break;
		case 'f': force = 1; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return VMS_EXIT_OK;
		default: usage(stderr); return VMS_EXIT_USAGE;
		}
	}
	if (optind >= argc || !strcmp(argv[optind], "--")) {
		cli_error("pch", "missing HEADER");
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	const char *header = argv[optind++];
	if (optind < argc && !strcmp(argv[optind], "--"))
		optind++;
	else if (optind < argc) {
		cli_error("pch", "unexpected argument '%s' (clang flags go after --)", argv[optind]);
		return VMS_EXIT_USAGE;
	}
	/* argv is NULL-terminated, so its tail is a flag vector as it is */
	const char *const *user = (const char *const *)argv + optind;

	struct vms_diags d = { 0 };
	struct vms_argv flags;
	int rc = vms_build_flags(header, user, raw, cache, &flags, &d);
	struct vms_pch_info info = { 0 };
	if (rc == 0) {
		struct vms_pch_opts o = {
			.header = header, .flags = (const char *const *)flags.v, .clang = clang,
			.out = out, .cache_dir = cache, .gmodules = gmodules, .force = force,
		};
		rc = vms_pch_ensure(&o, &info, &d);
		if (info.clang_stderr && *info.clang_stderr && (rc < 0 || verbose))
			fputs(info.clang_stderr, stderr);
	}
	vms_diags_print(stderr, &d);
	if (rc == 0) {
		if (verbose) {
			if (info.rebuilt)
				fprintf(stderr, "vmslim pch: built (%s) in %.1f ms\n",
					info.reason ? info.reason : "?", info.build_ms);
			else
				fprintf(stderr, "vmslim pch: up to date (checked in %.1f ms)\n",
					info.check_ms);
		}
		printf("%s\n", info.pch_path);
	}
	vms_pch_info_free(&info);
	vms_argv_free(&flags);
	vms_diags_free(&d);
	return rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
}
