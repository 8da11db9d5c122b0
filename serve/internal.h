/* serve/ internals shared between its files; not part of the library's API. */
#ifndef VMSLIM_SERVE_INTERNAL_H
#define VMSLIM_SERVE_INTERNAL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/sandbox.h"
#include "serve/serve.h"

struct json_object;

/* ---- confine.c: include confinement and request flags --------------------------- */

struct confine;
/* dirs: the -I directories; sys: compiler built-in header directories (stddef.h...). */
struct confine *confine_new(const char *const *dirs, size_t n, const char *const *sys,
			    size_t nsys, const char *vmlinux);
void confine_free(struct confine *c);
/* 0: allowed; *norm is the source as backends get it (CRLF made LF, splices kept), owned;
 * the contents of every header it can reach are fed to deps (may be NULL); *asm_suspect
 * (may be NULL) says whether inline asm might come out of it after macro expansion.
 * -EPERM: refused, with the reasons in d (file = file, the lines of the directives). */
int confine_source(struct confine *c, const char *src, size_t len, const char *file,
		   struct vms_hasher *deps, char **norm, size_t *norm_len, int *asm_suspect,
		   struct vms_diags *d);
/* 1 when a request may pass this flag to the compilers. */
int confine_flag_ok(const char *flag);

/* ---- result.c: results as bytes (cache entries, worker pipes) and as JSON ------- */

void result_encode(const struct vms_result *r, struct vms_buf *out);
int result_decode(const void *data, size_t len, struct vms_result *r); /* 0 or -EINVAL */
/* {"status":..., "diagnostics":[...], "backend":..., "ms":...} members added to obj. */
void result_to_json(const struct vms_result *r, struct json_object *obj);
/* Replaces every byte sequence that is not valid UTF-8 by U+FFFD (JSON must be UTF-8). */
char *utf8_clean(const char *s, size_t len);
char *base64_encode(const void *data, size_t len);
const char *json_text(struct json_object *o); /* compact, no slash escaping */
struct json_object *json_num3(double v); /* a number printed with 3 decimals */

/* ---- backend.c: the checker and the compilers ----------------------------------- */

struct backend;
/* Identifies the compilers and prepares the checker (no snapshot yet). 0 or -errno. */
int backend_new(const struct vms_backend_opts *o, struct backend **out, struct vms_diags *d);
void backend_free(struct backend *b);
/* After a worker was killed outright: remove the PCH temporaries it may have left. */
void backend_sweep(struct backend *b);
/* Directories of compiler built-in headers requests may reach (stddef.h...). */
const char *const *backend_sys_dirs(const struct backend *b, size_t *n);
/* Everything outside the source that decides an answer: compiler identity, checker
 * version, vmslim's binary, the always-on flags. Fed into cache keys. */
void backend_identity(const struct backend *b, struct vms_hasher *h);
/* The header `#include "vmlinux.h"` resolves to under the -I directories, or NULL. */
const char *backend_vmlinux(const struct backend *b);
/* With --header: a private directory whose "vmlinux.h" is that header; else NULL. */
const char *backend_vmlinux_dir(const struct backend *b);
/* The private scratch directory compiles run in (a worker may write only there). */
const char *backend_scratch(const struct backend *b);

struct backend_req {
	const char *source;
	size_t len;
	const char *file;		/* diagnostics carry this name */
	const char *src_dir;		/* the source's directory for quoted includes; NULL:
					 * none (the daemon: requests have no directory) */
	const char *const *flags;	/* the request's own, already vetted */
	size_t nflags;
	int time_limit_ms;
	size_t mem_limit;
	const struct vms_pch_seal *pch_seal; /* a PCH seal an earlier build returned, or NULL */
	int asm_suspect;		/* the scan's verdict: a build checks its IR for asm */
	const char *job_dir;		/* the job's private directory, made (and removed) by
					 * the daemon's parent process; NULL: make one */
};

/* The fast checker (TCC snapshot); not thread-safe: one caller at a time. Returns the
 * status; UNSUPPORTED/CRASHED mean "ask clang" to a caller that wants an answer. */
void backend_check_fast(struct backend *b, const struct backend_req *q, struct vms_result *r);
/* clang -fsyntax-only. Safe in a forked worker. */
void backend_check_clang(struct backend *b, const struct backend_req *q, struct vms_result *r);
/* A BPF object through the PCH path. Safe in a forked worker. */
void backend_build(struct backend *b, const struct backend_req *q, struct vms_result *r);
/* The checker's counters as JSON members of obj (thread-safe snapshot of the last ones). */
void backend_stats_json(struct backend *b, struct json_object *obj);

/* ---- lsp_exact.c: the language server's exact checker, on a thread of its own ------ */

struct vms_exact_opts;
struct xworker;
/* An exact answer: for doc_id's text of that version and hash. */
struct xresult {
	uint64_t doc_id;
	int version;
	struct vms_hash128 hash;
	int ok;			/* libclang parsed it: diags are clang's */
	int no_libclang;	/* the checker could not start (diags say why) */
	double ms;
	struct vms_diags diags;
	struct xresult *next;
};
/* NULL when no thread can be had. */
struct xworker *xworker_new(void);
/* Readable when answers are ready (take them with xworker_take). */
int xworker_fd(const struct xworker *w);
/* Checks text as doc_id's (its checker made from o and path on first use); replaces a
 * text of the same document still waiting. Everything is copied. */
void xworker_submit(struct xworker *w, uint64_t doc_id, const struct vms_exact_opts *o,
		    const char *path, const char *text, size_t len, int version,
		    struct vms_hash128 hash);
/* The document is gone: its waiting text is dropped and its checker freed. */
void xworker_forget(struct xworker *w, uint64_t doc_id);
/* The answers ready, oldest first (free with xresult_free). */
struct xresult *xworker_take(struct xworker *w);
void xresult_free(struct xresult *r);
/* Waits for a parse under way, then stops the thread. */
void xworker_free(struct xworker *w);

/* ---- worker.c: one forked process per job, with limits -------------------------- */

struct limits {
	int cpu_s;			/* RLIMIT_CPU; 0: none */
	uint64_t mem_bytes;		/* RLIMIT_AS; 0: none (and none under ASan) */
	int wall_ms;			/* enforced by the parent (worker_kill) */
};

/* Forks a worker that runs fn(arg, &result) and writes the encoded result to a pipe.
 * *fd (non-blocking, close-on-exec) is the read end. 0 or -errno. */
int worker_spawn(void (*fn)(void *arg, struct vms_result *r), void *arg,
		 const struct limits *l, pid_t *pid, int *fd);
/* Kills the worker's whole process group (clang included). */
void worker_kill(pid_t pid);
/* Reaps the worker and turns what it wrote into a result. timed_out: we killed it. */
void worker_collect(pid_t pid, const void *data, size_t len, int timed_out,
		    struct vms_result *r);

/* A worker on an event loop (loop.h), as the daemon and the language server run them:
 * its pipe is read to the end, a timer enforces limits.wall_ms, and done() gets the
 * result (it may take what it wants from r, and free the struct holding the watch). */
struct loop;
struct worker_watch {
	pid_t pid;
	int fd;			/* -1: not running */
	struct vms_buf data;
	uint64_t deadline;	/* the loop's timer */
	int timed_out;		/* killed at the limit (or on purpose: worker_watch_kill) */
	struct loop *lp;
	void (*done)(struct worker_watch *w, struct vms_result *r);
};
int worker_watch_start(struct worker_watch *w, struct loop *lp,
		       void (*fn)(void *arg, struct vms_result *r), void *arg,
		       const struct limits *l,
		       void (*done)(struct worker_watch *w, struct vms_result *r)); /* 0/-errno */
/* Kills it now; done() follows from the loop, with a TIMEOUT result. */
void worker_watch_kill(struct worker_watch *w);
/* Kills and reaps it, without done(): the answer is not wanted. */
void worker_watch_stop(struct worker_watch *w);

/* ---- sandbox.c: the jail of untrusted compiles ----------------------------------- */

/* What every untrusted compile of a daemon may read (common/sandbox.h), fixed at start. */
struct jail {
	unsigned mech;			/* VMS_SANDBOX_*; 0: no OS confinement */
	struct vms_argv read;		/* the compiler's files, resource dir, -I dirs, header */
	char *root;			/* an empty directory for the mount namespace's root */
};
/* 0 or -errno with a diagnostic; mech 0 makes an inactive jail. */
int jail_init(struct jail *j, unsigned mech, const char *clang, const char *resource_dir,
	      const char *const *inc, size_t ninc, const char *header, const char *scratch,
	      struct vms_diags *d);
void jail_free(struct jail *j);
/* One job's sandbox: the jail's reads plus job_dir, which is also the only writable
 * directory and the working directory. Inactive (active == 0) for an inactive jail. */
struct jail_job {
	struct vms_argv read, write;
	struct vms_sandbox sb;
	int active;
};
void jail_for_job(const struct jail *j, const char *job_dir, struct jail_job *out);
void jail_job_free(struct jail_job *jj);

/* ---- the daemon: server.c (wiring), conn.c, protocol.c, jobs.c --------------------- */

struct loop;

#define OUT_HIGH (16u << 20) /* replies a client has not read yet: stop taking requests */

/* One client waiting for a job's answer. */
struct waiter {
	uint64_t conn_id;
	struct json_object *id;
	char *output;		/* build: path the daemon writes the object to */
	int want_object;
	double t0;
};

struct server;

/* A client: the connections of one peer uid (SO_PEERCRED). Connection limits and the
 * build queue's round robin go by client. */
struct client {
	uid_t uid;
	size_t nconns;
	struct job *head, *tail;	/* its queued jobs */
	size_t queued;
	struct client *next;
};

enum job_kind { JOB_CHECK, JOB_CLANG_CHECK, JOB_BUILD };

struct job {
	struct server *s;
	enum job_kind kind;
	struct vms_hash128 key;
	char *source;
	size_t len;
	char *file;
	struct vms_argv flags;
	struct waiter *w;
	size_t nw;
	struct worker_watch run; /* a worker's (run.fd -1 otherwise) */
	int stopped;		/* killed because the daemon is shutting down */
	int cancelled;		/* every waiter has gone: killed, answer dropped, not cached */
	char *dir;		/* a worker's job directory (jobs/j.XXXXXX), removed with it */
	int asm_suspect;	/* confine_source's verdict on the source */
	struct client *client;	/* whose queue it waits in (the first waiter's) */
	struct remote_lookup *lookup; /* asking the remote tier before it runs (remote_tier.c) */
	/* the checker's */
	struct vms_result res;
	struct vms_result fast; /* the checker's "unsupported" that sent it to clang */
	struct job *next;	/* queue, checker lists */
	struct job *anext, *aprev; /* all jobs alive */
};

struct conn {
	struct server *s;
	int fd;
	uint64_t id;
	struct vms_buf in;
	size_t in_off;
	struct vms_buf out;
	size_t out_off;
	int waiting, eof, closing, paused;
	int skipping;		/* discarding the rest of a too-large request line */
	double last;		/* accepted, took a request, got an answer or sent bytes */
	struct client *client;
	struct conn *next, *prev;
};

struct checker_thread {
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail, *done;
	int stop, started;
	int efd[2];
	struct server *s;
};

struct server {
	const struct vms_serve_opts *o;	/* &opts */
	struct vms_serve_opts opts;	/* the caller's, with the daemon's backend rules */
	char *cache_dir;
	struct backend *be;
	struct confine *conf;
	struct vms_cache *cache;
	struct loop *lp;
	int lfd;
	ino_t sock_ino;
	int sig[2];
	struct conn *conns;
	struct conn *dead;	/* closed during this pass of the loop; freed after it */
	size_t nconns;
	uint64_t next_conn_id;
	struct job *jobs;	/* all alive */
	struct client *clients;	/* with a connection or a queued job */
	struct client *last_served; /* the round robin's position */
	size_t queued, running, checking;
	struct checker_thread ck;
	int shutting_down;
	double shutdown_at;
	double started;
	struct limits lim;
	unsigned sandbox;		/* VMS_SANDBOX_* in force around untrusted compiles */
	struct vms_pch_seal pch_seal;	/* the last PCH seal a build returned */
	uint64_t n_req[8], n_status[8], n_bad, n_busy, n_dedup;
	struct remote_tier *remote;	/* NULL: no remote tier (remote_tier.c) */
	struct trusted *trusted;	/* the per-user daemon's ops and idle timer (trusted.c) */
};

void server_log(struct server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Stops taking requests (the listening socket goes); the loop winds down from there. */
void server_begin_shutdown(struct server *s, const char *why);

/* conn.c: connections and their framing (one JSON object per line, one at a time). */
void conn_listen_event(struct loop *lp, int fd, int events, void *data); /* accepts */
/* Writes what it can; 0, or -1 when the connection died (and was closed). */
int conn_flush(struct server *s, struct conn *c);
/* Hands every complete line to the protocol while the connection may take one. */
void conn_pump(struct server *s, struct conn *c);
void conn_close(struct server *s, struct conn *c);
void conn_free_dead(struct server *s);
struct conn *conn_by_id(struct server *s, uint64_t id);
/* Idle connections go; returns the delay until the next one could (a loop timer). */
double conn_sweep(struct loop *lp, uint64_t id, void *data);
void conn_send_json(struct conn *c, struct json_object *o);
/* The client a connection's peer is (created on first use); NULL if unknown. */
struct client *client_get(struct server *s, uid_t uid);
/* Frees it once it has neither connections nor queued jobs. */
void client_release(struct server *s, struct client *cl);

/* protocol.c: a request line in, replies out. */
void protocol_line(struct server *s, struct conn *c, const char *line, size_t len);
struct json_object *reply_head(struct json_object *id, int ok);
void reply_error(struct conn *c, struct json_object *id, const char *code, const char *msg);
void reply_result(struct server *s, struct conn *c, const struct waiter *w, const char *op,
		  const struct vms_result *r, const char *cached);

/* jobs.c: the jobs in flight, the worker queue and the checker thread. */
struct job *job_in_flight(struct server *s, struct vms_hash128 key, enum job_kind kind);
/* A new job (owning source, file and flags) in the table of jobs in flight. */
struct job *job_new(struct server *s, enum job_kind kind, struct vms_hash128 key, char *source,
		    size_t len, char *file, struct vms_argv flags);
/* Sends a job with its first waiter to the checker (checks) or the worker queue. */
void job_submit(struct server *s, struct job *j);
int checker_start(struct server *s);	/* 0 or -errno */
void checker_stop(struct server *s);	/* pending checks are answered "shutting_down" */
/* Past the shutdown grace: running workers are killed, queued jobs answered. */
void jobs_stop(struct server *s);
/* Kills and frees whatever is left (the daemon is going). */
void jobs_free_all(struct server *s);
/* A connection closed: it waits for nothing any more; a job nobody waits for is dropped
 * from the queue or its worker killed (its answer then not cached). */
void jobs_conn_gone(struct server *s, uint64_t conn_id);

/* Answers every waiter of j with r (cached: the "cached" member, NULL: computed) and
 * frees j; nothing is stored. */
void job_reply_all(struct server *s, struct job *j, const struct vms_result *r,
		   const char *cached);

/* remote_tier.c: the shared store behind the local cache (remote/). */
struct remote_tier;
struct remote_lookup;
/* From o->remote (or $VMSLIM_REMOTE); nothing to do without one. 0, or -errno with a
 * diagnostic (a bad URL, a host that does not resolve); a store that is down is not an
 * error. */
int remote_tier_open(struct server *s, struct vms_diags *d);
/* Logs the tier's counters; lookups in flight are dropped (their jobs are the caller's). */
void remote_tier_close(struct server *s);
/* What a lookup found: the payload of key's entry (the bytes the local cache stores under
 * key, verified as its entry; valid during the call only), or NULL for a miss, a corrupt
 * value (counted), no answer in time. Returns 1 when the payload was of use, 0 when it
 * could not be decoded (counted as corrupt). */
typedef int remote_got_fn(void *arg, const void *payload, size_t len);
/* Asks the store for key's entry without waiting: fn is called once, later, from the
 * loop. NULL (and no call) without a tier or while the store is being skipped: the caller
 * goes on at once. */
struct remote_lookup *remote_tier_get(struct server *s, struct vms_hash128 key,
				      remote_got_fn *fn, void *arg);
/* The asker is going: fn will not be called (l may be NULL; a no-op once the tier has
 * been closed, which drops every lookup). */
void remote_tier_cancel(struct server *s, struct remote_lookup *l);
/* A new job after a local miss: asks the store, and answers from it or submits the job
 * (job_submit) when it has nothing usable. Without a tier, or while the store is being
 * skipped, submits at once. */
void remote_tier_lookup(struct server *s, struct job *j);
/* A computed answer's entry (the bytes the local cache stored) goes to the store too. */
void remote_tier_store(struct server *s, struct vms_hash128 key, const void *data, size_t len);
/* The job is being freed: its lookup, if any, answers nobody. */
void remote_tier_forget(struct job *j);
/* Operations in flight (a clean shutdown lets them finish, each bounded by its timeout). */
size_t remote_tier_pending(struct server *s);
/* "remote": {...} in the stats reply (nothing without a tier). */
void remote_tier_stats_json(struct server *s, struct json_object *o);

/* ---- scratch.c: the daemon's scratch directory, and those of daemons gone -------- */

/* $TMPDIR/vmslim-serve.XXXXXX (0700), marked as owned by this process for as long as it
 * lives (NULL, errno set, on failure). */
char *scratch_create(void);
/* Removes dir and drops its owner mark (dir is not freed). */
void scratch_remove(const char *dir);
/* Removes every vmslim-serve.* directory in $TMPDIR of this uid whose owner has gone;
 * returns how many. */
int scratch_sweep(void);

/* ---- the language server: lsp.c (handlers), lsp_rpc.c, lsp_pos.c ------------------ */

enum { RPC_PARSE_ERROR = -32700, RPC_INVALID = -32600, RPC_NO_METHOD = -32601,
       RPC_NOT_INITIALIZED = -32002 };

/* lsp_rpc.c: Content-Length framing. The send functions take ownership of m / result /
 * params and add "jsonrpc". */
void rpc_send(int fd, struct json_object *m);
void rpc_respond(int fd, struct json_object *id, struct json_object *result);
void rpc_error(int fd, struct json_object *id, int code, const char *msg);
void rpc_notify(int fd, const char *method, struct json_object *params);
/* One message from in at *off (moved past it): 1 taken (*msg NULL and *bad set when its
 * body is not a JSON object), 0 incomplete, -1 broken framing (*bad says how; *off moved
 * to the next Content-Length header, or past what can be dropped). */
enum { RPC_BAD_JSON = 1, RPC_BAD_NOT_OBJECT, RPC_BAD_HEADER_LONG, RPC_BAD_NO_LENGTH,
       RPC_BAD_LENGTH, RPC_BAD_TOO_LARGE };
int rpc_take(struct vms_buf *in, size_t *off, struct json_object **msg, int *bad);

/* lsp_pos.c: positions in UTF-16 code units over a UTF-8 text; lines 0-based. */
/* (line, character) -> byte offset, clamped to the line's (or the text's) end. */
size_t lsp_offset(const char *t, size_t len, int line, int ch);
/* 1-based byte column on line -> 0-based character. */
int lsp_utf16_col(const char *t, size_t len, int line, int bytecol);
/* The characters a diagnostic at (line, bytecol) underlines: the identifier starting
 * there (at least one character); with bytecol <= 0, the line from its first
 * non-blank character. */
void lsp_range(const char *t, size_t len, int line, int bytecol, int *start, int *end);

/* ---- small helpers ---------------------------------------------------------------- */

/* A log line through the caller's callback (none: nothing). */
void log_vprintf(void (*log)(void *ctx, const char *line), void *ctx, const char *fmt,
		 va_list ap);
/* Makes a name safe for a file in a private directory: basename, [A-Za-z0-9._-]. */
char *safe_file_name(const char *display);
/* Replaces every occurrence of `from` as a diagnostic's file by `to`. */
void diags_rename(struct vms_diags *d, const char *from, const char *to);
void diags_strip_dir(struct vms_diags *d, const char *dir); /* "dir/x" -> "x" */
void diags_append(struct vms_diags *dst, const struct vms_diags *src);

#endif
