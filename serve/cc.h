/* `vmslim cc` as a library: the one function the CLI, the per-user daemon and the bench
 * call for a BPF compile, the daemon's answer cache for it (ccache's direct mode), and the
 * client side of the per-user daemon (finding, starting and asking it). Nothing here
 * prints or exits. */
#ifndef VMSLIM_SERVE_CC_H
#define VMSLIM_SERVE_CC_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "pch/pch.h"

struct vms_slim_ctx;

/* ---- one compile (serve/cc_run.c) ------------------------------------------------- */

struct vms_cc_req {
	const char *clang;		/* the clang of BPF compiles (resolved by the caller) */
	char *const *args;		/* clang's arguments, without clang itself */
	int nargs;
	const char *cache_dir;		/* NULL: vms_cache_dir_default() */
	int slim;			/* try vms_slim_build first (falls back when it does
					 * not apply) */
	struct vms_slim_ctx *slim_ctx;	/* warm slim state, or NULL (one-shot) */
	int slim_verify;		/* with slim: prove each object the full header's
					 * (objdiff); a difference is exit 1, no object */
	int capture;			/* when the fast path cannot answer, run plain clang
					 * here with its output captured (the daemon); 0:
					 * return VMS_CC_EXEC for the caller to exec it */
	const char *extra_dep_file;	/* the program asked for no dependency file: have
					 * clang write one here anyway (the answer cache's
					 * manifest); NULL: none */
	const struct vms_pch_seal *seal_in;
	const struct vms_build_via *via; /* a faster way to compile (the daemon's clang
					 * snapshots, serve/snap.c), or NULL */
};

struct vms_cc_answer {
	int exit_code;			/* clang's */
	char *out, *err;		/* clang's stdout and stderr, never NULL */
	size_t out_len, err_len;
	char *mode;			/* which path answered and why, never NULL */
	int plain;			/* a plain clang run gave the answer */
	struct vms_pch_seal seal;	/* the PCH's seal (valid 0 without one) */
	struct vms_diags diags;		/* why the fast path was left, when it was */
};
void vms_cc_answer_free(struct vms_cc_answer *a);

enum { VMS_CC_DONE = 0, VMS_CC_EXEC = 1 };

/* The environment a BPF compile sees that can change its answer (NULL-terminated): the
 * client sends it, the daemon keys and sets it; a build whose client cannot send it
 * stays in process. */
extern const char *const vms_cc_env_names[];

/* Compiles a BPF command line (vms_cc_plan says it is one) through the PCH path (or the
 * slim path with slim); what that cannot answer — a compile error, whose messages must be
 * clang's own, or a program the path does not apply to — runs under plain clang (capture)
 * or comes back as VMS_CC_EXEC. VMS_CC_DONE with a filled answer otherwise; -errno when
 * clang could not be run at all (capture). */
int vms_cc_run(const struct vms_cc_req *q, struct vms_cc_answer *a);

/* The dependency file a command line makes clang write (its -MF, else the output with its
 * extension replaced by .d under -MD/-MMD), or NULL; *mmd: -MMD (system headers left out).
 * Owned. */
char *vms_cc_dep_path(const struct vms_cc_plan *p, int *mmd);
/* The prerequisites of the first rule of a dependency file (make syntax unescaped). */
void vms_cc_dep_parse(const char *text, size_t len, struct vms_argv *out);

/* ---- the per-user daemon, client side (serve/autostart.c) ------------------------- */

/* $XDG_RUNTIME_DIR/vmslim, else /tmp/vmslim-<uid>: made 0700 when missing; refused (NULL,
 * *why owned) when it is not a directory of this uid or others may enter it. Owned. */
char *vms_user_dir(char **why);
/* <vms_user_dir()>/daemon.sock (owned), or NULL with *why. */
char *vms_user_socket(char **why);

#define VMS_IDLE_TIMEOUT_DEFAULT 600

struct vms_user_call {
	const char *exe;		/* the vmslim binary to start (NULL: /proc/self/exe) */
	int idle_timeout_s;		/* the daemon's; 0: $VMSLIM_IDLE_TIMEOUT, else 600 */
	int start_wait_ms;		/* how long to wait for a daemon just started; 0: 2000 */
	int timeout_ms;			/* the request's; 0: 600000 */
	int started;			/* out: this call started the daemon */
};

/* Sends request to the per-user daemon, starting it (detached, one for any number of
 * simultaneous callers: a lock file in its directory) when none answers. *reply owned.
 * 0, or -errno (no daemon could be had, or it went away mid-request): the caller then
 * does the work itself. */
int vms_user_daemon_call(struct vms_user_call *c, const char *request, char **reply);

#endif
