/* What a command reports, in text (the default) or as one JSON document on stdout (-j,
 * --json; -p, --pretty), in the manner of bpftool's json_writer: a command says what it
 * found once, through these calls, and the mode decides how it is shown. In JSON mode the
 * document is printed when the command returns, so a command never prints half of one:
 *
 *   { "command": "extract", "exit": 0, "diagnostics": [ { "file", "line", "column",
 *     "severity", "message" } ... ], ...the command's own fields }
 *
 * with the same exit code as text mode. */
#ifndef VMSLIM_CLI_REPORT_H
#define VMSLIM_CLI_REPORT_H

#include <stdio.h>

#include "common/common.h"

struct json_object;

enum cli_format { CLI_TEXT = 0, CLI_JSON, CLI_JSON_PRETTY };

void cli_set_format(enum cli_format f);
/* Back to text: --help and --version answer in text whatever the format asked. */
void cli_format_text(void);
enum cli_format cli_format(void);
static inline int cli_json(void) { return cli_format() != CLI_TEXT; }

/* The document's object, for a command's own fields (NULL in text mode). */
struct json_object *cli_doc(void);
void cli_doc_str(const char *key, const char *value);	/* NULL value: JSON null */
void cli_doc_int(const char *key, long long value);
void cli_doc_num(const char *key, double value);	/* milliseconds and ratios */
/* A number to three decimals (a time in ms: microseconds are all it can claim). */
struct json_object *cli_json_num(double value);
void cli_doc_bool(const char *key, int value);
/* Text: printed on out, gcc style. JSON: appended to "diagnostics". */
void cli_diags(FILE *out, const struct vms_diags *d);
/* clang's own messages (its stderr): text as they are; JSON parsed into "diagnostics". */
void cli_clang_output(FILE *out, const char *text);
/* A one-line error of the command itself ("vmslim CMD: ..."): also "error" in JSON. */
void cli_doc_error(const char *msg);

/* Prints the document (JSON mode) with the command's name and exit code. */
void cli_report_finish(const char *command, int exit_code);

#endif
