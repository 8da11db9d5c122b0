/* vmslim extract: the CLI over vms_extract(); the one-program form (--header H --from
 * PROG) goes to the per-user daemon, whose warm context of H answers in a reparse of
 * PROG (serve/trusted_extract.c), with the same bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "extract/extract.h"

static const char help[] =
	"usage: vmslim extract (--header FILE | --btf FILE) ROOTS... -o OUT [options] [-- CLANG_ARGS]\n"
	"\n"
	"Trims a header (vmlinux.h) to the transitive closure of what the roots need:\n"
	"full definitions where a layout is needed, opaque `struct X;` where a pointer\n"
	"is all that is needed. Output keeps the header's order, include guard and\n"
	"preserve_access_index block, and is deterministic byte for byte.\n"
	"\n"
	"input (one of):\n"
	"  --header FILE        a C header, e.g. vmlinux.h\n"
	"  --btf FILE           raw BTF (/sys/kernel/btf/vmlinux) or an ELF with .BTF\n"
	"roots (any number, at least one):\n"
	"  --type NAME          struct, union, enum or typedef name; globs allowed\n"
	"                       ('trace_event_raw_*'); 'struct foo' also accepted\n"
	"  --from PROG.c        every header declaration the BPF program uses; every\n"
	"                       inclusion of vmlinux.h (\"quoted\", <angled>, from its\n"
	"                       own headers, -include) resolves to the input header\n"
	"options:\n"
	"  -o, --output FILE    write the slim header here (atomically); '-' for stdout\n"
	"  --blacklist GLOB     stop the walk at matching names (kept opaque where\n"
	"                       only a pointer needs them)\n"
	"  --blacklist-file F   globs, one per line ('#' comments); 'default' is the\n"
	"                       shipped list of kernel hub types, for --full-pointers\n"
	"  --full-pointers      follow pointers too (the older, much larger closure)\n"
	"  --stats              print types and bytes kept, and the time taken\n"
	"  --no-daemon          extract in this process (also VMSLIM_NO_DAEMON=1); by\n"
	"                       default --header H --from PROG (one program, no other\n"
	"                       roots) asks the per-user daemon `vmslim cc` uses, which\n"
	"                       keeps H parsed: the same header in milliseconds\n"
	"  -h, --help           " HELP_SPEC_HELP "\n"
	"  -- CLANG_ARGS        extra clang arguments for parsing programs (-I, -D)\n"
	"\n"
	"exit status: 0 written, 1 error (message names file and line), 2 usage\n";

static int read_blacklist_file(const char *path, struct vms_argv *bl)
{
	char *data;
	size_t len;
	int rc = vms_read_file(path, &data, &len);
	if (rc) {
		cli_error("extract", "%s: cannot read blacklist file: %s", path, strerror(-rc));
		return -1;
	}
	char *save = NULL;
	for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		char *end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
			*--end = 0;
		if (*line && *line != '#')
			vms_argv_push(bl, line);
	}
	free(data);
	return 0;
}

enum { OPT_HEADER = 256, OPT_BTF, OPT_TYPE, OPT_FROM, OPT_BL, OPT_BLF, OPT_FULLPTR, OPT_STATS,
       OPT_NODAEMON };
static const struct option opts[] = {
	{ "header", required_argument, NULL, OPT_HEADER },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "output", required_argument, NULL, 'o' },
	{ "blacklist", required_argument, NULL, OPT_BL },
	{ "blacklist-file", required_argument, NULL, OPT_BLF },
	{ "full-pointers", no_argument, NULL, OPT_FULLPTR },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "no-daemon", no_argument, NULL, OPT_NODAEMON },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "extract", help, "o:h", opts, "clang arguments" };

/* What the command line asked for; the vectors are owned. */
struct extract_cmd {
	struct vms_extract_opts o;
	struct vms_argv types, progs, bl, clang_args;
	const char *output;
	int stats, no_daemon;
};

/* Fills x from argv: CLI_CONTINUE, or the exit code to stop with. */
static int parse(struct extract_cmd *x, int argc, char **argv)
{
	struct cli_args a;
	int c;
	cli_args_init(&a, &spec, argc, argv);
	while ((c = cli_next(&a)) > 0) {
		switch (c) {
		case OPT_HEADER: x->o.header_path = a.arg; break;
		case OPT_BTF: x->o.btf_path = a.arg; break;
		case OPT_TYPE: vms_argv_push(&x->types, a.arg); break;
		case OPT_FROM: vms_argv_push(&x->progs, a.arg); break;
		case 'o': x->output = a.arg; break;
		case OPT_BL: vms_argv_push(&x->bl, a.arg); break;
		case OPT_BLF: {
			char *def = vms_xasprintf("%s/vmslim-blacklist-default.txt", cli_headers_dir());
			int e = read_blacklist_file(!strcmp(a.arg, "default") ? def : a.arg, &x->bl);
			free(def);
			if (e)
				return VMS_EXIT_FAIL;
			break;
		}
		case OPT_FULLPTR: x->o.full_pointers = 1; break;
		case OPT_STATS: x->stats = 1; break;
		case OPT_NODAEMON: x->no_daemon = 1; break;
		}
	}
	if (c == CLI_EXIT)
		return a.exit;
	if (cli_positionals(&a, NULL, 0) < 0)
		return VMS_EXIT_USAGE;
	for (char **r = cli_rest(&a); *r; r++)
		vms_argv_push(&x->clang_args, *r);
	if (!x->o.header_path == !x->o.btf_path) {
		cli_error("extract", "give exactly one of --header FILE or --btf FILE");
		return VMS_EXIT_USAGE;
	}
	if (!x->types.n && !x->progs.n) {
		cli_error("extract", "no roots: give --type NAME or --from PROG.c");
		return VMS_EXIT_USAGE;
	}
	if (!x->output) {
		cli_error("extract", "no output: give -o FILE (or -o - for stdout)");
		return VMS_EXIT_USAGE;
	}
	x->o.type_roots = (const char *const *)x->types.v;
	x->o.programs = (const char *const *)x->progs.v;
	x->o.blacklist = (const char *const *)x->bl.v;
	x->o.clang_args = (const char *const *)x->clang_args.v;
	return CLI_CONTINUE;
}

static void stats_to_doc(const struct vms_extract_stats *st)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "types_kept", json_object_new_int64((int64_t)st->types_kept));
	json_object_object_add(o, "types_total", json_object_new_int64((int64_t)st->types_total));
	json_object_object_add(o, "types_opaque", json_object_new_int64((int64_t)st->types_opaque));
	json_object_object_add(o, "bytes_kept", json_object_new_int64((int64_t)st->bytes_kept));
	json_object_object_add(o, "bytes_total", json_object_new_int64((int64_t)st->bytes_total));
	json_object_object_add(o, "total_ms", cli_json_num(st->total_ms));
	json_object_object_add(o, "parse_ms", cli_json_num(st->parse_ms));
	json_object_object_add(cli_doc(), "stats", o);
}

static void print_stats(const struct vms_extract_stats *st)
{
	if (cli_json()) {
		stats_to_doc(st);
		return;
	}
	fprintf(stderr,
		"types kept: %zu/%zu (+%zu opaque)\nbytes kept: %zu/%zu (%.1f%%, 1/%.0f)\n"
		"time: %.1f ms (parsing %.1f ms)\n",
		st->types_kept, st->types_total, st->types_opaque, st->bytes_kept, st->bytes_total,
		100.0 * (double)st->bytes_kept / (double)(st->bytes_total ? st->bytes_total : 1),
		(double)st->bytes_total / (double)(st->bytes_kept ? st->bytes_kept : 1), st->total_ms,
		st->parse_ms);
}

static size_t stat_member(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? (size_t)json_object_get_int64(v) : 0;
}

static double ms_member(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_double(v) : 0;
}

/* The header from the per-user daemon: 0 with *out (owned) and st, -1 when it cannot
 * answer or the extraction gave diagnostics (this process then runs it itself, so that
 * messages are exactly its own). Only the plain one-program form goes there. */
static int extract_via_daemon(const struct extract_cmd *x, char **out, size_t *len,
			      struct vms_extract_stats *st)
{
	char cwd[4096];
	if (x->no_daemon || cli_env_on("VMSLIM_NO_DAEMON") || !x->o.header_path ||
	    x->progs.n != 1 || x->types.n || x->bl.n || x->o.full_pointers ||
	    !strcmp(x->progs.v[0], "-") || !getcwd(cwd, sizeof(cwd)))
		return -1;
	struct json_object *req = json_object_new_object(), *fl = json_object_new_array();
	json_object_object_add(req, "op", json_object_new_string("extract_file"));
	json_object_object_add(req, "cwd", json_object_new_string(cwd));
	json_object_object_add(req, "header", json_object_new_string(x->o.header_path));
	json_object_object_add(req, "program", json_object_new_string(x->progs.v[0]));
	for (size_t i = 0; i < x->clang_args.n; i++)
		json_object_array_add(fl, json_object_new_string(x->clang_args.v[i]));
	json_object_object_add(req, "flags", fl);
	struct json_object *o = cli_daemon_ask(req, NULL), *h, *s, *diags;
	int ok = o && json_object_object_get_ex(o, "header", &h) &&
		 json_object_is_type(h, json_type_string) &&
		 json_object_object_get_ex(o, "stats", &s) &&
		 (!json_object_object_get_ex(o, "diagnostics", &diags) ||
		  !json_object_array_length(diags));
	if (ok) {
		*len = (size_t)json_object_get_string_len(h);
		*out = vms_xmalloc(*len + 1);
		memcpy(*out, json_object_get_string(h), *len + 1);
		*st = (struct vms_extract_stats){
			.types_total = stat_member(s, "types_total"),
			.types_kept = stat_member(s, "types_kept"),
			.types_opaque = stat_member(s, "types_opaque"),
			.bytes_total = stat_member(s, "bytes_total"),
			.bytes_kept = stat_member(s, "bytes_kept"),
			.parse_ms = ms_member(s, "parse_ms"),
			.total_ms = ms_member(s, "total_ms"),
		};
	}
	json_object_put(o);
	return ok ? 0 : -1;
}

/* Extracts, then writes the header to x->output ("-": stdout). */
static int run(const struct extract_cmd *x)
{
	struct vms_diags d = { 0 };
	struct vms_extract_stats st;
	char *text = NULL;
	size_t len = 0;
	int rc = VMS_EXIT_FAIL;
	if (extract_via_daemon(x, &text, &len, &st) == 0 ||
	    vms_extract(&x->o, &text, &len, &st, &d) == 0) {
		if (!strcmp(x->output, "-") && cli_json()) {
			/* stdout is the document's: the header goes in it */
			json_object_object_add(cli_doc(), "header",
					       json_object_new_string_len(text, (int)len));
			rc = VMS_EXIT_OK;
		} else if (!strcmp(x->output, "-")) {
			fwrite(text, 1, len, stdout);
			rc = fflush(stdout) ? VMS_EXIT_FAIL : VMS_EXIT_OK;
		} else {
			int w = vms_write_file_atomic(x->output, text, len, 0644);
			if (w)
				vms_diag_add(&d, VMS_ERROR, x->output, 0, 0, "cannot write: %s",
					     strerror(-w));
			else
				rc = VMS_EXIT_OK;
		}
	}
	cli_diags(stderr, &d);
	cli_doc_str("output", rc == VMS_EXIT_OK && strcmp(x->output, "-") ? x->output : NULL);
	/* the stats cost nothing more, and a script reading JSON always wants them */
	if (rc == VMS_EXIT_OK && (x->stats || cli_json()))
		print_stats(&st);
	free(text);
	vms_diags_free(&d);
	return rc;
}

int cmd_extract(int argc, char **argv)
{
	struct extract_cmd x = { 0 };
	int rc = parse(&x, argc, argv);
	if (rc == CLI_CONTINUE)
		rc = run(&x);
	vms_argv_free(&x.types);
	vms_argv_free(&x.progs);
	vms_argv_free(&x.bl);
	vms_argv_free(&x.clang_args);
	return rc;
}
