/* clangsnap/proto.h: what the library and the shim inside clang say to each other. Not API.
 *
 * The library runs cc1 with LD_PRELOAD=shim and these variables; the control socket is a
 * SOCK_SEQPACKET socketpair, so each request is one message whose descriptors travel
 * with it (SCM_RIGHTS) and nothing is read through stdio (a child's stdio teardown would
 * move a stream shared with the server).
 *
 * Processes forked from the one that started the snapshot may have closed their copy of
 * the control socket (the daemon's workers close every descriptor they do not own): they
 * connect to a listening SOCK_SEQPACKET socket in the template directory instead and send
 * the same requests on their own connection. Only the control socket's EOF stops the
 * server. */
#ifndef VMSLIM_CLANGSNAP_PROTO_H
#define VMSLIM_CLANGSNAP_PROTO_H

#include <limits.h>
#include <stdint.h>

#define CSNAP_ENV_FD "VMSLIM_CLANGSNAP_FD"	   /* control socket's fd number */
#define CSNAP_ENV_MAIN "VMSLIM_CLANGSNAP_MAIN"	   /* template main file (blank padding) */
#define CSNAP_ENV_MARKER "VMSLIM_CLANGSNAP_MARKER" /* last -include: where the server starts */
#define CSNAP_ENV_OUT "VMSLIM_CLANGSNAP_OUT"	   /* template's -o */
#define CSNAP_ENV_DIR "VMSLIM_CLANGSNAP_DIR"	   /* template directory */
#define CSNAP_ENV_HEADER "VMSLIM_CLANGSNAP_HEADER" /* the header (may sit beside sources) */
#define CSNAP_ENV_DEP "VMSLIM_CLANGSNAP_DEP"	   /* template's dependency file, or unset */
#define CSNAP_ENV_LISTEN "VMSLIM_CLANGSNAP_LISTEN" /* listening socket's fd number */
#define CSNAP_ENV_SOURCE "VMSLIM_CLANGSNAP_SOURCE" /* the input as cc1 opens it (one-program
						    * snapshots), or unset */

#define CSNAP_MAGIC 0x70616e73u

/* Exit code of a child that found the request does not apply (reason on its stderr,
 * one line starting with CSNAP_NA_PREFIX). */
#define CSNAP_EXIT_NA 117
#define CSNAP_NA_PREFIX "clangsnap: does not apply: "

/* Server -> library, once, when the marker is reached (or when it cannot serve). */
struct csnap_ready {
	uint32_t magic;
	int32_t err;		/* 0, or -errno */
	char why[200];
};

/* Library -> server: one build. Descriptors, in order: the main-file text (a memfd of
 * exactly the template main file's size), the output file, stderr, the status pipe's
 * write end, the dependency file (what the child's clang writes when it opens the
 * template's: a memfd). The server writes the child's pid (int32, -1 when it could not
 * fork) and then its wait status (int32) to the status pipe and closes it. */
struct csnap_req {
	uint32_t magic;
	uint32_t timeout_ms;
	char srcdir[PATH_MAX];	/* the program's directory, absolute */
};
#define CSNAP_REQ_FDS 5
#define CSNAP_SOCKET_NAME "ctl.sock"

#endif
