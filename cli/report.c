/* Text or one JSON document (report.h): the document is built as the command runs and
 * printed once, when it returns. */
#include "cli/report.h"

#include <json-c/json.h>
#include <stdlib.h>

#include "pch/pch.h"

static enum cli_format format;
static struct json_object *doc, *diags;

void cli_set_format(enum cli_format f)
{
	/* -p implies -j; a later -j does not undo -p */
	if (f > format)
		format = f;
}

void cli_format_text(void)
{
	format = CLI_TEXT;
}

enum cli_format cli_format(void)
{
	return format;
}

struct json_object *cli_doc(void)
{
	if (!cli_json())
		return NULL;
	if (!doc) {
		doc = json_object_new_object();
		diags = json_object_new_array();
	}
	return doc;
}

static void put(const char *key, struct json_object *v)
{
	struct json_object *o = cli_doc();
	if (o)
		json_object_object_add(o, key, v);
	else
		json_object_put(v);
}

void cli_doc_str(const char *key, const char *value)
{
	if (cli_json())
		put(key, value ? json_object_new_string(value) : NULL);
}

void cli_doc_int(const char *key, long long value)
{
	if (cli_json())
		put(key, json_object_new_int64(value));
}

struct json_object *cli_json_num(double value)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%.3f", value);
	return json_object_new_double_s(value, buf);
}

void cli_doc_num(const char *key, double value)
{
	if (cli_json())
		put(key, cli_json_num(value));
}

void cli_doc_bool(const char *key, int value)
{
	if (cli_json())
		put(key, json_object_new_boolean(value));
}

static const char *severity(enum vms_severity s)
{
	return s == VMS_NOTE ? "note" : s == VMS_WARNING ? "warning" : "error";
}

void cli_diags(FILE *out, const struct vms_diags *d)
{
	if (!cli_json()) {
		vms_diags_print(out, d);
		return;
	}
	cli_doc();
	for (size_t i = 0; i < d->n; i++) {
		const struct vms_diag *g = &d->v[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "file", g->file ? json_object_new_string(g->file) : NULL);
		json_object_object_add(o, "line", json_object_new_int(g->line));
		json_object_object_add(o, "column", json_object_new_int(g->col));
		json_object_object_add(o, "severity", json_object_new_string(severity(g->sev)));
		json_object_object_add(o, "message", json_object_new_string(g->msg ? g->msg : ""));
		json_object_array_add(diags, o);
	}
}

void cli_clang_output(FILE *out, const char *text)
{
	if (!text || !*text)
		return;
	if (!cli_json()) {
		fputs(text, out);
		return;
	}
	struct vms_diags d = { 0 };
	vms_clang_parse_diags(text, &d);
	cli_diags(out, &d);
	vms_diags_free(&d);
}

void cli_doc_error(const char *msg)
{
	struct json_object *o = cli_doc(), *old;
	/* the first error is the one that stopped the command */
	if (o && !json_object_object_get_ex(o, "error", &old))
		json_object_object_add(o, "error", json_object_new_string(msg));
}

void cli_report_finish(const char *command, int exit_code)
{
	if (!cli_json())
		return;
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "command", command ? json_object_new_string(command) : NULL);
	json_object_object_add(o, "exit", json_object_new_int(exit_code));
	cli_doc();
	json_object_object_add(o, "diagnostics", json_object_get(diags));
	/* the command's own fields after the common ones, in the order it added them */
	json_object_object_foreach(doc, k, v)
		json_object_object_add(o, k, json_object_get(v));
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
		    (format == CLI_JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
					       : JSON_C_TO_STRING_PLAIN);
	printf("%s\n", json_object_to_json_string_ext(o, flags));
	fflush(stdout);
	json_object_put(o);
	json_object_put(doc);
	json_object_put(diags);
	doc = diags = NULL;
}
