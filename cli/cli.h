/* The subcommands: each parses its own options and returns the process exit code
 * (0 success, 1 failure or errors found, 2 usage error). */
#ifndef VMSLIM_CLI_H
#define VMSLIM_CLI_H

#define VMS_EXIT_OK 0
#define VMS_EXIT_FAIL 1
#define VMS_EXIT_USAGE 2

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

/* Shared by subcommands: "vmslim CMD: message" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses an option's number within [min, max] (so that it fits what it ends up in);
 * otherwise says so ("vmslim CMD: --OPT wants a number from MIN to MAX") and returns -1. */
int cli_number(const char *cmd, const char *opt, const char *arg, long min, long max,
	       long *out);
/* Index of the first "--" in argv (argc if none): options stop there, the rest belongs to
 * the compiler. */
int cli_options_end(int argc, char **argv);
/* The object a source compiles to by default: its base name with .c replaced by .o
 * (owned). */
char *cli_default_object(const char *src);
/* Directory of the shipped headers (headers/): $VMSLIM_HEADERS, else beside the binary's
 * source tree or install prefix. */
const char *cli_headers_dir(void);

#endif
