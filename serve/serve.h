/* serve: the long-lived side of vmslim — a content-addressed result cache, a daemon that
 * answers check/build requests on a Unix socket (JSON, one object per line, see
 * docs/protocol.md), its client, and a Language Server for editors. Nothing here prints or
 * exits: the daemon's log lines go through a callback, errors come back as values. */
#ifndef VMSLIM_SERVE_H
#define VMSLIM_SERVE_H

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"
#include "pch/pch.h"

/* ---- the cache ------------------------------------------------------------------ */

/* Entries are opaque byte strings named by a 128-bit key (xxh3 of everything the answer
 * depends on). Two tiers: memory (LRU, bounded) and disk (one file per entry under dir,
 * written with a rename, checksummed, bounded, least recently used evicted first). */
struct vms_cache;

struct vms_cache_opts {
	const char *dir;	  /* NULL: memory only */
	uint64_t max_disk_bytes;  /* 0: 512 MiB */
	uint64_t max_mem_bytes;	  /* 0: 64 MiB */
};

enum vms_cache_hit { VMS_CACHE_MISS = 0, VMS_CACHE_MEM, VMS_CACHE_DISK };

struct vms_cache_stats {
	uint64_t mem_entries, mem_bytes, disk_entries, disk_bytes;
	uint64_t hits_mem, hits_disk, misses, stores, corrupt, evicted;
};

/* Opens (creating) the cache; scans dir to learn what is there and removes leftovers of
 * interrupted writes. 0 or -errno. */
int vms_cache_open(const struct vms_cache_opts *o, struct vms_cache **out);
void vms_cache_close(struct vms_cache *c);
/* On a hit *data is an owned copy. A disk entry whose checksum, key or length does not
 * match, or that is not a regular file (a FIFO, symlink or device planted there), is
 * deleted and reported as a miss (counted in stats.corrupt). */
enum vms_cache_hit vms_cache_get(struct vms_cache *c, struct vms_hash128 key, void **data,
				 size_t *len);
/* Stores in memory and on disk; evicts least recently used entries past the bounds.
 * 0 or -errno (a disk error leaves the memory entry in place). */
int vms_cache_put(struct vms_cache *c, struct vms_hash128 key, const void *data, size_t len);
void vms_cache_get_stats(const struct vms_cache *c, struct vms_cache_stats *s);
/* Path of the file that holds key (owned; NULL for a memory-only cache). For tests and
 * `stats`: the on-disk layout is <dir>/serve/<2 hex>/<30 hex>. */
char *vms_cache_entry_path(const struct vms_cache *c, struct vms_hash128 key);

/* An entry as bytes, the same on disk and in a remote store: a header (magic with the
 * format's version, the key, the length, an xxh3-128 checksum) then the data. */
#define VMS_CACHE_ENTRY_HDR 48
#define VMS_CACHE_ENTRY_VERSION 1	/* bumped with the format ("vmsC0001") */
void vms_cache_entry_header(struct vms_hash128 key, const void *data, size_t len,
			    unsigned char hdr[VMS_CACHE_ENTRY_HDR]);
/* 0 when buf[0..n) is a whole, intact entry of key (its data at buf + HDR, n - HDR
 * bytes); -1 when it is truncated, padded, damaged, of another key or another format. */
int vms_cache_entry_verify(struct vms_hash128 key, const void *buf, size_t n);

/* ---- requests and results ------------------------------------------------------- */

enum vms_status {
	VMS_ST_OK = 0,		/* clean (warnings possible) */
	VMS_ST_ERRORS,		/* the source has errors: see diags */
	VMS_ST_UNSUPPORTED,	/* the fast checker cannot judge this source */
	VMS_ST_REFUSED,		/* the request broke a rule (include outside the header
				 * directories, forbidden flag, too large) */
	VMS_ST_CRASHED,		/* the checker or compiler crashed on it */
	VMS_ST_TIMEOUT,		/* wall-time limit */
	VMS_ST_LIMIT,		/* CPU or memory limit */
	VMS_ST_INTERNAL,	/* the daemon could not run it */
};
const char *vms_status_name(enum vms_status s);

/* What the daemon and the LSP run a request with. */
struct vms_backend_opts {
	const char *const *inc_dirs;	/* -I directories (requests may include only these) */
	size_t n_inc;
	const char *clang;		/* NULL: $VMSLIM_CLANG or "clang" */
	const char *cache_dir;		/* where the PCH path keeps its precompiled headers */
	const char *headers_dir;	/* vmslim's shipped headers (TCC prelude) */
	const char *const *flags;	/* always-on flags (-D...), before the request's own */
	size_t n_flags;
	const char *header;		/* what `#include "vmlinux.h"` opens; NULL: the one
					 * found under inc_dirs (or beside the source) */
	int untrusted;			/* sources come from strangers: confine the checker */
	unsigned sandbox_mech;		/* VMS_SANDBOX_* (common/sandbox.h) around every
					 * compile of an untrusted source; 0: none */
	int refuse_unconfined;		/* no sandbox could be had: refuse what would run
					 * clang on an untrusted source (builds, clang checks) */
};

struct vms_result {
	enum vms_status status;
	struct vms_diags diags;
	void *obj;		/* build: the object's bytes */
	size_t obj_len;
	char *backend;		/* which path answered: "tcc-snapshot", "clang-pch", ... */
	double ms;		/* time the backend took */
	struct vms_pch_seal pch_seal;	/* build: the PCH's seal (vms_build_result.pch_seal),
					 * carried from a worker to the daemon's next build */
};
void vms_result_free(struct vms_result *r);

/* ---- the daemon ----------------------------------------------------------------- */

struct vms_serve_opts {
	const char *socket_path;
	struct vms_backend_opts backend;
	const char *cache_dir;		/* NULL: vms_cache_dir_default() */
	int no_disk_cache;
	uint64_t cache_max_bytes, mem_cache_bytes;
	int jobs;			/* concurrent workers; 0: number of CPUs */
	int cpu_limit_s;		/* per request; 0: 10 s */
	uint64_t mem_limit_bytes;	/* per request address space; 0: 2 GiB */
	int time_limit_ms;		/* per request wall time; 0: 20 s */
	size_t max_request_bytes;	/* one JSON line; 0: 1 MiB */
	int max_clients;		/* connections in all; 0: 128 */
	int max_per_client;		/* connections of one peer uid (SO_PEERCRED); 0: 32 */
	int idle_timeout_s;		/* a connection with nothing in flight and no complete
					 * request line for this long is closed; 0: 30 s */
	const char *allow_output_dir;	/* build "output": the daemon writes the object, only
					 * inside this directory (relative names are taken
					 * relative to it); NULL: it writes no files */
	unsigned sandbox;		/* VMS_SANDBOX_* wanted around untrusted compiles;
					 * 0: none (--no-sandbox) */
	int sandbox_exact;		/* every mechanism in sandbox must be available (an
					 * explicit --sandbox); else: those the kernel has, and
					 * with none, builds are refused */
	/* a shared second tier behind the local cache (docs: README "A shared cache") */
	const char *remote;		/* redis://... or unix:///...; NULL: $VMSLIM_REMOTE */
	int no_remote;			/* neither: no remote tier */
	int remote_connect_ms;		/* 0: 100 */
	int remote_timeout_ms;		/* one operation; 0: 500 */
	int remote_retry_ms;		/* the breaker's first pause; 0: 30000 */
	uint64_t remote_max_entry;	/* largest entry stored or read; 0: 8 MiB */
	int remote_ttl_s;		/* 0: no expiry */
	int remote_read_only;		/* look up, never store */
	/* the per-user daemon (`serve --user`, serve/cc.h): only its own uid may connect, and
	 * it serves the trusted ops ("cc": the user's files by path, outputs written) */
	int user_mode;
	int exit_idle_s;		/* user_mode: stop after this long without requests; 0: never */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/* Runs until a `shutdown` request or SIGTERM/SIGINT; returns 0 after a clean shutdown,
 * -errno when it cannot start (diagnostic in d). */
int vms_serve_run(const struct vms_serve_opts *o, struct vms_diags *d);

/* $XDG_RUNTIME_DIR/vmslim.sock, else /tmp/vmslim-<uid>.sock (owned). */
char *vms_serve_default_socket(void);

/* ---- the client ----------------------------------------------------------------- */

/* Connects, sends one request (a JSON object as text, without the newline), reads one
 * reply line. *reply is owned. 0 or -errno. timeout_ms <= 0: none. */
int vms_client_call(const char *socket_path, const char *request, char **reply,
		    int timeout_ms);
/* Parses the "diagnostics" array of a reply (a json-c array) back into d. */
struct json_object;
void vms_diags_from_json(struct json_object *arr, struct vms_diags *d);
/* The "object" of a build reply, base64 with padding. *out owned. 0 or -EINVAL. */
int vms_base64_decode(const char *s, size_t len, void **out, size_t *out_len);

/* ---- the language server -------------------------------------------------------- */

struct vms_lsp_opts {
	struct vms_backend_opts backend;
	int load_on_save;	/* a verifier load of the object after a successful build */
	int build_on_save;	/* 1 by default in the CLI */
	int fast_only;		/* only the TCC checker's answer on a change (and clang
				 * processes where it cannot judge); default: the TCC answer,
				 * then clang's exact one for the same version (exact/) */
	int clang_tier;		/* with fast_only: where the TCC checker cannot judge a text,
				 * the exact checker answers instead of a clang process */
	int exact;		/* only the exact checker's answer: clang's messages, no TCC */
	int time_limit_ms;	/* for builds and clang fallbacks; 0: 60 s */
	const char *const *target_btfs;	/* --target-btf: CO-RE checked on save against each */
	size_t n_target_btfs;
	const char *compile_commands_dir; /* where compile_commands.json is; NULL: found */
	void (*log)(void *ctx, const char *line);
	void *log_ctx;
};

/* Speaks LSP on in_fd/out_fd until `exit` or end of input. Returns the process exit code
 * the LSP specification asks for (0 after shutdown+exit, 1 otherwise). */
int vms_lsp_run(const struct vms_lsp_opts *o, int in_fd, int out_fd);

#endif
