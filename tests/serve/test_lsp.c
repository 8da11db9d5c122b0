/* `vmslim lsp` driven over pipes, as an editor would.
 *
 * usage: test_lsp VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR
 *
 * A session on a copy of execsnoop.bpf.c: the clean file gets no error; an injected error
 * (incremental change, UTF-16 positions after a non-ASCII comment on the same line) is
 * reported on its line, with the version of the change; the fix clears it; a full-text
 * change works the same; every publishDiagnostics carries the version of the text it
 * describes, never one that was not sent yet. Saving a broken text builds it with clang,
 * whose own message is published for the same version; a text the fast checker cannot
 * judge (BPF inline asm) gets clang's verdict. didClose clears the diagnostics,
 * shutdown + exit ends the server with status 0. A second session runs the clang-exact
 * tier (--exact: libclang with a precompiled preamble): clang's own message, on the line.
 * With "load" as a fifth argument: the --load session of load_session() instead; with
 * "many", many_session(): more clang jobs at once than the old 64-slot poll loop read;
 * with "robust", robust_session(): broken framing and invalid requests are survived; with
 * "order", order_session(): the fast answer, then clang's exact one for the same version. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "tests/testutil.h"


static int to_srv, from_srv;
static pid_t srv;
static struct vms_buf inbuf;
static int next_id = 1;
static int max_version_sent = -1;

static void send_msg(struct json_object *m)
{
	json_object_object_add(m, "jsonrpc", json_object_new_string("2.0"));
	const char *body = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
	char hdr[64];
	int h = snprintf(hdr, sizeof(hdr), "Content-Length: %zu\r\n\r\n", strlen(body));
	if (write(to_srv, hdr, (size_t)h) != h ||
	    write(to_srv, body, strlen(body)) != (ssize_t)strlen(body))
		CHECK(0, "cannot write to the server");
	json_object_put(m);
}

static int request(const char *method, struct json_object *params)
{
	struct json_object *m = json_object_new_object();
	int id = next_id++;
	json_object_object_add(m, "id", json_object_new_int(id));
	json_object_object_add(m, "method", json_object_new_string(method));
	json_object_object_add(m, "params", params);
	send_msg(m);
	return id;
}

static void notify(const char *method, struct json_object *params)
{
	struct json_object *m = json_object_new_object();
	json_object_object_add(m, "method", json_object_new_string(method));
	json_object_object_add(m, "params", params ? params : json_object_new_object());
	send_msg(m);
}

/* Next message from the server, or NULL after timeout_ms. */
static struct json_object *next_msg(int timeout_ms)
{
	double deadline = vms_now_ms() + timeout_ms;
	for (;;) {
		char *sep = inbuf.len ? memmem(inbuf.data, inbuf.len, "\r\n\r\n", 4) : NULL;
		if (sep) {
			long clen = -1;
			char *cl = memmem(inbuf.data, (size_t)(sep - inbuf.data), "Content-Length:", 15);
			if (cl)
				clen = strtol(cl + 15, NULL, 10);
			size_t hdr = (size_t)(sep - inbuf.data) + 4;
			if (clen >= 0 && inbuf.len >= hdr + (size_t)clen) {
				struct json_tokener *tok = json_tokener_new();
				struct json_object *o = json_tokener_parse_ex(tok, inbuf.data + hdr, (int)clen);
				json_tokener_free(tok);
				memmove(inbuf.data, inbuf.data + hdr + clen, inbuf.len - hdr - (size_t)clen);
				inbuf.len -= hdr + (size_t)clen;
				CHECK(o, "unparsable message from the server");
				return o;
			}
		}
		double left = deadline - vms_now_ms();
		if (left <= 0)
			return NULL;
		struct pollfd p = { .fd = from_srv, .events = POLLIN };
		if (poll(&p, 1, (int)left + 1) <= 0)
			continue;
		char buf[65536];
		ssize_t n = read(from_srv, buf, sizeof(buf));
		if (n <= 0)
			return NULL;
		vms_buf_append(&inbuf, buf, (size_t)n);
	}
}

static const char *str_of(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

static struct json_object *get(struct json_object *o, const char *k)
{
	struct json_object *v;
	return o && json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* Waits for publishDiagnostics with this version; returns its params (owned: put the
 * whole message with the returned pointer's owner). Every publication seen on the way
 * must not name a version we have not sent. */
static struct json_object *wait_diags(int version, struct json_object **owner, int timeout_ms)
{
	double deadline = vms_now_ms() + timeout_ms;
	*owner = NULL;
	for (;;) {
		int left = (int)(deadline - vms_now_ms());
		struct json_object *m = next_msg(left > 0 ? left : 0);
		if (!m)
			return NULL;
		const char *meth = str_of(m, "method");
		if (meth && !strcmp(meth, "textDocument/publishDiagnostics")) {
			struct json_object *p = get(m, "params"), *v = get(p, "version");
			int ver = v ? json_object_get_int(v) : -1;
			CHECK(ver <= max_version_sent, "diagnostics for version %d before it was sent", ver);
			if (ver == version) {
				*owner = m;
				return p;
			}
		}
		json_object_put(m);
	}
}

static int errors_on(struct json_object *params, int line0, const char *substr)
{
	struct json_object *arr = get(params, "diagnostics");
	int n = 0;
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		struct json_object *d = json_object_array_get_idx(arr, i);
		struct json_object *sev = get(d, "severity");
		if (sev && json_object_get_int(sev) != 1)
			continue;
		int l = json_object_get_int(get(get(get(d, "range"), "start"), "line"));
		if ((line0 < 0 || l == line0) && (!substr || strstr(str_of(d, "message"), substr)))
			n++;
	}
	return n;
}

static int count_errors(struct json_object *params)
{
	return errors_on(params, -1, NULL);
}

static struct json_object *td_id(const char *uri, int version)
{
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "uri", json_object_new_string(uri));
	if (version >= 0)
		json_object_object_add(t, "version", json_object_new_int(version));
	return t;
}

static void change_range(const char *uri, int version, int line, int c0, int c1, const char *text)
{
	struct json_object *p = json_object_new_object(), *ch = json_object_new_object(),
			   *r = json_object_new_object(), *s = json_object_new_object(),
			   *e = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(s, "line", json_object_new_int(line));
	json_object_object_add(s, "character", json_object_new_int(c0));
	json_object_object_add(e, "line", json_object_new_int(line));
	json_object_object_add(e, "character", json_object_new_int(c1));
	json_object_object_add(r, "start", s);
	json_object_object_add(r, "end", e);
	json_object_object_add(ch, "range", r);
	json_object_object_add(ch, "text", json_object_new_string(text));
	json_object_array_add(arr, ch);
	json_object_object_add(p, "textDocument", td_id(uri, version));
	json_object_object_add(p, "contentChanges", arr);
	if (version > max_version_sent)
		max_version_sent = version;
	notify("textDocument/didChange", p);
}

static void change_full(const char *uri, int version, const char *text)
{
	struct json_object *p = json_object_new_object(), *ch = json_object_new_object(),
			   *arr = json_object_new_array();
	json_object_object_add(ch, "text", json_object_new_string(text));
	json_object_array_add(arr, ch);
	json_object_object_add(p, "textDocument", td_id(uri, version));
	json_object_object_add(p, "contentChanges", arr);
	if (version > max_version_sent)
		max_version_sent = version;
	notify("textDocument/didChange", p);
}

static void open_doc(const char *uri, const char *text, int version)
{
	struct json_object *td = td_id(uri, version);
	json_object_object_add(td, "languageId", json_object_new_string("c"));
	json_object_object_add(td, "text", json_object_new_string(text));
	struct json_object *p = json_object_new_object();
	json_object_object_add(p, "textDocument", td);
	if (version > max_version_sent)
		max_version_sent = version;
	notify("textDocument/didOpen", p);
}

#define T 60000 /* generous: builds under sanitizers on 2 cores */

/* Starts `vmslim lsp` on pipes (to_srv, from_srv, srv). */
static void spawn_server(const char *vmslim, const char *vmlinux_dir, const char *logf,
			 const char *cache, const char *extra)
{
	int in[2], out[2];
	if (pipe(in) < 0 || pipe(out) < 0)
		exit(1);
	srv = fork();
	if (srv == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		execl(vmslim, vmslim, "lsp", "-I", vmlinux_dir, "--log", logf, "--cache-dir", cache,
		      extra ? extra : "--stdio", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	to_srv = in[1];
	from_srv = out[0];
	inbuf.len = 0;
}

/* Starts `vmslim lsp` on pipes and initializes it; returns the initialize reply. */
static struct json_object *start_server(const char *vmslim, const char *vmlinux_dir,
					const char *logf, const char *cache, const char *extra)
{
	spawn_server(vmslim, vmlinux_dir, logf, cache, extra);
	struct json_object *ip = json_object_new_object();
	json_object_object_add(ip, "processId", json_object_new_int(getpid()));
	json_object_object_add(ip, "capabilities", json_object_new_object());
	json_object_object_add(ip, "rootUri", NULL);
	int id = request("initialize", ip);
	struct json_object *m = NULL;
	for (;;) {
		m = next_msg(T);
		if (!m || (get(m, "id") && json_object_get_int(get(m, "id")) == id))
			break;
		json_object_put(m);
	}
	CHECK(m && get(m, "result"), "no initialize reply");
	return m;
}

static void stop_server(void)
{
	int id = request("shutdown", NULL);
	struct json_object *m;
	for (;;) {
		m = next_msg(T);
		if (!m || (get(m, "id") && json_object_get_int(get(m, "id")) == id))
			break;
		json_object_put(m);
	}
	CHECK(m && !get(m, "error"), "shutdown failed");
	json_object_put(m);
	notify("exit", NULL);
	int st = 0;
	for (int i = 0; i < 1000 && waitpid(srv, &st, WNOHANG) != srv; i++)
		usleep(10000);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status %d", st);
	close(to_srv);
	close(from_srv);
}

/* --load: a program the verifier refuses (an unchecked hash-map lookup) gets the
 * verifier's complaint on the line of the bad access; 77 where loading is refused. */
static int load_session(const char *vmslim, const char *vmlinux_dir, const char *work)
{
	static const char src[] =
		"#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n\n"
		"struct {\n\t__uint(type, BPF_MAP_TYPE_HASH);\n\t__uint(max_entries, 1);\n"
		"\t__type(key, __u32);\n\t__type(value, __u64);\n} counts SEC(\".maps\");\n\n"
		"SEC(\"tp/sched/sched_process_exec\")\nint on_exec(void *ctx)\n{\n"
		"\t__u32 k = 0;\n\t__u64 *v = bpf_map_lookup_elem(&counts, &k);\n"
		"\t*v += 1;\n\treturn 0;\n}\n\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char *doc = vms_xasprintf("%s/rejected.bpf.c", work), *uri = vms_xasprintf("file://%s", doc);
	char *logf = vms_xasprintf("%s/lsp-load.log", work), *cache = vms_xasprintf("%s/cache", work);
	vms_write_file_atomic(doc, src, sizeof(src) - 1, 0644);
	struct json_object *m = start_server(vmslim, vmlinux_dir, logf, cache, "--load"), *own;
	json_object_put(m);
	max_version_sent = 1;
	open_doc(uri, src, 1);
	struct json_object *p = wait_diags(1, &own, T);
	CHECK(p && count_errors(p) == 0, "the unchecked access is not a type error");
	json_object_put(own);
	struct json_object *sp = json_object_new_object();
	json_object_object_add(sp, "textDocument", td_id(uri, -1));
	notify("textDocument/didSave", sp);
	p = wait_diags(1, &own, T);
	int rc = 0;
	const char *txt = p ? json_object_to_json_string(p) : "(none)";
	if (p && strstr(txt, "refuses to load")) {
		rc = test_skip("this machine refuses to load BPF programs: %s", txt);
	} else {
		/* line 16 of the file: `*v += 1;` */
		CHECK(p && errors_on(p, 15, "invalid mem access") >= 1,
		      "no verifier complaint on line 16: %s", txt);
		printf("verifier: %s\n", txt);
	}
	json_object_put(own);
	stop_server();
	free(doc), free(uri), free(logf), free(cache);
	return failures ? test_exit() : rc;
}

/* 70 clang fallback jobs at once. A clang wrapper makes the 64 "slow_" documents' jobs
 * sleep far past the wall-time limit; the 6 "fast_" ones, opened first (so last in the
 * server's list), must still get clang's verdict within seconds. The old loop polled
 * only the first 64 job pipes it found and so read none of the fast ones until the slow
 * ones were killed at the limit, as timeouts. */
#define MANY_FAST 6
#define MANY_SLOW 64
static int many_session(const char *vmslim, const char *vmlinux_dir, const char *work)
{
	const char *real = getenv("VMSLIM_CLANG");
	char *wrapper = vms_xasprintf("%s/slow-clang.sh", work);
	char *script = vms_xasprintf("#!/bin/sh\ncase \"$*\" in *slow_*) sleep 600 ;; esac\n"
				     "exec %s \"$@\"\n", real && *real ? real : "clang");
	vms_write_file_atomic(wrapper, script, strlen(script), 0755);
	setenv("VMSLIM_CLANG", wrapper, 1);
	char *logf = vms_xasprintf("%s/lsp-many.log", work), *cache = vms_xasprintf("%s/cache", work);
	struct json_object *m = start_server(vmslim, vmlinux_dir, logf, cache, NULL);
	json_object_put(m);
	/* inline asm: the fast checker cannot judge it, clang does (in a worker) */
	static const char src[] = "int f(void)\n{\n\tasm volatile(\"r0 = 0\" ::: \"r0\");\n"
				  "\treturn undeclared_n;\n}\n";
	char *uris[MANY_FAST + MANY_SLOW];
	max_version_sent = 1;
	for (int i = 0; i < MANY_FAST + MANY_SLOW; i++) {
		char *path = vms_xasprintf("%s/%s_%d.bpf.c", work, i < MANY_FAST ? "fast" : "slow", i);
		vms_write_file_atomic(path, src, strlen(src), 0644);
		uris[i] = vms_xasprintf("file://%s", path);
		open_doc(uris[i], src, 1);
		free(path);
	}
	double t0 = vms_now_ms();
	int answered = 0, right = 0;
	while (answered < MANY_FAST) {
		int left = (int)(t0 + T - vms_now_ms());
		m = left > 0 ? next_msg(left) : NULL;
		if (!m)
			break;
		struct json_object *p = get(m, "params");
		const char *meth = str_of(m, "method"), *uri = str_of(p, "uri");
		if (!meth || strcmp(meth, "textDocument/publishDiagnostics"))
			uri = NULL;
		for (int i = 0; uri && i < MANY_FAST; i++)
			if (!strcmp(uri, uris[i])) {
				answered++;
				if (errors_on(p, 3, "use of undeclared identifier") >= 1)
					right++;
				else
					CHECK(0, "%s: not clang's verdict: %s", uri,
					      json_object_to_json_string(p));
			}
		json_object_put(m);
	}
	printf("many: %d of %d fast documents answered (%d by clang) in %.0f ms, with %d "
	       "slow jobs running\n", answered, MANY_FAST, right, vms_now_ms() - t0, MANY_SLOW);
	CHECK(right == MANY_FAST, "only %d of %d documents past the 64th job got clang's verdict",
	      right, MANY_FAST);
	stop_server();
	for (int i = 0; i < MANY_FAST + MANY_SLOW; i++)
		free(uris[i]);
	free(wrapper), free(script), free(logf), free(cache);
	return test_exit();
}

/* The source of a publish's first diagnostic ("" when it has none). */
static const char *first_source(struct json_object *params)
{
	struct json_object *a = get(params, "diagnostics");
	if (!a || !json_object_array_length(a))
		return "";
	const char *src = str_of(json_object_array_get_idx(a, 0), "source");
	return src ? src : "";
}

/* The position of the first error in a publish: line (0-based) and column, or -1. */
static void first_error_at(struct json_object *params, int *line, int *col)
{
	*line = *col = -1;
	struct json_object *a = get(params, "diagnostics");
	for (size_t i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *d = json_object_array_get_idx(a, i);
		if (json_object_get_int(get(d, "severity")) != 1)
			continue;
		struct json_object *st = get(get(d, "range"), "start");
		*line = json_object_get_int(get(st, "line"));
		*col = json_object_get_int(get(st, "character"));
		return;
	}
}

/* Fast, then exact (issue 11): for one version the TCC answer is published first, then
 * clang's own (source "vmslim exact") with clang's line and column; a clean text gets no
 * second, empty, publish; --fast-only publishes the first alone. */
static int order_session(const char *vmslim, const char *vmlinux_dir, const char *work)
{
	static const char good[] = "#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n"
				   "SEC(\"kprobe/x\") int f(struct pt_regs *ctx)\n{\n"
				   "\treturn ctx->ip;\n}\nchar LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char *bad = vms_xstrdup(good);
	memcpy(strstr(bad, "ctx->ip"), "ctx->iq", 7); /* line 5 (0-based 4), clang column 14 */
	char *doc = vms_xasprintf("%s/order.bpf.c", work), *uri = vms_xasprintf("file://%s", doc);
	vms_write_file_atomic(doc, good, strlen(good), 0644);
	char *logf = vms_xasprintf("%s/lsp-order.log", work), *cache = vms_xasprintf("%s/cache", work);
	for (int fast_only = 0; fast_only < 2; fast_only++) {
		struct json_object *m = start_server(vmslim, vmlinux_dir, logf, cache,
						     fast_only ? "--fast-only" : NULL), *own;
		json_object_put(m);
		max_version_sent = 1;
		open_doc(uri, bad, 0);
		struct json_object *p = wait_diags(0, &own, T);
		CHECK(p && errors_on(p, 4, NULL) >= 1 && strcmp(first_source(p), "vmslim exact"),
		      "%s: the first answer is not the fast one on line 5: %s",
		      fast_only ? "--fast-only" : "default", p ? json_object_to_json_string(p) : "(none)");
		json_object_put(own);
		if (!fast_only) {
			p = wait_diags(0, &own, T);
			int line, col;
			if (p)
				first_error_at(p, &line, &col);
			CHECK(p && !strcmp(first_source(p), "vmslim exact") &&
				      errors_on(p, 4, "no member named 'iq'") >= 1 && line == 4 &&
				      col == 13,
			      "no exact answer at 5:14 for the same version: %s",
			      p ? json_object_to_json_string(p) : "(none)");
			json_object_put(own);
		}
		/* the fix: one publish with no errors; then a third version, so that any second
		 * publish of version 1 would have come before it */
		change_full(uri, 1, good);
		p = wait_diags(1, &own, T);
		CHECK(p && count_errors(p) == 0, "the fix left errors");
		json_object_put(own);
		int extra = 0, seen2 = 0;
		max_version_sent = 2;
		change_full(uri, 2, bad);
		while (!seen2) {
			m = next_msg(T);
			if (!m)
				break;
			struct json_object *pp = get(m, "params"), *v = get(pp, "version");
			if (str_of(m, "method") && !strcmp(str_of(m, "method"), "textDocument/publishDiagnostics")) {
				int ver = v ? json_object_get_int(v) : -1;
				extra += ver == 1 || (fast_only && ver == 0);
				seen2 |= ver == 2;
			}
			json_object_put(m);
		}
		CHECK(seen2 && extra == 0, "%s: %d extra publish(es) of an older version",
		      fast_only ? "--fast-only" : "default", extra);
		printf("%s: fast answer, %s, clean text published once\n",
		       fast_only ? "--fast-only" : "default",
		       fast_only ? "no exact answer" : "then clang's at 5:14 for the same version");
		stop_server();
	}
	free(bad), free(doc), free(uri), free(logf), free(cache);
	return test_exit();
}

/* Writes raw bytes to the server, framing and all. */
static void send_raw(const char *bytes, size_t n)
{
	CHECK(write(to_srv, bytes, n) == (ssize_t)n, "cannot write to the server");
}

/* Sends body under a correct header. */
static void send_body(const char *body)
{
	char *h = vms_xasprintf("Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	send_raw(h, strlen(h));
	free(h);
}

/* The next message must be an error with this code for this id (-1: id null). */
static void expect_error(const char *what, int id, int code)
{
	struct json_object *m = next_msg(T), *e = get(m, "error"), *mid = get(m, "id");
	CHECK(m, "%s: no reply (server dead?)", what);
	CHECK(e && json_object_get_int(get(e, "code")) == code, "%s: not error %d: %s", what, code,
	      m ? json_object_to_json_string(m) : "");
	if (id < 0)
		CHECK(m && json_object_object_get_ex(m, "id", NULL) && !mid, "%s: id not null", what);
	else
		CHECK(mid && json_object_get_int(mid) == id, "%s: wrong id", what);
	json_object_put(m);
}

/* A request that gets error code; the server answers it, so it read on to here. */
static void probe(const char *what, const char *method, int code)
{
	int id = request(method, json_object_new_object());
	expect_error(what, id, code);
}

/* Broken framing and invalid requests: each bad message is followed by a probe the
 * server must answer next (nothing for the broken one itself unless due), and after all
 * of them a normal initialize + didOpen still gets its diagnostics. */
static int robust_session(const char *vmslim, const char *vmlinux_dir, const char *work)
{
	char *logf = vms_xasprintf("%s/lsp-robust.log", work), *cache = vms_xasprintf("%s/cache", work);
	spawn_server(vmslim, vmlinux_dir, logf, cache, NULL);
	/* before initialize, a request gets -32002: the probe */
	static const char *const framing[] = {
		"Content-Length: -5\r\n\r\n",
		"Content-Length: abc\r\n\r\n",
		"Content-Length: 12x\r\n\r\n{\"id\": 1}   ",
		"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{\"id\": 1}",
		"Content-Length: 99999999999999999999999\r\n\r\n{\"id\": 1}",
		"Content-Length: 4000000000\r\n\r\n",
		"Content-Length:\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(framing) / sizeof(*framing); i++) {
		send_raw(framing[i], strlen(framing[i]));
		probe(framing[i], "shutdown", -32002);
	}
	/* a header that never ends: 9000 bytes with no blank line */
	char junk[9000];
	memset(junk, 'x', sizeof(junk));
	memcpy(junk, "Content-Length: 10\r\nX-Junk: ", 28);
	send_raw(junk, sizeof(junk));
	probe("a 9000-byte header", "shutdown", -32002);

	/* bodies: unparsable JSON -32700 with id null; the rest -32600 */
	send_body("{\"id\": 3, \"method\": ");
	expect_error("truncated JSON", -1, -32700);
	send_body("{\"id\": 3} trailing");
	expect_error("trailing garbage", -1, -32700);
	send_body("");
	expect_error("empty body", -1, -32700);
	send_body("[1, 2]");
	expect_error("a batch array", -1, -32600);
	send_body("{\"jsonrpc\": \"2.0\", \"id\": 501}");
	expect_error("no method", 501, -32600);
	send_body("{\"jsonrpc\": \"2.0\", \"id\": 502, \"method\": 7}");
	expect_error("a number for the method", 502, -32600);
	send_body("{\"jsonrpc\": \"2.0\", \"id\": 503, \"method\": \"initialize\", \"params\": \"x\"}");
	expect_error("string params", 503, -32600);
	send_body("{\"jsonrpc\": \"2.0\", \"id\": [1], \"method\": \"shutdown\"}");
	expect_error("an array id", -1, -32600);
	/* notifications with the same faults get no reply; a response is dropped */
	send_body("{\"jsonrpc\": \"2.0\", \"method\": 7}");
	send_body("{\"jsonrpc\": \"2.0\", \"method\": \"textDocument/didOpen\", \"params\": [1]}");
	send_body("{\"jsonrpc\": \"2.0\", \"id\": 9, \"result\": null}");
	probe("after bad notifications", "shutdown", -32002);

	/* a normal session after all that */
	struct json_object *ip = json_object_new_object();
	json_object_object_add(ip, "capabilities", json_object_new_object());
	int id = request("initialize", ip);
	struct json_object *m = next_msg(T);
	CHECK(m && get(m, "result") && json_object_get_int(get(m, "id")) == id,
	      "no initialize reply after the bad input");
	json_object_put(m);
	send_raw(framing[1], strlen(framing[1]));
	send_body("{\"jsonrpc\": \"2.0\", \"id\": 504, \"method\": \"textDocument/didSave\", \"params\": 1}");
	expect_error("didSave with number params", 504, -32600);
	probe("initialized, after a bad header", "vmslim/none", -32601);
	char *path = vms_xasprintf("%s/robust.bpf.c", work), *uri = vms_xasprintf("file://%s", path);
	static const char src[] = "int f(void)\n{\n\treturn undeclared_n;\n}\n";
	vms_write_file_atomic(path, src, strlen(src), 0644);
	open_doc(uri, src, 1);
	struct json_object *own, *p = wait_diags(1, &own, T);
	CHECK(p && count_errors(p) >= 1, "no diagnostics after the bad input");
	json_object_put(own);
	stop_server();
	char *log = NULL;
	size_t ll;
	CHECK(vms_read_file(logf, &log, &ll) == 0 && strstr(log, "bad message header"),
	      "the bad headers were not logged");
	free(log), free(path), free(uri), free(logf), free(cache);
	return test_exit();
}

int main(int argc, char **argv)
{
	if (argc != 5 && !(argc == 6 && (!strcmp(argv[5], "load") || !strcmp(argv[5], "many") ||
					 !strcmp(argv[5], "robust") || !strcmp(argv[5], "order")))) {
		fprintf(stderr,
			"usage: test_lsp VMSLIM VMLINUX_DIR PROGS_DIR WORK_DIR [load|many|robust|order]\n");
		return 2;
	}
	const char *vmslim = argv[1], *vmlinux_dir = argv[2], *progs = argv[3], *work = argv[4];
	signal(SIGPIPE, SIG_IGN);
	test_fresh_dir(work);
	if (argc == 6) {
		int rc = !strcmp(argv[5], "many")     ? many_session(vmslim, vmlinux_dir, work)
			 : !strcmp(argv[5], "robust") ? robust_session(vmslim, vmlinux_dir, work)
			 : !strcmp(argv[5], "order")  ? order_session(vmslim, vmlinux_dir, work)
						      : load_session(vmslim, vmlinux_dir, work);
		vms_buf_free(&inbuf);
		return rc;
	}
	char *src_path = vms_xasprintf("%s/execsnoop.bpf.c", progs);
	char *text;
	size_t tlen;
	if (vms_read_file(src_path, &text, &tlen) < 0)
		return 1;
	/* the edited line gets a comment with a 4-byte (two UTF-16 units) and a 2-byte
	 * character ahead of the edit point */
	const char *needle = "\te->pid = ctx->pid;";
	char *at = strstr(text, needle);
	if (!at)
		return 1;
	int line0 = 0;
	for (char *p = text; p < at; p++)
		line0 += *p == '\n';
	struct vms_buf b = { 0 };
	vms_buf_append(&b, text, (size_t)(at - text));
	vms_buf_puts(&b, "\t/* \xf0\x9f\x98\x80 \xc3\xa9 */ e->pid = ctx->pid;");
	vms_buf_puts(&b, at + strlen(needle));
	char *good = vms_buf_steal(&b);
	/* UTF-16 column of "pid;" after "ctx->": the tab (1), comment opener and blank (3),
	 * the emoji (2), a blank (1), e-acute (1), blank, comment closer, blank (4), and
	 * "e->pid = ctx->" (14) */
	int col = 1 + 3 + 2 + 1 + 1 + 4 + 14;
	char *doc = vms_xasprintf("%s/execsnoop.bpf.c", work);
	vms_write_file_atomic(doc, good, strlen(good), 0644);
	char *uri = vms_xasprintf("file://%s", doc);
	char *logf = vms_xasprintf("%s/lsp.log", work);
	char *cache = vms_xasprintf("%s/cache", work);

	struct json_object *m = start_server(vmslim, vmlinux_dir, logf, cache, NULL);
	struct json_object *caps = get(get(m, "result"), "capabilities");
	CHECK(caps, "no capabilities in the initialize reply");
	struct json_object *sync = get(caps, "textDocumentSync");
	CHECK(sync && json_object_get_int(get(sync, "change")) == 2, "incremental sync not offered");
	json_object_put(m);
	notify("initialized", NULL);

	/* a request before anything is open, an unknown one */
	int bogus = request("textDocument/rename", json_object_new_object()); /* not served */
	m = next_msg(T);
	CHECK(m && json_object_get_int(get(m, "id")) == bogus && get(m, "error"),
	      "an unknown request got no error");
	json_object_put(m);

	struct json_object *own = NULL, *p;
	double t0 = vms_now_ms();
	open_doc(uri, good, 0);
	p = wait_diags(0, &own, T);
	printf("open -> diagnostics: %.1f ms\n", vms_now_ms() - t0);
	CHECK(p && count_errors(p) == 0, "errors in the clean file: %s",
	      p ? json_object_to_json_string(p) : "(no diagnostics)");
	json_object_put(own);

	/* break and fix, incremental, a few times */
	for (int v = 1; v <= 6; v++) {
		t0 = vms_now_ms();
		if (v % 2)
			change_range(uri, v, line0, col, col + 4, "pidd;");
		else
			change_range(uri, v, line0, col, col + 5, "pid;");
		p = wait_diags(v, &own, T);
		printf("v%d %s -> diagnostics: %.2f ms\n", v, v % 2 ? "break" : "fix", vms_now_ms() - t0);
		if (v % 2)
			CHECK(p && errors_on(p, line0, NULL) >= 1, "v%d: no error on line %d: %s", v,
			      line0, p ? json_object_to_json_string(p) : "(none)");
		else
			CHECK(p && count_errors(p) == 0, "v%d: errors after the fix: %s", v,
			      p ? json_object_to_json_string(p) : "(none)");
		json_object_put(own);
	}

	/* two changes in one burst: only the last version needs an answer, and no answer
	 * may describe the first one's text as the second's */
	change_range(uri, 7, line0, col, col + 4, "pidd;");
	change_range(uri, 8, line0, col, col + 5, "pid;");
	p = wait_diags(8, &own, T);
	CHECK(p && count_errors(p) == 0, "v8 (after a burst) has errors");
	json_object_put(own);

	/* full-text sync */
	const char *hit = strstr(good, "ctx->pid;");
	char *bad = vms_xasprintf("%.*sctx->pidd;%s", (int)(hit - good), good, hit + 9);
	change_full(uri, 9, bad);
	p = wait_diags(9, &own, T);
	CHECK(p && errors_on(p, line0, NULL) >= 1, "v9 (full text): no error on line %d", line0);
	json_object_put(own);

	/* save the broken text: clang's own message arrives for the same version */
	vms_write_file_atomic(doc, bad, strlen(bad), 0644);
	struct json_object *sp = json_object_new_object();
	json_object_object_add(sp, "textDocument", td_id(uri, -1));
	t0 = vms_now_ms();
	notify("textDocument/didSave", sp);
	p = wait_diags(9, &own, T);
	printf("save -> build diagnostics: %.1f ms\n", vms_now_ms() - t0);
	CHECK(p && errors_on(p, line0, "no member named 'pidd'") >= 1,
	      "no clang error after saving: %s", p ? json_object_to_json_string(p) : "(none)");
	json_object_put(own);
	change_full(uri, 10, good);
	p = wait_diags(10, &own, T);
	CHECK(p && count_errors(p) == 0, "v10: errors after the fix");
	json_object_put(own);

	/* what TCC cannot judge goes to clang */
	const char *asm_src =
		"#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n"
		"SEC(\"xdp\") int f(struct xdp_md *ctx)\n{\n"
		"\tasm volatile(\"r0 = 0\" ::: \"r0\");\n\treturn XDP_PASS;\n}\n"
		"char LICENSE[] SEC(\"license\") = \"GPL\";\n";
	char *asm_doc = vms_xasprintf("%s/asm.bpf.c", work);
	char *asm_uri = vms_xasprintf("file://%s", asm_doc);
	vms_write_file_atomic(asm_doc, asm_src, strlen(asm_src), 0644);
	max_version_sent = 100;
	open_doc(asm_uri, asm_src, 1);
	p = wait_diags(1, &own, T);
	CHECK(p && count_errors(p) == 0, "inline asm file: %s", p ? json_object_to_json_string(p) : "(none)");
	json_object_put(own);
	char *asm_bad = vms_xasprintf("%s", asm_src);
	char *xp = strstr(asm_bad, "XDP_PASS");
	memcpy(xp, "XDP_PASZ", 8);
	change_full(asm_uri, 2, asm_bad);
	p = wait_diags(2, &own, T);
	CHECK(p && errors_on(p, 5, NULL) >= 1, "inline asm file with an error: %s",
	      p ? json_object_to_json_string(p) : "(none)");
	json_object_put(own);

	/* close clears */
	struct json_object *cp = json_object_new_object();
	json_object_object_add(cp, "textDocument", td_id(asm_uri, -1));
	notify("textDocument/didClose", cp);
	for (;;) {
		m = next_msg(T);
		if (!m)
			break;
		if (str_of(m, "method") && !strcmp(str_of(m, "method"), "textDocument/publishDiagnostics") &&
		    !strcmp(str_of(get(m, "params"), "uri"), asm_uri)) {
			CHECK(json_object_array_length(get(get(m, "params"), "diagnostics")) == 0,
			      "didClose did not clear");
			json_object_put(m);
			break;
		}
		json_object_put(m);
	}

	stop_server();

	/* the clang-exact tier: libclang with a precompiled preamble on every change */
	m = start_server(vmslim, vmlinux_dir, logf, cache, "--exact");
	json_object_put(m);
	max_version_sent = -1;
	t0 = vms_now_ms();
	open_doc(uri, good, 0);
	p = wait_diags(0, &own, T);
	printf("exact: open -> diagnostics: %.1f ms\n", vms_now_ms() - t0);
	CHECK(p && count_errors(p) == 0, "exact: errors in the clean file: %s",
	      p ? json_object_to_json_string(p) : "(none)");
	json_object_put(own);
	for (int v = 1; v <= 4; v++) {
		t0 = vms_now_ms();
		if (v % 2)
			change_range(uri, v, line0, col, col + 4, "pidd;");
		else
			change_range(uri, v, line0, col, col + 5, "pid;");
		p = wait_diags(v, &own, T);
		printf("exact: v%d %s -> diagnostics: %.2f ms\n", v, v % 2 ? "break" : "fix",
		       vms_now_ms() - t0);
		if (v % 2)
			CHECK(p && errors_on(p, line0, "no member named 'pidd'") >= 1,
			      "exact v%d: no clang error on line %d: %s", v, line0,
			      p ? json_object_to_json_string(p) : "(none)");
		else
			CHECK(p && count_errors(p) == 0, "exact v%d: errors after the fix", v);
		json_object_put(own);
	}
	stop_server();

	vms_buf_free(&inbuf);
	free(asm_bad), free(asm_doc), free(asm_uri), free(bad), free(good), free(text);
	free(src_path), free(doc), free(uri), free(logf), free(cache);
	if (!failures)
		printf("lsp: ok\n");
	return test_exit();
}
