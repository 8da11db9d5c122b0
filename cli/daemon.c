/* The CLI's side of the per-user daemon for the commands that answer from it (check,
 * extract, build; cc has its own client, which streams clang's output): one request, the
 * reply when the daemon said "ok". */
#include <json-c/json.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "serve/cc.h"

struct json_object *cli_daemon_ask(struct json_object *req, int *started)
{
	struct vms_user_call call = { 0 };
	char *reply = NULL;
	int e = vms_user_daemon_call(&call, json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN),
				     &reply);
	json_object_put(req);
	if (started)
		*started = call.started;
	if (e < 0)
		return NULL;
	struct json_object *o = json_tokener_parse(reply), *v;
	free(reply);
	if (o && json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v))
		return o;
	json_object_put(o);
	return NULL;
}
