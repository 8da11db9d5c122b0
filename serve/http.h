/* serve/http: the daemon's HTTP front (`vmslim serve --http ADDR:PORT`, docs/protocol.md
 * "HTTP"). A thin proxy in the daemon's process: the playground page and the WebAssembly
 * bundle are served from memory (a fixed list of files read at start, so no request path
 * ever reaches the file system), and each POST /check or /build body becomes one request
 * of the socket protocol, sent with vms_client_call() to the daemon's own Unix socket.
 * Every confinement, limit, cache and queue of the socket daemon applies to it unchanged;
 * the HTTP side adds its own limits for what only HTTP has (slow clients, bodies, IPs).
 * Built on Debian's libmicrohttpd; without it vms_http_start says so. Nothing here prints:
 * log lines go through the callback, errors into diagnostics. */
#ifndef VMSLIM_SERVE_HTTP_H
#define VMSLIM_SERVE_HTTP_H

#include <stddef.h>

#include "common/common.h"

struct vms_http_opts {
	const char *addr;	/* "HOST:PORT", "[V6]:PORT" or "PORT" (127.0.0.1); port 0:
				 * any free one (vms_http_port) */
	const char *socket_path;	/* the daemon's socket: where requests go */
	const char *web_dir;	/* the page: index.html, playground.js, playground.css,
				 * default.bpf.c */
	const char *bundle_dir;	/* a `vmslim wasm` bundle, served under /bundle/; NULL: none
				 * (the page then checks through POST /check) */
	size_t max_body;	/* largest POST body; 0: 1 MiB */
	int timeout_s;		/* a connection silent this long is closed; 0: 10 */
	int max_conns;		/* connections in all; 0: 64 */
	int per_ip;		/* connections from one address; 0: 8 */
	int call_timeout_ms;	/* one proxied request; 0: 60000 */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

struct vms_http;

/* 1 when this build has the HTTP front (libmicrohttpd). */
int vms_http_available(void);
/* Reads the files, binds, and starts serving on libmicrohttpd's own threads (signals
 * blocked there: they stay the daemon's). 0 or -errno (diagnostic in d). */
int vms_http_start(const struct vms_http_opts *o, struct vms_http **out, struct vms_diags *d);
/* The port bound (useful with port 0). */
unsigned vms_http_port(const struct vms_http *h);
/* Stops serving (open connections are closed) and frees everything. NULL is fine. */
void vms_http_stop(struct vms_http *h);

#endif
