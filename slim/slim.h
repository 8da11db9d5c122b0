/* slim: a BPF program built against its own slim header, derived from the full vmlinux.h
 * on the fly (no hand-run `extract`), with the object the full header gives: the same
 * instructions, relocations, CO-RE records, map and global-function BTF (what objdiff
 * proves). One-shot callers (the CLI without a daemon) pass no context and pay one libclang
 * parse of the full header; the daemon keeps a context per (header, flags) warm, so a
 * program's slim header comes from a reparse of the program alone. Nothing here prints or
 * exits. */
#ifndef VMSLIM_SLIM_H
#define VMSLIM_SLIM_H

#include <stddef.h>

#include "common/common.h"
#include "extract/extract.h"
#include "pch/pch.h"

/* Warm state for one full header and the flags that change its meaning (-D/-U, -target,
 * -I...): the libclang parse of the header and its declaration graph. */
struct vms_slim_ctx;

/* full_header: the header every `#include "vmlinux.h"` of the programs resolves to.
 * flags: NULL-terminated, may be NULL. cache_dir: where derived slim headers are kept
 * (NULL: vms_cache_dir_default()). 0, or -1 with a diagnostic. */
int vms_slim_ctx_new(const char *full_header, const char *const *flags, const char *cache_dir,
		     struct vms_slim_ctx **out, struct vms_diags *d);
/* 1 when c was made for this header (its bytes unchanged since) and these flags. */
int vms_slim_ctx_matches(const struct vms_slim_ctx *c, const char *full_header,
			 const char *const *flags);
void vms_slim_ctx_free(struct vms_slim_ctx *c);

struct vms_slim_build_opts {
	const struct vms_build_opts *build;	/* as for vms_build(); build->header is the
						 * FULL header (or NULL: found as clang would) */
	struct vms_slim_ctx *ctx;		/* warm state for that header and flags, or
						 * NULL (one-shot) */
	int verify;				/* also build with the full header and compare
						 * with objdiff; a difference fails the build */
};

/* Builds build->source against its own slim header. Same return codes and result as
 * vms_build(): 0 built (r->mode names the slim path), 1 the compile failed, 2 the slim path
 * does not apply (r->mode says why; the caller builds as without --slim), 3 inline
 * assembly refused, -errno. A dependency file names the full header, never the derived
 * one, so make's rebuild rules stay right. */
int vms_slim_build(const struct vms_slim_build_opts *o, struct vms_build_result *r,
		   struct vms_diags *d);

/* The full header vms_slim_build would derive b's slim header from (absolute; the daemon's
 * key of its warm context), or NULL when the slim path does not apply to b. Owned. */
char *vms_slim_full_header(const struct vms_build_opts *b);

/* The build a command makes of b with --slim (so, whose .build is ignored) or without
 * (so NULL): vms_slim_build, and where that does not apply (2), vms_build(b) with
 * *slim_why (owned) saying why. Returns as vms_build(); *slim_why NULL when the slim path
 * answered or was not asked for. */
int vms_slim_or_full_build(const struct vms_build_opts *b, const struct vms_slim_build_opts *so,
			   struct vms_build_result *r, struct vms_diags *d, char **slim_why);

/* The slim header one program needs (what `extract --from PROG` prints), from a warm
 * context. *out owned, NUL-terminated. 0, or -1 with diagnostics. */
int vms_slim_extract(struct vms_slim_ctx *c, const char *source, const char *const *flags,
		     char **out, size_t *out_len, struct vms_extract_stats *st,
		     struct vms_diags *d);

#endif
