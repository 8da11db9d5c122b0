/* vmslim: one binary, a table of subcommands in the manner of bpftool. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "common/common.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	int no_json; /* cc's words are clang's, lsp's stdout is the protocol, serve answers
		      * on its socket: -j/--json is not theirs */
};

static const struct command commands[] = {
	{ "extract", cmd_extract, "trim a header (vmlinux.h) to what programs or named types use", 0 },
	{ "verify",  cmd_verify,  "compile a program with the full and the slim header; compare objects", 0 },
	{ "objdiff", cmd_objdiff, "compare two BPF objects (instructions, relocations, CO-RE records)", 0 },
	{ "pch",     cmd_pch,     "build a clang precompiled header with a manifest", 0 },
	{ "build",   cmd_build,   "build a BPF object through a cached, always-fresh PCH", 0 },
	{ "cc",      cmd_cc,      "drop-in for clang in Makefiles: BPF compiles take the PCH path", 1 },
	{ "check",   cmd_check,   "type-check BPF C in about a millisecond with the TCC snapshot", 0 },
	{ "serve",   cmd_serve,   "run the compile-cache daemon on a Unix socket", 1 },
	{ "client",  cmd_client,  "send check/build/stats requests to a running daemon", 0 },
	{ "lsp",     cmd_lsp,     "language server over stdio for editors", 1 },
	{ "cache",   cmd_cache,   "cache statistics, size bound, clearing (like ccache -s/-M/-C)", 0 },
	{ "core",    cmd_core,    "resolve CO-RE relocations offline against target kernels' BTF", 0 },
	{ "wasm",    cmd_wasm,    "write the fast checker as a WebAssembly bundle (browser, Node)", 0 },
	{ "bench",   cmd_bench,   "measure every pipeline side by side", 0 },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out, "usage: vmslim [-j|--json] [-p|--pretty] COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'vmslim COMMAND --help' describes a command's options;"
		     " 'vmslim -V' (or any command's -V) prints the version.\n"
		     "-j, --json (before or after COMMAND): the result as one JSON document on\n"
		     "stdout, same exit codes; -p, --pretty: the same, indented. Not for cc,\n"
		     "serve and lsp, which speak clang's, the daemon's and LSP's own formats.\n");
}

/* A command stopped by Ctrl-C, SIGTERM or a closed terminal still stops the daemon it
 * started (bench) and removes its temporary directories (a staged vmlinux.h, PCHs:
 * megabytes each time), then dies of the signal so that its parent sees why. The daemon
 * and the language server install their own handlers for an orderly shutdown. */
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

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* Leading -j/--json/-p/--pretty, bpftool's global options: taken out of argv. */
static void take_global_options(int *argc, char **argv)
{
	while (*argc > 1) {
		const char *a = argv[1];
		if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			cli_set_format(CLI_JSON);
		else if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
			cli_set_format(CLI_JSON_PRETTY);
		else
			return;
		memmove(argv + 1, argv + 2, sizeof(*argv) * (size_t)(*argc - 1));
		(*argc)--;
	}
}

int main(int argc, char **argv)
{
	clean_up_on_signals();
	take_global_options(&argc, argv);
	if (argc < 2) {
		usage(stderr);
		return VMS_EXIT_USAGE;
	}
	const char *name = argv[1];
	const struct command *cmd;
	if (!strcmp(name, "help") || !strcmp(name, "--help") || !strcmp(name, "-h")) {
		if (argc > 2) {
			cmd = find_command(argv[2]);
			if (cmd) {
				char *args[] = { argv[2], "--help", NULL };
				return cmd->run(2, args);
			}
			cli_error("help", "unknown command '%s'", argv[2]);
			return VMS_EXIT_USAGE;
		}
		usage(stdout);
		return VMS_EXIT_OK;
	}
	if (!strcmp(name, "version") || !strcmp(name, "--version") || !strcmp(name, "-V")) {
		printf("vmslim %s\n", VMSLIM_VERSION);
		return VMS_EXIT_OK;
	}
	cmd = find_command(name);
	if (cmd) {
		if (cmd->no_json && cli_json()) {
			cli_error(name, "-j/--json is not for %s (%s)", name,
				  !strcmp(name, "cc") ? "its output is clang's" :
				  !strcmp(name, "lsp") ? "its stdout is the LSP stream" :
				  "it answers on its socket");
			return VMS_EXIT_USAGE;
		}
		cli_json_allowed = !cmd->no_json;
		/* messages name the command: "vmslim build: ..." */
		argv[1] = vms_xasprintf("vmslim %s", name);
		int rc = cmd->run(argc - 1, argv + 1);
		cli_report_finish(name, rc);
		return rc;
	}
	fprintf(stderr, "vmslim: unknown command '%s'\ntry 'vmslim help' for the list of commands\n",
		name);
	return VMS_EXIT_USAGE;
}
