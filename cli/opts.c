/* The command line every subcommand shares: getopt_long under one loop, usage on --help
 * and on mistakes, numbers with their ranges, positionals, and the words after "--".
 *
 * In the manner of bpftool's main.c (whose NEXT_ARG/BAD_ARG and HELP_SPEC_* keep its
 * subcommand files free of argument boilerplate), but over getopt_long: a subcommand
 * describes its options once (struct cli_spec) and switches only on the ones it has. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"

int cli_json_allowed;

void cli_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fprintf(stderr, "vmslim %s: %s\n", cmd, msg ? msg : fmt);
	if (msg)
		cli_doc_error(msg);
	free(msg);
}

int cli_options_end(int argc, char **argv)
{
	for (int k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--"))
			return k;
	return argc;
}

void cli_usage(const struct cli_spec *s, FILE *out)
{
	fputs(s->help, out);
}

/* One line, as clang and bpftool do: the message before it has said what is wrong, and
 * thirty lines of usage would scroll it away. */
int cli_usage_error(const struct cli_spec *s)
{
	fprintf(stderr, "try 'vmslim %s --help' for more information\n", s->name);
	return VMS_EXIT_USAGE;
}

/* -V or --version that the command does not take itself: the version, as every command
 * answers it (getopt has already complained on stderr, which then goes unheard: it is
 * called with opterr off for exactly this). */
static int asked_version(const struct cli_args *a)
{
	const char *w = optind > 0 && optind <= a->end ? a->argv[optind - 1] : "";
	return optopt == 'V' || !strcmp(w, "--version");
}

/* -j/--json or -p/--pretty that the command does not take itself (serve's -j is its jobs,
 * bench's --json its results file): the output format, wherever it stands. */
static int took_format(const struct cli_args *a)
{
	const char *w = optind > 0 && optind <= a->end ? a->argv[optind - 1] : "";
	if (!cli_json_allowed)
		return 0;
	if (optopt == 'j' || !strcmp(w, "--json"))
		cli_set_format(CLI_JSON);
	else if (optopt == 'p' || !strcmp(w, "--pretty"))
		cli_set_format(CLI_JSON_PRETTY);
	else
		return 0;
	return 1;
}

void cli_args_init(struct cli_args *a, const struct cli_spec *spec, int argc, char **argv)
{
	*a = (struct cli_args){ .spec = spec, .argc = argc, .argv = argv, .opt = -1 };
	/* everything after "--" is another tool's, so a stray word before it is a mistake
	 * rather than one of that tool's arguments */
	a->end = spec->rest ? cli_options_end(argc, argv) : argc;
	optind = 1;
}

/* getopt's own complaint, made here because its messages are off (see asked_version):
 * a long option is named by the word itself, a short one by optopt (the word may be a
 * cluster such as -qx). */
static void complain(const struct cli_args *a)
{
	const char *w = optind > 0 && optind <= a->end ? a->argv[optind - 1] : "";
	if (!strncmp(w, "--", 2)) {
		size_t n = strcspn(w + 2, "=");
		for (const struct option *o = a->spec->longopts; o && o->name; o++)
			if (strlen(o->name) == n && !strncmp(o->name, w + 2, n)) {
				cli_error(a->spec->name, "option '--%s' needs an argument", o->name);
				return;
			}
		cli_error(a->spec->name, "unknown option '%.*s'", (int)n + 2, w);
	} else if (optopt > 0 && optopt < 128 && strchr(a->spec->shortopts, optopt)) {
		cli_error(a->spec->name, "option '-%c' needs an argument", optopt);
	} else if (optopt > 0 && optopt < 128) {
		cli_error(a->spec->name, "unknown option '-%c'", optopt);
	} else {
		cli_error(a->spec->name, "unknown option '%s'", w);
	}
}

int cli_next(struct cli_args *a)
{
	opterr = 0;
	int c;
	do {
		c = getopt_long(a->end, a->argv, a->spec->shortopts, a->spec->longopts, NULL);
	} while (c == '?' && took_format(a));
	if (c == -1)
		return CLI_END;
	a->opt = c;
	a->arg = optarg;
	if (c == 'h') {
		cli_format_text();
		cli_usage(a->spec, stdout);
		a->exit = VMS_EXIT_OK;
		return CLI_EXIT;
	}
	if (c == '?' && asked_version(a)) {
		cli_format_text();
		printf("vmslim %s\n", VMSLIM_VERSION);
		a->exit = VMS_EXIT_OK;
		return CLI_EXIT;
	}
	if (c == '?' || c == ':') {
		complain(a);
		a->exit = cli_usage_error(a->spec);
		return CLI_EXIT;
	}
	return c;
}

/* "--jobs" for the option whose value is 'j'; "-x" when it has no long name. */
static void option_name(const struct cli_args *a, char *out, size_t n)
{
	for (const struct option *o = a->spec->longopts; o && o->name; o++)
		if (o->val == a->opt && !o->flag) {
			snprintf(out, n, "--%s", o->name);
			return;
		}
	snprintf(out, n, "-%c", a->opt);
}

int cli_number(struct cli_args *a, long min, long max, const char *wants, long *out)
{
	const char *arg = a->arg ? a->arg : "";
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (*end || end == arg || errno || v < min || v > max) {
		char name[64];
		option_name(a, name, sizeof(name));
		if (wants)
			cli_error(a->spec->name, "%s wants %s, not '%s'", name, wants, arg);
		else
			cli_error(a->spec->name, "%s wants a number from %ld to %ld, not '%s'", name,
				  min, max, arg);
		return -1;
	}
	*out = v;
	return 0;
}

int cli_unexpected(const struct cli_args *a, const char *word)
{
	if (a->spec->rest)
		cli_error(a->spec->name, "unexpected argument '%s' (%s go after --)", word,
			  a->spec->rest);
	else
		cli_error(a->spec->name, "unexpected argument '%s'", word);
	return VMS_EXIT_USAGE;
}

int cli_positionals(struct cli_args *a, const char **pos, int max)
{
	int n = 0;
	for (int i = 0; i < max; i++)
		pos[i] = NULL;
	/* getopt_long has permuted them to optind..end */
	for (int k = optind; k < a->end; k++) {
		if (n == max) {
			cli_unexpected(a, a->argv[k]);
			return -1;
		}
		pos[n++] = a->argv[k];
	}
	return n;
}

char **cli_rest(const struct cli_args *a)
{
	/* argv is NULL-terminated, so its tail is a vector as it is */
	return a->argv + (a->end < a->argc ? a->end + 1 : a->argc);
}
