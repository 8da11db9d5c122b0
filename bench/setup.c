/* Preparing what the rows rely on and tearing it down: the hand-made PCHs, the TCC
 * snapshot checkers, one `vmslim serve` per program; and comparing a row's object with the
 * reference build's. Nothing here is timed as a row. */
#include "exact/exact.h"
#include "bench/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bpfobj/bpfobj.h"
#include "tccarena/tccarena.h"
#include "serve/serve.h"

/* ---- preparation ---------------------------------------------------------------- */

/* Builds a PCH of header by hand: the command a user would type, with the flags of the
 * build rows. On failure *err says why ("clang crashed ..."). */
static char *hand_pch(struct bctx *c, const char *header, const char *what, const char *out,
		      int gm, char **err, struct vms_diags *d)
{
	struct vms_argv a;
	*err = NULL;
	if (bench_clang_argv(c, NULL, header, &a, d) < 0)
		return NULL;
	if (gm) {
		vms_argv_push(&a, "-gmodules");
		vms_argv_push(&a, "-fno-crash-diagnostics");
	}
	vms_argv_push(&a, "-x");
	vms_argv_push(&a, "c-header");
	vms_argv_push(&a, header);
	vms_argv_push(&a, "-o");
	vms_argv_push(&a, out);
	struct bsample s = { 0 };
	bench_run_cmd(c, a.v, out, &s);
	vms_argv_free(&a);
	free(s.out_path);
	if (s.state != VMS_BENCH_OK) {
		*err = s.note;
		return NULL;
	}
	free(s.note);
	bench_progress(c, "  PCH%s of %s: %.0f ms", gm ? " (-gmodules)" : "", what, s.ms);
	return vms_xstrdup(out);
}

static int reply_ok(const char *reply)
{
	json_object *o = json_tokener_parse(reply), *v;
	int ok = o && json_object_object_get_ex(o, "ok", &v) && json_object_get_boolean(v);
	if (o)
		json_object_put(o);
	return ok;
}

/* `vmslim serve` for one program: its slim header is the vmlinux.h the daemon's -I path
 * finds first, libbpf's headers come from /usr/include. The real binary, a real socket: the
 * row measures what a client of the daemon waits for. */
static void start_daemon(struct bctx *c, struct bprog *p)
{
	char *sock = vms_xasprintf("%s/serve.sock", p->root);
	if (strlen(sock) >= 100) {
		free(sock);
		sock = vms_xasprintf("/tmp/vmslim-bench-%d-%s.sock", (int)getpid(), p->name);
	}
	unlink(sock);
	char *cache = vms_xasprintf("%s/serve-cache", p->root);
	char *log = vms_xasprintf("%s/serve.log", p->root);
	struct vms_argv a = { 0 };
	vms_argv_push(&a, c->o->vmslim_exe);
	vms_argv_push(&a, "serve");
	vms_argv_push(&a, "--socket");
	vms_argv_push(&a, sock);
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, p->slim_dir);
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, "/usr/include");
	/* the program's own headers, as -iquote gives them to clang in the other rows */
	vms_argv_push(&a, "-I");
	vms_argv_push(&a, p->dir);
	vms_argv_push(&a, "--cache-dir");
	vms_argv_push(&a, cache);
	vms_argv_push(&a, "--headers-dir");
	vms_argv_push(&a, c->o->headers_dir);
	vms_argv_push(&a, "--clang");
	vms_argv_push(&a, c->clang);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	pid_t pid;
	extern char **environ;
	int rc = posix_spawn(&pid, a.v[0], &fa, NULL, a.v, environ);
	posix_spawn_file_actions_destroy(&fa);
	vms_argv_free(&a);
	free(cache);
	if (rc) {
		p->serve_why_not = vms_xasprintf("cannot start %s serve: %s", c->o->vmslim_exe,
						 strerror(rc));
		free(sock), free(log);
		return;
	}
	p->serve_pid = pid;
	vms_cleanup_add_child(pid);
	double t0 = vms_now_ms();
	for (;;) {
		char *reply = NULL;
		if (vms_client_call(sock, "{\"op\":\"ping\"}", &reply, 2000) == 0 && reply_ok(reply)) {
			free(reply);
			p->serve_socket = sock;
			bench_progress(c, "  daemon for %s: ready in %.0f ms", p->name,
				       vms_now_ms() - t0);
			break;
		}
		free(reply);
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid || vms_now_ms() - t0 > 30000) {
			char *text = NULL;
			size_t len;
			if (vms_read_file(log, &text, &len) == 0 && len && text[len - 1] == '\n')
				text[len - 1] = 0;
			const char *last = text ? strrchr(text, '\n') : NULL;
			p->serve_why_not = vms_xasprintf("vmslim serve did not start: %s",
							 last ? last + 1 : text && *text ? text
							 : "no reply to ping in 30 s");
			free(text);
			if (p->serve_pid > 0 && waitpid(pid, &st, WNOHANG) == 0) {
				kill(pid, SIGTERM);
				waitpid(pid, &st, 0);
			}
			vms_cleanup_remove_child(pid);
			p->serve_pid = 0;
			free(sock);
			break;
		}
		usleep(20000);
	}
	free(log);
}

int bench_prepare_global(struct bctx *c, struct vms_diags *d)
{
	char *p = vms_xasprintf("%s/full.pch", c->work);
	c->pch_full = hand_pch(c, c->full, "the full header", p, 0, &c->pch_full_err, d);
	free(p);
	/* the -gmodules PCHs serve only internal rows: made only when those run */
	if (c->o->all_rows) {
		p = vms_xasprintf("%s/full-gmodules.pch", c->work);
		c->gm_pch_full = hand_pch(c, c->full, "the full header", p, 1,
					  &c->gm_pch_full_err, d);
		free(p);
	}
	struct vms_tcc_opts to;
	bench_tcc_opts(c, c->full, NULL, &to);
	if (vms_tcc_checker_new(&to, &c->checker_full, d) < 0)
		c->checker_full = NULL;
	return 0;
}

int bench_prepare_prog(struct bctx *c, struct bprog *p, struct vms_diags *d)
{
	/* hand-made PCHs of a slim header serve only internal rows (vmslim builds a slim
	 * header without one: parsing it costs less than loading a PCH) */
	if (c->o->all_rows) {
		char *pch = vms_xasprintf("%s/slim.pch", p->root);
		char *what = vms_xasprintf("%s's slim header", p->name);
		p->pch_slim = hand_pch(c, p->slim, what, pch, 0, &p->pch_slim_err, d);
		free(pch);
		pch = vms_xasprintf("%s/slim-gmodules.pch", p->root);
		p->gm_pch_slim = hand_pch(c, p->slim, what, pch, 1, &p->gm_pch_slim_err, d);
		free(pch);
		free(what);
	}
	const char *inc[] = { p->dir, NULL };
	struct vms_tcc_opts to;
	bench_tcc_opts(c, p->slim, inc, &to);
	if (vms_tcc_checker_new(&to, &p->checker_slim, d) < 0)
		p->checker_slim = NULL;
	/* pay for the snapshots (parse of the preamble) before anything is measured */
	struct vms_tcc_request req = { .source = p->source, .len = p->len, .file_name = p->path };
	double t0 = vms_now_ms();
	if (p->checker_slim)
		vms_tcc_checker_prepare(p->checker_slim, &req, d);
	double t1 = vms_now_ms();
	if (c->checker_full)
		vms_tcc_checker_prepare(c->checker_full, &req, d);
	bench_progress(c, "  TCC snapshots for %s: slim header %.0f ms, full %.0f ms", p->name, t1 - t0,
		       vms_now_ms() - t1);
	if (c->o->no_daemon)
		p->serve_why_not = vms_xstrdup("no daemon (--no-daemon)");
	else if (!c->o->vmslim_exe)
		p->serve_why_not = vms_xstrdup("no vmslim binary to start the daemon");
	else
		start_daemon(c, p);
	return 0;
}

/* Stops a program's daemon (SIGTERM: it shuts down cleanly and removes its socket).
 * 0 when it exited with status 0, -1 with *why (owned) when it did not: a daemon that
 * crashed or that a sanitizer stopped has not served its rows well. */
int bench_stop_daemon(struct bprog *p, char **why)
{
	*why = NULL;
	if (p->serve_pid <= 0)
		return 0;
	kill(p->serve_pid, SIGTERM);
	int st = 0;
	while (waitpid(p->serve_pid, &st, 0) < 0 && errno == EINTR)
		;
	vms_cleanup_remove_child(p->serve_pid);
	p->serve_pid = 0;
	if (p->serve_socket)
		unlink(p->serve_socket);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	char *log = vms_xasprintf("%s/serve.log", p->root), *text = NULL;
	size_t len = 0;
	const char *line = "";
	if (vms_read_file(log, &text, &len) == 0) {
		/* the first line that names an error, else the last line */
		while (len && text[len - 1] == '\n')
			text[--len] = 0;
		char *hit = strstr(text, "ERROR:");
		if (!hit)
			hit = strstr(text, "runtime error");
		if (hit) {
			char *nl = strchr(hit, '\n');
			if (nl)
				*nl = 0;
			line = hit;
		} else {
			char *nl = strrchr(text, '\n');
			line = nl ? nl + 1 : text;
		}
	}
	if (WIFSIGNALED(st))
		*why = vms_xasprintf("vmslim serve died (%s) at shutdown: %s", strsignal(WTERMSIG(st)),
				     line);
	else
		*why = vms_xasprintf("vmslim serve exited %d at shutdown: %s", WEXITSTATUS(st), line);
	free(text);
	free(log);
	return -1;
}

void bench_teardown(struct bctx *c)
{
	vms_tcc_checker_free(c->checker_full);
	c->checker_full = NULL;
	for (size_t i = 0; i < c->n_progs; i++) {
		vms_tcc_checker_free(c->progs[i].checker_slim);
		c->progs[i].checker_slim = NULL;
		for (int k = 0; k < 2; k++) {
			if (c->progs[i].exact[k])
				vms_exact_free(c->progs[i].exact[k]);
			c->progs[i].exact[k] = NULL;
		}
	}
	for (size_t i = 0; i < c->n_progs; i++) {
		char *why;
		bench_stop_daemon(&c->progs[i], &why);
		free(why);
	}
}

int bench_same_object(const char *ref, const char *obj, char **why)
{
	struct vms_diags d = { 0 };
	int rc = vms_obj_compare(ref, obj, &d);
	*why = NULL;
	if (rc != 0 && d.n)
		*why = vms_xstrdup(d.v[0].msg);
	vms_diags_free(&d);
	return rc == 0 ? 1 : rc == 1 ? 0 : -1;
}
