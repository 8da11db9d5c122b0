/* The daemon's HTTP front (serve/http.h): static files from memory, POST /check and
 * /build proxied to the daemon's own socket. */
#include "serve/http.h"
#include "serve/serve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef VMSLIM_HAVE_MHD

int vms_http_available(void)
{
	return 0;
}

int vms_http_start(const struct vms_http_opts *o, struct vms_http **out, struct vms_diags *d)
{
	(void)o;
	*out = NULL;
	vms_diag_add(d, VMS_ERROR, NULL, 0, 0,
		     "--http: this vmslim was built without libmicrohttpd (Debian: apt install "
		     "libmicrohttpd-dev, then configure again)");
	return -ENOTSUP;
}

unsigned vms_http_port(const struct vms_http *h)
{
	(void)h;
	return 0;
}

void vms_http_stop(struct vms_http *h)
{
	(void)h;
}

#else

#include <arpa/inet.h>
#include <json-c/json.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>

#include "serve/mhd_dl.h"

/* the library's functions, set by vms_http_start before any callback can run */
static const struct mhd_fns *mhd;

/* One file served at one URL path. */
struct http_file {
	char *url;
	const char *type;
	char *data;
	size_t len;
};

struct vms_http {
	struct MHD_Daemon *mhd;
	struct http_file *files;
	size_t n_files;
	char *socket_path;
	size_t max_body;
	int timeout_s, call_timeout_ms;
	int loopback;		/* bound to a loopback address: Host must name one */
	unsigned port;
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/* What one request is doing between the access handler's calls. */
struct http_req {
	int op;			/* 0: not a POST route; 1 check; 2 build */
	int too_large;
	struct vms_buf body;
};

static const char *const op_names[] = { NULL, "check", "build" };

/* Every answer says: nothing here may be framed, sniffed, or load from elsewhere. The
 * page runs the checker's WebAssembly ('wasm-unsafe-eval') and talks only to us. */
static const char csp[] =
	"default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
	"frame-ancestors 'none'";

static void hlog(struct vms_http *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hlog(struct vms_http *h, const char *fmt, ...)
{
	if (!h->log)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) >= 0)
		h->log(h->log_ctx, line);
	va_end(ap);
	free(line);
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct vms_http *h = cls;
	if (!h->log)
		return;
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) >= 0) {
		size_t n = strlen(line);
		while (n && line[n - 1] == '\n')
			line[--n] = 0;
		char *l = vms_xasprintf("http: %s", line);
		h->log(h->log_ctx, l);
		free(l);
	}
	free(line);
}

/* ---- answers ------------------------------------------------------------------------ */

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
			       const void *data, size_t len, int persistent, const char *allow)
{
	struct MHD_Response *r = mhd->create_response_from_buffer(
		len, (void *)data, persistent ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	mhd->add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	mhd->add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd->add_response_header(r, "Content-Security-Policy", csp);
	mhd->add_response_header(r, "Referrer-Policy", "no-referrer");
	mhd->add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
				persistent ? "no-cache" : "no-store");
	if (allow)
		mhd->add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	enum MHD_Result ret = mhd->queue_response(c, status, r);
	mhd->destroy_response(r);
	return ret;
}

/* An error in the socket protocol's own form, so a client handles both the same way. */
static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status,
				     const char *code, const char *message, const char *allow)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "id", NULL);
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object *e = json_object_new_object();
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(message));
	json_object_object_add(o, "error", e);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	enum MHD_Result r = respond(c, status, "application/json", t, strlen(t), 0, allow);
	json_object_put(o);
	return r;
}

/* ---- the files ---------------------------------------------------------------------- */

static int add_file(struct vms_http *h, const char *url, const char *type, const char *path,
		    struct vms_diags *d)
{
	char *data;
	size_t len;
	int e = vms_read_regular_file(path, 64u << 20, &data, &len);
	if (e < 0) {
		vms_diag_add(d, VMS_ERROR, path, 0, 0, "--http: cannot read: %s", strerror(-e));
		return e;
	}
	h->files = vms_xrealloc(h->files, (h->n_files + 1) * sizeof(*h->files));
	h->files[h->n_files++] = (struct http_file){ vms_xstrdup(url), type, data, len };
	return 0;
}

static const struct {
	const char *url, *name, *type;
} web_files[] = {
	{ "/", "index.html", "text/html; charset=utf-8" },
	{ "/playground.js", "playground.js", "text/javascript; charset=utf-8" },
	{ "/playground.css", "playground.css", "text/css; charset=utf-8" },
	{ "/default.bpf.c", "default.bpf.c", "text/plain; charset=utf-8" },
};

static const struct {
	const char *name, *type;
} bundle_files[] = {
	{ "manifest.json", "application/json" },
	{ "vmslim-tcc.wasm", "application/wasm" },
	{ "vmslim-tcc.js", "text/javascript; charset=utf-8" },
	{ "vmslim-check.js", "text/javascript; charset=utf-8" },
};

/* A manifest's header path is served only if it is plainly absolute: no "." or ".."
 * segment, no empty one (the bundle is ours, but the URL table must stay a fixed list of
 * ordinary names). */
static int plain_abs_path(const char *p)
{
	if (*p != '/' || strlen(p) > 4096)
		return 0;
	for (const char *s = p; *s;) {
		s++;
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		s += n;
	}
	return 1;
}

static int load_bundle(struct vms_http *h, const char *dir, struct vms_diags *d)
{
	for (size_t i = 0; i < sizeof(bundle_files) / sizeof(bundle_files[0]); i++) {
		char *url = vms_xasprintf("/bundle/%s", bundle_files[i].name);
		char *p = vms_xasprintf("%s/%s", dir, bundle_files[i].name);
		int e = add_file(h, url, bundle_files[i].type, p, d);
		free(url), free(p);
		if (e < 0)
			return e;
	}
	/* the manifest was the first one added */
	json_object *m = json_tokener_parse(h->files[h->n_files - 4].data);
	json_object *files = NULL;
	if (!m || !json_object_object_get_ex(m, "files", &files) ||
	    !json_object_is_type(files, json_type_array)) {
		vms_diag_add(d, VMS_ERROR, dir, 0, 0, "--http: manifest.json has no \"files\"");
		json_object_put(m);
		return -EINVAL;
	}
	int e = 0;
	for (size_t i = 0; i < json_object_array_length(files) && !e; i++) {
		const char *f = json_object_get_string(json_object_array_get_idx(files, i));
		if (!f || !plain_abs_path(f)) {
			vms_diag_add(d, VMS_ERROR, dir, 0, 0, "--http: manifest.json: "
				     "not a plain absolute path: %s", f ? f : "(null)");
			e = -EINVAL;
			break;
		}
		char *url = vms_xasprintf("/bundle/fs%s", f);
		int dup = 0;
		for (size_t k = 0; k < h->n_files && !dup; k++)
			dup = !strcmp(h->files[k].url, url);
		char *p = vms_xasprintf("%s/fs%s", dir, f);
		if (!dup)
			e = add_file(h, url, "text/plain; charset=utf-8", p, d);
		free(url), free(p);
	}
	json_object_put(m);
	return e;
}

static const struct http_file *find_file(const struct vms_http *h, const char *url)
{
	for (size_t i = 0; i < h->n_files; i++)
		if (!strcmp(h->files[i].url, url))
			return &h->files[i];
	return NULL;
}

/* ---- requests ----------------------------------------------------------------------- */

/* With a loopback bind, the Host header must name a loopback host: a page elsewhere that
 * rebinds its DNS name to 127.0.0.1 then still cannot use the daemon. HTTP/1.0 requests
 * without Host are no browser's. */
static int host_ok(const struct vms_http *h, struct MHD_Connection *c)
{
	if (!h->loopback)
		return 1;
	const char *host = mhd->lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (!host)
		return 1;
	char name[256];
	size_t n;
	if (host[0] == '[') {
		const char *e = strchr(host, ']');
		n = e ? (size_t)(e - host) + 1 : strlen(host);
	} else {
		n = strcspn(host, ":");
	}
	if (n >= sizeof(name))
		return 0;
	memcpy(name, host, n);
	name[n] = 0;
	struct in_addr a4;
	if (!strcasecmp(name, "localhost") || !strcmp(name, "[::1]"))
		return 1;
	return inet_pton(AF_INET, name, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

static int is_json_type(struct MHD_Connection *c)
{
	const char *t = mhd->lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_TYPE);
	static const char want[] = "application/json";
	if (!t || strncasecmp(t, want, sizeof(want) - 1))
		return 0;
	t += sizeof(want) - 1;
	while (*t == ' ' || *t == '\t')
		t++;
	return *t == 0 || *t == ';';
}

/* The HTTP status of a daemon's reply: 200 for every understood request (whatever the
 * source's fate: "status" says it), else by the error's code. */
static unsigned reply_status(const char *reply)
{
	json_object *o = json_tokener_parse(reply), *ok, *err, *code;
	unsigned st = 502;
	if (o && json_object_object_get_ex(o, "ok", &ok)) {
		if (json_object_get_boolean(ok)) {
			st = 200;
		} else if (json_object_object_get_ex(o, "error", &err) &&
			   json_object_object_get_ex(err, "code", &code)) {
			const char *k = json_object_get_string(code);
			st = !strcmp(k, "too_large") ? 413
			     : !strcmp(k, "busy") || !strcmp(k, "shutting_down") ? 503
			     : !strcmp(k, "output") ? 500 : 400;
		}
	}
	json_object_put(o);
	return st;
}

/* One POST body into one socket request: parsed as the daemon parses a line (same depth,
 * strictness and UTF-8 check, so the same bodies fail with the same message), "op" set
 * from the path. */
static enum MHD_Result proxy(struct vms_http *h, struct MHD_Connection *c, struct http_req *r)
{
	const char *op = op_names[r->op];
	struct json_tokener *tok = json_tokener_new_ex(16);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	const char *body = r->body.data ? r->body.data : "";
	size_t len = r->body.len;
	json_object *req = json_tokener_parse_ex(tok, body, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (end < len && strchr(" \t\r\n", body[end]))
		end++;
	if (!req || err != json_tokener_success || end != len) {
		json_object_put(req);
		char *m = vms_xasprintf("malformed JSON: %s", err != json_tokener_success
								      ? json_tokener_error_desc(err)
								      : "trailing characters");
		enum MHD_Result ret = respond_error(c, 400, "bad_request", m, NULL);
		free(m);
		return ret;
	}
	json_object *v;
	const char *why = NULL;
	if (!json_object_is_type(req, json_type_object))
		why = "a request is a JSON object";
	else if (json_object_object_get_ex(req, "op", &v) &&
		 (!json_object_is_type(v, json_type_string) || strcmp(json_object_get_string(v), op)))
		why = r->op == 1 ? "\"op\" may only be \"check\" at /check"
				 : "\"op\" may only be \"build\" at /build";
	else if (json_object_object_get_ex(req, "output", &v))
		/* the daemon writes no files for strangers over the network */
		why = "\"output\" is not available over HTTP: the object comes back in \"object\"";
	if (why) {
		json_object_put(req);
		return respond_error(c, 400, "bad_request", why, NULL);
	}
	json_object_object_add(req, "op", json_object_new_string(op));
	const char *line = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE);
	char *reply = NULL;
	int e = vms_client_call(h->socket_path, line, &reply, h->call_timeout_ms);
	json_object_put(req);
	/* the answer may have taken longer than the idle timeout: that was us, not the client */
	mhd->set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)h->timeout_s);
	if (e < 0 || !reply) {
		free(reply);
		char *m = vms_xasprintf("the daemon did not answer: %s", strerror(e < 0 ? -e : EIO));
		enum MHD_Result ret = respond_error(c, 503, "unavailable", m, NULL);
		free(m);
		return ret;
	}
	size_t n = strlen(reply);
	while (n && (reply[n - 1] == '\n' || reply[n - 1] == '\r'))
		reply[--n] = 0;
	enum MHD_Result ret = respond(c, reply_status(reply), "application/json", reply, n, 0, NULL);
	free(reply);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	(void)version;
	struct vms_http *h = cls;
	struct http_req *r = *state;
	if (!r) {
		r = vms_xcalloc(1, sizeof(*r));
		*state = r;
		if (!host_ok(h, c))
			return respond_error(c, 403, "forbidden", "Host is not a loopback name", NULL);
		int is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
		int is_post = !strcmp(method, "POST");
		for (int i = 1; i <= 2; i++)
			if (url[0] == '/' && !strcmp(url + 1, op_names[i]))
				r->op = i;
		if (r->op) {
			if (!is_post)
				return respond_error(c, 405, "method_not_allowed",
						     "use POST with a JSON body", "POST");
			if (!is_json_type(c))
				return respond_error(c, 415, "unsupported_media_type",
						     "Content-Type must be application/json", NULL);
			const char *cl = mhd->lookup_connection_value(c, MHD_HEADER_KIND,
								     MHD_HTTP_HEADER_CONTENT_LENGTH);
			if (cl && strtoull(cl, NULL, 10) > h->max_body)
				return respond_error(c, 413, "too_large", "the body is too large", NULL);
			return MHD_YES; /* the body comes in the next calls */
		}
		const struct http_file *f = find_file(h, url);
		if (!f)
			return respond_error(c, 404, "not_found", "no such file", NULL);
		if (!is_get)
			return respond_error(c, 405, "method_not_allowed", "use GET", "GET, HEAD");
		return respond(c, 200, f->type, f->data, f->len, 1, NULL);
	}
	if (*upload_size) {
		/* a chunked body has no length up front: past the bound it is read and dropped */
		if (!r->too_large && r->body.len + *upload_size <= h->max_body)
			vms_buf_append(&r->body, upload, *upload_size);
		else
			r->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->too_large)
		return respond_error(c, 413, "too_large", "the body is too large", NULL);
	return proxy(h, c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **state,
		      enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	struct http_req *r = *state;
	if (r) {
		vms_buf_free(&r->body);
		free(r);
		*state = NULL;
	}
}

/* ---- start, stop -------------------------------------------------------------------- */

/* "HOST:PORT", "[V6]:PORT" or "PORT" into a socket address. 0 or -EINVAL. */
static int parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sl, int *v6)
{
	char host[256];
	const char *port;
	if (s[0] == '[') {
		const char *e = strchr(s, ']');
		if (!e || e[1] != ':' || (size_t)(e - s - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = 0;
		port = e + 2;
	} else if (strchr(s, ':')) {
		const char *e = strrchr(s, ':');
		if ((size_t)(e - s) >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, (size_t)(e - s));
		host[e - s] = 0;
		port = e + 1;
	} else {
		strcpy(host, "127.0.0.1");
		port = s;
	}
	if (!*host)
		strcpy(host, "127.0.0.1");
	char *end;
	long p = strtol(port, &end, 10);
	if (!*port || *end || p < 0 || p > 65535)
		return -EINVAL;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV }, *ai = NULL;
	if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sl = ai->ai_addrlen;
	*v6 = ai->ai_family == AF_INET6;
	freeaddrinfo(ai);
	return 0;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

int vms_http_available(void)
{
	return mhd_dl(NULL) != NULL;
}

static void free_http(struct vms_http *h)
{
	for (size_t i = 0; i < h->n_files; i++) {
		free(h->files[i].url);
		free(h->files[i].data);
	}
	free(h->files);
	free(h->socket_path);
	free(h);
}

int vms_http_start(const struct vms_http_opts *o, struct vms_http **out, struct vms_diags *d)
{
	*out = NULL;
	const char *why = NULL;
	if (!mhd && !(mhd = mhd_dl(&why))) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "--http: cannot load libmicrohttpd: %s "
			     "(Debian: apt install libmicrohttpd12)", why);
		return -ENOTSUP;
	}
	struct sockaddr_storage ss = { 0 };
	socklen_t sl = 0;
	int v6 = 0;
	if (!o->addr || parse_addr(o->addr, &ss, &sl, &v6) < 0) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "--http: expected [HOST:]PORT or "
			     "[V6]:PORT, not '%s'", o->addr ? o->addr : "");
		return -EINVAL;
	}
	struct vms_http *h = vms_xcalloc(1, sizeof(*h));
	h->socket_path = vms_xstrdup(o->socket_path);
	h->max_body = o->max_body ? o->max_body : 1u << 20;
	h->timeout_s = o->timeout_s > 0 ? o->timeout_s : 10;
	h->call_timeout_ms = o->call_timeout_ms > 0 ? o->call_timeout_ms : 60000;
	h->loopback = is_loopback(&ss);
	h->log = o->log;
	h->log_ctx = o->log_ctx;
	int e = 0;
	for (size_t i = 0; i < sizeof(web_files) / sizeof(web_files[0]) && !e; i++) {
		char *p = vms_xasprintf("%s/%s", o->web_dir, web_files[i].name);
		e = add_file(h, web_files[i].url, web_files[i].type, p, d);
		free(p);
	}
	size_t n_web = h->n_files;
	if (!e && o->bundle_dir)
		e = load_bundle(h, o->bundle_dir, d);
	if (e < 0) {
		free_http(h);
		return e;
	}
	/* libmicrohttpd's threads must not take the daemon's signals (its handler writes a
	 * pipe the main loop reads, which any thread could do, but SIGTERM's arrival should
	 * wake the loop's poll, not a connection thread's) */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
			 MHD_USE_ERROR_LOG | (v6 ? MHD_USE_IPv6 : 0);
	h->mhd = mhd->start_daemon(flags, 0, NULL, NULL, handle, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, h, /* first: it covers the others */
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)(o->max_conns > 0 ? o->max_conns : 64),
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)(o->per_ip > 0 ? o->per_ip : 8),
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->timeout_s,
		MHD_OPTION_NOTIFY_COMPLETED, completed, h,
		MHD_OPTION_END);
	int se = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->mhd) {
		vms_diag_add(d, VMS_ERROR, NULL, 0, 0, "--http: cannot listen on %s: %s",
			     o->addr, se ? strerror(se) : "libmicrohttpd refused");
		free_http(h);
		return se ? -se : -EADDRINUSE;
	}
	const union MHD_DaemonInfo *info = mhd->get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	size_t bytes = 0;
	for (size_t i = n_web; i < h->n_files; i++)
		bytes += h->files[i].len;
	char shown[INET6_ADDRSTRLEN] = "?";
	if (v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, shown, sizeof(shown));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, shown, sizeof(shown));
	char *what = o->bundle_dir ? vms_xasprintf("WebAssembly bundle: %zu files, %zu KB",
						   h->n_files - n_web, bytes >> 10)
				   : vms_xstrdup("no WebAssembly bundle: the page checks through "
						 "POST /check");
	hlog(h, "http: the playground on http://%s%s%s:%u/ (%s)", v6 ? "[" : "", shown,
	     v6 ? "]" : "", h->port, what);
	free(what);
	*out = h;
	return 0;
}

unsigned vms_http_port(const struct vms_http *h)
{
	return h ? h->port : 0;
}

void vms_http_stop(struct vms_http *h)
{
	if (!h)
		return;
	mhd->stop_daemon(h->mhd);
	free_http(h);
}

#endif
