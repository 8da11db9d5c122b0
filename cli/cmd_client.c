/* vmslim client: check, build or query through a running `vmslim serve`. Output and exit
 * codes are those of `vmslim check` and `vmslim build`, so scripts can switch freely. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "serve/serve.h"

/* as in `vmslim check` */
#define EXIT_UNSUPPORTED 3
#define EXIT_GAVE_UP 4

static void usage(FILE *out)
{
	fprintf(out,
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
"  -h, --help          this text\n"
"\n"
"exit status: 0 ok; 1 errors found, build failed, or no daemon; 2 usage;\n"
"check only: 3 unsupported by the fast checker (and no clang answer), 4 gave up\n"
"(crash, time or memory limit) - as `vmslim check`.\n");
}

static int read_input(const char *path, char **data, size_t *len)
{
	if (strcmp(path, "-"))
		return vms_read_file(path, data, len);
	struct vms_buf b = { 0 };
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		vms_buf_append(&b, chunk, n);
	*len = b.len;
	*data = vms_buf_steal(&b);
	return 0;
}

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
	vms_diags_print(stderr, &d);
	vms_diags_free(&d);
}

static const char *member(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

int cmd_client(int argc, char **argv)
{
	enum { O_NAME = 256, O_TIMEOUT, O_JSON };
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, O_NAME },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "json", no_argument, NULL, O_JSON },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *socket_opt = NULL, *output = NULL, *name = NULL;
	int timeout = 0, raw_json = 0, verbose = 0, c;
	struct vms_argv flags = { 0 };
	int nopt = cli_options_end(argc, argv);
	optind = 1;
	while ((c = getopt_long(nopt, argv, "s:o:D:U:vh", opts, NULL)) != -1) {
		switch (c) {
		case 's': socket_opt = optarg; break;
		case 'o': output = optarg; break;
		case 'D': vms_argv_pushf(&flags, "-D%s", optarg); break;
		case 'U': vms_argv_pushf(&flags, "-U%s", optarg); break;
		case O_NAME: name = optarg; break;
		case O_TIMEOUT: {
			long v;
			if (cli_number("client", "--timeout", optarg, 1, INT_MAX, &v) < 0) {
				vms_argv_free(&flags);
				return VMS_EXIT_USAGE;
			}
			timeout = (int)v;
			break;
		}
		case O_JSON: raw_json = 1; break;
		case 'v': verbose = 1; break;
		case 'h':
			usage(stdout);
			vms_argv_free(&flags);
			return VMS_EXIT_OK;
		default:
			usage(stderr);
			vms_argv_free(&flags);
			return VMS_EXIT_USAGE;
		}
	}
	/* getopt_long permutes: the positional arguments are now at optind..nopt */
	const char *pos[2] = { NULL, NULL };
	int npos = 0;
	for (int k = optind; k < nopt; k++) {
		if (npos == 2) {
			cli_error("client", "unexpected argument '%s' (flags go after --)", argv[k]);
			vms_argv_free(&flags);
			return VMS_EXIT_USAGE;
		}
		pos[npos++] = argv[k];
	}
	for (int k = nopt + 1; k < argc; k++)
		vms_argv_push(&flags, argv[k]);
	const char *cmd = pos[0];
	int rc = VMS_EXIT_USAGE;
	char *sock = socket_opt ? vms_xstrdup(socket_opt) : vms_serve_default_socket();
	char *src = NULL, *reply = NULL, *def_out = NULL;
	struct json_object *req = NULL, *rep = NULL;
	if (!cmd) {
		cli_error("client", "missing command (check, build, stats, shutdown, ping, raw)");
		usage(stderr);
		goto out;
	}
	int is_check = !strcmp(cmd, "check"), is_build = !strcmp(cmd, "build");
	if (is_check || is_build) {
		if (!pos[1]) {
			cli_error("client", "%s: missing PROG.c", cmd);
			goto out;
		}
		size_t len;
		int e = read_input(pos[1], &src, &len);
		if (e < 0) {
			cli_error("client", "cannot read %s: %s", pos[1], strerror(-e));
			rc = VMS_EXIT_FAIL;
			goto out;
		}
		/* the protocol carries text as JSON strings: say where, rather than let the
		 * daemon answer "malformed JSON" */
		int bad = bad_utf8_line((const unsigned char *)src, len);
		if (bad) {
			fprintf(stderr, "%s:%d: error: not valid UTF-8 (the daemon takes UTF-8 "
				"sources only)\n", pos[1], bad);
			rc = VMS_EXIT_FAIL;
			goto out;
		}
		req = json_object_new_object();
		json_object_object_add(req, "op", json_object_new_string(cmd));
		json_object_object_add(req, "file", json_object_new_string(
			name ? name : strcmp(pos[1], "-") ? pos[1] : "<stdin>"));
		json_object_object_add(req, "source", json_object_new_string_len(src, (int)len));
		struct json_object *fl = json_object_new_array();
		for (size_t i = 0; i < flags.n; i++)
			json_object_array_add(fl, json_object_new_string(flags.v[i]));
		json_object_object_add(req, "flags", fl);
	} else if (!strcmp(cmd, "stats") || !strcmp(cmd, "shutdown") || !strcmp(cmd, "ping")) {
		if (pos[1]) {
			cli_error("client", "%s takes no argument", cmd);
			goto out;
		}
		req = json_object_new_object();
		json_object_object_add(req, "op", json_object_new_string(cmd));
	} else if (!strcmp(cmd, "raw")) {
		if (!pos[1]) {
			cli_error("client", "raw: missing the JSON request");
			goto out;
		}
	} else {
		cli_error("client", "unknown command '%s'", cmd);
		usage(stderr);
		goto out;
	}
	const char *text = req ? json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN)
			       : pos[1];
	int e = vms_client_call(sock, text, &reply, timeout);
	if (e < 0) {
		cli_error("client", "%s: %s", sock,
			  e == -ENOENT || e == -ECONNREFUSED ? "no daemon is listening (start "
							       "`vmslim serve`)"
							     : strerror(-e));
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	if (raw_json || !req) {
		printf("%s\n", reply);
		rc = VMS_EXIT_OK;
		goto out;
	}
	rep = json_tokener_parse(reply);
	struct json_object *v;
	if (!rep || !json_object_object_get_ex(rep, "ok", &v) || !json_object_get_boolean(v)) {
		struct json_object *err = NULL;
		const char *msg = rep && json_object_object_get_ex(rep, "error", &err)
					  ? member(err, "message") : "malformed reply";
		cli_error("client", "the daemon refused the request: %s", msg ? msg : "?");
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	if (!is_check && !is_build) {
		if (!strcmp(cmd, "stats"))
			printf("%s\n", json_object_to_json_string_ext(rep, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE));
		rc = VMS_EXIT_OK;
		goto out;
	}
	const char *status = member(rep, "status");
	status = status ? status : "internal";
	if (json_object_object_get_ex(rep, "diagnostics", &v))
		print_diags(v);
	if (verbose) {
		const char *cached = member(rep, "cached");
		fprintf(stderr, "vmslim client: %s: %s by %s%s%s, %s ms (%s ms end to end)\n",
			cmd, status, member(rep, "backend") ? member(rep, "backend") : "?",
			cached && strcmp(cached, "false") ? ", from the cache: " : "",
			cached && strcmp(cached, "false") ? cached : "",
			member(rep, "ms") ? member(rep, "ms") : "?",
			member(rep, "total_ms") ? member(rep, "total_ms") : "?");
	}
	if (is_check) {
		const char *file = strcmp(pos[1], "-") ? pos[1] : "<stdin>";
		if (!strcmp(status, "ok"))
			rc = VMS_EXIT_OK;
		else if (!strcmp(status, "unsupported")) {
			fprintf(stderr, "%s: note: not checked by the fast checker (unsupported); "
				"check it with clang\n", name ? name : file);
			rc = EXIT_UNSUPPORTED;
		} else if (!strcmp(status, "crashed") || !strcmp(status, "timeout") ||
			   !strcmp(status, "limit"))
			rc = EXIT_GAVE_UP;
		else
			rc = VMS_EXIT_FAIL;
		goto out;
	}
	/* build */
	if (strcmp(status, "ok")) {
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	if (!output)
		output = def_out = cli_default_object(strcmp(pos[1], "-") ? pos[1] : "stdin.c");
	void *obj = NULL;
	size_t obj_len = 0;
	if (!json_object_object_get_ex(rep, "object", &v) ||
	    vms_base64_decode(json_object_get_string(v), (size_t)json_object_get_string_len(v),
			      &obj, &obj_len) < 0) {
		cli_error("client", "the reply holds no object");
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	e = vms_write_file_atomic(output, obj, obj_len, 0644);
	free(obj);
	if (e < 0) {
		cli_error("client", "cannot write %s: %s", output, strerror(-e));
		rc = VMS_EXIT_FAIL;
		goto out;
	}
	rc = VMS_EXIT_OK;
out:
	json_object_put(req);
	json_object_put(rep);
	free(reply);
	free(src);
	free(sock);
	free(def_out);
	vms_argv_free(&flags);
	return rc;
}
