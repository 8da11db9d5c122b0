/* The subcommands, and what they share: one option parser (usage, --help, bad options,
 * numbers, positionals), the exit codes, and where shipped files are found. */
#ifndef VMSLIM_CLI_H
#define VMSLIM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

/* Each subcommand returns the process exit code: 0 success, 1 failure or errors found,
 * 2 usage error; check (and client check) adds 3 and 4, build --load adds 77. */
#define VMS_EXIT_OK 0
#define VMS_EXIT_FAIL 1
#define VMS_EXIT_USAGE 2
#define VMS_EXIT_UNSUPPORTED 3	/* the fast checker cannot judge this program: ask clang */
#define VMS_EXIT_GAVE_UP 4	/* it crashed, ran out of time or of memory on it */
#define VMS_EXIT_REFUSED 77	/* this machine refuses to load BPF programs */

int cmd_extract(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_objdiff(int argc, char **argv);
int cmd_pch(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_cc(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_client(int argc, char **argv);
int cmd_lsp(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_core(int argc, char **argv);
int cmd_cache(int argc, char **argv);
int cmd_wasm(int argc, char **argv);

/* Pieces of help text that several subcommands print the same way (in the manner of
 * bpftool's HELP_SPEC_*): each usage text pads the option to its own column, then one
 * of these. */
#define HELP_SPEC_HELP "this text"
#define HELP_SPEC_CLANG "compiler (default $VMSLIM_CLANG, else clang)"
#define HELP_SPEC_CACHE_DIR "cache directory (default $XDG_CACHE_HOME/vmslim)"
#define HELP_SPEC_HEADERS_DIR "vmslim's shipped headers (TCC prelude)"
#define HELP_SPEC_UNSUPPORTED \
	"not checked by the fast checker (unsupported); check it with clang"

/* getopt_long's entry for --help; every subcommand has it. */
#define CLI_OPT_HELP { "help", no_argument, NULL, 'h' }

/* What a subcommand's command line is, once. */
struct cli_spec {
	const char *name;		/* "extract": messages read "vmslim extract: ..." */
	const char *help;		/* the whole usage text (--help, usage errors) */
	const char *shortopts;		/* getopt's, with 'h' */
	const struct option *longopts;	/* ending with { 0 }, with CLI_OPT_HELP */
	/* what the words after the first "--" are ("clang arguments"), which options and
	 * positionals then stop before; NULL when "--" is getopt's own business */
	const char *rest;
};

/* One parse of argv against a spec, getopt_long underneath (permuting: options and
 * positional arguments may mix). */
struct cli_args {
	const struct cli_spec *spec;
	int argc;
	char **argv;
	int end;		/* options and positionals stop here: the "--", else argc */
	int opt;		/* the option cli_next() returned last */
	const char *arg;	/* its argument, if it takes one */
	int exit;		/* after CLI_EXIT: the exit code */
};

enum { CLI_END = 0, CLI_EXIT = -1 };

/* What a subcommand's own parse step returns to go on (anything else is the exit code,
 * VMS_EXIT_OK after --help included). */
#define CLI_CONTINUE (-1)

void cli_args_init(struct cli_args *a, const struct cli_spec *spec, int argc, char **argv);
/* The next option (getopt's value), CLI_END when they are over, or CLI_EXIT: --help
 * printed the usage on stdout (exit 0), or an unknown option or missing argument did on
 * stderr after getopt said which (exit 2); a->exit holds the code. */
int cli_next(struct cli_args *a);
/* The current option's argument as a number within [min, max] (so that it fits what it
 * ends up in); otherwise "vmslim CMD: --OPT wants WANTS, not 'ARG'" (WANTS NULL: "a number
 * from MIN to MAX") and -1. */
int cli_number(struct cli_args *a, long min, long max, const char *wants, long *out);
/* The positional arguments left by the options (up to a->end), at most max of them into
 * pos[] (unused slots NULL). Returns how many, or -1 after cli_unexpected() on the first
 * one too many. */
int cli_positionals(struct cli_args *a, const char **pos, int max);
/* The words after "--", a NULL-terminated tail of argv (empty without "--"). */
char **cli_rest(const struct cli_args *a);
/* "vmslim CMD: unexpected argument 'WORD' (REST go after --)"; returns VMS_EXIT_USAGE. */
int cli_unexpected(const struct cli_args *a, const char *word);

void cli_usage(const struct cli_spec *s, FILE *out);
/* The usage on stderr; returns VMS_EXIT_USAGE. */
int cli_usage_error(const struct cli_spec *s);

/* Set by main for commands that report in JSON when asked (-j anywhere on the line). */
extern int cli_json_allowed;

/* "vmslim CMD: message" on stderr (and the document's "error" in JSON mode). */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Index of the first "--" in argv (argc if none). */
int cli_options_end(int argc, char **argv);

/* A file's contents, or standard input's for "-": 0 or -errno. */
int cli_read_input(const char *path, char **data, size_t *len);
/* The name diagnostics give a program read from path: "<stdin>" for "-". */
const char *cli_input_name(const char *path);
/* The object a source compiles to by default: its base name with .c replaced by .o
 * (owned). */
char *cli_default_object(const char *src);
/* Directory of the shipped headers (headers/): $VMSLIM_HEADERS, else the running binary's
 * prefix (PREFIX/share/vmslim/headers), else the source tree, else the configured prefix. */
const char *cli_headers_dir(void);
/* Sends req (consumed) to the per-user daemon, starting it when none runs (*started, may
 * be NULL, says so): its reply when it answered "ok", else NULL (no daemon could be had,
 * it went away, or it refused: the caller does the work in this process). */
struct json_object;
struct json_object *cli_daemon_ask(struct json_object *req, int *started);
/* 1 when the environment variable is set to something other than "" or "0" (the
 * VMSLIM_NO_DAEMON/VMSLIM_SLIM kind of switch). */
int cli_env_on(const char *name);

#endif
