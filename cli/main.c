/* vmslim: one binary, a table of subcommands in the manner of bpftool. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/common.h"

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

int cli_number(const char *cmd, const char *opt, const char *arg, long min, long max,
	       long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (*end || end == arg || errno || v < min || v > max) {
		cli_error(cmd, "%s wants a number from %ld to %ld, not '%s'", opt, min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_options_end(int argc, char **argv)
{
	for (int k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--"))
			return k;
	return argc;
}

char *cli_default_object(const char *src)
{
	const char *base = vms_basename(src);
	size_t n = strlen(base);
	if (n > 2 && !strcmp(base + n - 2, ".c"))
		n -= 2;
	return vms_xasprintf("%.*s.o", (int)n, base);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: vmslim COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'vmslim COMMAND --help' describes a command's options.\n");
}

/* A command stopped by Ctrl-C, SIGTERM or a closed terminal still stops the daemon it
 * started (bench) and removes its temporary directories (a staged vmlinux.h, PCHs:
 * megabytes each time), then dies of the signal so that its parent sees why. The daemon and the language server install their own
 * handlers for an orderly shutdown. */
static void on_fatal_signal(int sig)
{
	vms_cleanup_on_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void clean_up_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_fatal_signal };
	sigemptyset(&sa.sa_mask);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* a signal the caller chose to ignore (nohup, SIGPIPE in a pipeline) stays so */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

int main(int argc, char **argv)
{
	clean_up_on_signals();
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
		if (!strcmp(commands[i].name, name)) {
			/* getopt names argv[0] in its complaints: "vmslim build: unrecognized..." */
			argv[1] = vms_xasprintf("vmslim %s", name);
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "vmslim: unknown command '%s'\n\n", name);
	usage(stderr);
	return VMS_EXIT_USAGE;
}
