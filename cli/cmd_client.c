/* vmslim client: check, build or query through a running `vmslim serve`. Output and exit
 * codes are those of `vmslim check` and `vmslim build`, so scripts can switch freely. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/report.h"
#include "serve/serve.h"

static const char help[] =
	"usage: vmslim client [--socket PATH] check PROG.c [-D NAME[=VALUE]] [-- FLAGS]\n"
	"       vmslim client [--socket PATH] build PROG.c [-o PROG.o] [-- FLAGS]\n"
	"       vmslim client [--socket PATH] stats | shutdown | ping\n"
	"       vmslim client [--socket PATH] raw JSON\n"
	"\n"
	"Sends one request to a running `vmslim serve` and prints the answer the way\n"
	"`vmslim check` and `vmslim build` do: gcc-style diagnostics on stderr, the object\n"
	"written to -o (default PROG.o). PROG.c may be '-' for standard input.\n"
	"\n"
	"options:\n"
	"  -s, --socket PATH   the daemon's socket (default $XDG_RUNTIME_DIR/vmslim.sock,\n"
	"                      else /tmp/vmslim-UID.sock)\n"
	"  -o, --output FILE   build: where the object goes\n"
	"  -D NAME[=VALUE]     define (sent as a flag)\n"
	"      --name NAME     the file name diagnostics carry (default: PROG.c as given)\n"
	"      --timeout MS    give up waiting after MS (default: none)\n"
	"      --json          print the daemon's reply as it came\n"
	"  -v, --verbose       say which backend answered, from which cache, how fast\n"
	"  -h, --help          " HELP_SPEC_HELP "\n"
	"\n"
	"exit status: 0 ok; 1 errors found, build failed, or no daemon; 2 usage;\n"
	"check only: 3 unsupported by the fast checker (and no clang answer), 4 gave up\n"
	"(crash, time or memory limit) - as `vmslim check`.\n";

/* The line of the first byte sequence that is not UTF-8, 0 when all of it is. */
static int bad_utf8_line(const unsigned char *s, size_t len)
{
	int line = 1;
	for (size_t i = 0; i < len;) {
		unsigned char c = s[i];
		size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3
			 : (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!n || (n == 2 && c < 0xc2) || i + n > len)
			return line;
		for (size_t k = 1; k < n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return line;
		if (c == '\n')
			line++;
		i += n;
	}
	return 0;
}

static void print_diags(struct json_object *arr)
{
	struct vms_diags d = { 0 };
	vms_diags_from_json(arr, &d);
	cli_diags(stderr, &d);
	vms_diags_free(&d);
}

static const char *member(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

enum { O_NAME = 256, O_TIMEOUT, O_JSON };
static const struct option opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "output", required_argument, NULL, 'o' },
	{ "name", required_argument, NULL, O_NAME },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "json", no_argument, NULL, O_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	CLI_OPT_HELP,
	{ 0 },
};

static const struct cli_spec spec = { "client", help, "s:o:D:U:vh", opts, "flags" };

/* One `vmslim client` call: the command line, then the request and the reply. */
struct client {
	const char *socket_opt, *output, *name;
	int timeout, raw_json, verbose;
	struct vms_argv flags;
	const char *op, *prog;		/* the operation and its argument */
	char *sock, *src, *reply, *def_out;
	size_t len;
	struct json_object *req;	/* NULL: raw, the text is prog */
	struct json_object *rep;
};

/* One operation: builds c->req (VMS_EXIT_OK, or the exit code to stop with), then reads
 * the daemon's accepted reply into an exit code (NULL: nothing but the reply). */
struct client_op {
	const char *name;
	int (*request)(struct client *c);
	int (*answer)(struct client *c);
};

static const struct client_op *find_op(const char *name);

/* Fills c from argv: CLI_CONTINUE, or the exit code to stop with. */
static int parse(struct client *c, int argc, char **argv)
{
	struct cli_args a;
	const char *pos[2];
	long v;
	int o;
	cli_args_init(&a, &spec, argc, argv);
	while ((o = cli_next(&a)) > 0) {
		switch (o) {
		case 's': c->socket_opt = a.arg; break;
		case 'o': c->output = a.arg; break;
		case 'D': vms_argv_pushf(&c->flags, "-D%s", a.arg); break;
		case 'U': vms_argv_pushf(&c->flags, "-U%s", a.arg); break;
		case O_NAME: c->name = a.arg; break;
		case O_TIMEOUT:
			if (cli_number(&a, 1, INT_MAX, NULL, &v) < 0)
				return VMS_EXIT_USAGE;
			c->timeout = (int)v;
			break;
		case O_JSON: c->raw_json = 1; break;
		case 'v': c->verbose = 1; break;
		}
	}
	if (o == CLI_EXIT)
		return a.exit;
	if (cli_positionals(&a, pos, 2) < 0)
		return VMS_EXIT_USAGE;
	c->op = pos[0];
	c->prog = pos[1];
	for (char **r = cli_rest(&a); *r; r++)
		vms_argv_push(&c->flags, *r);
	return CLI_CONTINUE;
}

/* check and build: the program's text, its name and the flags. */
static int source_request(struct client *c)
{
	if (!c->prog) {
		cli_error("client", "%s: missing PROG.c", c->op);
		return VMS_EXIT_USAGE;
	}
	int e = cli_read_input(c->prog, &c->src, &c->len);
	if (e < 0) {
		cli_error("client", "cannot read %s: %s", c->prog, strerror(-e));
		return VMS_EXIT_FAIL;
	}
	/* the protocol carries text as JSON strings: say where, rather than let the daemon
	 * answer "malformed JSON" */
	int bad = bad_utf8_line((const unsigned char *)c->src, c->len);
	if (bad) {
		fprintf(stderr, "%s:%d: error: not valid UTF-8 (the daemon takes UTF-8 "
			"sources only)\n", c->prog, bad);
		return VMS_EXIT_FAIL;
	}
	c->req = json_object_new_object();
	json_object_object_add(c->req, "op", json_object_new_string(c->op));
	json_object_object_add(c->req, "file", json_object_new_string(
		c->name ? c->name : cli_input_name(c->prog)));
	json_object_object_add(c->req, "source", json_object_new_string_len(c->src, (int)c->len));
	struct json_object *fl = json_object_new_array();
	for (size_t i = 0; i < c->flags.n; i++)
		json_object_array_add(fl, json_object_new_string(c->flags.v[i]));
	json_object_object_add(c->req, "flags", fl);
	return VMS_EXIT_OK;
}

/* stats, shutdown, ping: the operation alone. */
static int bare_request(struct client *c)
{
	if (c->prog) {
		cli_error("client", "%s takes no argument", c->op);
		return VMS_EXIT_USAGE;
	}
	c->req = json_object_new_object();
	json_object_object_add(c->req, "op", json_object_new_string(c->op));
	return VMS_EXIT_OK;
}

/* raw: the request as given. */
static int raw_request(struct client *c)
{
	if (!c->prog) {
		cli_error("client", "raw: missing the JSON request");
		return VMS_EXIT_USAGE;
	}
	return VMS_EXIT_OK;
}

/* Sends the request. VMS_EXIT_OK with c->rep holding an accepted reply, unless *printed
 * says the reply was the answer (--json, raw); otherwise the exit code (no daemon, a
 * refusal). */
static int call(struct client *c, int *printed)
{
	const char *text = c->req ? json_object_to_json_string_ext(c->req, JSON_C_TO_STRING_PLAIN)
				  : c->prog;
	int e = vms_client_call(c->sock, text, &c->reply, c->timeout);
	if (e < 0) {
		cli_error("client", "%s: %s", c->sock,
			  e == -ENOENT || e == -ECONNREFUSED
				  ? "no daemon is listening (start `vmslim serve`)"
				  : strerror(-e));
		return VMS_EXIT_FAIL;
	}
	if (cli_json() && !c->req) { /* raw: the reply, inside the document */
		struct json_object *r = json_tokener_parse(c->reply);
		json_object_object_add(cli_doc(), "reply", r ? r : json_object_new_string(c->reply));
		*printed = 1;
		return VMS_EXIT_OK;
	}
	if (c->raw_json || !c->req) {
		printf("%s\n", c->reply);
		*printed = 1;
		return VMS_EXIT_OK;
	}
	c->rep = json_tokener_parse(c->reply);
	struct json_object *v;
	if (!c->rep || !json_object_object_get_ex(c->rep, "ok", &v) || !json_object_get_boolean(v)) {
		struct json_object *err = NULL;
		const char *msg = c->rep && json_object_object_get_ex(c->rep, "error", &err)
					  ? member(err, "message") : "malformed reply";
		cli_error("client", "the daemon refused the request: %s", msg ? msg : "?");
		return VMS_EXIT_FAIL;
	}
	return VMS_EXIT_OK;
}

/* check and build: the diagnostics (and with -v who answered); returns the status. */
static const char *print_result(const struct client *c)
{
	const char *status = member(c->rep, "status");
	struct json_object *v;
	status = status ? status : "internal";
	if (json_object_object_get_ex(c->rep, "diagnostics", &v))
		print_diags(v);
	cli_doc_str("status", status);
	static const char *const fields[] = { "backend", "cached", "ms", "total_ms" };
	for (size_t i = 0; cli_json() && i < sizeof(fields) / sizeof(fields[0]); i++)
		if (json_object_object_get_ex(c->rep, fields[i], &v))
			json_object_object_add(cli_doc(), fields[i], json_object_get(v));
	if (c->verbose && !cli_json()) {
		const char *cached = member(c->rep, "cached");
		int hit = cached && strcmp(cached, "false");
		fprintf(stderr, "vmslim client: %s: %s by %s%s%s, %s ms (%s ms end to end)\n",
			c->op, status, member(c->rep, "backend") ? member(c->rep, "backend") : "?",
			hit ? ", from the cache: " : "", hit ? cached : "",
			member(c->rep, "ms") ? member(c->rep, "ms") : "?",
			member(c->rep, "total_ms") ? member(c->rep, "total_ms") : "?");
	}
	return status;
}

/* The exit codes of `vmslim check`. */
static int check_answer(struct client *c)
{
	const char *status = print_result(c);
	if (!strcmp(status, "ok"))
		return VMS_EXIT_OK;
	if (!strcmp(status, "unsupported")) {
		if (!cli_json())
			fprintf(stderr, "%s: note: " HELP_SPEC_UNSUPPORTED "\n",
			c->name ? c->name : cli_input_name(c->prog));
		return VMS_EXIT_UNSUPPORTED;
	}
	if (!strcmp(status, "crashed") || !strcmp(status, "timeout") || !strcmp(status, "limit"))
		return VMS_EXIT_GAVE_UP;
	return VMS_EXIT_FAIL;
}

/* The object written to -o (default: PROG.o). */
static int build_answer(struct client *c)
{
	if (strcmp(print_result(c), "ok"))
		return VMS_EXIT_FAIL;
	if (!c->output)
		c->output = c->def_out =
			cli_default_object(strcmp(c->prog, "-") ? c->prog : "stdin.c");
	void *obj = NULL;
	size_t obj_len = 0;
	struct json_object *v;
	if (!json_object_object_get_ex(c->rep, "object", &v) ||
	    vms_base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
			      &obj, &obj_len) < 0) {
		cli_error("client", "the reply holds no object");
		return VMS_EXIT_FAIL;
	}
	int e = vms_write_file_atomic(c->output, obj, obj_len, 0644);
	free(obj);
	if (e < 0) {
		cli_error("client", "cannot write %s: %s", c->output, strerror(-e));
		return VMS_EXIT_FAIL;
	}
	cli_doc_str("output", c->output);
	return VMS_EXIT_OK;
}

static int stats_answer(struct client *c)
{
	if (cli_json()) {
		json_object_object_add(cli_doc(), "stats", json_object_get(c->rep));
		return VMS_EXIT_OK;
	}
	printf("%s\n", json_object_to_json_string_ext(c->rep, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	return VMS_EXIT_OK;
}

static int done_answer(struct client *c)
{
	return VMS_EXIT_OK;
}

static int run(struct client *c)
{
	if (!c->op) {
		cli_error("client", "missing command (check, build, stats, shutdown, ping, raw)");
		return cli_usage_error(&spec);
	}
	const struct client_op *op = find_op(c->op);
	if (!op) {
		cli_error("client", "unknown command '%s'", c->op);
		return cli_usage_error(&spec);
	}
	int printed = 0, rc = op->request(c);
	if (rc == VMS_EXIT_OK)
		rc = call(c, &printed);
	return rc == VMS_EXIT_OK && !printed && op->answer ? op->answer(c) : rc;
}

static const struct client_op ops[] = {
	{ "check", source_request, check_answer },
	{ "build", source_request, build_answer },
	{ "stats", bare_request, stats_answer },
	{ "shutdown", bare_request, done_answer },
	{ "ping", bare_request, done_answer },
	{ "raw", raw_request, NULL },
};

static const struct client_op *find_op(const char *name)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

int cmd_client(int argc, char **argv)
{
	struct client c = { 0 };
	int rc = parse(&c, argc, argv);
	if (rc == CLI_CONTINUE) {
		c.sock = c.socket_opt ? vms_xstrdup(c.socket_opt) : vms_serve_default_socket();
		rc = run(&c);
	}
	json_object_put(c.req);
	json_object_put(c.rep);
	free(c.reply);
	free(c.src);
	free(c.sock);
	free(c.def_out);
	vms_argv_free(&c.flags);
	return rc;
}
