/* bench: every pipeline vmslim offers, measured side by side on the same programs and
 * the same header, through the same library calls the CLI and the daemon make.
 *
 * One run prepares the inputs (the full vmlinux.h, a slim header per program, PCHs, TCC
 * snapshots, a daemon), then measures the rows interleaved — every row once per round,
 * round after round — so that machine drift hits all rows alike, after warm-up rounds
 * that are not recorded. Each row reports its median, p90 and its ratio to the baseline
 * row of its stage (check, build or extract) for the same program, and build rows the
 * size of the object they wrote. A row whose pipeline dies (clang crashing on -gmodules
 * with CO-RE) is reported as such, never left out.
 *
 * Nothing here prints or exits: progress goes through a callback, errors come back as
 * diagnostics, reports are rendered into buffers (markdown, JSON, SVG). */
#ifndef VMSLIM_BENCH_H
#define VMSLIM_BENCH_H

#include <stddef.h>

#include "common/common.h"

struct vms_bench_opts {
	const char *const *programs;	/* BPF C files, NULL-terminated; NULL or empty: the
					 * built-in examples (programs_dir) */
	const char *programs_dir;	/* where the built-in examples live (tests/progs) */
	const char *header;		/* the full vmlinux.h; NULL: made from btf */
	const char *btf;		/* NULL: /sys/kernel/btf/vmlinux, else fallback_btf */
	const char *fallback_btf;	/* the pinned BTF when the kernel has none; may be NULL */
	const char *headers_dir;	/* vmslim's shipped headers (TCC prelude) */
	const char *vmslim_exe;		/* the vmslim binary, for the rows that run it as a
					 * command (`vmslim build`, `vmslim serve`); NULL: those
					 * rows are skipped */
	int no_daemon;			/* skip the daemon rows */
	int all_rows;			/* also the internal variants (allocators, libtcc in
					 * process, -gmodules, in-process builds) */
	const char *clang;		/* NULL: vms_clang_default(NULL) */
	const char *tcc;		/* the `tcc` command; NULL: "tcc" */
	const char *work_dir;		/* NULL: a temporary directory, removed afterwards */
	int runs;			/* measured rounds; 0: 10 (3 with quick) */
	int warmup;			/* unrecorded rounds first; 0: 1 */
	int quick;			/* one program (the exec tracer) and few runs, for CI */
	int timeout_ms;			/* per measured command; 0: 120000 */
	/* one line of progress ("round 3/10 procinfo.bpf.c"), may be NULL */
	void (*progress)(void *ctx, const char *line);
	void *progress_ctx;
};

enum vms_bench_state {
	VMS_BENCH_OK = 0,	/* every measured run succeeded */
	VMS_BENCH_CRASHES,	/* the tool died (signal, "PLEASE submit a bug report") */
	VMS_BENCH_FAILED,	/* it ran but failed (errors, bad output): see note */
	VMS_BENCH_UNSUPPORTED,	/* the pipeline declined this program (TCC cannot judge it) */
	VMS_BENCH_SKIPPED,	/* not available here (no daemon binary, library missing) */
};
/* "ok", "crashes", "failed", "unsupported", "skipped" */
const char *vms_bench_state_name(enum vms_bench_state s);

struct vms_bench_row {
	char *program;		/* base name of the program ("execsnoop.bpf.c") */
	const char *id;		/* stable: "build.clang_full", "check.snapshot_slim", ... */
	const char *stage;	/* "extract", "check", "build" */
	const char *label;	/* what a person reads: "clang -g -O2, full header" */
	const char *calls;	/* the project function(s) or command the row times */
	const char *command;	/* what a user types for this pipeline */
	int baseline;		/* the reference of its stage (ratio 1.0) */
	enum vms_bench_state state;
	char *note;		/* why it failed/crashed, or a remark; NULL if none */
	double *ms;		/* measured samples, in run order */
	size_t n;
	double median, p90, min, max;	/* 0 when no sample */
	double ratio;		/* median / the baseline's median; 0 when unknown */
	long long out_bytes;	/* object (build) or slim header (extract) size; -1: none */
	long long ref_bytes;	/* extract: the full header's size; -1: none */
	int same_object;	/* build rows: 1 when the object has the same code, relocations
				 * and CO-RE records as the plain full-header build's
				 * (vms_obj_compare), 0 when not, -1 not compared */
};

struct vms_bench_report {
	struct vms_bench_row *rows;
	size_t n;
	char **programs;	/* base names, in order */
	size_t n_programs;
	char *header_origin;	/* "/sys/kernel/btf/vmlinux (running kernel)", a path... */
	long long header_bytes;
	char *machine;		/* "Linux 6.18.44 x86_64, 2 CPUs (AMD EPYC)" */
	char *clang_version;	/* first line of `clang --version` */
	char *tcc_version;
	int runs, warmup;
	double total_s;		/* wall time of the whole bench */
};

/* The figures of a set of samples: the median (the mean of the two middle ones when n is
 * even; robust to the odd slow run), p90 by nearest rank (how bad the slow runs are),
 * min and max. All 0 when n is 0. Every table of vmslim (bench, `vmslim check --stats`)
 * computes them here. */
struct vms_bench_summary {
	double median, p90, min, max;
};
void vms_bench_summarize(const double *ms, size_t n, struct vms_bench_summary *out);

/* Prepares and runs everything. Returns 0 with the report filled (rows that failed are
 * in it with their state), or -1 when the bench could not start at all (no header, no
 * program): diagnostics in d. The report must be freed either way. */
int vms_bench_run(const struct vms_bench_opts *o, struct vms_bench_report *rep,
		  struct vms_diags *d);
void vms_bench_report_free(struct vms_bench_report *rep);

/* Renderings. `command` is the command line shown with the table (may be NULL). */
void vms_bench_markdown(const struct vms_bench_report *rep, const char *command,
			struct vms_buf *out);
void vms_bench_json(const struct vms_bench_report *rep, const char *command,
		    struct vms_buf *out);
/* Horizontal bars, one panel per program; crashed and failed rows are drawn as labelled
 * placeholders. The axis: speed-up against the stage's baseline (linear, per stage), time
 * (median with a p90 whisker) linear per stage, or time on one log axis. */
enum vms_bench_axis { VMS_BENCH_AXIS_SPEEDUP = 0, VMS_BENCH_AXIS_LOG, VMS_BENCH_AXIS_LINEAR };
const char *vms_bench_axis_name(enum vms_bench_axis a);	/* "speedup", "log", "linear" */
int vms_bench_axis_parse(const char *s, enum vms_bench_axis *out);	/* 0 or -1 */
void vms_bench_svg(const struct vms_bench_report *rep, const char *command,
		   enum vms_bench_axis axis, struct vms_buf *out);

#endif
