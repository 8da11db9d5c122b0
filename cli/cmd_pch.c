/* vmslim pch: build (or refresh) a precompiled header with its manifest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "pch/pch.h"

static const char help[] =
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
	"      --cache-dir DIR  " HELP_SPEC_CACHE_DIR "\n"
	"      --clang PATH     " HELP_SPEC_CLANG "\n"
	"      --raw            no default flags: exactly CLANG FLAGS\n"
	"      --gmodules       build with -gmodules (see `vmslim build --help`)\n"
	"  -f, --force          rebuild even if fresh\n"
	"  -v, --verbose        say whether it was rebuilt and why, with timings\n"
	"  -h, --help           " HELP_SPEC_HELP "\n"
	"\n"
	"Prints the PCH's path. Exit: 0 ok, 1 failure, 2 usage.\n";

static const struct option opts[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "cache-dir", required_argument, NULL, 'C' },
	{ "clang", required_argument, NULL, 'c' },
	{ "raw", no_argument, NULL, 'r' },
	{ "gmodules", no_argument, NULL, 'g' },
	{ "force", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "pch", help, "o:fvh", opts, "clang flags" };

static void print_verdict(const struct vms_pch_info *info, int verbose)
{
	if (cli_json()) {
		cli_doc_str("pch", info->pch_path);
		cli_doc_bool("rebuilt", info->rebuilt);
		cli_doc_str("reason", info->rebuilt ? info->reason : NULL);
		cli_doc_num(info->rebuilt ? "build_ms" : "check_ms",
			    info->rebuilt ? info->build_ms : info->check_ms);
		return;
	}
	if (verbose && info->rebuilt)
		fprintf(stderr, "vmslim pch: built (%s) in %.1f ms\n",
			info->reason ? info->reason : "?", info->build_ms);
	else if (verbose)
		fprintf(stderr, "vmslim pch: up to date (checked in %.1f ms)\n", info->check_ms);
	printf("%s\n", info->pch_path);
}

int cmd_pch(int argc, char **argv)
{
	struct vms_pch_opts o = { 0 };
	const char *header;
	int raw = 0, verbose = 0, c;
	struct cli_args a;
	/* options and HEADER may mix; everything after "--" is clang's */
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case 'o': o.out = a.arg; break;
		case 'C': o.cache_dir = a.arg; break;
		case 'c': o.clang = a.arg; break;
		case 'r': raw = 1; break;
		case 'g': o.gmodules = 1; break;
		case 'f': o.force = 1; break;
		case 'v': verbose = 1; break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	int npos = cli_positionals(&a, &header, 1);
	if (npos < 0)
		return VMS_EXIT_USAGE;
	if (!npos) {
		cli_error("pch", "missing HEADER");
		return cli_usage_error(&spec);
	}

	struct vms_diags d = { 0 };
	struct vms_argv flags;
	struct vms_pch_info info = { 0 };
	int rc = vms_build_flags(header, (const char *const *)cli_rest(&a), raw, o.cache_dir,
				 &flags, &d);
	if (rc == 0) {
		o.header = header;
		o.flags = (const char *const *)flags.v;
		rc = vms_pch_ensure(&o, &info, &d);
		if (info.clang_stderr && *info.clang_stderr && (rc < 0 || verbose))
			cli_clang_output(stderr, info.clang_stderr);
	}
	cli_diags(stderr, &d);
	if (rc == 0)
		print_verdict(&info, verbose);
	vms_pch_info_free(&info);
	vms_argv_free(&flags);
	vms_diags_free(&d);
	return rc == 0 ? VMS_EXIT_OK : VMS_EXIT_FAIL;
}
