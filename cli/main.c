/* vmslim: one binary, a table of subcommands in the manner of bpftool. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "extract", cmd_extract, "trim a header (vmlinux.h) to what programs or named types use" },
	{ "verify",  cmd_verify,  "compile a program with the full and the slim header; compare objects" },
	{ "objdiff", cmd_objdiff, "compare two BPF objects (instructions, relocations, CO-RE records)" },
	{ "pch",     cmd_pch,     "build a clang precompiled header with a manifest" },
	{ "build",   cmd_build,   "build a BPF object through a cached, always-fresh PCH" },
	{ "cc",      cmd_cc,      "drop-in for clang in Makefiles: BPF compiles take the PCH path" },
	{ "check",   cmd_check,   "type-check BPF C in about a millisecond with the TCC snapshot" },
	{ "serve",   cmd_serve,   "run the compile-cache daemon on a Unix socket" },
	{ "client",  cmd_client,  "send check/build/stats requests to a running daemon" },
	{ "lsp",     cmd_lsp,     "language server over stdio for editors" },
	{ "bench",   cmd_bench,   "measure every pipeline side by side" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "vmslim %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

const char *cli_headers_dir(void)
{
	const char *env = getenv("VMSLIM_HEADERS");
	if (env && *env)
		return env;
	if (access(VMSLIM_SOURCE_HEADERS "/vmslim-tcc-prelude.h", R_OK) == 0 ||
	    access(VMSLIM_SOURCE_HEADERS, R_OK) == 0)
		return VMSLIM_SOURCE_HEADERS;
	return VMSLIM_INSTALL_HEADERS;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: vmslim COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'vmslim COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc > 2) {
			for (size_t i = 0; i < N_COMMANDS; i++)
				if (!strcmp(commands[i].name, argv[2])) {
					char *args[] = { argv[2], "--help", NULL };
					return commands[i].run(2, args);
				}
			cli_error("help", "unknown command '%s'", argv[2]);
			return VMS_EXIT_USAGE;
		}
		usage(stdout);
		return VMS_EXIT_OK;
	}
	if (!strcmp(name, "version") || !strcmp(name, "--version")) {
		printf("vmslim %s\n", VMSLIM_VERSION);
		return VMS_EXIT_OK;
	}
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "vmslim: unknown command '%s'\n\n", name);
	usage(stderr);
	return VMS_EXIT_USAGE;
}
