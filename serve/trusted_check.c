/* `vmslim check FILE` through the per-user daemon (op "check_file"): the TCC snapshot
 * checker with the CLI's own options, kept warm here between commands, so a one-shot
 * check costs a fork from a snapshot instead of a parse of the header. The checker runs
 * on the loop: a check is about a millisecond once its snapshot exists, and the user's
 * daemon serves one user.
 *
 * The program is checked under its absolute path (the snapshot's key and its quoted
 * includes go by the file's directory, and the checker's process does not run in the
 * client's directory); the diagnostics are then given back the names the client's own
 * process would have printed: the path as given for the program, cwd-relative for the
 * rest under cwd. */
#include "serve/trusted.h"
#include "tccarena/tccarena.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHECKERS 8

struct tcheck_slot {
	char *key;			/* everything in the checker's options */
	struct vms_tcc_checker *ck;
	struct vms_argv incs, defs;	/* what its options point to */
	char *header, *headers_dir;
	struct vms_tcc_opts o;
	double used;
	struct tcheck_slot *next;
};

struct tcheck_pool {
	struct tcheck_slot *slots;
	size_t n;
	uint64_t checks;
};

static void slot_free(struct tcheck_slot *sl)
{
	vms_tcc_checker_free(sl->ck);
	free(sl->key), free(sl->header), free(sl->headers_dir);
	vms_argv_free(&sl->incs);
	vms_argv_free(&sl->defs);
	free(sl);
}

void tcheck_pool_free(struct tcheck_pool *p)
{
	if (!p)
		return;
	while (p->slots) {
		struct tcheck_slot *sl = p->slots;
		p->slots = sl->next;
		slot_free(sl);
	}
	free(p);
}

int treq_strings(struct json_object *req, const char *k, struct vms_argv *out)
{
	struct json_object *a;
	if (!json_object_object_get_ex(req, k, &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array) || json_object_array_length(a) > 4096)
		return -1;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_string) ||
		    (size_t)json_object_get_string_len(s) != strlen(json_object_get_string(s)))
			return -1;
		vms_argv_push(out, json_object_get_string(s));
	}
	return 0;
}

const char *treq_str(struct json_object *req, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(req, k, &v) || !json_object_is_type(v, json_type_string) ||
	    (size_t)json_object_get_string_len(v) != strlen(json_object_get_string(v)))
		return NULL;
	return json_object_get_string(v);
}

int treq_int(struct json_object *req, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(req, k, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int(v);
}

/* The checker for these options, made on first use; the least recently used goes past
 * MAX_CHECKERS. NULL with d filled when it cannot be made. */
static struct tcheck_slot *slot_for(struct tcheck_pool *p, struct tcheck_slot *want,
				    struct vms_diags *d)
{
	for (struct tcheck_slot *sl = p->slots; sl; sl = sl->next)
		if (!strcmp(sl->key, want->key)) {
			sl->used = vms_now_ms();
			slot_free(want);
			return sl;
		}
	want->o.include_dirs = (const char *const *)want->incs.v;
	want->o.defines = (const char *const *)want->defs.v;
	want->o.vmlinux_header = want->header;
	want->o.headers_dir = want->headers_dir;
	if (vms_tcc_checker_new(&want->o, &want->ck, d) < 0) {
		want->ck = NULL;
		slot_free(want);
		return NULL;
	}
	if (p->n >= MAX_CHECKERS) {
		struct tcheck_slot **old = &p->slots;
		for (struct tcheck_slot **pp = &p->slots; *pp; pp = &(*pp)->next)
			if ((*pp)->used < (*old)->used)
				old = pp;
		struct tcheck_slot *gone = *old;
		*old = gone->next;
		slot_free(gone);
		p->n--;
	}
	want->used = vms_now_ms();
	want->next = p->slots;
	p->slots = want;
	p->n++;
	return want;
}

void tcheck_request(struct server *s, struct conn *c, struct json_object *req,
		    struct json_object *id, struct tcheck_pool **pool)
{
	double t0 = vms_now_ms();
	if (!s->o->user_mode) {
		reply_error(c, id, "refused", "\"check_file\" reads files by path: only a per-user "
						 "daemon (serve --user) serves it");
		return;
	}
	if (!*pool)
		*pool = vms_xcalloc(1, sizeof(**pool));
	struct tcheck_slot *want = vms_xcalloc(1, sizeof(*want));
	const char *file = treq_str(req, "file"), *name = treq_str(req, "name");
	const char *cwd = treq_str(req, "cwd"), *hdr = treq_str(req, "header");
	const char *hdir = treq_str(req, "headers_dir");
	if (!file || file[0] != '/' || !name || !cwd || cwd[0] != '/' || !hdir || hdir[0] != '/' ||
	    (hdr && hdr[0] != '/') || treq_strings(req, "include_dirs", &want->incs) < 0 ||
	    treq_strings(req, "defines", &want->defs) < 0) {
		slot_free(want);
		reply_error(c, id, "bad_request", "check_file needs file, name, cwd, headers_dir "
						  "(absolute paths) and string arrays");
		s->n_bad++;
		return;
	}
	want->header = hdr ? vms_xstrdup(hdr) : NULL;
	want->headers_dir = vms_xstrdup(hdir);
	want->o.warnings = treq_int(req, "warnings");
	want->o.time_limit_ms = treq_int(req, "time_limit_ms");
	want->o.mem_limit = (size_t)treq_int(req, "mem_limit_mib") << 20;
	struct vms_buf k = { 0 };
	vms_buf_printf(&k, "%s\x1f%s\x1f%d\x1f%d\x1f%zu", hdr ? hdr : "", hdir,
		       want->o.warnings, want->o.time_limit_ms, want->o.mem_limit);
	for (size_t i = 0; i < want->incs.n; i++)
		vms_buf_printf(&k, "\x1fI%s", want->incs.v[i]);
	for (size_t i = 0; i < want->defs.n; i++)
		vms_buf_printf(&k, "\x1f" "D%s", want->defs.v[i]);
	want->key = vms_buf_steal(&k);
	struct vms_diags d = { 0 };
	struct tcheck_slot *sl = slot_for(*pool, want, &d);
	char *src = NULL;
	size_t len = 0;
	int e = sl ? vms_read_file(file, &src, &len) : -1;
	if (!sl || e < 0) {
		char *m = sl ? vms_xasprintf("cannot read %s: %s", file, strerror(-e))
			     : vms_xstrdup(d.n ? d.v[0].msg : "the checker could not start");
		reply_error(c, id, "internal", m);
		free(m);
		vms_diags_free(&d);
		return;
	}
	struct vms_tcc_request q = { .source = src, .len = len, .file_name = file };
	struct vms_tcc_result r = { 0 };
	vms_tcc_check(sl->ck, &q, &r);
	(*pool)->checks++;
	free(src);
	/* the names the client's process would have given: the program's as given, and
	 * cwd-relative ones for what it would have opened through a relative directory */
	diags_rename(&r.diags, file, name);
	struct vms_argv strip = { 0 };
	treq_strings(req, "relative_dirs", &strip);
	size_t cl = strlen(cwd);
	for (size_t i = 0; i < r.diags.n; i++) {
		char *f = r.diags.v[i].file;
		for (size_t k = 0; f && k < strip.n; k++) {
			size_t n = strlen(strip.v[k]);
			if (!strncmp(f, strip.v[k], n) && f[n] == '/' && !strncmp(f, cwd, cl) &&
			    f[cl] == '/') {
				r.diags.v[i].file = vms_xstrdup(f + cl + 1);
				free(f);
				break;
			}
		}
	}
	vms_argv_free(&strip);
	struct vms_result vr = { .status = VMS_ST_OK, .diags = r.diags, .ms = r.tcc_ms };
	struct json_object *o = reply_head(id, 1);
	json_object_object_add(o, "op", json_object_new_string("check_file"));
	result_to_json(&vr, o);
	json_object_object_add(o, "tcc_status", json_object_new_int((int)r.status));
	json_object_object_add(o, "total_ms", json_num3(vms_now_ms() - t0));
	conn_send_json(c, o);
	json_object_put(o);
	vms_tcc_result_free(&r);
	vms_diags_free(&d);
}
