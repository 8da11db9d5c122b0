/* bench internals: the run context shared by the harness (run.c), the rows (rows.c), their
 * preparation (setup.c) and the renderings (report.c, svg.c). */
#ifndef VMSLIM_BENCH_INTERNAL_H
#define VMSLIM_BENCH_INTERNAL_H

#include <sys/types.h>

#include "bench/bench.h"

/* CMake says which of the libraries still being written exist in this build. */

struct vms_tcc_checker;
struct brow_def;

/* One program under test, with everything prepared for it. */
struct vms_exact;

struct bprog {
	char *path;		/* as given, absolute */
	char *name;		/* base name */
	char *dir;		/* its directory: -iquote, so its own "x.h" still resolve */
	char *source;		/* its text */
	size_t len;
	char *root;		/* work/<n>-<name>/ */
	char *staged;		/* root/src/<name>: a copy in a directory without vmlinux.h,
				 * so -I decides which vmlinux.h it includes */
	char *slim_dir;		/* root/slim/ holding vmlinux.h (the slim header) */
	char *slim;		/* root/slim/vmlinux.h */
	long long slim_bytes;
	char *slim_hash;	/* xxh3 of the slim header, to catch non-determinism */
	char *pch_slim, *gm_pch_slim;	/* hand-made PCHs of the slim header (or NULL) */
	char *pch_slim_err, *gm_pch_slim_err;	/* why a PCH could not be built */
	struct vms_tcc_checker *checker_slim;
	struct vms_exact *exact[2];	/* check --exact's checkers, full and slim header: made
					 * by the first (warm-up) sample, reparsed by the others */
	/* its daemon (`vmslim serve` with the slim header) */
	pid_t serve_pid;
	char *serve_socket;
	char *serve_why_not;	/* why the daemon rows are skipped */
	unsigned serve_edits;	/* cache-miss requests sent so far */
};

struct bctx {
	const struct vms_bench_opts *o;
	char *work;		/* the work directory */
	int own_work;		/* remove it at the end */
	char *cache;		/* work/cache: PCH cache of vms_build, compiler identity */
	char *full_dir;		/* work/full/ holding vmlinux.h */
	char *full;		/* work/full/vmlinux.h */
	char *clang;		/* resolved clang */
	char *tcc;
	char *pch_full, *gm_pch_full;	/* hand-made PCHs of the full header */
	char *pch_full_err, *gm_pch_full_err;
	struct vms_tcc_checker *checker_full;
	struct bprog *progs;
	size_t n_progs;
	int timeout_ms;
	const struct brow_def **rows;	/* the rows this run measures, in report order */
	size_t n_rows;
};

/* What one run of a row produced. */
struct bsample {
	double ms;
	enum vms_bench_state state;
	char *note;		/* owned: failure text, or a remark */
	long long out_bytes, ref_bytes;
	char *out_path;		/* build rows: the object written (owned), for comparing */
};

struct brow_def {
	const char *id, *stage, *label, *calls;
	int baseline;
	/* one run; fills s (state VMS_BENCH_OK unless something went wrong) */
	void (*run)(struct bctx *c, struct bprog *p, const struct brow_def *def,
		    struct bsample *s);
	int arg;		/* row-specific: which header, which allocator... */
	const char *command;	/* what a user types for this pipeline */
	int internal;		/* a variant of the project's own: only with all_rows */
};

extern const struct brow_def vms_bench_rows[];
extern const size_t vms_bench_n_rows;

struct vms_argv;
struct vms_tcc_opts;

/* rows.c, shared with setup.c so a hand-made PCH is built the way the rows build. */
/* Runs a command; s gets its time and, if the command failed, why (out: the file it must
 * write, removed first). */
void bench_run_cmd(struct bctx *c, char *const *argv, const char *out, struct bsample *s);
/* clang, the flags `vmslim build --header H` uses, then p's directory as -iquote (p may be
 * NULL). 0 or -errno with d filled. */
int bench_clang_argv(struct bctx *c, struct bprog *p, const char *header, struct vms_argv *a,
		     struct vms_diags *d);
/* The TCC checker options of the check rows (include_dirs: NULL-terminated or NULL). */
void bench_tcc_opts(struct bctx *c, const char *header, const char *const *inc,
		    struct vms_tcc_opts *to);

/* setup.c: the preparation each row relies on (PCHs, checkers, the daemon). */
int bench_prepare_global(struct bctx *c, struct vms_diags *d);
int bench_prepare_prog(struct bctx *c, struct bprog *p, struct vms_diags *d);
void bench_teardown(struct bctx *c);
int bench_stop_daemon(struct bprog *p, char **why);
/* compares a build row's object with the plain full-header build's: 1 same, 0 differs,
 * -1 unknown; *why gets the first difference (owned) */
int bench_same_object(const char *ref, const char *obj, char **why);

void bench_progress(struct bctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "19.9 KB", "2.8 MB" */
void bench_fmt_bytes(char *out, size_t n, long long bytes);
/* "0.41", "12.3", "652" (ms, three significant digits at most) */
void bench_fmt_ms(char *out, size_t n, double ms);

#endif
