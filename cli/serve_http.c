/* `vmslim serve --http` (cli/serve_http.h): options, the bundle, the front's start/stop. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/serve_http.h"
#include "common/common.h"
#include "serve/http.h"

extern char **environ;

static struct {
	const char *addr, *web, *bundle;
	long timeout_s, per_ip, max_conns;
	struct vms_http *h;
} st;

int serve_http_option(struct cli_args *a)
{
	switch (a->opt) {
	case O_HTTP: st.addr = a->arg; break;
	case O_HTTP_WEB: st.web = a->arg; break;
	case O_HTTP_BUNDLE: st.bundle = a->arg; break;
	case O_HTTP_TIMEOUT: return cli_number(a, 1, 3600, NULL, &st.timeout_s);
	case O_HTTP_PER_IP: return cli_number(a, 1, 1 << 16, NULL, &st.per_ip);
	case O_HTTP_MAX_CONN: return cli_number(a, 1, 1 << 16, NULL, &st.max_conns);
	}
	return 0;
}

static void say(const struct vms_serve_opts *o, const char *fmt, const char *a, const char *b)
{
	if (!o->log)
		return;
	char *l = vms_xasprintf(fmt, a, b);
	o->log(o->log_ctx, l);
	free(l);
}

/* The header a bundle stands in for vmlinux.h with: the daemon's --header, else the first
 * -I directory's vmlinux.h (as the daemon finds it). Owned or NULL. */
static char *bundle_header(const struct vms_serve_opts *o)
{
	if (o->backend.header)
		return vms_xstrdup(o->backend.header);
	for (size_t i = 0; i < o->backend.n_inc; i++) {
		char *p = vms_xasprintf("%s/vmlinux.h", o->backend.inc_dirs[i]);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* The system include directories TCC searches anyway: copying them whole into a bundle
 * would make every page load fetch thousands of headers (libbpf's bpf/ is always in). */
static int system_dir(const char *d)
{
	char *r = vms_realpath(d);
	int sys = r && (!strcmp(r, "/usr/include") || !strcmp(r, "/usr/local/include") ||
			!strcmp(r, "/"));
	free(r);
	return sys;
}

/* Runs `vmslim wasm -o DIR ...` (this very binary), so the bundle is made exactly as the
 * command makes it. 0, or -1 with the reason logged (the page then checks on the server). */
static int make_bundle(const struct vms_serve_opts *o, const char *dir)
{
	struct vms_argv av = { 0 };
	vms_argv_push(&av, "vmslim");
	vms_argv_push(&av, "wasm");
	vms_argv_push(&av, "-o");
	vms_argv_pushf(&av, "%s/bundle", dir);
	char *hdr = bundle_header(o);
	if (hdr) {
		vms_argv_push(&av, "--header");
		vms_argv_push(&av, hdr);
	}
	free(hdr);
	for (size_t i = 0; i < o->backend.n_inc; i++)
		if (!system_dir(o->backend.inc_dirs[i])) {
			vms_argv_push(&av, "-I");
			vms_argv_push(&av, o->backend.inc_dirs[i]);
		}
	for (size_t i = 0; i < o->backend.n_flags; i++)
		if (!strncmp(o->backend.flags[i], "-D", 2)) {
			vms_argv_push(&av, "-D");
			vms_argv_push(&av, o->backend.flags[i] + 2);
		}
	if (o->backend.headers_dir) {
		vms_argv_push(&av, "--headers-dir");
		vms_argv_push(&av, o->backend.headers_dir);
	}
	char *err = vms_xasprintf("%s/wasm.err", dir);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	int status = -1;
	int e = posix_spawn(&pid, "/proc/self/exe", &fa, NULL, av.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (e == 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	int ok = e == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
	if (!ok) {
		char *text = NULL;
		size_t len = 0;
		if (vms_read_file(err, &text, &len) == 0 && len)
			text[strcspn(text, "\n")] = 0;
		say(o, "http: no WebAssembly bundle (%s): the page checks through POST /check%s",
		    text && *text ? text : e ? strerror(e) : "vmslim wasm failed", "");
		free(text);
	}
	free(err);
	vms_argv_free(&av);
	return ok ? 0 : -1;
}

int serve_http_start(const struct vms_serve_opts *o)
{
	if (!st.addr)
		return 0;
	struct vms_diags d = { 0 };
	char *web = st.web ? vms_xstrdup(st.web) : NULL;
	if (!web) {
		char *hd = vms_dirname(cli_headers_dir());
		web = vms_xasprintf("%s/web", hd);
		free(hd);
	}
	char *tmp = NULL, *bundle = st.bundle ? vms_xstrdup(st.bundle) : NULL;
	if (!bundle && vms_http_available()) {
		tmp = vms_make_tempdir("vmslim-http");
		if (tmp && make_bundle(o, tmp) == 0)
			bundle = vms_xasprintf("%s/bundle", tmp);
	}
	struct vms_http_opts ho = {
		.addr = st.addr, .socket_path = o->socket_path, .web_dir = web,
		.bundle_dir = bundle, .max_body = o->max_request_bytes,
		.timeout_s = (int)st.timeout_s, .per_ip = (int)st.per_ip,
		.max_conns = (int)st.max_conns,
		.call_timeout_ms = (o->time_limit_ms > 0 ? o->time_limit_ms : 20000) + 10000,
		.log = o->log, .log_ctx = o->log_ctx,
	};
	int e = vms_http_start(&ho, &st.h, &d);
	/* everything is in memory now: the made bundle's files are no longer needed */
	if (tmp)
		vms_remove_tree(tmp);
	free(tmp), free(bundle), free(web);
	vms_diags_print(stderr, &d);
	vms_diags_free(&d);
	return e < 0 ? -1 : 0;
}

void serve_http_stop(void)
{
	vms_http_stop(st.h);
	st.h = NULL;
}
