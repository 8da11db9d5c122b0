/* serve/ internal: libmicrohttpd, loaded when `serve --http` first needs it (mhd_dl.c).
 * Only the declarations of <microhttpd.h> are compiled in; the library and what it pulls
 * in (gnutls, nettle, gmp, p11-kit: a dozen objects, ~1.2 ms of dynamic linking) are not
 * loaded by the other commands, `vmslim cc` above all, which runs once per compile. */
#ifndef VMSLIM_SERVE_MHD_DL_H
#define VMSLIM_SERVE_MHD_DL_H

#include <microhttpd.h>

/* The functions serve/http.c calls, typed from the header's own prototypes. */
struct mhd_fns {
	__typeof__(MHD_start_daemon) *start_daemon;
	__typeof__(MHD_stop_daemon) *stop_daemon;
	__typeof__(MHD_get_daemon_info) *get_daemon_info;
	__typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
	__typeof__(MHD_add_response_header) *add_response_header;
	__typeof__(MHD_queue_response) *queue_response;
	__typeof__(MHD_destroy_response) *destroy_response;
	__typeof__(MHD_lookup_connection_value) *lookup_connection_value;
	__typeof__(MHD_set_connection_option) *set_connection_option;
};

/* The library's functions, loaded once per process (thread-safe); NULL when it cannot be
 * loaded, with why (a static string, dlerror's or ours). */
const struct mhd_fns *mhd_dl(const char **why);

#endif
