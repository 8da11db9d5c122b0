/* `vmslim serve --http`: the options, the bundle made at start, and the HTTP front's life
 * beside the socket daemon (serve/http.h). cmd_serve.c takes these few hooks. */
#ifndef VMSLIM_CLI_SERVE_HTTP_H
#define VMSLIM_CLI_SERVE_HTTP_H

#include "cli/cli.h"
#include "serve/serve.h"

enum { O_HTTP_FIRST = 0x1000, O_HTTP = O_HTTP_FIRST, O_HTTP_WEB, O_HTTP_BUNDLE, O_HTTP_TIMEOUT,
       O_HTTP_PER_IP, O_HTTP_MAX_CONN, O_HTTP_LAST };

#define SERVE_HTTP_OPTIONS \
	{ "http", required_argument, NULL, O_HTTP }, \
	{ "http-web", required_argument, NULL, O_HTTP_WEB }, \
	{ "http-bundle", required_argument, NULL, O_HTTP_BUNDLE }, \
	{ "http-timeout", required_argument, NULL, O_HTTP_TIMEOUT }, \
	{ "http-per-ip", required_argument, NULL, O_HTTP_PER_IP }, \
	{ "http-max-connections", required_argument, NULL, O_HTTP_MAX_CONN }

#define SERVE_HTTP_HELP \
	"      --http [HOST:]PORT also serve the playground over HTTP (default host\n" \
	"                         127.0.0.1): the page at /, the WebAssembly checker under\n" \
	"                         /bundle/, POST /check and /build (JSON bodies as on the\n" \
	"                         socket, same answers); needs libmicrohttpd\n" \
	"      --http-web DIR     the page's files (default: web/ beside the headers)\n" \
	"      --http-bundle DIR  serve this `vmslim wasm` bundle (default: one made at start\n" \
	"                         with the daemon's header and -D flags)\n" \
	"      --http-timeout S   close an HTTP connection silent for S seconds (default 10)\n" \
	"      --http-per-ip N    HTTP connections from one address (default 8)\n" \
	"      --http-max-connections N  HTTP connections in all (default 64)\n"

/* An option of ours into the saved settings: 0 (also for another's option), -1 bad. */
int serve_http_option(struct cli_args *a);
/* With --http: makes the bundle and starts serving; 0, or -1 after saying why. */
int serve_http_start(const struct vms_serve_opts *o);
void serve_http_stop(void);

#endif
